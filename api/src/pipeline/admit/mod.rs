//! **Admit**: who asks, and what. The caller's credentials; the body, bounded in size
//! and in the time it may take to arrive; GraphQL over HTTP or a GraphQL multipart
//! request (a file); persisted queries ([`persisted`]); the batch limit; each operation
//! read once into a [`Operation`] (its document, the hash of its canonical text, its
//! kind); the token's allow-list; and what HTTP does not answer (an operation the
//! request does not resolve, anything but a query in a URL, a subscription, a mutation
//! without its multipart request, a file placeholder nobody sent). A request admitted
//! has its hashes and operation names on its record.

pub mod persisted;
pub mod seats;

use poem::http::{header, HeaderMap, HeaderValue, StatusCode};
use poem::Body;
use serde_json::Value;

use super::exchange::{Caller, Exchange};
use super::reply::Refusal;
use crate::error::{ApiError, Code};
use crate::graphql::document::{query_hash, variables_hash, Kind, Operation};

/// Largest request body accepted, in bytes, unless it is a GraphQL multipart request.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How a request came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// In a URL: queries only.
    Get,
    /// In a body.
    Post,
}

/// A request admitted: its operations, read once.
#[derive(Debug)]
pub struct Admitted {
    /// The operations, in order.
    pub operations: Vec<Operation>,
    /// Whether the request was one operation rather than a batch.
    pub single: bool,
    /// Whether it came as a GraphQL multipart request (a file with it).
    pub upload: bool,
    /// Whether it asks only what it would cost (`extensions.dryRun`), releasing nothing.
    pub dry_run: bool,
}

impl Admitted {
    /// Whether every operation is a query (reading: its answer may be sent again).
    pub fn reads_only(&self) -> bool {
        self.operations.iter().all(|o| o.kind == Some(Kind::Query))
    }
}

/// Authenticates the caller from the `Authorization` header (the token cache, or the
/// database); the exchange acts for it from now on.
pub async fn authenticate(exchange: &mut Exchange<'_>) -> Result<(), Refusal> {
    let checked = exchange.service.auth.authenticate_at(exchange.authorization.as_deref()).await;
    let (principal, checked_at) = checked.map_err(|error| Refusal::credentials(&error))?;
    exchange.act_for(Caller { principal, checked_at });
    Ok(())
}

/// Reads, parses and checks the request (see the module documentation).
pub async fn admit(
    exchange: &mut Exchange<'_>,
    headers: &HeaderMap,
    body: Body,
    method: Method,
) -> Result<Admitted, Refusal> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let upload = content_type.starts_with("multipart/form-data");
    let bytes = read(exchange, headers, body, upload).await?;
    let batch = parse(&bytes, content_type, upload, exchange.service.settings.max_upload_bytes).await?;
    let max_batch = exchange.service.settings.max_batch;
    let (single, mut requests) = match batch {
        async_graphql::BatchRequest::Single(one) => (true, vec![one]),
        async_graphql::BatchRequest::Batch(many) => (false, many),
    };
    if requests.len() > max_batch {
        let message = format!("a batch may hold at most {max_batch} operations; this one holds {}", requests.len());
        return Err(Refusal::new(StatusCode::BAD_REQUEST, Code::BadRequest, message));
    }
    for request in &mut requests {
        let known = exchange.service.state.persisted.resolve(request).await;
        known.map_err(|error| Refusal::of(StatusCode::OK, &error))?;
    }
    let dry_run = requests.iter().any(|r| r.extensions.get("dryRun") == Some(&async_graphql::Value::Boolean(true)));
    let operations = requests
        .into_iter()
        .map(|request| Operation::read(request, &exchange.service.state.documents))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Refusal::of(StatusCode::BAD_REQUEST, &error))?;
    on_record(exchange, &operations);
    if let Some(principal) = exchange.principal() {
        for operation in &operations {
            persisted::allowed(principal, &operation.hash).map_err(|e| Refusal::of(StatusCode::FORBIDDEN, &e))?;
        }
    }
    for operation in &operations {
        answerable(operation, upload, method)?;
    }
    Ok(Admitted { operations, single, upload, dry_run })
}

