//! **Write**: a mutation (an import) executed once, alone, by its resolver, which puts
//! what it changed on record in its own transaction (see [`crate::import`]); the request
//! is then put on record like any other. It reads no patient data, so no release step
//! is involved.

use std::sync::Arc;

use super::admit::Admitted;
use super::context::RequestContext;
use crate::auth::Principal;
use crate::graphql::ConsortiumSchema;

/// Runs the write of `admitted` (one operation, routed here) for `principal`.
pub async fn run(
    schema: &ConsortiumSchema,
    principal: &Principal,
    context: &Arc<RequestContext>,
    admitted: Admitted,
) -> Vec<async_graphql::Response> {
    let mut responses = Vec::with_capacity(admitted.operations.len());
    for operation in admitted.operations {
        let request = operation.into_request().data(principal.clone()).data(Arc::clone(context));
        responses.push(schema.execute(request).await);
    }
    responses
}
