//! Consortium Analytics: the GraphQL service and its command line.
//!
//! * [`config`]: the typed configuration (clap; flags and environment).
//! * [`auth`]: tokens, principals, scopes and our OAuth2 authorization server.
//! * [`pipeline`]: the path of one request, stage by stage (admit → route → plan →
//!   decide → publish → record), with the release step, the differencing ledger, the
//!   noisy tier's budgets, rate limits, persisted queries and the audit trail.
//! * [`db`]: connecting and migrating.
//! * [`state`]: the shared snapshot, the measures' cache, and the stores the pipeline
//!   keeps across requests.
//! * [`graphql`]: the schema (built by one function, with limits and error codes).
//! * [`http`], [`server`] and [`startup`]: the transport, the connection limits and
//!   the one boot path.
//! * [`socket`]: GraphQL over WebSocket within its limits.
//! * [`web`]: the playground, the dashboards and the reports' page, with every asset
//!   they use.
//! * [`report`]: the cohort report, rendered from released answers, as HTML and PDF.
//! * [`metrics`]: counters and histograms for operators (`GET /metrics`).
//! * [`import`]: the import entry points' rights and audit record (the rules are in `consortium-store`).
//! * [`export`]: released answers as tidy tables in CSV, Parquet or XLSX files with
//!   their provenance (`POST /graphql/export`, `consortium export-answers`).
//! * [`cli`]: the subcommands.
#![warn(missing_docs)]

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod export;
pub mod graphql;
pub mod http;
pub mod import;
pub mod metrics;
pub mod pipeline;
pub mod report;
pub mod server;
pub mod socket;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;

pub use startup::Application;
