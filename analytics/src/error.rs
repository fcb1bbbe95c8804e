//! Errors of the analytics layer.
//!
//! Two kinds matter to callers: the question was wrong ([`AnalyticsError::UnknownCode`],
//! [`AnalyticsError::InvalidArgument`]), which the API reports as bad user input, and the
//! computation failed (polars), which it reports as internal. Reading from the database
//! is the store's, with its own errors.

use thiserror::Error;

/// Why an analytics operation failed.
#[derive(Debug, Error)]
pub enum AnalyticsError {
    /// A polars computation failed (a bug, not a user error).
    #[error("computation failed: {0}")]
    Compute(#[from] polars::error::PolarsError),
    /// A filter named a code that does not exist in this data version.
    #[error("unknown {dimension} code '{}'", echo(code))]
    UnknownCode {
        /// Dimension of the code, e.g. `cohort`.
        dimension: &'static str,
        /// The code as given.
        code: String,
    },
    /// A filter named a code that exists but lies outside the caller's row scope.
    #[error("{dimension} '{}' is outside what this partner may drill into", echo(code))]
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

/// Longest part of a caller's value repeated in an error message, in characters.
pub const ECHO_LIMIT: usize = 64;

/// `value` as an error message may repeat it: cut to [`ECHO_LIMIT`] characters, so a
/// 100 KB argument does not come back whole.
pub fn echo(value: &str) -> String {
    match value.char_indices().nth(ECHO_LIMIT) {
        None => value.to_owned(),
        Some((cut, _)) => format!("{}…", &value[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_in_messages_and_short_ones_kept() {
        assert_eq!(echo("COADREAD"), "COADREAD");
        let long = "Å".repeat(100_000);
        let error = AnalyticsError::UnknownCode { dimension: "gene", code: long };
        let message = error.to_string();
        assert!(message.chars().count() < 120, "{message}");
        assert!(message.contains(&format!("{}…", "Å".repeat(ECHO_LIMIT))));
    }
}
