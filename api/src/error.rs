//! Errors at the API boundary and their stable codes.
//!
//! Policy: every error a client sees carries `extensions.code`, chosen by an exhaustive
//! `match` in [`ApiError::code`]. Resolvers return `async_graphql::Result` built only
//! through [`ApiError`] (never a bare `?` on a foreign error, which async-graphql would
//! turn into a message without a code). Internal causes are logged once, here, and the
//! client gets a generic message. Errors raised by async-graphql itself (parse,
//! validation, limits, argument coercion) are given codes by [`crate::graphql::codes`].

use async_graphql::{ErrorExtensions, FieldError};
use consortium_analytics::stats::StatsError;
use consortium_analytics::AnalyticsError;
use sea_orm::DbErr;

/// A stable error code, as sent in `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request body is not a GraphQL request (malformed JSON, wrong shape), or
    /// asks for something this transport does not do.
    BadRequest,
    /// The request body is larger than accepted.
    TooLarge,
    /// The request does not say which of its document's operations to run, or names
    /// one the document does not hold.
    OperationResolutionFailure,
    /// The query text does not parse.
    ParseFailed,
    /// The query does not validate against the schema (unknown field, wrong type).
    ValidationFailed,
    /// The query is nested too deep or is too complex.
    QueryTooComplex,
    /// An argument is well-formed but wrong (unknown code, invalid range).
    BadUserInput,
    /// The thing asked for does not exist.
    NotFound,
    /// No valid credentials.
    Unauthenticated,
    /// The credentials do not allow this.
    Forbidden,
    /// The caller's rate-limit budget is spent.
    Throttled,
    /// A dependency (database, snapshot) is not available right now.
    Unavailable,
    /// The request ran past its deadline and was stopped.
    Timeout,
    /// Another request released overlapping numbers at the same moment; asking again
    /// gets an answer protected against them.
    Conflict,
    /// The differencing guard's ledger of this data version is full: nothing new can be
    /// released until the next data version.
    LedgerFull,
    /// The partner's privacy budget (the noisy tier) does not allow the answer's noisy
    /// values until its window resets.
    BudgetExhausted,
    /// A persisted query's hash this replica does not know: send the query with it.
    PersistedQueryNotFound,
    /// A bug or an unexpected failure; details are in the server log.
    Internal,
}

impl Code {
    /// The code's wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "BAD_REQUEST",
            Code::TooLarge => "TOO_LARGE",
            Code::OperationResolutionFailure => "OPERATION_RESOLUTION_FAILURE",
            Code::ParseFailed => "GRAPHQL_PARSE_FAILED",
            Code::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::NotFound => "NOT_FOUND",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::Throttled => "THROTTLED",
            Code::Unavailable => "UNAVAILABLE",
            Code::Timeout => "TIMEOUT",
            Code::Conflict => "CONFLICT",
            Code::LedgerFull => "DISCLOSURE_LEDGER_FULL",
            Code::BudgetExhausted => "BUDGET_EXHAUSTED",
            Code::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Code::Internal => "INTERNAL",
        }
    }
}

/// An error of the API layer.
///
/// Deliberately not `Display`: async-graphql converts any `Display` type into an error
/// without a code, so keeping `ApiError` out of that blanket conversion lets our own
/// `From<ApiError>` (which sets the code) be the only way `?` can turn it into one.
#[derive(Debug)]
pub enum ApiError {
    /// The request is not one this transport answers (a subscription over HTTP, a file
    /// outside a multipart request).
    BadRequest(String),
    /// The request does not say which operation to run, or names one it does not hold.
    OperationResolution(String),
    /// The caller asked a wrong question.
    BadUserInput(String),
    /// The thing asked for does not exist.
    NotFound(String),
    /// The caller may not do this.
    Forbidden(String),
    /// The question is too large to answer (or to protect) within the limits.
    TooComplex(String),
    /// The caller's budget is spent until `retry_after_secs` from now.
    Throttled {
        /// Seconds until the next window.
        retry_after_secs: i64,
    },
    /// The answer would release patient sets the full ledger cannot hold.
    LedgerFull(String),
    /// The answer's noisy values would pass the partner's privacy budget.
    BudgetExhausted(String),
    /// A persisted query's hash that is not known here.
    PersistedQueryNotFound,
    /// The service cannot answer right now (database down, no snapshot yet); the
    /// string is the internal cause, logged, never sent.
    Unavailable(String),
    /// Anything else: a bug; the string is the internal cause, logged, never sent.
    Internal(String),
}

