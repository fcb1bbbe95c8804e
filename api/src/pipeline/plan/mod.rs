//! **Plan**: the operations run once. Every count they would publish is registered with
//! the request's release step with the patients behind it (resolvers get placeholders,
//! and these responses are kept only for their errors); the query limits apply here,
//! and the rate limit charges each operation ([`rate_limit`]).

pub mod charge;
pub mod rate_limit;

use std::sync::Arc;

use super::context::RequestContext;
use crate::auth::Principal;
use crate::graphql::document::Operation;
use crate::graphql::ConsortiumSchema;

/// The planned responses of `operations`, asked by `principal`, in order.
pub async fn run(
    schema: &ConsortiumSchema,
    principal: &Principal,
    context: &Arc<RequestContext>,
    operations: &[Operation],
) -> Vec<async_graphql::Response> {
    let mut planned = Vec::with_capacity(operations.len());
    for operation in operations {
        let request = operation.executable().data(principal.clone()).data(Arc::clone(context));
        planned.push(schema.execute(request).await);
    }
    planned
}
