//! End-to-end tests: the real server over real HTTP, a fresh database per test, on
//! SQLite always and on PostgreSQL when `TEST_DATABASE_URL` points at a server.
//! One test binary (this file's modules) so the build links once.

mod helpers;
mod logs;

mod access;
mod bad_input;
mod enrolment_measures;
mod reference_data;
mod service;
mod sign_in;
mod small_trial;
mod storage;
mod trial_statistics;
