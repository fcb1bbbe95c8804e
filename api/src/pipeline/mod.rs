//! The path of one request, as stages in the order it takes them, each in its own
//! module, over one [`Exchange`]:
//!
//! ```text
//! admit ──► route ──┬─ write ─────────────────────────────┐
//!                   ├─ replay (answered before) ──────────┤
//!                   └─ plan ──► decide ──► publish ───────┴──► record
//! ```
//!
//! * [`admit`]: the caller's credentials; the body (bounded in size and arrival time),
//!   persisted queries, batch limits, each operation read once; the allow-list.
//! * [`route`]: a write, a question answered before (sent again as released), or a
//!   question to answer.
//! * [`write`]: a mutation, executed once.
//! * [`plan`]: the operations run once; every count is registered with the request's
//!   [`release`] step; query limits and the rate limit apply.
//! * [`decide`]: the release step decides every cell together (the differencing ledger,
//!   the noisy tier's values and budget); a dry run stops here.
//! * [`publish`]: the operations run again and build every number from the decision.
//! * [`record`]: the audit record is appended (with the ledger's new sets and the
//!   privacy charge, in one transaction) before the answer leaves.
//!
//! Shared by the stages: the [`Exchange`] and the [`Service`] ([`exchange`]), what the
//! operations share while they run ([`context`]), the release step ([`release`]), and
//! the answers' shapes ([`reply`]). A stage uses what stages before it produced, never a
//! stage after it; nothing outside the pipeline uses this module but the HTTP glue.
//! Plan, decide and publish run within the request's deadline. An answer recorded for
//! credentials whose grants changed meanwhile is asked again under the new grants.

pub mod admit;
pub mod context;
pub mod decide;
pub mod exchange;
pub mod plan;
pub mod publish;
pub mod record;
pub mod release;
pub mod reply;
pub mod route;
pub mod write;

use std::sync::Arc;

use poem::http::{HeaderMap, StatusCode};
use poem::{Body, Response};

use admit::{Admitted, Method};
use context::RequestContext;
use decide::Decided;
pub use exchange::{Exchange, Service, Settings};
use record::{Answer, Recorded};
use reply::Refusal;
use route::Route;

use crate::error::Code;

/// Most times a question is asked again because its caller's grants changed while it
/// was answered.
const RECHECKS: usize = 2;

/// Answers one request to `/graphql` (see the module documentation).
pub async fn serve(service: &Service, headers: &HeaderMap, body: Body, method: Method) -> Response {
    let authorization = headers.get(poem::http::header::AUTHORIZATION).map(|value| match value.to_str() {
        Ok(text) => text.to_owned(),
        // A header that is not text cannot be a bearer token.
        Err(_) => String::new(),
    });
    let mut exchange = Exchange::begin(service, authorization);
    if let Err(refusal) = admit::authenticate(&mut exchange).await {
        return record::refusal(exchange, refusal).await;
    }
    let admitted = match admit::admit(&mut exchange, headers, body, method).await {
        Ok(admitted) => admitted,
        Err(refusal) => return record::refusal(exchange, refusal).await,
    };
    for _ in 0..=RECHECKS {
        let Some(principal) = exchange.principal().cloned() else { break };
        let context = exchange.context(&principal);
        exchange.entry.policy_version = Some(context.release().policy_version().to_owned());
        // A partner on the noisy tier has every request's ε on record (zero until charged).
        exchange.entry.epsilon = context.release().noise().map(|_| 0.0);
        let route = match route::route(&admitted, &principal, &context, &service.state.released).await {
            Ok(route) => route,
            Err(refusal) => return record::refusal(exchange, refusal).await,
        };
        let recorded = match route {
            Route::Write => {
                let single = admitted.single;
                let responses = write::run(&service.schema, &principal, &context, admitted).await;
                return record::written(exchange, single, responses).await;
            }
            Route::Replay(key, answer) => match service.state.limiter.charge(&principal.token_id, answer.cost).await {
                Ok(_) => record::replay(&mut exchange, &key, &answer).await,
                Err(error) => {
                    let answer = Answer {
                        responses: reply::refused(admitted.operations.len(), error),
                        single: admitted.single,
                        key: None,
                        dry_run: false,
                    };
                    record::answer(&mut exchange, &context, answer, decide::memory::Memory::default()).await
                }
            },
            Route::Ask(key) => match ask(&exchange, &principal, &context, &admitted, key).await {
                Ok((answer, memory)) => record::answer(&mut exchange, &context, answer, memory).await,
                Err(refusal) => return record::refusal(exchange, refusal).await,
            },
        };
        match recorded {
            Recorded::Sent(response) => return response,
            Recorded::Recheck(caller) => exchange.act_for(caller),
        }
    }
    let refusal = Refusal::new(StatusCode::CONFLICT, Code::Conflict, "access kept changing while the answer was given");
    record::refusal(exchange, refusal).await
}

