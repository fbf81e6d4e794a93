//! Tidy CSV, run summaries, timings and manifest, written atomically.
//!
//! Everything is first written into a fresh temporary folder next to the destination; only
//! when every file is complete is the old `results/<name>/` moved aside and the new one renamed
//! into place. A failed or interrupted run never leaves a half-written CSV, and replacing an
//! earlier result is reported.

use crate::config::Experiment;
use crate::runner::{MetricRow, RunOptions, RunSummary, WallRow};
use crate::{ExpError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Header of the tidy metrics CSV (one definition, shared with the plotting reader).
pub const METRICS_HEADER: [&str; 10] = wind_plot::COLUMNS;

/// Paths written by a run.
#[derive(Debug, Clone)]
pub struct ResultFiles {
    /// `results/<name>/`.
    pub dir: PathBuf,
    /// `metrics.csv`.
    pub metrics: PathBuf,
    /// `runs.csv` (termination reasons, rates).
    pub runs: PathBuf,
    /// `timing.csv` (wall time; not byte-stable).
    pub timing: PathBuf,
    /// `manifest.json`.
    pub manifest: PathBuf,
    /// Whether an earlier result folder was replaced.
    pub replaced: bool,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> ExpError {
    ExpError::Io {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// Format a float reproducibly (shortest round-trip, exponent form).
pub fn fmt_f64(v: f64) -> String {
    format!("{v:e}")
}

fn opt(v: Option<f64>) -> String {
    v.map(fmt_f64).unwrap_or_default()
}

fn write_csv(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let f = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(f));
    w.write_record(header).map_err(|e| io_err(path, e))?;
    for r in rows {
        w.write_record(&r).map_err(|e| io_err(path, e))?;
    }
    let inner = w.into_inner().map_err(|e| io_err(path, e))?;
    let f = inner.into_inner().map_err(|e| io_err(path, e))?;
    f.sync_all().map_err(|e| io_err(path, e))
}

fn git_commit(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut c = String::from_utf8(out.stdout).ok()?.trim().to_string();
    let dirty = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    if dirty {
        c.push_str("-dirty");
    }
    Some(c)
}

/// Host description for manifests.
pub fn host_info() -> serde_json::Value {
    let hostname = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    serde_json::json!({
        "hostname": hostname,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}

/// Write all result files for `exp` atomically.
pub fn write_results(
    exp: &Experiment,
    rows: &[MetricRow],
    wall: &[WallRow],
    runs: &[RunSummary],
    opts: &RunOptions,
    backend: Option<&str>,
) -> Result<ResultFiles> {
    let root = &opts.results_root;
    std::fs::create_dir_all(root).map_err(|e| io_err(root, e))?;
    let dir = root.join(&exp.name);
    let pid = std::process::id();
    let tmp = root.join(format!(".{}.partial-{pid}", exp.name));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    let result = (|| -> Result<()> {
        write_csv(
            &tmp.join("metrics.csv"),
            &METRICS_HEADER,
            rows.iter().map(|r| {
                vec![
                    exp.name.clone(),
                    r.game.clone(),
                    r.method.clone(),
                    r.seed.to_string(),
                    r.iteration.to_string(),
                    r.counters.samples.to_string(),
                    r.counters.oracle_queries.to_string(),
                    r.counters.grad_steps.to_string(),
                    r.metric.name().to_string(),
                    fmt_f64(r.value),
                ]
            }),
        )?;
        write_csv(
            &tmp.join("runs.csv"),
            &[
                "experiment",
                "game",
                "method",
                "seed",
                "iterations",
                "termination",
                "final_kl_target",
                "rate",
                "one_minus_eta_beta",
            ],
            runs.iter().map(|r| {
                vec![
                    exp.name.clone(),
                    r.game.clone(),
                    r.method.clone(),
                    r.seed.to_string(),
                    r.iterations.to_string(),
                    r.termination.name().to_string(),
                    fmt_f64(r.final_kl_target),
                    opt(r.rate),
                    opt(r.one_minus_eta_beta),
                ]
            }),
        )?;
        write_csv(
            &tmp.join("wall.csv"),
            &["game", "method", "seed", "iteration", "wall_ms"],
            wall.iter().map(|w| {
                vec![
                    w.game.clone(),
                    w.method.clone(),
                    w.seed.to_string(),
                    w.iteration.to_string(),
                    format!("{:.3}", w.ms),
                ]
            }),
        )?;
        write_csv(
            &tmp.join("timing.csv"),
            &["experiment", "game", "method", "seed", "wall_seconds"],
            runs.iter().map(|r| {
                vec![
                    exp.name.clone(),
                    r.game.clone(),
                    r.method.clone(),
                    r.seed.to_string(),
                    format!("{:.6}", r.wall_seconds),
                ]
            }),
        )?;
        let manifest = serde_json::json!({
            "experiment": exp,
            "source": exp.source.display().to_string(),
            "git_commit": git_commit(if exp.base_dir.as_os_str().is_empty() { Path::new(".") } else { &exp.base_dir }),
            "versions": { "wind": env!("CARGO_PKG_VERSION"), "burn": "0.22.1", "gpu_feature": wind_learn::backend::GPU_BUILT },
            "host": host_info(),
            "backend": backend,
            "created_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "rows": rows.len(),
            "files": ["metrics.csv", "runs.csv", "timing.csv", "wall.csv", "manifest.json"],
        });
        let mpath = tmp.join("manifest.json");
        let mut f = std::fs::File::create(&mpath).map_err(|e| io_err(&mpath, e))?;
        f.write_all(
            serde_json::to_string_pretty(&manifest)
                .expect("json")
                .as_bytes(),
        )
        .map_err(|e| io_err(&mpath, e))?;
        f.sync_all().map_err(|e| io_err(&mpath, e))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let replaced = dir.exists();
    if replaced {
        let old = root.join(format!(".{}.old-{pid}", exp.name));
        std::fs::rename(&dir, &old).map_err(|e| io_err(&dir, e))?;
        if let Err(e) = std::fs::rename(&tmp, &dir) {
            let _ = std::fs::rename(&old, &dir); // restore the earlier result
            return Err(io_err(&dir, e));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&tmp, &dir).map_err(|e| io_err(&dir, e))?;
    }
    Ok(ResultFiles {
        metrics: dir.join("metrics.csv"),
        runs: dir.join("runs.csv"),
        timing: dir.join("timing.csv"),
        manifest: dir.join("manifest.json"),
        dir,
        replaced,
    })
}
