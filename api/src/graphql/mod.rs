//! The GraphQL schema: built by one library function with its limits and extensions,
//! so the server, the `schema` subcommand and tests all get the same schema.
//!
//! Resolvers are thin: they translate arguments into analytics questions, ask the
//! [`AppState`], and turn every number derived from patients into a released value
//! (`Count`, `Measure`, `Proportion`) through the request's [`crate::pipeline::release::Release`],
//! the only code that can make one.

mod access;
mod activity;
mod codes;
mod curves;
mod date;
mod design;
pub mod document;
mod enums;
mod genomics;
mod inputs;
mod life_table;
mod live;
mod mutation;
mod nulls;
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
use crate::pipeline::plan::charge::RateLimit;
use crate::state::AppState;
pub use codes::{ErrorCodes, Limits};
pub use live::{Live, LiveQuery, LiveSchema};
pub use query::Query;

/// The service's schema type.
pub type ConsortiumSchema = Schema<Query, Mutation, Live>;

/// What a `DateTime` is, for generated clients.
const DATE_TIME: &str = "An instant in UTC as an RFC 3339 date-time string, `2026-12-01T09:30:00Z`.";

/// What an `Upload` is, for generated clients.
const UPLOAD: &str = "A file sent with the request as a part of a GraphQL multipart request \
    (multipart/form-data, the GraphQL multipart request specification): in the operation's \
    variables it is `null`, and the request's `map` names the part that holds it.";

/// The schema's structure with its limits and extensions, without runtime data.
fn builder(limits: &ServeArgs) -> SchemaBuilder<Query, Mutation, Live> {
    // Extensions run outermost first: the rate limit charges only queries that pass the
    // limits, which are checked on what validation computed.
    Schema::build(Query::default(), Mutation, Live)
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME)
        .override_input_type_description::<async_graphql::Upload>(UPLOAD)
        .extension(ErrorCodes)
        .extension(nulls::NullPropagation)
        .extension(RateLimit)
        .extension(Limits { max_depth: limits.max_depth, max_complexity: limits.max_complexity })
}

/// Builds the schema around a running service's state.
pub fn build_schema(state: Arc<AppState>, limits: &ServeArgs) -> ConsortiumSchema {
    builder(limits).data(state).finish()
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
    let options = async_graphql::SDLExportOptions::new().include_specified_by();
    builder(&ServeArgs::default()).finish().sdl_with_options(options)
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
