//! The HTTP transport: GraphQL over HTTP, GraphiQL, liveness and readiness.
//!
//! The GraphQL handler reads the body itself (bounded) so that a malformed request
//! gets a GraphQL-shaped error with a stable code, not a bare text response.

use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use poem::http::StatusCode;
use poem::web::{Data, Html, Json};
use poem::{handler, Body, IntoResponse, Response};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::error::Code;
use crate::graphql::ConsortiumSchema;
use crate::state::AppState;

/// Largest request body accepted, in bytes.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// An error response outside GraphQL execution (the request never reached it).
fn transport_error(status: StatusCode, code: Code, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    (status, Json(body)).into_response()
}

/// `POST /graphql`: one request or a batch, as JSON.
#[handler]
pub async fn graphql(schema: Data<&ConsortiumSchema>, body: Body) -> Response {
    let bytes = match body.into_bytes_limit(MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(poem::error::ReadBodyError::PayloadTooLarge) => {
            return transport_error(StatusCode::PAYLOAD_TOO_LARGE, Code::BadRequest, "request body too large");
        }
        Err(_) => return transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, "cannot read the request body"),
    };
    let request: async_graphql::BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(error) => {
            let message = format!("the body is not a GraphQL request: {error}");
            return transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, &message);
        }
    };
    let response = schema.execute_batch(request).await;
    Json(response).into_response()
}

/// `GET /graphql`: GraphiQL for researchers.
#[handler]
pub async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").title("Consortium Analytics").finish())
}

/// `GET /healthz`: the process is alive.
#[handler]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and a snapshot is built.
#[handler]
pub async fn readyz(state: Data<&Arc<AppState>>) -> Response {
    let snapshot = state.snapshot();
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => Json(json!({ "status": "ready", "dataVersion": snapshot.version })).into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed: database");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "reason": "database" })))
                .into_response()
        }
    }
}
