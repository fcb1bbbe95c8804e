//! **Record**: every request, refused ones included, is appended to the audit trail
//! ([`audit`]) by the process's writer ([`recorder`]) before its answer leaves; a request
//! that cannot be put on record is not answered (`UNAVAILABLE`). An answer's record
//! carries what it adds to memory (new sets, a privacy charge), written in the same
//! transaction; the writer may turn it into a refusal (a race past the differencing
//! guard: `CONFLICT`; a budget spent meanwhile: `BUDGET_EXHAUSTED`). An answer is
//! recorded only for credentials checked at the current access epoch: if access changed
//! since, they are checked again first; refused now, so is the answer; changed grants,
//! and the question is asked again under them ([`Recorded::Recheck`]). A complete answer
//! to a reading question is kept as the bytes sent ([`super::route::answers`]).

pub mod audit;
pub mod recorder;

use std::sync::Arc;

use consortium_entity::access::audit_record;
use poem::http::StatusCode;
use poem::Response;

use super::context::RequestContext;
use super::decide::memory::Memory;
use super::decide::privacy::BUDGET_EXHAUSTED;
use super::exchange::{Caller, Exchange};
use super::reply::{self, code_of, Refusal};
use super::route::answers::{AnswerKey, ReleasedAnswer};
use crate::error::Code;
use recorder::{RecordError, CONFLICT};

/// What became of an answer at its record.
#[derive(Debug)]
pub enum Recorded {
    /// On record and sent (or refused, on record).
    Sent(Response),
    /// The caller's grants changed since its credentials were checked: ask again as
    /// this caller.
    Recheck(Caller),
}

/// A request refused before its operations ran, on record.
pub async fn refusal(mut exchange: Exchange<'_>, refusal: Refusal) -> Response {
    exchange.entry.outcome = refusal.code.as_str().to_owned();
    unchecked(exchange, refusal.response()).await
}

/// A write's responses, on record.
pub async fn written(mut exchange: Exchange<'_>, single: bool, responses: Vec<async_graphql::Response>) -> Response {
    let code = responses.iter().flat_map(|r| r.errors.iter()).find_map(code_of);
    exchange.entry.outcome = code.unwrap_or_else(|| "OK".to_owned());
    unchecked(exchange, reply::responses(single, responses)).await
}

/// A question's answer as released before, charged already: on record and sent as the
/// same bytes.
pub async fn replay(exchange: &mut Exchange<'_>, key: &AnswerKey, answer: &Arc<ReleasedAnswer>) -> Recorded {
    exchange.service.state.metrics.cache_hit();
    exchange.entry.outcome = "OK".to_owned();
    (exchange.entry.released, exchange.entry.withheld) = (answer.released, answer.withheld);
    match append(exchange, Memory::default()).await {
        Appended::Stored(record) => Recorded::Sent(bytes(key.single, answer, &record)),
        Appended::Refused(response) => Recorded::Sent(response),
        Appended::Recheck(caller) => Recorded::Recheck(caller),
    }
}

/// What an answer is: its responses, whether it was one operation, and whether it may
/// be kept (under its key) for the same question again.
#[derive(Debug)]
pub struct Answer {
    /// Each operation's response.
    pub responses: Vec<async_graphql::Response>,
    /// One operation rather than a batch.
    pub single: bool,
    /// The key to keep it under, when it reads only and is no dry run.
    pub key: Option<AnswerKey>,
    /// Whether it was a dry run.
    pub dry_run: bool,
}

/// A question's answer with what it adds to `memory`: on record, then sent (and kept
/// when complete; see the module documentation).
pub async fn answer(exchange: &mut Exchange<'_>, context: &RequestContext, answer: Answer, memory: Memory) -> Recorded {
    let Answer { mut responses, single, key, dry_run } = answer;
    let errors: Vec<&async_graphql::ServerError> = responses.iter().flat_map(|r| r.errors.iter()).collect();
    let ok = if dry_run { "DRY_RUN" } else { "OK" };
    exchange.entry.outcome = errors.first().and_then(|e| code_of(e)).unwrap_or_else(|| ok.to_owned());
    (exchange.entry.released, exchange.entry.withheld) = context.release().tally();
    let complete = errors.is_empty() && responses.iter().all(|r| r.extensions.is_empty() && r.http_headers.is_empty());
    let kept = match key.filter(|_| complete && !context.is_personal()) {
        Some(key) => released(exchange, context, &responses).map(|answer| (key, Arc::new(answer))),
        None => None,
    };
    let record = match append(exchange, memory).await {
        Appended::Stored(record) => record,
        Appended::Refused(response) => return Recorded::Sent(response),
        Appended::Recheck(caller) => return Recorded::Recheck(caller),
    };
    if let Some((key, answer)) = kept {
        exchange.service.state.released.insert(key.clone(), Arc::clone(&answer)).await;
        return Recorded::Sent(bytes(key.single, &answer, &record));
    }
    let disclosure = async_graphql::Value::from_json(reply::disclosure(&record)).unwrap_or_default();
    for one in &mut responses {
        one.extensions.insert("disclosure".to_owned(), disclosure.clone());
    }
    Recorded::Sent(reply::responses(single, responses))
}

