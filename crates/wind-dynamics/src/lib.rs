//! # wind-dynamics
//!
//! Exact tabular update rules (SPEC §4–5) behind one solver shape, in the style of argmin:
//! a [`Solver`] has `init` / `next_iter` / `terminate`; the [`Executor`] drives it, computes
//! the per-iteration metrics, sends them to [`Observer`]s and records a [`Termination`] reason
//! (converged / budget / diverged).

pub mod executor;
pub mod methods;
pub mod rate;

pub use executor::{
    Counters, Executor, MetricKind, Observer, Problem, RunReport, Solver, State, Termination,
};
pub use methods::{MethodSpec, build_solver};
pub use rate::{LinearRate, linear_rate};
