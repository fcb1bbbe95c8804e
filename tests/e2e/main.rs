//! End-to-end tests: the real server over real HTTP, a fresh database per test, on
//! SQLite always and on PostgreSQL when `TEST_DATABASE_URL` points at a server.
//! One test binary (this file's modules) so the build links once.

// Tests and benchmarks may panic on a broken expectation: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod logs;
mod schema_walk;

mod access;
mod architecture;
mod attacks;
mod bad_input;
mod browser;
mod cli;
mod connections;
mod differencing;
mod disclosure;
mod enrolment_measures;
mod exports;
mod fuzz;
mod import;
mod live;
mod metrics;
mod persisted;
mod perturbation;
mod privacy;
mod record;
mod reference_data;
mod replica;
mod schema_changes;
mod service;
mod sign_in;
mod small_trial;
mod storage;
mod trial_statistics;
