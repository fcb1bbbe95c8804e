//! The GraphQL schema: built by one library function with its limits and extensions,
//! so the server, the `schema` subcommand and tests all get the same schema.
//!
//! Resolvers are thin: they translate arguments into analytics questions, ask the
//! [`AppState`], and turn every number derived from patients into a released value
//! (`Count`, `Measure`, `Proportion`) through the request's [`crate::release::Release`],
//! the only code that can make one.

mod access;
mod activity;
mod codes;
mod date;
mod design;
mod enums;
mod genomics;
mod inputs;
mod live;
mod mutation;
mod outcomes;
mod pagination;
mod query;
mod safety;
mod types;
mod viewer;

use std::sync::Arc;

use async_graphql::{EmptyMutation, Schema, SchemaBuilder};
pub use mutation::Mutation;

use crate::config::ServeArgs;
use crate::rate_limit::{RateLimit, RateLimiter};
use crate::state::AppState;
pub use codes::{ErrorCodes, Limits};
pub use live::{Live, LiveQuery, LiveSchema};
pub use query::Query;

/// The service's schema type.
pub type ConsortiumSchema = Schema<Query, Mutation, Live>;

/// The schema's structure with its limits and extensions, without runtime data.
fn builder(limits: &ServeArgs) -> SchemaBuilder<Query, Mutation, Live> {
    // Extensions run outermost first: the rate limit charges only queries that pass the
    // limits, which are checked on what validation computed.
    Schema::build(Query::default(), Mutation, Live)
        .extension(ErrorCodes)
        .extension(RateLimit)
        .extension(Limits { max_depth: limits.max_depth, max_complexity: limits.max_complexity })
}

/// Builds the schema around a running service's state and rate limiter.
pub fn build_schema(state: Arc<AppState>, limiter: Arc<RateLimiter>, limits: &ServeArgs) -> ConsortiumSchema {
    builder(limits).data(state).data(limiter).finish()
}

/// The WebSocket endpoint's schema: the subscriptions of [`ConsortiumSchema`] with
/// their limits, and no question about patients (see [`live`]).
pub fn build_live_schema(state: Arc<AppState>, limits: &ServeArgs) -> LiveSchema {
    Schema::build(LiveQuery, EmptyMutation, Live)
        .extension(ErrorCodes)
        .extension(Limits { max_depth: limits.max_depth, max_complexity: limits.max_complexity })
        .data(state)
        .finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    builder(&ServeArgs::default()).finish().sdl()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_checked_in_schema_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == super::sdl(),
            "schema.graphql differs from the code; refresh it with: \
             cargo run --release --bin consortium -- schema > schema.graphql"
        );
    }
}
