//! Convergence-rate regression checks: `results/baselines/<name>.csv` holds, per (game,
//! method), the converged-seed count, the mean fitted rate and the mean final KL to the
//! method's target of a committed experiment; `wind check --against` re-runs the experiment and
//! fails when any of them degrades beyond its tolerance, naming which and by how much.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wind_check::{Claim, ClaimResult, Outcome};
use wind_exp::runner::RunSummary;
use wind_exp::{RunOptions, load_experiment, run_experiment};

/// A fitted rate may grow by at most this much (absolute).
pub const RATE_TOL: f64 = 0.005;
/// A final KL may grow by at most this factor (plus 1e-12 absolute).
pub const KL_FACTOR: f64 = 1.10;

#[derive(Debug, Clone, PartialEq)]
struct Row {
    converged: usize,
    seeds: usize,
    rate: Option<f64>,
    final_kl: f64,
}

fn summarize(runs: &[RunSummary]) -> BTreeMap<(String, String), Row> {
    let mut m: BTreeMap<(String, String), Vec<&RunSummary>> = BTreeMap::new();
    for r in runs {
        m.entry((r.game.clone(), r.method.clone()))
            .or_default()
            .push(r);
    }
    m.into_iter()
        .map(|(k, rs)| {
            let rates: Vec<f64> = rs.iter().filter_map(|r| r.rate).collect();
            let row = Row {
                converged: rs
                    .iter()
                    .filter(|r| r.termination == wind_dynamics::Termination::Converged)
                    .count(),
                seeds: rs.len(),
                rate: (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64),
                final_kl: rs.iter().map(|r| r.final_kl_target).sum::<f64>() / rs.len() as f64,
            };
            (k, row)
        })
        .collect()
}

fn fresh(experiments: &Path, name: &str) -> Result<Vec<RunSummary>> {
    let path = experiments.join(format!("{name}.toml"));
    let exp = load_experiment(&path)?;
    let tmp = std::env::temp_dir().join(format!("wind-baseline-{}-{name}", std::process::id()));
    let opts = RunOptions {
        results_root: tmp.clone(),
        quiet: true,
        backend: wind_learn::BackendChoice::Cpu,
        ..RunOptions::default()
    };
    let out = run_experiment(&exp, &opts);
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(out?.runs)
}

