//! The HTTP transport: GraphQL over HTTP (authenticated and audited), metrics,
//! liveness and readiness (the pages are in [`crate::web`]). The OAuth endpoints are in [`crate::auth::oauth`].
//!
//! The GraphQL handler reads the body itself (bounded) so that a malformed request
//! gets a GraphQL-shaped error with a stable code, not a bare text response.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use poem::http::{header, HeaderMap, StatusCode};
use poem::web::{Data, Json, Redirect};
use poem::{handler, Body, IntoResponse, Response};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::answers::{AnswerKey, ReleasedAnswer};
use crate::audit::{query_hash, variables_hash};
use crate::auth::Principal;
use crate::auth::{AuthError, Authenticator, Scope};
use crate::error::ApiError;
use crate::error::Code;
use crate::graphql::document::{self, Kind};
use crate::graphql::{ConsortiumSchema, LiveSchema};
use crate::ledger::NewSets;
use crate::persisted;
use crate::privacy::{Charge, Reckoning, BUDGET_EXHAUSTED};
use crate::rate_limit::RateLimiter;
use crate::recorder::{Memory, RecordError, CONFLICT};
use crate::release::{Asker, PolicyOverrides, Release};
use crate::request::RequestContext;
use crate::state::AppState;
use consortium_entity::access::audit_record;
use consortium_entity::PartnerKind;

/// Largest request body accepted, in bytes.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// An error response outside GraphQL execution (the request never reached it).
fn transport_error(status: StatusCode, code: Code, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    (status, Json(body)).into_response()
}

/// What the request pipeline needs besides the schema, the state and authentication.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Most operations in a batch.
    pub max_batch: usize,
    /// How long a request may run before it is stopped.
    pub timeout: Duration,
    /// The rate-limit budgets.
    pub limiter: Arc<RateLimiter>,
    /// The disclosure policies' local changes.
    pub overrides: PolicyOverrides,
    /// Largest GraphQL multipart request (a file upload) accepted, in bytes.
    pub max_upload_bytes: usize,
}

/// `POST /graphql`: one request or a batch, as JSON, from an authenticated caller.
///
/// The whole release pipeline of one request runs here: authenticate, execute (where
/// resolvers authorize and compute through `graphql::access`), then append the audit
/// record, and only then respond. A request that cannot be put on record is not
/// answered. Every operation of the request reads the snapshot current when it arrived,
/// which is the data version on record; a request past its deadline is dropped (its
/// work stops at the next await) and answered `TIMEOUT`. A question already answered
/// on this data version under the same protection is sent again as released (see
/// [`crate::answers`]): charged and on record like the first time, not recomputed.
#[handler]
pub async fn graphql(
    schema: Data<&ConsortiumSchema>,
    state: Data<&Arc<AppState>>,
    auth: Data<&Arc<Authenticator>>,
    pipeline: Data<&Arc<Pipeline>>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let service = Service { schema: &schema, state: &state, auth: &auth, pipeline: &pipeline };
    respond(service, headers, body, Method::Post).await
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
    schema: Data<&ConsortiumSchema>,
    state: Data<&Arc<AppState>>,
    auth: Data<&Arc<Authenticator>>,
    pipeline: Data<&Arc<Pipeline>>,
    sign_in: Data<&Option<Arc<crate::auth::sign_in::SignIn>>>,
    headers: &HeaderMap,
    url: poem::Result<poem::web::Query<UrlRequest>>,
) -> Response {
    let html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    let url = match url {
        Ok(poem::web::Query(url)) => url,
        Err(_) if html => return crate::web::playground_page(sign_in.is_some(), None),
        Err(_) => {
            return transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, "the URL's parameters do not read")
        }
    };
    // The page itself: asked for without a question, or by a browser opening a link.
    if html || (url.query.is_none() && url.extensions.is_none()) {
        return crate::web::playground_page(sign_in.is_some(), None);
    }
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
            return transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, &message)
        }
    };
    let service = Service { schema: &schema, state: &state, auth: &auth, pipeline: &pipeline };
    respond(service, headers, Body::from_vec(body.to_string().into_bytes()), Method::Get).await
}

/// How a request came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// In a URL: queries only.
    Get,
    /// In a body.
    Post,
}

/// What every request is answered with.
#[derive(Clone, Copy)]
struct Service<'a> {
    schema: &'a ConsortiumSchema,
    state: &'a Arc<AppState>,
    auth: &'a Arc<Authenticator>,
    pipeline: &'a Arc<Pipeline>,
}

