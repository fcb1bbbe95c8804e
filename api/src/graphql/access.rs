//! Access to data from resolvers: the scope guard and the row scope, in one handle.
//!
//! [`Ask`] is the only way a resolver reaches the snapshot: it refuses the request
//! unless the principal holds the field's scope, then holds the snapshot restricted to
//! the principal's row scope, answers questions on it (computed once per data version,
//! scope and question) and hands out the release step every number goes through. A
//! resolver cannot forget either check, because without one there is no data to compute
//! on; its skeleton is the question in, released values out.

use std::sync::Arc;

use async_graphql::Context;
use consortium_analytics::{AnalyticsError, Catalogue, Filter, Snapshot};

use super::inputs::PatientFilter;
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

/// A resolver's handle on the data: the principal's view of the request's snapshot
/// (the field's scope checked), the measures' cache, and the release step.
pub(super) struct Ask<'a> {
    state: &'a Arc<AppState>,
    view: View,
    release: &'a Release,
}

impl<'a> Ask<'a> {
    /// The handle of a field that needs `scope`; refused unless the principal holds it.
    pub async fn new(ctx: &Context<'a>, scope: Scope) -> Result<Ask<'a>, ApiError> {
        let principal = require(ctx, scope)?;
        let (state, request) = (state(ctx)?, request(ctx)?);
        let view = state
            .view(Arc::clone(request.snapshot()), &principal.partner.code, |catalogue| principal.row_scope(catalogue))
            .await?;
        Ok(Ask { state, view, release: request.release() })
    }

    /// The snapshot, restricted to the principal's rows.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.view.snapshot
    }

    /// The reference tables and code translation.
    pub fn catalogue(&self) -> &Catalogue {
        &self.view.snapshot.catalogue
    }

    /// The release step every number goes through.
    pub fn release(&self) -> &'a Release {
        self.release
    }

    /// A filter argument as the measures take it (every patient when absent).
    pub fn filter(&self, filter: Option<PatientFilter>) -> Result<Filter, ApiError> {
        filter.unwrap_or_default().resolve(self.catalogue())
    }

    /// The answer of `measure` to `question` on the principal's rows (see
    /// [`AppState::answer`]).
    pub async fn answer<Q, T, F>(&self, question: Q, measure: F) -> Result<Arc<T>, ApiError>
    where
        Q: std::fmt::Debug + Send + 'static,
        T: Send + Sync + 'static,
        F: FnOnce(&Snapshot, &Q) -> Result<T, AnalyticsError> + Send + 'static,
    {
        self.state.answer(&self.view, question, measure).await
    }
}