/// Re-run `experiments/<name>.toml` and write `dir/<name>.csv` (atomically).
pub fn write(experiments: &Path, name: &str, dir: &Path) -> Result<PathBuf> {
    check_names(experiments, &[name.to_string()])?;
    let rows = summarize(&fresh(experiments, name)?);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{name}.csv"));
    let tmp = dir.join(format!(".{name}.csv.partial"));
    let mut w = csv::Writer::from_path(&tmp)?;
    w.write_record([
        "game",
        "method",
        "converged",
        "seeds",
        "rate",
        "final_kl_target",
    ])?;
    for ((g, m), r) in &rows {
        w.write_record([
            g.clone(),
            m.clone(),
            r.converged.to_string(),
            r.seeds.to_string(),
            r.rate.map(|v| format!("{v:e}")).unwrap_or_default(),
            format!("{:e}", r.final_kl),
        ])?;
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

const HEADER: [&str; 6] = [
    "game",
    "method",
    "converged",
    "seeds",
    "rate",
    "final_kl_target",
];

/// Check that every experiment `name` has `experiments/<name>.toml`, before anything runs.
pub fn check_names(experiments: &Path, names: &[String]) -> Result<()> {
    for n in names {
        let p = experiments.join(format!("{n}.toml"));
        if n.is_empty() || !p.is_file() {
            bail!(
                "baseline '{n}': there is no experiment file {} (give existing experiment names, e.g. exact,fig1, or point --experiments at their folder)",
                p.display()
            );
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<BTreeMap<(String, String), Row>> {
    let mut rd = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let header: Vec<String> = rd.headers()?.iter().map(str::to_string).collect();
    if header != HEADER {
        bail!(
            "{}: header is {header:?}, expected {HEADER:?}; regenerate it with `wind check --write-baselines <name>`",
            path.display()
        );
    }
    let mut m = BTreeMap::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let f = |j: usize| rec.get(j).unwrap_or("");
        let num = |j: usize| -> Result<f64> {
            f(j).parse::<f64>().with_context(|| {
                format!(
                    "{}: row {}, column {}: {:?} is not a number",
                    path.display(),
                    i + 2,
                    j + 1,
                    f(j)
                )
            })
        };
        if rec.len() != HEADER.len() {
            bail!(
                "{}: row {} has {} fields, expected {}",
                path.display(),
                i + 2,
                rec.len(),
                HEADER.len()
            );
        }
        let row = Row {
            converged: num(2)? as usize,
            seeds: num(3)? as usize,
            rate: if f(4).is_empty() { None } else { Some(num(4)?) },
            final_kl: num(5)?,
        };
        let valid = num(2)? >= 0.0
            && num(3)? >= 1.0
            && row.converged <= row.seeds
            && row.rate.is_none_or(|r| r.is_finite() && r > 0.0 && r < 1.0)
            && row.final_kl.is_finite()
            && row.final_kl >= 0.0;
        if !valid {
            bail!(
                "{}: row {}: invalid values (need 0 ≤ converged ≤ seeds, 0 < rate < 1, finite final KL ≥ 0): {:?}",
                path.display(),
                i + 2,
                rec.iter().collect::<Vec<_>>()
            );
        }
        if m.insert((f(0).to_string(), f(1).to_string()), row)
            .is_some()
        {
            bail!(
                "{}: row {}: ({}, {}) appears twice",
                path.display(),
                i + 2,
                f(0),
                f(1)
            );
        }
    }
    if m.is_empty() {
        bail!(
            "{}: no rows; regenerate it with `wind check --write-baselines <name>`",
            path.display()
        );
    }
    Ok(m)
}

fn compare(
    base: &BTreeMap<(String, String), Row>,
    new: &BTreeMap<(String, String), Row>,
) -> Vec<String> {
    let mut bad = vec![];
    for (g, m) in new.keys() {
        if !base.contains_key(&(g.clone(), m.clone())) {
            bad.push(format!("{g}/{m}: in the fresh run but not in the baseline (rewrite it with --write-baselines)"));
        }
    }
    for ((g, m), b) in base {
        let Some(n) = new.get(&(g.clone(), m.clone())) else {
            bad.push(format!("{g}/{m}: missing from the fresh run"));
            continue;
        };
        if n.converged < b.converged {
            bad.push(format!(
                "{g}/{m}: converged on {}/{} seeds, baseline {}/{}",
                n.converged, n.seeds, b.converged, b.seeds
            ));
        }
        if let (Some(br), Some(nr)) = (b.rate, n.rate)
            && nr > br + RATE_TOL
        {
            bad.push(format!(
                "{g}/{m}: rate {nr:.4} vs baseline {br:.4} (+{:.4} > {RATE_TOL})",
                nr - br
            ));
        }
        if n.final_kl > b.final_kl * KL_FACTOR + 1e-12 {
            bad.push(format!(
                "{g}/{m}: final KL {:.3e} vs baseline {:.3e} (×{:.2} > ×{KL_FACTOR})",
                n.final_kl,
                b.final_kl,
                n.final_kl / b.final_kl.max(1e-300)
            ));
        }
    }
    bad
}

fn skip(_: &wind_check::Impls, _: bool) -> Outcome {
    Outcome::Skipped(String::new())
}

/// One claim result per baseline file in `dir`.
pub fn check_all(experiments: &Path, dir: &Path) -> Result<Vec<ClaimResult>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the baselines folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "{} holds no <experiment>.csv baselines; write them with `wind check --write-baselines exact,fig1`",
            dir.display()
        );
    }
    let mut out = vec![];
    for f in files {
        let name = f
            .file_stem()
            .expect("csv file")
            .to_string_lossy()
            .into_owned();
        let base = read(&f)?;
        let new = summarize(&fresh(experiments, &name)?);
        let bad = compare(&base, &new);
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        out.push(ClaimResult {
            claim: Claim {
                name: leak(format!("baseline_{name}")),
                statement: leak(format!(
                    "experiments/{name}.toml matches {} (rates, convergence counts, final KL)",
                    f.display()
                )),
                expected: leak(format!(
                    "rate ≤ baseline + {RATE_TOL}, converged ≥ baseline, final KL ≤ ×{KL_FACTOR}"
                )),
                link: leak(f.display().to_string()),
                fast: true,
                measure: skip,
            },
            outcome: Outcome::Measured {
                value: bad.len() as f64,
                pass: bad.is_empty(),
                detail: if bad.is_empty() {
                    format!("{} (game, method) rows within tolerance", base.len())
                } else {
                    bad.join("; ")
                },
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_names_what_degraded_and_by_how_much() {
        let row = |c, r: Option<f64>, kl| Row {
            converged: c,
            seeds: 5,
            rate: r,
            final_kl: kl,
        };
        let k = ("g".to_string(), "wind_identity".to_string());
        let base: BTreeMap<_, _> = [(k.clone(), row(5, Some(0.81), 1e-14))].into();
        assert!(compare(&base, &base).is_empty());
        let worse: BTreeMap<_, _> = [(k.clone(), row(4, Some(0.83), 1e-14))].into();
        let bad = compare(&base, &worse);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(
            bad[0].contains("converged on 4/5")
                && bad[1].contains("rate 0.8300 vs baseline 0.8100"),
            "{bad:?}"
        );
        let kl: BTreeMap<_, _> = [(k, row(5, Some(0.81), 1e-3))].into();
        assert!(compare(&base, &kl)[0].contains("final KL"));
        assert!(compare(&base, &BTreeMap::new())[0].contains("missing"));
        let extra: BTreeMap<_, _> = [(("g".into(), "new".into()), row(5, None, 1.0))]
            .into_iter()
            .chain(base.clone())
            .collect();
        assert!(compare(&base, &extra)[0].contains("not in the baseline"));
    }

    #[test]
    fn damaged_baselines_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let good = "game,method,converged,seeds,rate,final_kl_target\ng,m,5,5,8.1e-1,1e-14\n";
        let p = dir.path().join("b.csv");
        std::fs::write(&p, good).unwrap();
        assert_eq!(read(&p).unwrap().len(), 1);
        for (bad, needle) in [
            ("", "header"),
            (
                "game,method,converged,seeds,rate,final_kl_target\n",
                "no rows",
            ),
            (
                "game,method,converged,seeds,rate,final_kl\ng,m,5,5,0.8,1\n",
                "header",
            ),
            (&good.replace("1e-14", "NaN"), "invalid"),
            (&good.replace("1e-14", "-1"), "invalid"),
            (&good.replace("5,5", "7,5"), "invalid"),
            (&format!("{good}g,m,5,5,8.1e-1,1e-14\n"), "twice"),
            (&good.replace("8.1e-1", "x"), "not a number"),
        ] {
            std::fs::write(&p, bad).unwrap();
            let e = format!("{:#}", read(&p).unwrap_err());
            assert!(e.contains(needle), "{bad:?}: {e}");
        }
    }
}
