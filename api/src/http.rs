//! The HTTP glue: each route's handler turns poem's request into what the pipeline,
//! the WebSocket endpoint or a health check takes. Everything a GraphQL request goes
//! through is in [`crate::pipeline`]; the pages are in [`crate::web`], the OAuth
//! endpoints in [`crate::auth::oauth`].

use std::sync::Arc;

use poem::http::{header, HeaderMap, StatusCode};
use poem::web::{Data, Json, Query, Redirect};
use poem::{handler, Body, IntoResponse, Response};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::auth::Scope;
use crate::error::Code;
use crate::export::{self, FileFormat};
use crate::graphql::LiveSchema;
use crate::pipeline::admit::Method;
use crate::pipeline::reply::Refusal;
use crate::pipeline::{self, Service};
use crate::report;
use crate::socket::Sockets;
use crate::state::AppState;
use crate::web::Pages;

/// `POST /graphql`: one request or a batch, as JSON or a GraphQL multipart request, from
/// an authenticated caller (see [`crate::pipeline`]).
#[handler]
pub async fn graphql(service: Data<&Arc<Service>>, headers: &HeaderMap, body: Body) -> Response {
    pipeline::serve(&service, headers, body, Method::Post).await
}

/// The parameters of a GraphQL request in a URL (GraphQL over HTTP).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlRequest {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// `GET /graphql`: a query in the URL (the `query`, `variables`, `operationName` and
/// `extensions` parameters of GraphQL over HTTP, variables and extensions as JSON) is
/// answered like one posted, and only a query: anything else gets 405. Without a
/// question, or for a browser asking for HTML, it is the playground.
#[handler]
pub async fn graphql_get(
    service: Data<&Arc<Service>>,
    pages: Data<&Pages>,
    headers: &HeaderMap,
    url: poem::Result<Query<UrlRequest>>,
) -> Response {
    let html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    let asked = url.as_ref().is_ok_and(|Query(url)| url.query.is_some() || url.extensions.is_some());
    // The page itself: asked for without a question, or by a browser opening a link.
    if html || !asked {
        return crate::web::playground_page(pages.sign_in, None);
    }
    let Ok(Query(url)) = url else {
        return Refusal::new(StatusCode::BAD_REQUEST, Code::BadRequest, "the URL's parameters do not read").response();
    };
    let json = |name: &str, text: Option<String>| match text {
        None => Ok(Value::Null),
        Some(text) => serde_json::from_str::<Value>(&text).map_err(|_| format!("the {name} parameter is not JSON")),
    };
    let body = match (json("variables", url.variables), json("extensions", url.extensions)) {
        (Ok(variables), Ok(extensions)) => json!({
            "query": url.query.unwrap_or_default(),
            "variables": variables,
            "operationName": url.operation_name,
            "extensions": extensions,
        }),
        (Err(message), _) | (_, Err(message)) => {
            return Refusal::new(StatusCode::BAD_REQUEST, Code::BadRequest, message).response()
        }
    };
    pipeline::serve(&service, headers, Body::from_vec(body.to_string().into_bytes()), Method::Get).await
}

/// The parameters of `POST /graphql/export`.
#[derive(Debug, serde::Deserialize)]
pub struct ExportRequest {
    /// `csv`, `parquet` or `xlsx`.
    format: Option<String>,
    /// The table's path in the answer (`patientCounts.groups`); needed for CSV and
    /// Parquet when the answer holds more than one table.
    table: Option<String>,
}

