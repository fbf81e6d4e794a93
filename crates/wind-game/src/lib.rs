//! # wind-game
//!
//! Tabular preference games (SPEC §1–2), log-space policies with support masks, exact
//! symmetric Nash equilibria with verification and degeneracy detection, KL-regularized
//! equilibria to a log-space residual ≤ 1e-12, and the metrics of SPEC §3.

pub mod error;
pub mod game;
pub mod generators;
pub mod io;
pub mod metrics;
pub mod nash;
pub mod numerics;
pub mod policy;
pub mod regularized;
pub mod rng;
#[cfg(feature = "proptest")]
pub mod strategies;

pub use error::{GameError, Result};
pub use game::{Features, Game};
pub use generators::{GameSpec, ReferenceSpec};
pub use nash::{ContextNash, NashSolution, solve_nash};
pub use policy::Policy;
pub use regularized::{RegularizedSolution, Transform, solve_regularized};
pub use rng::WindRng;
