//! Solver / executor / observer.

use serde::{Deserialize, Serialize};
use wind_game::metrics;
use wind_game::{Game, GameError, Policy, Transform, solve_regularized};

/// The problem every exact dynamic runs on: a game, `π_ref`, `β`, and the exact targets.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The game.
    pub game: Game,
    /// Reference policy.
    pub reference: Policy,
    /// Regularization β.
    pub beta: f64,
    /// `π*_β` (fixed point with `g = identity`).
    pub pi_star: Policy,
    /// Fixed point with `g = log` (`π ∝ π_ref·w^{1/β}`), solved lazily by [`Problem::with_log_target`].
    pub pi_log: Option<Policy>,
}

impl Problem {
    /// Solve `π*_β` and build the problem.
    pub fn new(game: Game, reference: Policy, beta: f64) -> Result<Self, GameError> {
        let pi_star = solve_regularized(&game, &reference, beta, Transform::Identity)?.policy;
        Ok(Self {
            game,
            reference,
            beta,
            pi_star,
            pi_log: None,
        })
    }

    /// Also solve the `g = log` fixed point.
    pub fn with_log_target(mut self) -> Result<Self, GameError> {
        if self.pi_log.is_none() {
            self.pi_log = Some(
                solve_regularized(&self.game, &self.reference, self.beta, Transform::Log)?.policy,
            );
        }
        Ok(self)
    }

    /// The fixed point a method with transform `g` converges to.
    pub fn target(&self, g: Transform) -> &Policy {
        match g {
            Transform::Identity => &self.pi_star,
            Transform::Log => self.pi_log.as_ref().expect("call with_log_target first"),
        }
    }
}

/// Iteration state.
#[derive(Debug, Clone)]
pub struct State {
    /// Iteration counter (0 = initial policy).
    pub iter: usize,
    /// Current policy `π_t`.
    pub policy: Policy,
    /// Auxiliary policy (the J-BOND anchor), when the method has one.
    pub aux: Option<Policy>,
}

/// Budget counters (the x-axes of sample-efficiency plots). Exact dynamics draw no samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Policy samples drawn.
    pub samples: u64,
    /// Preference-oracle queries.
    pub oracle_queries: u64,
    /// Optimizer steps.
    pub grad_steps: u64,
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The distance to the target fell below the tolerance.
    Converged,
    /// The iteration budget was used up.
    Budget,
    /// A metric or the policy became non-finite.
    Diverged,
}

impl Termination {
    /// Name for CSV/logs.
    pub fn name(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::Budget => "budget",
            Termination::Diverged => "diverged",
        }
    }
}

/// An exact update rule.
pub trait Solver {
    /// Method name (CSV `method` column).
    fn name(&self) -> String;
    /// Transform whose fixed point this method targets (`identity` unless WIND with `g = log`).
    fn target_transform(&self) -> Transform {
        Transform::Identity
    }
    /// Initial state (default: `π_0 = π_ref`).
    fn init(&mut self, problem: &Problem) -> State {
        State {
            iter: 0,
            policy: problem.reference.clone(),
            aux: None,
        }
    }
    /// One iteration.
    fn next_iter(&mut self, problem: &Problem, state: &State) -> State;
    /// Work counters of one iteration (zero for exact dynamics).
    fn counters_per_iter(&self) -> Counters {
        Counters::default()
    }
}

/// Metrics the executor can compute each iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// `KL(π*_β ‖ π_t)`.
    KlStar,
    /// `KL(target ‖ π_t)` for the method's own fixed point.
    KlTarget,
    /// `G_β(π_t)`.
    Gap,
    /// Exploitability `max_y w_{π_t}(y) − ½`.
    Exploitability,
    /// `KL(π_t ‖ π_ref)`.
    KlRef,
    /// `P(π_t ≻ π_ref)`.
    WinVsRef,
    /// `P(π_t ≻ π*_β)`.
    WinVsStar,
    /// Entropy of `π_t`.
    Entropy,
    /// Log-space residual `max |log π_t − log T(π_t)|` of the method's target fixed-point
    /// equation `π ∝ π_ref·exp(g(w_π)/β)` — target-free, so it also certifies convergence where
    /// the fixed point is not unique (`g = log`).
    FpResidual,
}

