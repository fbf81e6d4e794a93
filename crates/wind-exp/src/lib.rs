//! # wind-exp
//!
//! The data path `TOML → game + methods → metric rows → CSV → figure`:
//! [`config`] parses and validates an experiment file (errors carry `file:line:column` and
//! the fix), [`runner`] executes it deterministically, [`output`] writes the tidy CSV,
//! timings and manifest atomically.

pub mod config;
pub mod output;
pub mod runner;

pub use config::{Experiment, load_experiment};
pub use runner::{RunOptions, RunOutput, run_experiment};

/// Errors of the experiment layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpError {
    /// A problem in an experiment file, with its location.
    #[error("{file}:{line}:{column}: {msg}")]
    Config {
        /// File.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and how to fix it.
        msg: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {msg}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        msg: String,
    },
    /// A game, reference or solver failed.
    #[error(transparent)]
    Game(#[from] wind_game::GameError),
    /// A learner could not be set up (backend, policy class).
    #[error("{0}")]
    Learner(String),
    /// Plotting failed.
    #[error(transparent)]
    Plot(#[from] wind_plot::PlotError),
}

/// Result alias.
pub type Result<T, E = ExpError> = std::result::Result<T, E>;
