//! # wind-learn
//!
//! Parametric learners on [burn](https://burn.dev) 0.22 (SPEC §5–6): WIND's sample-based
//! variants (squared, KL and NCE losses) and the methods they are compared with (SPPO,
//! J-BOND, Nash-MD-PG, online IPO/DPO, BOND by Monte Carlo), on tabular, log-linear and MLP
//! policies over a tabular preference game.
//!
//! - [`backend`]: flex (CPU) always, wgpu behind the `gpu` feature, chosen at run time.
//! - [`policy`]: the policy classes as burn modules; `π_ref` is the initial parameters and the
//!   exact per-context distribution of a learned policy is always available.
//! - [`oracle`]: the counting, strictly pairwise preference oracle and the counting sampler.
//! - [`losses`]: each loss written once on per-sample log-probabilities (reused by the
//!   language-model track with sequence log-probabilities).
//! - [`learner`]: the learners behind one shape (init / iterate); [`run`] drives them with an
//!   oracle-query budget and the observers of `wind-dynamics`.

pub mod backend;
pub mod learner;
pub mod losses;
pub mod oracle;
pub mod policy;
pub mod population;
pub mod run;

pub use backend::{BackendChoice, SelectedDevice, select_device, test_device};
pub use learner::{IterStats, Learner, LearnerKind, LearnerNet, LearnerSpec};
pub use oracle::{Oracle, OracleMode, Sampler};
pub use policy::{PolicyClass, PolicyConsts, PolicyNet, build_policy};
pub use run::{LearnBudget, run_learner};
