//! Driving a learner: metrics per iteration to observers, budget in oracle queries, and a
//! recorded termination reason — the same [`Observer`] / [`Counters`] / [`Termination`]
//! shape as the exact dynamics, so both land in the same CSV.

use crate::learner::Learner;
use wind_dynamics::{Counters, MetricKind, Observer, Problem, RunReport, Termination};
use wind_game::metrics;

/// Limits of a learner run.
#[derive(Debug, Clone)]
pub struct LearnBudget {
    /// Hard cap on oracle queries: an iteration that would exceed it is not started.
    pub oracle_queries: u64,
    /// And after at most this many iterations.
    pub max_iters: usize,
    /// Converged when `KL(target‖π_t) ≤ tol`.
    pub tol: f64,
}

/// Run `learner` on `problem` until the budget is spent, sending `metrics` every iteration
/// (iteration 0 = `π_ref`) to `observer`.
pub fn run_learner(
    learner: &mut Learner,
    problem: &Problem,
    budget: &LearnBudget,
    metric_kinds: &[MetricKind],
    observer: &mut dyn Observer,
) -> RunReport {
    let g = learner.spec().kind.target_transform();
    let target = problem.target(g).clone();
    let mut iter = 0;
    let mut row = Vec::with_capacity(metric_kinds.len());
    let mut termination = Termination::Budget;
    let mut policy = learner.policy();
    let mut kl_t;
    loop {
        row.clear();
        for &m in metric_kinds {
            row.push((m, m.compute(problem, &target, g, &policy)));
        }
        let counters: Counters = learner.counters();
        observer.observe(iter, counters, &row);
        kl_t = metrics::kl(&problem.game, &target, &policy);
        if !row.iter().all(|(_, v)| v.is_finite()) || !kl_t.is_finite() {
            termination = Termination::Diverged;
            break;
        }
        if kl_t <= budget.tol {
            termination = Termination::Converged;
            break;
        }
        // Every learner makes exactly `batch × queries_per_prompt` queries per iteration, so the
        // budget is a hard cap: stop before the iteration that would cross it.
        let next = counters.oracle_queries + learner.queries_per_iteration();
        if next > budget.oracle_queries || iter >= budget.max_iters {
            break;
        }
        learner.iterate(&problem.game);
        policy = learner.policy();
        iter += 1;
    }
    RunReport {
        iterations: iter,
        termination,
        final_kl_target: kl_t,
        policy,
    }
}
