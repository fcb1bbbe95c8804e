//! Errors of the analytics layer.
//!
//! Two kinds matter to callers: the question was wrong ([`AnalyticsError::UnknownCode`],
//! [`AnalyticsError::InvalidArgument`]), which the API reports as bad user input, and the
//! machinery failed (database, polars), which it reports as internal or unavailable.

use sea_orm::DbErr;
use thiserror::Error;

/// Why an analytics operation failed.
#[derive(Debug, Error)]
pub enum AnalyticsError {
    /// Loading the snapshot from the database failed.
    #[error("loading the snapshot failed: {0}")]
    Load(#[from] DbErr),
    /// A polars computation failed (a bug, not a user error).
    #[error("computation failed: {0}")]
    Compute(#[from] polars::error::PolarsError),
    /// A filter named a code that does not exist in this data version.
    #[error("unknown {dimension} code '{code}'")]
    UnknownCode {
        /// Dimension of the code, e.g. `cohort`.
        dimension: &'static str,
        /// The code as given.
        code: String,
    },
    /// A filter named a code that exists but lies outside the caller's row scope.
    #[error("{dimension} '{code}' is outside what this partner may drill into")]
    OutOfScope {
        /// Dimension of the code, e.g. `site`.
        dimension: &'static str,
        /// The code as given.
        code: String,
    },
    /// A date range whose start is after its end, or another impossible argument.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl AnalyticsError {
    /// Whether the error is the caller's (bad question) rather than the system's.
    pub fn is_user_error(&self) -> bool {
        matches!(self, Self::UnknownCode { .. } | Self::OutOfScope { .. } | Self::InvalidArgument(_))
    }
}