/// `POST /graphql/export?format=csv|parquet|xlsx[&table=path]`: a question (the body as
/// for `POST /graphql`) answered through the same pipeline — the same release step and
/// audit record — and its answer sent as a file (see [`crate::export`]): one table as
/// CSV or Parquet, or every table as a workbook. An answer with errors is sent as it is,
/// with 422: a file never leaves out a part silently.
#[handler]
pub async fn export_answer(
    service: Data<&Arc<Service>>,
    headers: &HeaderMap,
    params: poem::Result<Query<ExportRequest>>,
    body: Body,
) -> Response {
    let refuse = |message: String| Refusal::new(StatusCode::BAD_REQUEST, Code::BadRequest, message).response();
    let Ok(Query(params)) = params else { return refuse("the URL's parameters do not read".to_owned()) };
    let names = || FileFormat::ALL.map(FileFormat::extension).join(", ");
    let Some(format) = params.format.as_deref().and_then(FileFormat::named) else {
        return refuse(format!("name the file's format: ?format= one of {}", names()));
    };
    let answered = pipeline::serve(&service, headers, body, Method::Post).await;
    if answered.status() != StatusCode::OK {
        return answered;
    }
    let Ok(bytes) = answered.into_body().into_vec().await else {
        return Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "internal error").response();
    };
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if answer.is_array() {
        return refuse("export one operation at a time, not a batch".to_owned());
    }
    // A file holds a whole answer: one with errors (a part not answered) is sent as it is.
    if answer["data"].is_null() || answer["errors"].as_array().is_some_and(|e| !e.is_empty()) {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(answer)).into_response();
    }
    let provenance = export::Provenance::of(&answer);
    let tables = export::tables(&answer["data"]);
    let table = params.table.filter(|t| !t.is_empty());
    let chosen: Vec<export::Table> = match (&table, format.holds_every_table()) {
        (None, true) => tables,
        (Some(path), _) => tables.into_iter().filter(|t| &t.path == path).collect(),
        (None, false) if tables.len() == 1 => tables,
        (None, false) => {
            let paths = tables.iter().map(|t| t.path.as_str()).collect::<Vec<_>>().join(", ");
            return refuse(format!("the answer holds {} tables: name one with ?table= ({paths})", tables.len()));
        }
    };
    let Some(first) = chosen.first() else {
        let message = format!("the answer holds no table {}", table.unwrap_or_default());
        return Refusal::new(StatusCode::NOT_FOUND, Code::NotFound, message).response();
    };
    let title = "answer";
    let file = match format {
        FileFormat::Csv => Ok(export::csv(title, &provenance, first)),
        FileFormat::Parquet => export::parquet(&provenance, first).map_err(|e| e.to_string()),
        FileFormat::Xlsx => export::xlsx(title, &provenance, &chosen).map_err(|e| e.to_string()),
    };
    let name = match format.holds_every_table() {
        true => format!("{title}.{}", format.extension()),
        false => format!("{title}-{}.{}", first.path, format.extension()),
    };
    match file {
        Ok(file) => Response::builder()
            .content_type(format.content_type())
            .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
            .header(header::CACHE_CONTROL, "no-store")
            .body(file),
        Err(cause) => {
            tracing::error!(%cause, "cannot write an export file");
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "internal error").response()
        }
    }
}

/// `GET /reports/cohorts.html`: the cohort report (see [`crate::report`]) for the
/// caller's token, its questions answered by the pipeline.
#[handler]
pub async fn report_html(service: Data<&Arc<Service>>, headers: &HeaderMap) -> Response {
    let answered = pipeline::serve(&service, headers, report::questions(), Method::Post).await;
    match report::Answers::read(answered).await {
        Ok(answers) => report::page(&answers),
        Err(response) => response,
    }
}

/// `GET /reports/cohorts.pdf`: the same report printed to PDF (refused before anything is
/// asked when this service prints no PDF).
#[handler]
pub async fn report_pdf(
    service: Data<&Arc<Service>>,
    printer: Data<&report::Printer>,
    headers: &HeaderMap,
) -> Response {
    if let Err(refusal) = printer.ready() {
        return refusal.response();
    }
    let answered = pipeline::serve(&service, headers, report::questions(), Method::Post).await;
    match report::Answers::read(answered).await {
        Ok(answers) => printer.pdf(&answers).await,
        Err(response) => response,
    }
}

/// `GET /graphql/ws`: GraphQL over WebSocket (`graphql-transport-ws`, and the older
/// `graphql-ws`) for subscriptions (see [`crate::graphql::Live`]) within the limits of
/// [`crate::socket`]; its schema asks no question about patients, which are answered
/// over HTTP only. The token comes in the `connection_init` payload
/// (`{"Authorization": "Bearer …"}`), checked before any subscription starts (see
/// [`pipeline::connection_init`]).
#[handler]
pub async fn subscriptions(
    schema: Data<&LiveSchema>,
    service: Data<&Arc<Service>>,
    sockets: Data<&Arc<Sockets>>,
    protocol: async_graphql_poem::GraphQLProtocol,
    websocket: poem::web::websocket::WebSocket,
) -> impl IntoResponse {
    let (schema, service, sockets) = (schema.clone(), Arc::clone(&service), Arc::clone(&sockets));
    websocket.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |stream| {
        let limits = sockets.limits;
        let on_init = move |payload: Value| async move {
            pipeline::connection_init(&service, &sockets.seats, sockets.limits.connections_per_token, &payload).await
        };
        crate::socket::serve(stream, schema, protocol.0, on_init, limits)
    })
}

/// `GET /`: people opening the service in a browser are sent to the playground.
#[handler]
pub async fn root() -> Redirect {
    Redirect::see_other("/graphql")
}

/// `GET /metrics`: the service's metrics (see [`crate::metrics`]), for a caller with
/// the `admin` scope.
#[handler]
pub async fn metrics(service: Data<&Arc<Service>>, headers: &HeaderMap) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default());
    match service.auth.authenticate(authorization).await {
        Ok(principal) if principal.has(Scope::Admin) => match service.state.metrics.encode() {
            Ok(text) => Response::builder()
                .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
                .body(text),
            Err(_) => Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "internal error").response(),
        },
        Ok(_) => Refusal::new(StatusCode::FORBIDDEN, Code::Forbidden, "metrics need the admin scope").response(),
        Err(error) => Refusal::credentials(&error).response(),
    }
}

/// `GET /healthz`: the process is alive.
#[handler]
pub async fn healthz() -> Json<Value> {
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
