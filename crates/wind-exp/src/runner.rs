//! Deterministic execution of an experiment.

use crate::Result;
use crate::config::Experiment;
use crate::output::{ResultFiles, write_results};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use wind_dynamics::{
    Counters, Executor, MethodSpec, MetricKind, Observer, Problem, Termination, build_solver,
    linear_rate,
};
use wind_game::Transform;
use wind_learn::{BackendChoice, LearnBudget, Learner, SelectedDevice, run_learner, select_device};

/// Options of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where `<name>/` is written (default `results`).
    pub results_root: PathBuf,
    /// Silence the progress bar and notes.
    pub quiet: bool,
    /// Worker threads (results do not depend on it).
    pub threads: usize,
    /// Backend of the parametric learners.
    pub backend: BackendChoice,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            results_root: PathBuf::from("results"),
            quiet: false,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            backend: BackendChoice::Auto,
        }
    }
}

/// One metric value at one iteration (a row of the tidy CSV).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Game label.
    pub game: String,
    /// Method name.
    pub method: String,
    /// Seed.
    pub seed: u64,
    /// Iteration.
    pub iteration: usize,
    /// Cumulative counters.
    pub counters: Counters,
    /// Metric.
    pub metric: MetricKind,
    /// Value.
    pub value: f64,
}

/// The outcome of one (game, method, seed) run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Game label.
    pub game: String,
    /// Method name.
    pub method: String,
    /// Seed.
    pub seed: u64,
    /// Iterations performed.
    pub iterations: usize,
    /// Termination reason.
    pub termination: Termination,
    /// Final `KL(target‖π_T)`.
    pub final_kl_target: f64,
    /// Fitted linear rate of `KL(target‖π_t)` over values in `[1e-12, 1e-4]` (converged runs
    /// only: elsewhere there is no linear regime to fit).
    pub rate: Option<f64>,
    /// `1 − ηβ` for methods with a step size and regularization.
    pub one_minus_eta_beta: Option<f64>,
    /// Wall-clock seconds (kept out of the metrics CSV).
    #[serde(skip)]
    pub wall_seconds: f64,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// Files written.
    pub files: ResultFiles,
    /// Per-run summaries in deterministic order.
    pub runs: Vec<RunSummary>,
    /// Number of metric rows.
    pub rows: usize,
}

fn eta_beta(m: &MethodSpec, beta: f64) -> Option<f64> {
    match *m {
        MethodSpec::Wind { eta, .. } | MethodSpec::Omwu { eta } | MethodSpec::NashMd { eta } => {
            Some(1.0 - eta * beta)
        }
        _ => None,
    }
}

/// Collects the metric rows of one run (every `log_every`-th iteration, and always the last)
/// and the `KL(target‖π_t)` curve used for the rate fit.
struct Recorder<'a> {
    exp: &'a Experiment,
    game: &'a str,
    method: &'a str,
    seed: u64,
    kl_pos: usize,
    rows: &'a mut Vec<MetricRow>,
    wall: &'a mut Vec<WallRow>,
    t0: Instant,
    last_ms: f64,
    curve: Vec<(usize, f64)>,
    last: Vec<MetricRow>,
    last_written: bool,
}

impl<'a> Recorder<'a> {
    fn new(
        exp: &'a Experiment,
        game: &'a str,
        method: &'a str,
        seed: u64,
        kl_pos: usize,
        rows: &'a mut Vec<MetricRow>,
        wall: &'a mut Vec<WallRow>,
    ) -> Self {
        Self {
            exp,
            game,
            method,
            seed,
            kl_pos,
            rows,
            wall,
            t0: Instant::now(),
            last_ms: 0.0,
            curve: Vec::new(),
            last: Vec::new(),
            last_written: true,
        }
    }

    /// Record the final iteration if it was skipped by `log_every`; return the KL curve.
    fn finish(mut self) -> Vec<(usize, f64)> {
        if !self.last_written {
            if let Some(it) = self.last.first().map(|r| r.iteration) {
                self.push_wall(it);
            }
            self.rows.extend(self.last);
        }
        self.curve
    }

    fn push_wall(&mut self, iteration: usize) {
        self.wall.push(WallRow {
            game: self.game.to_string(),
            method: self.method.to_string(),
            seed: self.seed,
            iteration,
            ms: self.last_ms,
        });
    }
}

impl Observer for Recorder<'_> {
    fn observe(&mut self, it: usize, c: Counters, vals: &[(MetricKind, f64)]) {
        self.curve.push((it, vals[self.kl_pos].1));
        self.last.clear();
        for &(k, v) in vals {
            if self.exp.metrics.contains(&k) {
                self.last.push(MetricRow {
                    game: self.game.to_string(),
                    method: self.method.to_string(),
                    seed: self.seed,
                    iteration: it,
                    counters: c,
                    metric: k,
                    value: v,
                });
            }
        }
        self.last_ms = self.t0.elapsed().as_secs_f64() * 1e3;
        self.last_written = it.is_multiple_of(self.exp.log_every);
        if self.last_written {
            self.rows.extend(self.last.iter().cloned());
            self.push_wall(it);
        }
    }
}

/// Wall-clock time at a recorded iteration (written to `wall.csv`, never to `metrics.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct WallRow {
    /// Game label.
    pub game: String,
    /// Method name.
    pub method: String,
    /// Seed.
    pub seed: u64,
    /// Iteration.
    pub iteration: usize,
    /// Milliseconds since the run started (including the metric computations).
    pub ms: f64,
}