impl MetricKind {
    /// CSV name.
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::KlStar => "kl_star",
            MetricKind::KlTarget => "kl_target",
            MetricKind::Gap => "gap",
            MetricKind::Exploitability => "exploitability",
            MetricKind::KlRef => "kl_ref",
            MetricKind::WinVsRef => "win_vs_ref",
            MetricKind::WinVsStar => "win_vs_star",
            MetricKind::Entropy => "entropy",
            MetricKind::FpResidual => "fp_residual",
        }
    }

    /// The value of this metric for `pi` (with `target` the fixed point of transform `g_target`).
    pub fn compute(self, p: &Problem, target: &Policy, g_target: Transform, pi: &Policy) -> f64 {
        let g = &p.game;
        match self {
            MetricKind::KlStar => metrics::kl(g, &p.pi_star, pi),
            MetricKind::KlTarget => metrics::kl(g, target, pi),
            MetricKind::Gap => metrics::gap(g, pi, &p.reference, p.beta),
            MetricKind::Exploitability => metrics::exploitability(g, pi),
            MetricKind::KlRef => metrics::kl(g, pi, &p.reference),
            MetricKind::WinVsRef => metrics::win_rate(g, pi, &p.reference),
            MetricKind::WinVsStar => metrics::win_rate(g, pi, &p.pi_star),
            MetricKind::Entropy => metrics::entropy(g, pi),
            MetricKind::FpResidual => {
                wind_game::regularized::residual(g, &p.reference, pi, p.beta, g_target)
            }
        }
    }
}

/// Receives one row of metrics per iteration.
pub trait Observer {
    /// Called at `iter` (0 = initial policy) with cumulative counters and `(metric, value)` pairs.
    fn observe(&mut self, iter: usize, counters: Counters, metrics: &[(MetricKind, f64)]);
}

impl<F: FnMut(usize, Counters, &[(MetricKind, f64)])> Observer for F {
    fn observe(&mut self, iter: usize, counters: Counters, metrics: &[(MetricKind, f64)]) {
        self(iter, counters, metrics)
    }
}

/// What a run ended with.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Iterations performed.
    pub iterations: usize,
    /// Why it stopped.
    pub termination: Termination,
    /// Final `KL(target‖π_T)`.
    pub final_kl_target: f64,
    /// Final policy.
    pub policy: Policy,
}

/// Drives a [`Solver`] on a [`Problem`].
#[derive(Debug, Clone)]
pub struct Executor {
    /// Iteration budget.
    pub max_iters: usize,
    /// Converged when `KL(target‖π_t) ≤ tol`.
    pub tol: f64,
    /// Metrics sent to observers every iteration.
    pub metrics: Vec<MetricKind>,
}

impl Executor {
    /// Run `solver`, reporting to `observer`.
    pub fn run(
        &self,
        solver: &mut dyn Solver,
        problem: &Problem,
        observer: &mut dyn Observer,
    ) -> RunReport {
        let g_target = solver.target_transform();
        let target = problem.target(g_target).clone();
        let mut state = solver.init(problem);
        let per = solver.counters_per_iter();
        let mut counters = Counters::default();
        let mut row = Vec::with_capacity(self.metrics.len());
        let mut termination = Termination::Budget;
        let mut kl_t;
        loop {
            row.clear();
            for &m in &self.metrics {
                row.push((m, m.compute(problem, &target, g_target, &state.policy)));
            }
            observer.observe(state.iter, counters, &row);
            kl_t = metrics::kl(&problem.game, &target, &state.policy);
            let finite = row.iter().all(|(_, v)| v.is_finite())
                && (0..problem.game.n_contexts())
                    .all(|x| state.policy.probs(x).iter().all(|v| v.is_finite()));
            if !finite {
                termination = Termination::Diverged;
                break;
            }
            if kl_t <= self.tol {
                termination = Termination::Converged;
                break;
            }
            if state.iter >= self.max_iters {
                break;
            }
            state = solver.next_iter(problem, &state);
            counters.samples += per.samples;
            counters.oracle_queries += per.oracle_queries;
            counters.grad_steps += per.grad_steps;
        }
        RunReport {
            iterations: state.iter,
            termination,
            final_kl_target: kl_t,
            policy: state.policy,
        }
    }
}
