//! A whole trial in memory: every table of trial data as models, for the bulk writer,
//! the import files and the synthetic consortium to share.

use crate::{
    adverse_event, cohort, drug, enrolment, followup, molecular_profile, mtb_review, partner, patient,
    response_assessment, site, variant,
};

/// A whole trial in memory (the synthetic consortium, or what an export holds), as
/// sea-orm models with ids assigned 1..n per table, in the order the tables must be
/// written (foreign keys point backwards).
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Hospitals, the registry, industry partners and the academic group.
    pub partners: Vec<partner::Model>,
    /// One treating site per hospital.
    pub sites: Vec<site::Model>,
    /// Every referred patient, in referral order.
    pub patients: Vec<patient::Model>,
    /// One molecular profile per profiled patient.
    pub profiles: Vec<molecular_profile::Model>,
    /// Variants of the profiles (0–4 each).
    pub variants: Vec<variant::Model>,
    /// One tumour-board review per profiled patient.
    pub reviews: Vec<mtb_review::Model>,
    /// Study drugs.
    pub drugs: Vec<drug::Model>,
    /// Cohorts with their recorded two-stage status.
    pub cohorts: Vec<cohort::Model>,
    /// Enrolments, in enrolment order.
    pub enrolments: Vec<enrolment::Model>,
    /// Response assessments of treated patients.
    pub assessments: Vec<response_assessment::Model>,
    /// Adverse events of treated patients.
    pub adverse_events: Vec<adverse_event::Model>,
    /// The latest follow-up status of every patient.
    pub followups: Vec<followup::Model>,
}
