//! Consortium Analytics: the GraphQL service and its command line.
//!
//! * [`config`]: the typed configuration (clap; flags and environment).
//! * [`auth`]: tokens, principals, scopes and our OAuth2 authorization server.
//! * [`rate_limit`], [`audit`] and [`recorder`]: per-token budgets (leased, spent in
//!   memory) and the hash-chained audit trail (written by group commit).
//! * [`release`]: the release step: disclosure control of every number sent.
//! * [`ledger`]: the differencing guard's ledger: every patient set released on a data
//!   version, across requests, processes and replicas.
//! * [`privacy`]: the noisy tier's kept values, charges and privacy budgets.
//! * [`persisted`]: automatic persisted queries and tokens' allow-lists.
//! * [`request`]: what the operations of one HTTP request share.
//! * [`db`]: connecting and migrating.
//! * [`state`] and [`answers`]: the shared snapshot, the measures' cache and the
//!   released answers' cache.
//! * [`graphql`]: the schema (built by one function, with limits and error codes).
//! * [`http`], [`server`] and [`startup`]: the transport, the connection limits and
//!   the one boot path.
//! * [`socket`]: GraphQL over WebSocket within its limits.
//! * [`web`]: the playground and the dashboards, with every asset they use.
//! * [`metrics`]: counters and histograms for operators (`GET /metrics`).
//! * [`import`]: the import entry points' rights and audit record (the rules are in `consortium-store`).
//! * [`cli`]: the subcommands.
#![warn(missing_docs)]

pub mod answers;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod ledger;
pub mod metrics;
pub mod persisted;
pub mod privacy;
pub mod rate_limit;
pub mod recorder;
pub mod release;
pub mod request;
pub mod server;
pub mod socket;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;

pub use startup::Application;
