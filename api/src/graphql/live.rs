//! Live updates: `subscription { dataVersions { version builtAt } }` sends the data
//! version served when it starts, then every new one as its snapshot goes live, so a
//! dashboard redraws when new data lands. Served over GraphQL over WebSocket
//! (`/graphql/ws`, see [`crate::http::subscriptions`]), authenticated when the
//! connection opens. The version is not about patients: no release step is involved.

use async_graphql::{Context, Result, Subscription};
use futures::stream::{self, Stream};

use super::access::{require, state};
use super::types::DataVersion;
use crate::auth::Scope;

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
