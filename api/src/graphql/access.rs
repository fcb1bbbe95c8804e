//! Access to data from resolvers: the scope guard and the row scope, in one call.
//!
//! [`view`] is the only way a resolver reaches the snapshot: it refuses the request
//! unless the principal holds the field's scope, then hands out the snapshot restricted
//! to the principal's row scope. A resolver cannot forget either check, because without
//! calling it there is no data to compute on.

use std::sync::Arc;

use async_graphql::Context;

use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::pipeline::context::RequestContext;
use crate::pipeline::release::Release;
use crate::state::{AppState, View};

/// The service state.
pub(super) fn state<'a>(ctx: &Context<'a>) -> Result<&'a Arc<AppState>, ApiError> {
    ctx.data::<Arc<AppState>>().map_err(|_| ApiError::Internal("application state missing from the schema".into()))
}

/// The request's principal; every request over HTTP has one (anonymous requests are
/// refused before execution).
pub(super) fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, ApiError> {
    ctx.data::<Principal>().map_err(|_| ApiError::Forbidden("authentication required".into()))
}

/// Refuses unless the principal holds `scope`.
pub(super) fn require<'a>(ctx: &Context<'a>, scope: Scope) -> Result<&'a Principal, ApiError> {
    let principal = principal(ctx)?;
    if principal.has(scope) {
        Ok(principal)
    } else {
        Err(ApiError::Forbidden(format!("this field needs the '{}' scope", scope.as_str())))
    }
}

/// The request's shared context.
pub(super) fn request<'a>(ctx: &Context<'a>) -> Result<&'a Arc<RequestContext>, ApiError> {
    ctx.data::<Arc<RequestContext>>()
        .map_err(|_| ApiError::Internal("request context missing from the operation".into()))
}

/// The release step every number of the request goes through.
pub(super) fn release<'a>(ctx: &Context<'a>) -> Result<&'a Release, ApiError> {
    Ok(request(ctx)?.release())
}

/// The state and the principal's view of the request's snapshot, if it holds `scope`.
pub(super) async fn view<'a>(ctx: &Context<'a>, scope: Scope) -> Result<(&'a Arc<AppState>, View), ApiError> {
    let principal = require(ctx, scope)?;
    let state = state(ctx)?;
    let snapshot = Arc::clone(request(ctx)?.snapshot());
    Ok((state, state.view(snapshot, |catalogue| principal.row_scope(catalogue)).await?))
}
