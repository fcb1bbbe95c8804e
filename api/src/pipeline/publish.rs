//! **Publish**: the operations run a second time (their measures come from the cache),
//! and every number is built from the release step's decision about its cell. An
//! operation refused before it ran (parse, validation, limits, rate limit) released
//! nothing and keeps its planned answer.

use std::sync::Arc;

use super::context::RequestContext;
use crate::auth::Principal;
use crate::graphql::document::Operation;
use crate::graphql::ConsortiumSchema;

/// The published responses of `operations`, whose plans were `planned`.
pub async fn run(
    schema: &ConsortiumSchema,
    principal: &Principal,
    context: &Arc<RequestContext>,
    operations: &[Operation],
    planned: Vec<async_graphql::Response>,
) -> Vec<async_graphql::Response> {
    let mut published = Vec::with_capacity(planned.len());
    for (operation, plan) in operations.iter().zip(planned) {
        if plan.data == async_graphql::Value::Null {
            published.push(plan);
        } else {
            let request = operation.executable().data(principal.clone()).data(Arc::clone(context));
            published.push(schema.execute(request).await);
        }
    }
    published
}