/// Answers one request (see [`graphql`]).
async fn respond(service: Service<'_>, headers: &HeaderMap, body: Body, method: Method) -> Response {
    let Service { schema, state, auth, pipeline } = service;
    let started = Instant::now();
    // Every operation of the request reads this snapshot: its version is the one on record.
    let snapshot = state.snapshot();
    let mut entry = record_of(snapshot.version);
    let authorization = match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => None,
        Some(Ok(value)) => Some(value),
        // A header that is not text cannot be a bearer token.
        Some(Err(_)) => Some(""),
    };
    let (principal, checked_at) = match auth.authenticate_at(authorization).await {
        Ok(checked) => checked,
        Err(error) => {
            let (code, response) = credentials_refused(&error);
            entry.outcome = code.as_str().to_owned();
            return on_record(&state, entry, started, response).await;
        }
    };
    let credentials = Credentials { auth: &auth, authorization, principal: &principal, checked_at };
    entry.partner_code = Some(principal.partner.code.clone());
    entry.token_id = Some(principal.token_id.clone());
    let context = RequestContext::new(snapshot, Release::new(pipeline.overrides.for_partner(&principal.partner)));
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let upload = content_type.starts_with("multipart/form-data");
    let limit = if upload { pipeline.max_upload_bytes } else { MAX_BODY_BYTES };
    let claimed = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let bytes = match claimed.filter(|n| *n > limit as u64) {
        // Refused on its claimed size, before a byte of it is read.
        Some(_) => Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)),
        // A body that trickles in is cut off at the request's deadline.
        None => tokio::time::timeout(pipeline.timeout, body.into_bytes_limit(limit)).await,
    };
    let bytes = match bytes {
        Ok(Ok(bytes)) => bytes,
        Err(_) => {
            entry.outcome = Code::Timeout.as_str().to_owned();
            let message = format!("the request body did not arrive within {} s", pipeline.timeout.as_secs_f64());
            let response = transport_error(StatusCode::REQUEST_TIMEOUT, Code::Timeout, &message);
            return on_record(&state, entry, started, response).await;
        }
        Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => {
            entry.outcome = Code::TooLarge.as_str().to_owned();
            let message = format!("request body too large (at most {limit} bytes)");
            let response = transport_error(StatusCode::PAYLOAD_TOO_LARGE, Code::TooLarge, &message);
            return on_record(&state, entry, started, response).await;
        }
        Ok(Err(_)) => {
            entry.outcome = Code::BadRequest.as_str().to_owned();
            let response = transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, "cannot read the request body");
            return on_record(&state, entry, started, response).await;
        }
    };
    let parsed = match upload {
        // A GraphQL multipart request (a file upload): the operations and their files.
        true => {
            let options = async_graphql::http::MultipartOptions::default().max_num_files(1).max_file_size(limit);
            async_graphql::http::receive_batch_body(Some(content_type), &bytes[..], options)
                .await
                .map_err(|e| e.to_string())
        }
        false => serde_json::from_slice::<async_graphql::BatchRequest>(&bytes).map_err(|e| e.to_string()),
    };
    // serde reads `[]` as one request with every field left out: an empty batch.
    let empty_batch = bytes.iter().filter(|b| !b.is_ascii_whitespace()).take(2).eq(b"[]".iter());
    let mut request = match parsed {
        Ok(_) if empty_batch && !upload => {
            entry.outcome = Code::BadRequest.as_str().to_owned();
            let message = "an empty batch: a batch holds at least one operation";
            let response = transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, message);
            return on_record(&state, entry, started, response).await;
        }
        Ok(request) => request,
        Err(error) => {
            entry.outcome = Code::BadRequest.as_str().to_owned();
            let message = format!("the body is not a GraphQL request: {error}");
            let response = transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, &message);
            return on_record(&state, entry, started, response).await;
        }
    };
    if let Err(error) = resolve_persisted(&state, &mut request).await {
        entry.outcome = error.code().as_str().to_owned();
        let response = transport_error(StatusCode::OK, error.code(), error.message());
        return on_record(&state, entry, started, response).await;
    }
    let requests = request.iter().collect::<Vec<_>>();
    if requests.len() > pipeline.max_batch {
        entry.outcome = Code::BadRequest.as_str().to_owned();
        let message =
            format!("a batch may hold at most {} operations; this one holds {}", pipeline.max_batch, requests.len());
        let response = transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, &message);
        return on_record(&state, entry, started, response).await;
    }
    entry.query_hash = query_hash(&requests.iter().map(|r| r.query.as_str()).collect::<Vec<_>>().join("\n"));
    if let Err(error) = requests.iter().try_for_each(|r| persisted::allowed(&principal, &query_hash(&r.query))) {
        entry.outcome = error.code().as_str().to_owned();
        let response = transport_error(StatusCode::FORBIDDEN, error.code(), error.message());
        return on_record(&state, entry, started, response).await;
    }
    let variables: Vec<Value> =
        requests.iter().map(|r| serde_json::to_value(&r.variables).unwrap_or(Value::Null)).collect();
    entry.variables_hash = variables_hash(&Value::Array(variables));
    let operations: Vec<&str> = requests.iter().filter_map(|r| r.operation_name.as_deref()).collect();
    entry.operation = (!operations.is_empty()).then(|| operations.join(","));
    let operation_count = requests.len();
    let kinds = match kinds_of(&requests, upload, method) {
        Ok(kinds) => kinds,
        Err(error) => {
            entry.outcome = error.code().as_str().to_owned();
            let mut response = transport_error(StatusCode::BAD_REQUEST, error.code(), error.message());
            if method == Method::Get && error.code() == Code::BadRequest {
                response.set_status(StatusCode::METHOD_NOT_ALLOWED);
                response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            }
            return on_record(&state, entry, started, response).await;
        }
    };
    if upload || kinds.contains(&Some(Kind::Mutation)) {
        return write(&schema, &state, &principal, &context, request, entry, started).await;
    }
    // A dry run tells what the request would cost from a privacy budget, releasing nothing.
    let dry_run = requests.iter().any(|r| r.extensions.get("dryRun") == Some(&async_graphql::Value::Boolean(true)));
    let key = AnswerKey {
        data_version: context.snapshot().version,
        partner: principal.partner.code.clone(),
        scopes: principal.scopes.to_string(),
        policy_version: context.release().policy_version().to_owned(),
        single: matches!(request, async_graphql::BatchRequest::Single(_)),
        query_hashes: match requests.as_slice() {
            [_] => vec![entry.query_hash.clone()],
            many => many.iter().map(|r| query_hash(&r.query)).collect(),
        },
        variables_hash: entry.variables_hash.clone(),
        operations: requests.iter().map(|r| r.operation_name.clone()).collect(),
    };
    entry.policy_version = Some(context.release().policy_version().to_owned());
    // A partner on the noisy tier has every request's ε on record (zero until charged).
    entry.epsilon = context.release().noise().map(|_| 0.0);
    // Whether the answer may be sent again: known only for a question not cached yet.
    let mut reads_only = false;
    let cached = if dry_run { None } else { state.released.get(&key).await };
    let response = match cached {
        // The same question under the same protection was answered already: charge it
        // as it was charged then, put it on record, send the same bytes.
        Some(cached) => match pipeline.limiter.charge(&principal.token_id, cached.cost).await {
            Ok(_) => {
                state.metrics.cache_hit();
                return released(&state, &credentials, entry, started, &key, &cached, None).await;
            }
            Err(error) => refused(blank(key.single, operation_count), error),
        },
        None => {
            reads_only = kinds.iter().all(|kind| *kind == Some(Kind::Query));
            let answered = answer(&schema, &state, &principal, &context, request, &bytes, dry_run);
            match tokio::time::timeout(pipeline.timeout, answered).await {
                Ok(response) => response,
                Err(_) => {
                    entry.outcome = Code::Timeout.as_str().to_owned();
                    let message =
                        format!("the request ran longer than {} s and was stopped", pipeline.timeout.as_secs_f64());
                    let response = transport_error(StatusCode::GATEWAY_TIMEOUT, Code::Timeout, &message);
                    return on_record(&state, entry, started, response).await;
                }
            }
        }
    };
    let (single, mut responses) = operations_of(response);
    let errors: Vec<&async_graphql::ServerError> = responses.iter().flat_map(|r| r.errors.iter()).collect();
    entry.outcome =
        errors.first().and_then(|e| code_of(e)).unwrap_or_else(|| if dry_run { "DRY_RUN" } else { "OK" }.to_owned());
    let retry_after = errors
        .iter()
        .find(|e| code_of(e).as_deref() == Some(Code::Throttled.as_str()))
        .and_then(|e| e.extensions.as_ref().and_then(|x| x.get("retryAfter")).map(|v| v.to_string()));
    (entry.released, entry.withheld) = sum(responses.iter().map(|r| released_and_withheld(&r.data)));
    let complete = errors.is_empty() && responses.iter().all(|r| r.extensions.is_empty() && r.http_headers.is_empty());
    if complete && reads_only && !context.is_personal() {
        let data: Result<Vec<String>, _> = responses.iter().map(|r| serde_json::to_string(&r.data)).collect();
        if let Ok(data) = data {
            let answer = Arc::new(ReleasedAnswer {
                data,
                cost: context.charged(),
                released: entry.released,
                withheld: entry.withheld,
            });
            let fresh = Some(context.take_memory());
            return released(&state, &credentials, entry, started, &key, &answer, fresh).await;
        }
    }
    entry.duration_ms = elapsed_ms(started);
    let record = match append_answer(&state, &credentials, entry, context.take_memory(), started).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let disclosure = async_graphql::Value::from_json(disclosure(&record)).unwrap_or_default();
    for one in &mut responses {
        one.extensions.insert("disclosure".to_owned(), disclosure.clone());
    }
    let mut http = Json(batch_of(single, responses)).into_response();
    if let Some(seconds) = retry_after {
        http.set_status(StatusCode::TOO_MANY_REQUESTS);
        if let Ok(value) = header::HeaderValue::from_str(&seconds) {
            http.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    http
}

/// A request that writes (a mutation: an import): executed once, alone, by the
/// mutation's resolver, which puts what it changed on record in its own transaction;
/// then the request itself is put on record like any other. It reads no patient data, so
/// no release step is involved; a mutation sent with other operations, or a file sent
/// with a query, is refused.
async fn write(
    schema: &ConsortiumSchema,
    state: &AppState,
    principal: &Principal,
    context: &Arc<RequestContext>,
    mut request: async_graphql::BatchRequest,
    mut entry: audit_record::Model,
    started: Instant,
) -> Response {
    decode_surrogate_pairs(&mut request);
    let alone = match &request {
        async_graphql::BatchRequest::Single(one) => {
            async_graphql::parser::parse_query(&one.query).is_ok_and(|document| {
                document::chosen(&document, one.operation_name.as_deref()).ok() == Some(Kind::Mutation)
            })
        }
        async_graphql::BatchRequest::Batch(_) => false,
    };
    if !alone {
        entry.outcome = Code::BadRequest.as_str().to_owned();
        let message = "a mutation (and a file upload) is sent alone: one operation, not in a batch, not a query";
        let response = transport_error(StatusCode::BAD_REQUEST, Code::BadRequest, message);
        return on_record(state, entry, started, response).await;
    }
    let response = schema.execute_batch(request.data(principal.clone()).data(Arc::clone(context))).await;
    let (single, responses) = operations_of(response);
    let code = responses.iter().flat_map(|r| r.errors.iter()).find_map(code_of);
    entry.outcome = code.unwrap_or_else(|| "OK".to_owned());
    on_record(state, entry, started, Json(batch_of(single, responses)).into_response()).await
}

/// The audit record of a request arriving now, answered from `data_version`, to be
/// filled in as the request goes.
fn record_of(data_version: i64) -> audit_record::Model {
    audit_record::Model {
        id: 0,
        prev_hash: String::new(),
        hash: String::new(),
        at_ms: Utc::now().timestamp_millis(),
        partner_code: None,
        token_id: None,
        operation: None,
        query_hash: query_hash(""),
        variables_hash: variables_hash(&Value::Null),
        data_version,
        outcome: String::new(),
        duration_ms: 0,
        released: 0,
        withheld: 0,
        policy_version: None,
        epsilon: None,
        detail: None,
    }
}

/// `GET /graphql/ws`: GraphQL over WebSocket (`graphql-transport-ws`, and the older
/// `graphql-ws`) for subscriptions (see [`crate::graphql::Live`]), within the limits of
/// [`crate::socket`]; its schema asks no question about patients, which are answered
/// over HTTP only. The token comes in the `connection_init` payload
/// (`{"Authorization": "Bearer …"}`) and is checked before any subscription starts;
/// opening the connection is on record like any request, and a connection that cannot
/// be put on record is refused.
#[handler]
pub async fn subscriptions(
    schema: Data<&LiveSchema>,
    state: Data<&Arc<AppState>>,
    auth: Data<&Arc<Authenticator>>,
    sockets: Data<&Arc<Sockets>>,
    protocol: async_graphql_poem::GraphQLProtocol,
    websocket: poem::web::websocket::WebSocket,
) -> impl IntoResponse {
    let (schema, state, auth) = (schema.clone(), Arc::clone(&state), Arc::clone(&auth));
    let (seats, limits) = (Arc::clone(&sockets.seats), sockets.limits);
    websocket.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |stream| {
        let on_init = move |payload: Value| async move {
            let started = Instant::now();
            let mut entry = record_of(state.snapshot().version);
            entry.operation = Some("subscription".to_owned());
            let authorization = ["Authorization", "authorization"]
                .iter()
                .find_map(|name| payload.get(name))
                .map(|value| value.as_str().unwrap_or_default());
            let authenticated = auth.authenticate(authorization).await;
            let seat = match &authenticated {
                Ok(principal) => {
                    entry.partner_code = Some(principal.partner.code.clone());
                    entry.token_id = Some(principal.token_id.clone());
                    let seat = seats.take(&principal.token_id, limits.connections_per_token);
                    entry.outcome = match seat {
                        Some(_) => "OK".to_owned(),
                        None => Code::Throttled.as_str().to_owned(),
                    };
                    seat
                }
                Err(error) => {
                    entry.outcome = credentials_refused(error).0.as_str().to_owned();
                    None
                }
            };
            entry.duration_ms = elapsed_ms(started);
            report(&state, &entry, started);
            if let Err(error) = state.audit.append(entry, Memory::default(), None).await {
                tracing::error!(cause = ?error, "cannot put a subscription on record; refusing it");
                return Err(async_graphql::Error::new("the service is temporarily unavailable"));
            }
            let principal = authenticated.map_err(|error| async_graphql::Error::new(error.message()))?;
            let Some(seat) = seat else {
                let most = limits.connections_per_token;
                return Err(async_graphql::Error::new(format!("this token has {most} connections open already")));
            };
            let mut data = async_graphql::Data::default();
            data.insert(principal);
            data.insert(seat);
            Ok(data)
        };
        crate::socket::serve(stream, schema, protocol.0, on_init, limits)
    })
}

