//! Consortium Analytics: the GraphQL service, its command line and the synthetic
//! consortium generator.
//!
//! * [`config`]: the typed configuration (clap; flags and environment).
//! * [`db`]: connecting and migrating.
//! * [`state`]: the shared snapshot and the answer caches.
//! * [`graphql`]: the schema (built by one function, with limits and error codes).
//! * [`http`] and [`startup`]: the transport and the one boot path.
//! * [`demo`]: the deterministic synthetic consortium.
//! * [`cli`]: the subcommands.
#![warn(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod http;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::Application;