impl ApiError {
    /// The stable code of this error.
    pub fn code(&self) -> Code {
        match self {
            ApiError::BadRequest(_) => Code::BadRequest,
            ApiError::OperationResolution(_) => Code::OperationResolutionFailure,
            ApiError::BadUserInput(_) => Code::BadUserInput,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::Forbidden(_) => Code::Forbidden,
            ApiError::TooComplex(_) => Code::QueryTooComplex,
            ApiError::Throttled { .. } => Code::Throttled,
            ApiError::LedgerFull(_) => Code::LedgerFull,
            ApiError::BudgetExhausted(_) => Code::BudgetExhausted,
            ApiError::PersistedQueryNotFound => Code::PersistedQueryNotFound,
            ApiError::Unavailable(_) => Code::Unavailable,
            ApiError::Internal(_) => Code::Internal,
        }
    }

    /// The message a client may see.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(message)
            | ApiError::OperationResolution(message)
            | ApiError::BadUserInput(message)
            | ApiError::NotFound(message)
            | ApiError::Forbidden(message)
            | ApiError::TooComplex(message)
            | ApiError::LedgerFull(message)
            | ApiError::BudgetExhausted(message) => message,
            ApiError::Throttled { .. } => "rate limit exceeded: the query-complexity budget of this window is spent",
            ApiError::PersistedQueryNotFound => "PersistedQueryNotFound",
            ApiError::Unavailable(_) => "the service is temporarily unavailable",
            ApiError::Internal(_) => "internal error",
        }
    }

    /// Converts to a GraphQL error with its code, logging internal causes once.
    pub fn into_field_error(self) -> FieldError {
        match &self {
            ApiError::Unavailable(cause) => tracing::warn!(cause = %cause, "request refused: unavailable"),
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            ApiError::BadRequest(_)
            | ApiError::OperationResolution(_)
            | ApiError::BadUserInput(_)
            | ApiError::NotFound(_)
            | ApiError::Forbidden(_)
            | ApiError::TooComplex(_)
            | ApiError::LedgerFull(_)
            | ApiError::BudgetExhausted(_)
            | ApiError::PersistedQueryNotFound
            | ApiError::Throttled { .. } => {}
        }
        let code = self.code();
        let retry_after = match self {
            ApiError::Throttled { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        FieldError::new(self.message()).extend_with(|_, e| {
            e.set("code", code.as_str());
            if let Some(seconds) = retry_after {
                e.set("retryAfter", seconds);
            }
        })
    }
}

impl ApiError {
    /// Converts to an error of a whole operation (refused before any field resolved):
    /// it has no place in the document, so no `locations`.
    pub fn into_server_error(self) -> async_graphql::ServerError {
        let mut error = self.into_field_error().into_server_error(async_graphql::Pos::default());
        error.locations.clear();
        error
    }
}

impl From<ApiError> for FieldError {
    fn from(error: ApiError) -> Self {
        error.into_field_error()
    }
}

impl From<AnalyticsError> for ApiError {
    fn from(error: AnalyticsError) -> Self {
        match error {
            AnalyticsError::UnknownCode { .. } | AnalyticsError::InvalidArgument(_) => {
                ApiError::BadUserInput(error.to_string())
            }
            AnalyticsError::OutOfScope { .. } => ApiError::Forbidden(error.to_string()),
            AnalyticsError::Compute(_) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<StatsError> for ApiError {
    /// Every statistics error describes input the statistic cannot work with.
    fn from(error: StatsError) -> Self {
        ApiError::BadUserInput(error.to_string())
    }
}

impl From<DbErr> for ApiError {
    /// Connection problems are unavailability; anything else from the database is a bug
    /// at this layer (a "not found" is decided by the service, never by the driver).
    fn from(error: DbErr) -> Self {
        match error {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => ApiError::Unavailable(error.to_string()),
            _ => ApiError::Internal(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_never_reach_the_client() {
        let err = ApiError::Internal("password=hunter2 at db".into()).into_field_error();
        assert_eq!(err.message, "internal error");
        let code = err.extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("INTERNAL")));
    }

    #[test]
    fn an_unknown_code_is_bad_user_input() {
        let err = ApiError::from(AnalyticsError::UnknownCode { dimension: "cohort", code: "X".into() });
        assert_eq!(err.code(), Code::BadUserInput);
        assert_eq!(err.message(), "unknown cohort code 'X'");
    }
}
