//! The charge of every validated operation to its token's rate-limit budget (see
//! [`super::rate_limit`]), as an extension of the schema: async-graphql knows the
//! operation's complexity after validation. A charge over budget refuses the operation
//! (`THROTTLED` with `retryAfter`, which the HTTP layer turns into 429 and
//! `Retry-After`); publishing runs the operations a second time, uncharged.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};

use crate::auth::Principal;
use crate::pipeline::context::RequestContext;
use crate::state::AppState;

/// The extension charging each validated query to its principal's token.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit;

impl ExtensionFactory for RateLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RateLimitExtension)
    }
}

struct RateLimitExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for RateLimitExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let (Some(state), Some(principal)) = (ctx.data_opt::<Arc<AppState>>(), ctx.data_opt::<Principal>()) else {
            return Ok(result);
        };
        // Every query costs at least one point, so even trivial ones are counted.
        let cost = result.complexity.max(1) as i64;
        let request = ctx.data_opt::<Arc<RequestContext>>();
        // Publishing runs the operations a second time; they were charged when planned.
        if request.is_some_and(|r| r.is_publishing()) {
            return Ok(result);
        }
        match state.limiter.charge(&principal.token_id, cost).await {
            Ok(status) => {
                if let Some(request) = request {
                    request.add_charge(status);
                }
                Ok(result)
            }
            Err(error) => Err(vec![error.into_server_error()]),
        }
    }
}