/// The body, refused when it claims or turns out to be larger than accepted, or does
/// not arrive within the request's deadline.
async fn read(exchange: &Exchange<'_>, headers: &HeaderMap, body: Body, upload: bool) -> Result<Vec<u8>, Refusal> {
    let settings = &exchange.service.settings;
    let limit = if upload { settings.max_upload_bytes } else { MAX_BODY_BYTES };
    let too_large = || {
        let message = format!("request body too large (at most {limit} bytes)");
        Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, Code::TooLarge, message)
    };
    let claimed = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // Refused on its claimed size, before a byte of it is read.
    if claimed.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(settings.timeout, body.into_bytes_limit(limit)).await {
        Ok(Ok(bytes)) => Ok(bytes.to_vec()),
        Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => Err(too_large()),
        Ok(Err(_)) => Err(Refusal::new(StatusCode::BAD_REQUEST, Code::BadRequest, "cannot read the request body")),
        Err(_) => {
            let message = format!("the request body did not arrive within {} s", settings.timeout.as_secs_f64());
            Err(Refusal::new(StatusCode::REQUEST_TIMEOUT, Code::Timeout, message))
        }
    }
}

/// The GraphQL request a body holds: JSON, or a GraphQL multipart request with its file.
async fn parse(
    bytes: &[u8],
    content_type: &str,
    upload: bool,
    max_file: usize,
) -> Result<async_graphql::BatchRequest, Refusal> {
    let parsed = match upload {
        true => {
            let options = async_graphql::http::MultipartOptions::default().max_num_files(1).max_file_size(max_file);
            async_graphql::http::receive_batch_body(Some(content_type), bytes, options).await.map_err(|e| e.to_string())
        }
        false => serde_json::from_slice::<async_graphql::BatchRequest>(bytes).map_err(|e| e.to_string()),
    };
    let bad = |message: String| Refusal::new(StatusCode::BAD_REQUEST, Code::BadRequest, message);
    // serde reads `[]` as one request with every field left out: an empty batch.
    let empty_batch = bytes.iter().filter(|b| !b.is_ascii_whitespace()).take(2).eq(b"[]".iter());
    match parsed {
        Ok(_) if empty_batch && !upload => Err(bad("an empty batch: a batch holds at least one operation".into())),
        Ok(request) => Ok(request),
        Err(error) => Err(bad(format!("the body is not a GraphQL request: {error}"))),
    }
}

/// Puts the request's operations on its record: the hash of their canonical text and
/// of their variables, and their names.
fn on_record(exchange: &mut Exchange<'_>, operations: &[Operation]) {
    let entry = &mut exchange.entry;
    entry.query_hash = match operations {
        [one] => one.hash.clone(),
        many => query_hash(&many.iter().map(|o| o.hash.as_str()).collect::<Vec<_>>().join("\n")),
    };
    let variables: Vec<Value> =
        operations.iter().map(|o| serde_json::to_value(o.variables()).unwrap_or(Value::Null)).collect();
    entry.variables_hash = variables_hash(&Value::Array(variables));
    let names: Vec<&str> = operations.iter().filter_map(Operation::name).collect();
    entry.operation = (!names.is_empty()).then(|| names.join(","));
}

/// Refuses what HTTP does not answer (see the module documentation).
fn answerable(operation: &Operation, upload: bool, method: Method) -> Result<(), Refusal> {
    let bad = |message: &str| Refusal::of(StatusCode::BAD_REQUEST, &ApiError::BadRequest(message.into()));
    match (operation.kind, method) {
        (Some(Kind::Mutation | Kind::Subscription), Method::Get) => {
            let refusal = Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::BadRequest,
                "a URL asks queries only: POST anything else",
            );
            return Err(refusal.with_header(header::ALLOW, HeaderValue::from_static("POST")));
        }
        (Some(Kind::Subscription), _) => {
            return Err(bad(
                "subscriptions are served over WebSocket at /graphql/ws (graphql-transport-ws), not over HTTP",
            ))
        }
        (Some(Kind::Mutation), _) if !upload => {
            return Err(bad("a mutation sends its file in a GraphQL multipart request (multipart/form-data)"))
        }
        _ => {}
    }
    if operation.variables().values().any(|value| forged_file(value, operation.files())) {
        return Err(bad("a variable names a file the request does not carry"));
    }
    Ok(())
}

/// Whether `value` holds async-graphql's placeholder of an uploaded file that is not
/// one of the `files` uploaded (a client could write one itself).
fn forged_file(value: &async_graphql::Value, files: usize) -> bool {
    use async_graphql::Value as V;
    match value {
        V::String(text) => text
            .strip_prefix("#__graphql_file__:")
            .is_some_and(|index| index.parse::<usize>().map_or(true, |index| index >= files)),
        V::List(items) => items.iter().any(|item| forged_file(item, files)),
        V::Object(fields) => fields.values().any(|field| forged_file(field, files)),
        _ => false,
    }
}