/// Plans, decides and publishes the answer to a question, within the request's deadline.
async fn ask(
    exchange: &Exchange<'_>,
    principal: &crate::auth::Principal,
    context: &Arc<RequestContext>,
    admitted: &Admitted,
    key: Option<route::answers::AnswerKey>,
) -> Result<(Answer, decide::memory::Memory), Refusal> {
    let service = exchange.service;
    let answered = async {
        let operations = &admitted.operations;
        let planned = plan::run(&service.schema, principal, context, operations).await;
        let (responses, memory) = match decide::run(&service.state, context, principal, admitted.dry_run).await {
            Decided::Publish(memory) => {
                (publish::run(&service.schema, principal, context, operations, planned).await, memory)
            }
            Decided::Cost(cost) => (priced(planned, cost), decide::memory::Memory::default()),
            Decided::Refused(error) => (reply::refused(planned.len(), error), decide::memory::Memory::default()),
        };
        let key = key.filter(|_| admitted.reads_only());
        (Answer { responses, single: admitted.single, key, dry_run: admitted.dry_run }, memory)
    };
    let timeout = service.settings.timeout;
    tokio::time::timeout(timeout, answered).await.map_err(|_| {
        let message = format!("the request ran longer than {} s and was stopped", timeout.as_secs_f64());
        Refusal::new(StatusCode::GATEWAY_TIMEOUT, Code::Timeout, message)
    })
}

/// The answer to a dry run: no data, the planned errors, and `cost` as
/// `extensions.privacyCost` of every operation.
fn priced(planned: Vec<async_graphql::Response>, cost: serde_json::Value) -> Vec<async_graphql::Response> {
    let cost = async_graphql::Value::from_json(cost).unwrap_or_default();
    planned
        .into_iter()
        .map(|plan| {
            let mut dry = async_graphql::Response::new(async_graphql::Value::Null);
            dry.errors = plan.errors;
            dry.extensions.insert("privacyCost".to_owned(), cost.clone());
            dry
        })
        .collect()
}

/// The WebSocket endpoint's `connection_init`: the token in its payload authenticated,
/// a seat among the token's connections taken, and the connection on record like any
/// request (a connection that cannot be put on record is refused). The connection's data
/// on success: the principal, and its seat (given back when the connection ends).
pub async fn connection_init(
    service: &Service,
    seats: &Arc<admit::seats::Seats>,
    most: usize,
    payload: &serde_json::Value,
) -> async_graphql::Result<async_graphql::Data> {
    let authorization = ["Authorization", "authorization"]
        .iter()
        .find_map(|name| payload.get(name))
        .map(|value| value.as_str().unwrap_or_default().to_owned());
    let mut exchange = Exchange::begin(service, authorization);
    exchange.entry.operation = Some("subscription".to_owned());
    let admitted = admit::authenticate(&mut exchange).await;
    let seat = exchange.principal().and_then(|principal| seats.take(&principal.token_id, most));
    exchange.entry.outcome = match (&admitted, &seat) {
        (Err(refusal), _) => refusal.code.as_str().to_owned(),
        (Ok(()), None) => Code::Throttled.as_str().to_owned(),
        (Ok(()), Some(_)) => "OK".to_owned(),
    };
    exchange.entry.duration_ms = exchange.elapsed_ms();
    record::report(&exchange, &exchange.entry);
    if let Err(error) =
        service.state.audit.append(exchange.entry.clone(), decide::memory::Memory::default(), None).await
    {
        tracing::error!(cause = ?error, "cannot put a subscription on record; refusing it");
        return Err(async_graphql::Error::new("the service is temporarily unavailable"));
    }
    admitted.map_err(|refusal| async_graphql::Error::new(refusal.message))?;
    let (Some(principal), Some(seat)) = (exchange.principal().cloned(), seat) else {
        return Err(async_graphql::Error::new(format!("this token has {most} connections open already")));
    };
    let mut data = async_graphql::Data::default();
    data.insert(principal);
    data.insert(seat);
    Ok(data)
}
