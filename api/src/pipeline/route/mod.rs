//! **Route**: a write or a question. A write (an import: a mutation sent alone, with its
//! file, as a GraphQL multipart request) is executed once ([`super::write`]). A question
//! already answered on this data version under the same protection is sent again as
//! released ([`answers`]); any other is planned, decided and published.

pub mod answers;

use std::sync::Arc;

use poem::http::StatusCode;

use super::admit::Admitted;
use super::context::RequestContext;
use super::reply::Refusal;
use crate::auth::Principal;
use crate::error::Code;
use crate::graphql::document::Kind;
use answers::{AnswerKey, ReleasedAnswer};

/// Where a request goes.
#[derive(Debug)]
pub enum Route {
    /// A write, executed once.
    Write,
    /// A question answered before: its answer, as released, and its key.
    Replay(AnswerKey, Arc<ReleasedAnswer>),
    /// A question to answer, and the key its answer is kept under (none for a dry run).
    Ask(Option<AnswerKey>),
}

/// Where `admitted`, asked by `principal` with `context`, goes.
pub async fn route(
    admitted: &Admitted,
    principal: &Principal,
    context: &RequestContext,
    answers: &answers::ReleasedAnswers,
) -> Result<Route, Refusal> {
    let writes = admitted.operations.iter().any(|o| o.kind == Some(Kind::Mutation));
    if admitted.upload || writes {
        let alone = admitted.single && admitted.operations.iter().all(|o| o.kind == Some(Kind::Mutation));
        if !alone {
            let message = "a mutation (and a file upload) is sent alone: one operation, not in a batch, not a query";
            return Err(Refusal::new(StatusCode::BAD_REQUEST, Code::BadRequest, message));
        }
        return Ok(Route::Write);
    }
    // A dry run tells what the request would cost, releasing nothing: never replayed.
    if admitted.dry_run {
        return Ok(Route::Ask(None));
    }
    let key = key(admitted, principal, context);
    Ok(match answers.get(&key).await {
        Some(answer) => Route::Replay(key, answer),
        None => Route::Ask(Some(key)),
    })
}

/// What identifies the question of `admitted` and its protection.
fn key(admitted: &Admitted, principal: &Principal, context: &RequestContext) -> AnswerKey {
    AnswerKey {
        data_version: context.snapshot().version,
        partner: principal.partner.code.clone(),
        scopes: principal.scopes.to_string(),
        policy_version: context.release().policy_version().to_owned(),
        single: admitted.single,
        query_hashes: admitted.operations.iter().map(|o| o.hash.clone()).collect(),
        variables_hash: crate::graphql::document::variables_hash(&serde_json::Value::Array(
            admitted.operations.iter().map(|o| serde_json::to_value(o.variables()).unwrap_or_default()).collect(),
        )),
        operations: admitted.operations.iter().map(|o| o.name().map(str::to_owned)).collect(),
    }
}