/// The answer as kept: each operation's data as sent, what it was charged and what it
/// released.
fn released(
    exchange: &Exchange<'_>,
    context: &RequestContext,
    responses: &[async_graphql::Response],
) -> Option<ReleasedAnswer> {
    let data: Result<Vec<String>, _> = responses.iter().map(|r| serde_json::to_string(&r.data)).collect();
    let (released, withheld) = (exchange.entry.released, exchange.entry.withheld);
    data.ok().map(|data| ReleasedAnswer { data, cost: context.charged(), released, withheld })
}

/// A kept answer's body, naming its `record`.
fn bytes(single: bool, answer: &ReleasedAnswer, record: &audit_record::Model) -> Response {
    Response::builder()
        .content_type("application/json; charset=utf-8")
        .body(answer.body(single, &reply::disclosure(record)))
}

/// What became of an answer's record.
enum Appended {
    Stored(audit_record::Model),
    Refused(Response),
    Recheck(Caller),
}

/// Appends the record of an answer, for credentials checked at their access epoch. If
/// access changed since (a revocation, on any replica), they are checked again first:
/// refused now, so is the answer (and that is on record); still the same partner and
/// scopes, the record is written; changed grants, the question is to be asked again.
/// The request is logged and counted with the outcome it has on record.
async fn append(exchange: &mut Exchange<'_>, memory: Memory) -> Appended {
    let state = &exchange.service.state;
    let Some(mut caller) = exchange.caller.clone() else {
        return Appended::Refused(unavailable("an answer without a caller"));
    };
    exchange.entry.duration_ms = exchange.elapsed_ms();
    for _ in 0..3 {
        let written = state.audit.append(exchange.entry.clone(), memory.clone(), Some(caller.checked_at)).await;
        match written {
            // The writer turned the answer into a refusal (an answer refused already
            // keeps its own error and message).
            Ok(record) if record.outcome == CONFLICT && exchange.entry.outcome != CONFLICT => {
                report(exchange, &record);
                let message = "another request released overlapping numbers at the same moment; ask again";
                return Appended::Refused(Refusal::new(StatusCode::CONFLICT, Code::Conflict, message).response());
            }
            Ok(record) if record.outcome == BUDGET_EXHAUSTED && exchange.entry.outcome != BUDGET_EXHAUSTED => {
                report(exchange, &record);
                return Appended::Refused(budget_exhausted(&record));
            }
            Ok(record) => {
                report(exchange, &record);
                return Appended::Stored(record);
            }
            Err(RecordError::Failed(error)) => {
                exchange.entry.outcome = Code::Unavailable.as_str().to_owned();
                report(exchange, &exchange.entry);
                return Appended::Refused(unrecorded(&error));
            }
            Err(RecordError::StaleCredentials) => {
                match exchange.service.auth.authenticate_again(exchange.authorization.as_deref()).await {
                    Ok((now, at))
                        if now.partner.id == caller.principal.partner.id && now.scopes == caller.principal.scopes =>
                    {
                        caller.checked_at = at;
                    }
                    Ok((principal, checked_at)) => return Appended::Recheck(Caller { principal, checked_at }),
                    Err(error) => {
                        let refused = Refusal::credentials(&error);
                        exchange.entry.outcome = refused.code.as_str().to_owned();
                        (exchange.entry.released, exchange.entry.withheld) = (0, 0);
                        return Appended::Refused(write_unchecked(exchange, refused.response()).await);
                    }
                }
            }
        }
    }
    Appended::Refused(unavailable("access kept changing while the answer was recorded"))
}

/// Appends the record of a request whose credentials need no check (a refusal, a
/// write); then lets the response go, or `UNAVAILABLE` if it cannot be recorded.
async fn unchecked(mut exchange: Exchange<'_>, response: Response) -> Response {
    write_unchecked(&mut exchange, response).await
}

async fn write_unchecked(exchange: &mut Exchange<'_>, response: Response) -> Response {
    exchange.entry.duration_ms = exchange.elapsed_ms();
    report(exchange, &exchange.entry);
    match exchange.service.state.audit.append(exchange.entry.clone(), Memory::default(), None).await {
        Ok(_) => response,
        Err(RecordError::Failed(error)) => unrecorded(&error),
        // Only answers wait for their credentials: a record without one is always written.
        Err(RecordError::StaleCredentials) => response,
    }
}

/// The answer to a request whose noisy values its partner's budget did not allow when
/// they were to be charged: none, and why (what it may cost, what is left), as on record.
fn budget_exhausted(record: &audit_record::Model) -> Response {
    let detail = record.detail.as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok());
    let message = detail.and_then(|d| d.get("refused").and_then(serde_json::Value::as_str).map(str::to_owned));
    let message = message.unwrap_or_else(|| "the privacy budget does not allow this answer's noisy values".into());
    Refusal::new(StatusCode::OK, Code::BudgetExhausted, message).response()
}

/// The answer to a request whose audit record could not be written: none.
fn unrecorded(error: &sea_orm::DbErr) -> Response {
    tracing::error!(cause = %error, "cannot append to the audit trail; withholding the answer");
    Refusal::new(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable, "the service is temporarily unavailable")
        .response()
}

fn unavailable(cause: &str) -> Response {
    unrecorded(&sea_orm::DbErr::Custom(cause.into()))
}

/// Logs a request and counts it in the metrics.
pub fn report(exchange: &Exchange<'_>, entry: &audit_record::Model) {
    let metrics = &exchange.service.state.metrics;
    metrics.request(
        entry.partner_code.as_deref(),
        entry.operation.as_deref(),
        &entry.outcome,
        exchange.started.elapsed(),
    );
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