/// Rows, wall times and summaries of one (game, seed) unit.
type UnitOutput = (Vec<MetricRow>, Vec<WallRow>, Vec<RunSummary>);

fn run_unit(
    exp: &Experiment,
    gi: usize,
    seed: u64,
    device: Option<&SelectedDevice>,
) -> Result<UnitOutput> {
    let spec = &exp.games[gi];
    let game = spec.build(seed, &exp.base_dir)?;
    let reference = exp.reference.build(&game, seed, &exp.base_dir)?;
    let mut problem = Problem::new(game, reference, exp.beta)?;
    if exp.methods.iter().any(|m| {
        matches!(
            m,
            MethodSpec::Wind {
                g: Transform::Log,
                ..
            }
        )
    }) || exp
        .learners
        .iter()
        .any(|l| l.kind.target_transform() == Transform::Log)
    {
        problem = problem.with_log_target()?;
    }
    let label = spec.label();
    let mut metrics = exp.metrics.clone();
    if !metrics.contains(&MetricKind::KlTarget) {
        metrics.push(MetricKind::KlTarget); // needed for the rate; only requested ones are written
    }
    let kl_pos = metrics
        .iter()
        .position(|m| *m == MetricKind::KlTarget)
        .unwrap();
    let ex = Executor {
        max_iters: exp.iterations,
        tol: exp.tol,
        metrics: metrics.clone(),
    };
    let mut rows = Vec::new();
    let mut wall = Vec::new();
    let mut runs = Vec::new();
    for m in &exp.methods {
        let mut solver = build_solver(m);
        let name = solver.name();
        let t0 = Instant::now();
        let mut rec = Recorder::new(exp, &label, &name, seed, kl_pos, &mut rows, &mut wall);
        let rep = ex.run(solver.as_mut(), &problem, &mut rec);
        let curve = rec.finish();
        let wall = t0.elapsed().as_secs_f64();
        runs.push(RunSummary {
            game: label.clone(),
            method: name,
            seed,
            iterations: rep.iterations,
            termination: rep.termination,
            final_kl_target: rep.final_kl_target,
            rate: if rep.termination == Termination::Converged {
                linear_rate(&curve, 1e-12, 1e-4).map(|r| r.rate)
            } else {
                None
            },
            one_minus_eta_beta: eta_beta(m, exp.beta),
            wall_seconds: wall,
        });
    }
    if let (Some(learning), Some(dev)) = (&exp.learning, device) {
        let budget = LearnBudget {
            oracle_queries: learning.budget,
            max_iters: exp.iterations,
            tol: exp.tol,
        };
        for spec in &exp.learners {
            let name = spec.name();
            let t0 = Instant::now();
            let mut learner = Learner::new(
                spec.clone(),
                learning.policy,
                learning.oracle,
                &problem.game,
                &problem.reference,
                exp.beta,
                seed,
                &dev.device,
            )
            .map_err(|e| crate::ExpError::Learner(format!("{label}, {name}: {e}")))?;
            let mut rec = Recorder::new(exp, &label, &name, seed, kl_pos, &mut rows, &mut wall);
            let rep = run_learner(&mut learner, &problem, &budget, &metrics, &mut rec);
            rec.finish();
            runs.push(RunSummary {
                game: label.clone(),
                method: name,
                seed,
                iterations: rep.iterations,
                termination: rep.termination,
                final_kl_target: rep.final_kl_target,
                rate: None,
                one_minus_eta_beta: None,
                wall_seconds: t0.elapsed().as_secs_f64(),
            });
        }
    }
    Ok((rows, wall, runs))
}

/// Run an experiment and write `results/<name>/` atomically.
pub fn run_experiment(exp: &Experiment, opts: &RunOptions) -> Result<RunOutput> {
    let device = if exp.learners.is_empty() {
        None
    } else {
        Some(select_device(opts.backend).map_err(crate::ExpError::Learner)?)
    };
    let units: Vec<(usize, u64)> = (0..exp.games.len())
        .flat_map(|g| exp.seeds.iter().map(move |&s| (g, s)))
        .collect();
    let pb = if opts.quiet {
        ProgressBar::hidden()
    } else {
        let pb =
            ProgressBar::with_draw_target(Some(units.len() as u64), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} game×seed units, {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb.set_prefix(exp.name.clone());
        pb
    };
    let slots: Mutex<Vec<Option<Result<UnitOutput>>>> =
        Mutex::new((0..units.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, units.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= units.len() {
                        break;
                    }
                    let (g, seed) = units[i];
                    let r = run_unit(exp, g, seed, device.as_ref());
                    slots.lock().expect("no poisoned lock")[i] = Some(r);
                    pb.inc(1);
                }
            });
        }
    });
    pb.finish_and_clear();
    let mut rows = Vec::new();
    let mut wall = Vec::new();
    let mut runs = Vec::new();
    for slot in slots.into_inner().expect("no poisoned lock") {
        let (r, w, s) = slot.expect("every unit ran")?;
        rows.extend(r);
        wall.extend(w);
        runs.extend(s);
    }
    let backend = device.as_ref().map(|d| d.name.clone());
    let files = write_results(exp, &rows, &wall, &runs, opts, backend.as_deref())?;
    Ok(RunOutput {
        files,
        rows: rows.len(),
        runs,
    })
}
