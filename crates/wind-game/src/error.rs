//! Errors of the game crate: each names where the problem is and how to fix it.

use std::path::PathBuf;

/// Everything that can go wrong building, loading or solving a game.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GameError {
    /// The game has no contexts or no actions.
    #[error("the game is empty ({what}); give at least one context with at least one action")]
    Empty {
        /// What is missing.
        what: String,
    },
    /// A matrix is not square or a context has the wrong number of actions.
    #[error(
        "context {context}, row {row}: has {len} entries but the game has {n} actions; every matrix must be {n}×{n}"
    )]
    Shape {
        /// Context index (0-based).
        context: usize,
        /// Row index (0-based).
        row: usize,
        /// Entries found.
        len: usize,
        /// Actions expected.
        n: usize,
    },
    /// A context has a different number of rows than the first one.
    #[error(
        "context {context}: has {rows} rows but context 0 has {n}; all contexts must share one action set"
    )]
    Rows {
        /// Context index.
        context: usize,
        /// Rows found.
        rows: usize,
        /// Rows expected.
        n: usize,
    },
    /// An entry is NaN, infinite or outside [0, 1].
    #[error(
        "context {context}, row {row}, column {col}: P = {value} is not a probability; entries must be finite and in [0, 1]"
    )]
    Entry {
        /// Context index.
        context: usize,
        /// Row index.
        row: usize,
        /// Column index.
        col: usize,
        /// Offending value.
        value: f64,
    },
    /// `P(y≻y') + P(y'≻y) ≠ 1`.
    #[error(
        "context {context}, row {row}, column {col}: P[{row}][{col}] + P[{col}][{row}] = {value} + {other} = {sum}, must be 1 (within 1e-9); a preference matrix satisfies P + Pᵀ = 1 (so the diagonal is 0.5)"
    )]
    Complement {
        /// Context index.
        context: usize,
        /// Row.
        row: usize,
        /// Column.
        col: usize,
        /// `P[row][col]`.
        value: f64,
        /// `P[col][row]`.
        other: f64,
        /// Their sum.
        sum: f64,
    },
    /// A distribution (ρ or a policy) is invalid.
    #[error("{what}: {msg}")]
    Distribution {
        /// Which distribution, with position.
        what: String,
        /// What is wrong and how to fix it.
        msg: String,
    },
    /// A parameter is out of its domain.
    #[error("{name} = {value}: {msg}")]
    Parameter {
        /// Parameter name.
        name: &'static str,
        /// Offending value.
        value: f64,
        /// Domain and fix.
        msg: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file could be read but not parsed.
    #[error("{path}:{line}: {msg}")]
    Parse {
        /// File.
        path: PathBuf,
        /// 1-based line (0 if unknown).
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// A solver failed its own verification (a bug or an ill-posed input; never silent).
    #[error("solver failure in context {context}: {msg}")]
    Solver {
        /// Context index.
        context: usize,
        /// What failed.
        msg: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = GameError> = std::result::Result<T, E>;
