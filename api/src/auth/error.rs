//! Errors of authentication (a request's token) and of access management (issuing,
//! registering, revoking).

use sea_orm::DbErr;
use thiserror::Error;

/// Why a request's credentials were not accepted.
#[derive(Debug)]
pub enum AuthError {
    /// No `Authorization` header.
    Missing,
    /// A token was presented and refused; the reason is safe to tell the caller (it
    /// never says whether a token exists for someone else).
    Invalid(&'static str),
    /// The database could not be asked.
    Unavailable(DbErr),
}

impl From<DbErr> for AuthError {
    fn from(error: DbErr) -> Self {
        AuthError::Unavailable(error)
    }
}

impl AuthError {
    /// The `WWW-Authenticate` challenge (RFC 6750 §3).
    pub fn challenge(&self) -> String {
        match self {
            AuthError::Missing => "Bearer realm=\"consortium-analytics\"".to_owned(),
            AuthError::Invalid(reason) => {
                format!(
                    "Bearer realm=\"consortium-analytics\", error=\"invalid_token\", error_description=\"{reason}\""
                )
            }
            AuthError::Unavailable(_) => "Bearer realm=\"consortium-analytics\"".to_owned(),
        }
    }

    /// The message a client may see.
    pub fn message(&self) -> &'static str {
        match self {
            AuthError::Missing => "authentication required: send `Authorization: Bearer <token>`",
            AuthError::Invalid(reason) => reason,
            AuthError::Unavailable(_) => "the service is temporarily unavailable",
        }
    }
}

/// Why an access-management operation failed.
#[derive(Debug, Error)]
pub enum AccessError {
    /// No partner has this code.
    #[error("no partner with code '{0}'")]
    UnknownPartner(String),
    /// The scopes asked for exceed what the partner is granted.
    #[error("scopes '{requested}' are not within the partner's grants '{granted}'")]
    ScopesNotGranted {
        /// Scopes asked for.
        requested: String,
        /// Scopes the partner holds.
        granted: String,
    },
    /// A scope name that does not exist.
    #[error("unknown scope '{name}'; the scopes are: {}", super::scope::Scope::names(), name = .0)]
    UnknownScope(String),
    /// A key or JWK that cannot be used.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// No active token has this prefix.
    #[error("no active token with prefix '{0}'")]
    UnknownToken(String),
    /// An operation for an allow-list that is not GraphQL.
    #[error("not a GraphQL operation: {0}")]
    InvalidOperation(String),
    /// The operating system's random source failed.
    #[error("no randomness available")]
    Random,
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl From<ring::error::Unspecified> for AccessError {
    fn from(_: ring::error::Unspecified) -> Self {
        AccessError::Random
    }
}

impl From<super::scope::UnknownScope> for AccessError {
    fn from(error: super::scope::UnknownScope) -> Self {
        AccessError::UnknownScope(error.0)
    }
}