/// The WebSocket connections' limits and the seats their tokens hold.
#[derive(Debug)]
pub struct Sockets {
    /// The limits of one connection.
    pub limits: crate::socket::Limits,
    /// Connections open per token.
    pub seats: Arc<crate::socket::Seats>,
}

/// The stable code of a GraphQL error (`extensions.code`).
fn code_of(error: &async_graphql::ServerError) -> Option<String> {
    match error.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(code)) => Some(code.clone()),
        _ => None,
    }
}

/// The kind of each operation of a request (`None`: its document does not parse, and
/// meets that error when it runs), refusing what HTTP does not answer: an operation the
/// request does not resolve, anything but a query in a URL, a subscription (served over
/// WebSocket), a mutation outside a multipart request (its file comes as a part of one),
/// and a variable pretending to be a file that was not sent.
fn kinds_of(requests: &[&async_graphql::Request], upload: bool, method: Method) -> Result<Vec<Option<Kind>>, ApiError> {
    let mut kinds = Vec::with_capacity(requests.len());
    for request in requests {
        let query = document::with_surrogate_pairs_decoded(&request.query);
        let Ok(parsed) = async_graphql::parser::parse_query(query.as_ref()) else {
            kinds.push(None);
            continue;
        };
        let kind = document::chosen(&parsed, request.operation_name.as_deref())?;
        match kind {
            Kind::Mutation | Kind::Subscription if method == Method::Get => {
                return Err(ApiError::BadRequest("a URL asks queries only: POST anything else".into()))
            }
            Kind::Subscription => {
                return Err(ApiError::BadRequest(
                    "subscriptions are served over WebSocket at /graphql/ws (graphql-transport-ws), not over HTTP"
                        .into(),
                ))
            }
            Kind::Mutation if !upload => {
                return Err(ApiError::BadRequest(
                    "a mutation sends its file in a GraphQL multipart request (multipart/form-data)".into(),
                ))
            }
            _ => {}
        }
        if request.variables.values().any(|value| forged_file(value, request.uploads.len())) {
            return Err(ApiError::BadRequest("a variable names a file the request does not carry".into()));
        }
        kinds.push(Some(kind));
    }
    Ok(kinds)
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

/// Writes every operation's surrogate-pair escapes as their characters (see
/// [`document::with_surrogate_pairs_decoded`]).
fn decode_surrogate_pairs(request: &mut async_graphql::BatchRequest) {
    let decode = |one: &mut async_graphql::Request| {
        if let std::borrow::Cow::Owned(decoded) = document::with_surrogate_pairs_decoded(&one.query) {
            one.query = decoded;
        }
    };
    match request {
        async_graphql::BatchRequest::Single(one) => decode(one),
        async_graphql::BatchRequest::Batch(many) => many.iter_mut().for_each(decode),
    }
}

/// Every answer says which policy protected it, which data it is from, where it is on
/// record and, on the noisy tier, the ε it cost.
fn disclosure(record: &audit_record::Model) -> Value {
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

/// Puts a complete released answer on record and sends it. A fresh answer comes with
/// what it adds to memory (`Some`), and is kept for the next time it is asked once it
/// is on record; a kept one comes without (`None`).
async fn released(
    state: &AppState,
    credentials: &Credentials<'_>,
    mut entry: audit_record::Model,
    started: Instant,
    key: &AnswerKey,
    answer: &Arc<ReleasedAnswer>,
    fresh: Option<Memory>,
) -> Response {
    entry.outcome = "OK".to_owned();
    (entry.released, entry.withheld) = (answer.released, answer.withheld);
    entry.duration_ms = elapsed_ms(started);
    let keep = fresh.is_some();
    match append_answer(state, credentials, entry, fresh.unwrap_or_default(), started).await {
        Err(response) => response,
        Ok(record) => {
            if keep {
                state.released.insert(key.clone(), Arc::clone(answer)).await;
            }
            Response::builder()
                .content_type("application/json; charset=utf-8")
                .body(answer.body(key.single, &disclosure(&record)))
        }
    }
}

/// Appends the audit record of a request, then lets the response go; if the record
/// cannot be written the caller gets `UNAVAILABLE` instead.
async fn on_record(state: &AppState, mut entry: audit_record::Model, started: Instant, response: Response) -> Response {
    entry.duration_ms = elapsed_ms(started);
    report(state, &entry, started);
    match state.audit.append(entry, Memory::default(), None).await {
        Ok(_) => response,
        Err(RecordError::Failed(error)) => unrecorded(&error),
        // Only answers wait for their credentials: a record without one is always written.
        Err(RecordError::StaleCredentials) => response,
    }
}

/// The values a response publishes and withholds: its `Count` and `Measure` objects
/// (the only objects with a `value`), by whether their value is null.
fn released_and_withheld(data: &async_graphql::Value) -> (i64, i64) {
    use async_graphql::Value as V;
    match data {
        V::Object(fields) => match fields.get("value") {
            Some(V::Null) => (0, 1),
            Some(_) => (1, 0),
            None => sum(fields.values().map(released_and_withheld)),
        },
        V::List(items) => sum(items.iter().map(released_and_withheld)),
        _ => (0, 0),
    }
}

fn sum(pairs: impl Iterator<Item = (i64, i64)>) -> (i64, i64) {
    pairs.fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// Logs a request and counts it in the metrics.
fn report(state: &AppState, entry: &audit_record::Model, started: Instant) {
    state.metrics.request(entry.partner_code.as_deref(), entry.operation.as_deref(), &entry.outcome, started.elapsed());
    log_request(entry);
}

fn log_request(entry: &audit_record::Model) {
    tracing::info!(
        partner = entry.partner_code.as_deref().unwrap_or("-"),
        token_id = entry.token_id.as_deref().unwrap_or("-"),
        outcome = %entry.outcome,
        released = entry.released,
        withheld = entry.withheld,
        duration_ms = entry.duration_ms,
        "graphql request"
    );
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The answer to a request that raced another past the differencing guard: none (see
/// [`crate::recorder`]).
fn conflict() -> Response {
    let message = "another request released overlapping numbers at the same moment; ask again";
    transport_error(StatusCode::CONFLICT, Code::Conflict, message)
}

/// The answer to a request whose noisy values its partner's budget did not allow when
/// they were to be charged: none, and why (what it may cost, what is left), as on record.
fn budget_exhausted(record: &audit_record::Model) -> Response {
    let message = record
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
        .and_then(|d| d.get("refused").and_then(Value::as_str).map(str::to_owned));
    let message = message.unwrap_or_else(|| "the privacy budget does not allow this answer's noisy values".into());
    transport_error(StatusCode::OK, Code::BudgetExhausted, &message)
}

/// Who a request's answer is for, and when their credentials were checked.
struct Credentials<'a> {
    auth: &'a Authenticator,
    authorization: Option<&'a str>,
    principal: &'a Principal,
    checked_at: i64,
}

/// Puts the record of an answer on record, for credentials checked at their access
/// epoch. If access changed since (a revocation, on any replica), they are checked
/// again first: refused now, so is the answer (and that is on record); still the same
/// partner and scopes, the record is written; changed, the caller is told to ask again.
/// `Err` is the response to send instead of the answer. The request is logged and
/// counted with the outcome it has on record.
async fn append_answer(
    state: &AppState,
    credentials: &Credentials<'_>,
    mut entry: audit_record::Model,
    memory: Memory,
    started: Instant,
) -> Result<audit_record::Model, Response> {
    let mut checked_at = credentials.checked_at;
    for _ in 0..3 {
        match state.audit.append(entry.clone(), memory.clone(), Some(checked_at)).await {
            // The writer turned the answer into a refusal (an answer refused already
            // keeps its own error and message).
            Ok(record) if record.outcome == CONFLICT && entry.outcome != CONFLICT => {
                report(state, &record, started);
                return Err(conflict());
            }
            Ok(record) if record.outcome == BUDGET_EXHAUSTED && entry.outcome != BUDGET_EXHAUSTED => {
                report(state, &record, started);
                return Err(budget_exhausted(&record));
            }
            Ok(record) => {
                report(state, &record, started);
                return Ok(record);
            }
            Err(RecordError::Failed(error)) => {
                entry.outcome = Code::Unavailable.as_str().to_owned();
                report(state, &entry, started);
                return Err(unrecorded(&error));
            }
            Err(RecordError::StaleCredentials) => {
                match credentials.auth.authenticate_again(credentials.authorization).await {
                    Ok((now, at))
                        if now.partner.id == credentials.principal.partner.id
                            && now.scopes == credentials.principal.scopes =>
                    {
                        checked_at = at;
                    }
                    Ok(_) => return Err(conflict()),
                    Err(error) => {
                        let (code, response) = credentials_refused(&error);
                        entry.outcome = code.as_str().to_owned();
                        (entry.released, entry.withheld) = (0, 0);
                        return Err(on_record(state, entry, started, response).await);
                    }
                }
            }
        }
    }
    Err(unrecorded(&sea_orm::DbErr::Custom("access kept changing while the answer was recorded".into())))
}

/// The response to credentials refused, and its code.
fn credentials_refused(error: &AuthError) -> (Code, Response) {
    let (status, code) = match error {
        AuthError::Unavailable(cause) => {
            tracing::warn!(cause = %cause, "authentication failed: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable)
        }
        AuthError::Missing | AuthError::Invalid(_) => (StatusCode::UNAUTHORIZED, Code::Unauthenticated),
    };
    let mut response = transport_error(status, code, error.message());
    if status == StatusCode::UNAUTHORIZED {
        if let Ok(challenge) = header::HeaderValue::from_str(&error.challenge()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
    }
    (code, response)
}

/// The answer to a request whose audit record could not be written: none.
fn unrecorded(error: &sea_orm::DbErr) -> Response {
    tracing::error!(cause = %error, "cannot append to the audit trail; withholding the answer");
    transport_error(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable, "the service is temporarily unavailable")
}

/// Computes, protects and builds the answer of a request's operations (see
/// [`crate::release`]): plan (execute, registering every cell), decide (the release
/// step over all cells together; on the noisy tier, the noisy values and their charge,
/// reckoned against the budget), publish (execute again, building the released
/// values). An operation refused before it ran (parse, validation, limits, rate limit)
/// released nothing and keeps its planned answer. A dry run stops before publishing and
/// answers with the cost.
async fn answer(
    schema: &ConsortiumSchema,
    state: &AppState,
    principal: &Principal,
    context: &Arc<RequestContext>,
    mut request: async_graphql::BatchRequest,
    body: &[u8],
    dry_run: bool,
) -> async_graphql::BatchResponse {
    decode_surrogate_pairs(&mut request);
    let planned = schema.execute_batch(request.data(principal.clone()).data(Arc::clone(context))).await;
    let asker = match asker(state, context, principal).await {
        Ok(asker) => asker,
        Err(error) => return refused(planned, error),
    };
    let memory = match decide(state, context, &asker, &principal.partner.code).await {
        Ok(memory) => memory,
        Err(error) => return refused(planned, error),
    };
    let reckoning = match &memory.charge {
        Some(charge) => match state.privacy.reckon(charge).await {
            Ok(reckoning) => Some((reckoning, charge.budget)),
            Err(error) => return refused(planned, error),
        },
        None => None,
    };
    if dry_run {
        return cost_of(planned, reckoning.as_ref());
    }
    if let Some((reckoning, budget)) = reckoning.filter(|(r, budget)| !r.affordable(*budget)) {
        let message = reckoning.refusal(budget, state.privacy.window_secs);
        return refused(planned, ApiError::BudgetExhausted(message));
    }
    context.set_memory(memory);
    context.start_publishing();
    // The body was parsed once already; it parses again to the same operations.
    let Ok(mut again) = serde_json::from_slice::<async_graphql::BatchRequest>(body) else {
        return refused(planned, ApiError::Internal("the request no longer parses".into()));
    };
    if let Err(error) = resolve_persisted(state, &mut again).await {
        return refused(planned, error);
    }
    decode_surrogate_pairs(&mut again);
    let operations: Vec<async_graphql::Request> = match again {
        async_graphql::BatchRequest::Single(one) => vec![one],
        async_graphql::BatchRequest::Batch(many) => many,
    };
    let (single, planned) = operations_of(planned);
    let mut published = Vec::with_capacity(planned.len());
    for (operation, plan) in operations.into_iter().zip(planned) {
        if plan.data == async_graphql::Value::Null {
            published.push(plan);
        } else {
            published.push(schema.execute(operation.data(principal.clone()).data(Arc::clone(context))).await);
        }
    }
    batch_of(single, published)
}

/// The release step's decision over the planned cells, against the ledger of what was
/// released before (read up to date first, when there is anything to decide); returns
/// what the answer adds to memory: the sets it releases exact for the first time and,
/// on the noisy tier, the charge of its noisy values (given to the release step here).
async fn decide(state: &AppState, context: &RequestContext, asker: &Asker, partner: &str) -> Result<Memory, ApiError> {
    let release = context.release();
    let version = context.snapshot().version;
    let (decision, sets) = if release.has_cells() {
        let ledger = state.ledger.synced(version).await?;
        // One read of the ledger for the decision and for what it saw.
        let sets = ledger.sets();
        let decision = release.decide(asker, Some(&sets))?;
        let new = sets.new_sets(&decision.exact, release.k(), state.ledger.max_bytes)?;
        (decision, new)
    } else {
        let decision = release.decide(asker, None)?;
        (decision, NewSets { data_version: version, k: release.k(), seen_through: 0, sets: Vec::new() })
    };
    let charge = match release.noise() {
        Some((mechanism, budget)) if !decision.noisy.is_empty() => {
            let values = state.privacy.values(version, mechanism, decision.noisy).await?;
            let mut cells: Vec<String> = values.iter().map(|(_, cell, _)| cell.clone()).collect();
            cells.sort_unstable();
            cells.dedup();
            release.publish_noisy(values.into_iter().map(|(set, _, value)| (set, value)));
            Some(Charge {
                partner: partner.to_owned(),
                data_version: version,
                epsilon: mechanism.epsilon(),
                budget,
                window_secs: state.privacy.window_secs,
                at: Utc::now().timestamp(),
                cells,
                asked: release.asked(),
            })
        }
        _ => None,
    };
    Ok(Memory { sets: Some(sets), charge })
}

/// The answer to a dry run: no data; what the request may cost at most from the
/// partner's privacy budget (every value asked for at full price; nothing for a partner
/// not on the noisy tier), in `privacyCost`.
fn cost_of(
    planned: async_graphql::BatchResponse,
    reckoning: Option<&(Reckoning, f64)>,
) -> async_graphql::BatchResponse {
    let cost = match reckoning {
        Some((reckoning, budget)) => json!({
            "epsilon": reckoning.most,
            "epsilonRemaining": (budget - reckoning.spent).max(0.0),
            "affordable": reckoning.affordable(*budget),
        }),
        None => json!({ "epsilon": 0.0, "epsilonRemaining": null, "affordable": true }),
    };
    let cost = async_graphql::Value::from_json(cost).unwrap_or_default();
    let (single, planned) = operations_of(planned);
    let answers = planned
        .into_iter()
        .map(|plan| {
            let mut dry = async_graphql::Response::new(async_graphql::Value::Null);
            dry.errors = plan.errors;
            dry.extensions.insert("privacyCost".to_owned(), cost.clone());
            dry
        })
        .collect();
    batch_of(single, answers)
}

/// Gives every operation of `request` naming a persisted query its query (see
/// [`crate::persisted`]).
async fn resolve_persisted(state: &AppState, request: &mut async_graphql::BatchRequest) -> Result<(), ApiError> {
    match request {
        async_graphql::BatchRequest::Single(one) => state.persisted.resolve(one).await,
        async_graphql::BatchRequest::Batch(many) => {
            for one in many {
                state.persisted.resolve(one).await?;
            }
            Ok(())
        }
    }
}

/// A batch response as its operations' responses, and whether it was a single one.
fn operations_of(response: async_graphql::BatchResponse) -> (bool, Vec<async_graphql::Response>) {
    match response {
        async_graphql::BatchResponse::Single(one) => (true, vec![one]),
        async_graphql::BatchResponse::Batch(many) => (false, many),
    }
}

/// The inverse of [`operations_of`].
fn batch_of(single: bool, mut responses: Vec<async_graphql::Response>) -> async_graphql::BatchResponse {
    match responses.pop() {
        Some(one) if single && responses.is_empty() => async_graphql::BatchResponse::Single(one),
        last => {
            responses.extend(last);
            async_graphql::BatchResponse::Batch(responses)
        }
    }
}

/// Who asks, as the release step needs it: a hospital's own patients, each patient's
/// site (for industry's dominance rule), from the principal's view of the snapshot;
/// computed once per data version, row scope and kind of partner.
async fn asker(state: &AppState, context: &RequestContext, principal: &Principal) -> Result<Arc<Asker>, ApiError> {
    let view = state.view(Arc::clone(context.snapshot()), |catalogue| principal.row_scope(catalogue)).await?;
    let kind = principal.partner.kind;
    state
        .answer(&view, kind, |snapshot, kind| {
            Ok(match kind {
                PartnerKind::Hospital => {
                    Asker { own: Some(snapshot.patient_sites()?.iter().map(|(p, _)| *p).collect()), sites: None }
                }
                PartnerKind::Industry => Asker { own: None, sites: Some(snapshot.patient_sites()?) },
                PartnerKind::Registry | PartnerKind::Academic => Asker::default(),
            })
        })
        .await
}

/// A request of `operations` operations that none of them answered.
fn blank(single: bool, operations: usize) -> async_graphql::BatchResponse {
    batch_of(single, (0..operations).map(|_| async_graphql::Response::new(async_graphql::Value::Null)).collect())
}

/// The planned answer with its data dropped and `error` in its place.
fn refused(planned: async_graphql::BatchResponse, error: ApiError) -> async_graphql::BatchResponse {
    let message = error.into_server_error();
    let (single, planned) = operations_of(planned);
    let blank = planned.iter().map(|_| async_graphql::Response::from_errors(vec![message.clone()])).collect();
    batch_of(single, blank)
}

/// `GET /`: people opening the service in a browser are sent to the playground.
#[handler]
pub async fn root() -> Redirect {
    Redirect::see_other("/graphql")
}

/// `GET /metrics`: the service's metrics (see [`crate::metrics`]), for a caller with
/// the `admin` scope.
#[handler]
pub async fn metrics(state: Data<&Arc<AppState>>, auth: Data<&Arc<Authenticator>>, headers: &HeaderMap) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default());
    match auth.authenticate(authorization).await {
        Ok(principal) if principal.has(Scope::Admin) => match state.metrics.encode() {
            Ok(text) => Response::builder()
                .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
                .body(text),
            Err(_) => transport_error(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "internal error"),
        },
        Ok(_) => transport_error(StatusCode::FORBIDDEN, Code::Forbidden, "metrics need the admin scope"),
        Err(error) => credentials_refused(&error).1,
    }
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
