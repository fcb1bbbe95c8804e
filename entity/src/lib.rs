//! The trial's data model: one sea-orm entity per table, and the domain's enums.
//!
//! This crate is the vocabulary every other crate speaks. It knows nothing of HTTP,
//! GraphQL or polars. Enums are stored as their stable upper-case codes (the same codes
//! the GraphQL API and the CHECK constraints use), so a database row, an API value and
//! a log line name a thing the same way.
//!
//! Patients are pseudonymous: sex, birth year and health region only; no names, no
//! national identity numbers, nothing that could be joined to a person outside the trial.
#![warn(missing_docs)]

pub mod enums;

pub mod access;

pub mod adverse_event;
pub mod cohort;
pub mod data_version;
pub mod drug;
pub mod enrolment;
pub mod followup;
pub mod molecular_profile;
pub mod mtb_review;
pub mod partner;
pub mod patient;
pub mod protocol;
pub mod response_assessment;
pub mod site;
pub mod trial;
pub mod variant;
pub mod vocabulary;

pub use enums::*;
pub use trial::Trial;
