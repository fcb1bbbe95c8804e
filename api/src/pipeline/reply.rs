//! What a request is answered with: a refusal before any operation ran, or the
//! operations' responses as GraphQL over HTTP sends them (one object, or an array for a
//! batch), with what every answer says about its protection.

use async_graphql::ServerError;
use poem::http::{header, HeaderValue, StatusCode};
use poem::web::Json;
use poem::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::auth::AuthError;
use crate::error::{ApiError, Code};

/// A request refused before its operations ran: the status, the coded error, and any
/// header the refusal's protocol asks for.
#[derive(Debug)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (also the outcome on record).
    pub code: Code,
    /// What the client is told.
    pub message: String,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Refusal {
    /// A refusal with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Refusal { status, code, message: message.into(), headers: Vec::new() }
    }

    /// `error` as a refusal with `status`.
    pub fn of(status: StatusCode, error: &ApiError) -> Self {
        Refusal::new(status, error.code(), error.message())
    }

    /// The refusal of credentials: 401 with a challenge, or 503 when they cannot be
    /// checked now.
    pub fn credentials(error: &AuthError) -> Self {
        match error {
            AuthError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "authentication failed: database unavailable");
                Refusal::new(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable, error.message())
            }
            AuthError::Missing | AuthError::Invalid(_) => {
                let refusal = Refusal::new(StatusCode::UNAUTHORIZED, Code::Unauthenticated, error.message());
                match HeaderValue::from_str(&error.challenge()) {
                    Ok(challenge) => refusal.with_header(header::WWW_AUTHENTICATE, challenge),
                    Err(_) => refusal,
                }
            }
        }
    }

    /// The refusal with `name: value` among its headers.
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The HTTP response.
    pub fn response(&self) -> Response {
        let body = json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code.as_str() } }] });
        let mut response = (self.status, Json(body)).into_response();
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }
}

/// The stable code of a GraphQL error (`extensions.code`).
pub fn code_of(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(code)) => Some(code.clone()),
        _ => None,
    }
}

/// The operations' responses as one HTTP response: an object for one operation sent
/// alone, an array for a batch; 429 with `Retry-After` when one was refused by the rate
/// limit.
pub fn responses(single: bool, responses: Vec<async_graphql::Response>) -> Response {
    let retry_after = responses
        .iter()
        .flat_map(|r| r.errors.iter())
        .find(|e| code_of(e).as_deref() == Some(Code::Throttled.as_str()))
        .and_then(|e| e.extensions.as_ref().and_then(|x| x.get("retryAfter")).map(|v| v.to_string()));
    let mut http = match (single, responses.as_slice()) {
        (true, [one]) => Json(one).into_response(),
        _ => Json(&responses).into_response(),
    };
    if let Some(seconds) = retry_after {
        http.set_status(StatusCode::TOO_MANY_REQUESTS);
        if let Ok(value) = HeaderValue::from_str(&seconds) {
            http.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    http
}

/// Every operation answered with `error` instead of data.
pub fn refused(operations: usize, error: ApiError) -> Vec<async_graphql::Response> {
    let error = error.into_server_error();
    (0..operations).map(|_| async_graphql::Response::from_errors(vec![error.clone()])).collect()
}

/// What every answer says about its protection: the policy, the data it is from, where
/// it is on record and, on the noisy tier, the ε it cost.
pub fn disclosure(record: &consortium_entity::access::audit_record::Model) -> Value {
    let mut disclosure = json!({
        "policyVersion": record.policy_version,
        "dataVersion": record.data_version,
        "auditRecord": record.id,
    });
    if let Some(epsilon) = record.epsilon {
        disclosure["epsilon"] = json!(epsilon);
    }
    disclosure
}
