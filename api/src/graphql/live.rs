//! Live updates: `subscription { dataVersions { version builtAt } }` sends the data
//! version served when it starts, then every new one as its snapshot goes live, so a
//! dashboard redraws when new data lands. Served over GraphQL over WebSocket
//! (`/graphql/ws`, see [`crate::http::subscriptions`]), authenticated when the
//! connection opens. The version is not about patients: no release step is involved.
//!
//! The WebSocket endpoint serves [`LiveSchema`], whose only query says where questions
//! go: a question about patients is answered over HTTP alone, where every number passes
//! the release step and every request is put on record.

use async_graphql::{Context, EmptyMutation, Object, Result, Schema, Subscription};
use futures::stream::{self, Stream};

use super::access::{require, state};
use super::types::DataVersion;
use crate::auth::Scope;

/// The schema of the WebSocket endpoint: subscriptions, and no question about patients.
pub type LiveSchema = Schema<LiveQuery, EmptyMutation, Live>;

/// The WebSocket endpoint's query root.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveQuery;

#[Object]
impl LiveQuery {
    /// Where questions are answered: `POST /graphql` (over WebSocket only subscriptions
    /// are served).
    async fn questions_are_answered_at(&self) -> &'static str {
        "POST /graphql"
    }
}

/// The subscriptions.
#[derive(Debug, Default, Clone, Copy)]
pub struct Live;

#[Subscription]
impl Live {
    /// The data version answers are computed on: the current one at once, then each new
    /// one when its snapshot is built. Needs `enrolment:read`, like `dataVersion`.
    async fn data_versions(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = DataVersion>> {
        require(ctx, Scope::EnrolmentRead)?;
        let mut versions = state(ctx)?.versions();
        versions.mark_changed();
        Ok(stream::unfold(versions, |mut versions| async move {
            versions.changed().await.ok()?;
            let (version, built_at) = *versions.borrow_and_update();
            Some((DataVersion { version, built_at }, versions))
        }))
    }
}
