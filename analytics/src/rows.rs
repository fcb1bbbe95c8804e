//! The rows of one data version that a [`Snapshot`](crate::Snapshot) is built from:
//! plain values, read from the database by `consortium-store` (every table of one data
//! version, only the columns the measures use) and built into frames by
//! [`Snapshot::build`](crate::Snapshot::build), which does no I/O.

use chrono::NaiveDate;
use consortium_entity::{
    AlterationClass, CohortStage, EscatTier, HealthRegion, MsiStatus, MtbOutcome, OverallResponse, Sex,
};

use crate::catalogue::Catalogue;

/// Every row of one data version the measures use.
#[derive(Debug, Default)]
pub struct TrialRows {
    /// The data version they are of.
    pub version: i64,
    /// The reference tables (partners, sites, drugs, cohorts).
    pub catalogue: Catalogue,
    /// Patients.
    pub patients: Vec<PatientRow>,
    /// Molecular profiles.
    pub profiles: Vec<ProfileRow>,
    /// Variants of the profiles.
    pub variants: Vec<VariantRow>,
    /// Tumour board reviews.
    pub reviews: Vec<ReviewRow>,
    /// Enrolments.
    pub enrolments: Vec<EnrolmentRow>,
    /// Response assessments.
    pub assessments: Vec<AssessmentRow>,
    /// Adverse events.
    pub adverse_events: Vec<AdverseRow>,
    /// Follow-up.
    pub followups: Vec<FollowupRow>,
    /// How long reading them took, in milliseconds (for the build's log line).
    pub read_ms: u64,
}

/// A patient.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientRow {
    /// Id.
    pub id: i32,
    /// Sex.
    pub sex: Sex,
    /// Year of birth.
    pub birth_year: i32,
    /// Health region.
    pub region: HealthRegion,
    /// The referring site's id.
    pub referring_site: i32,
    /// Day of referral.
    pub referral_date: NaiveDate,
}

/// A molecular profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    /// Id.
    pub id: i32,
    /// The patient's id.
    pub patient_id: i32,
    /// Tumour type (OncoTree).
    pub oncotree_code: String,
    /// Tumour mutational burden (mutations per megabase).
    pub tmb: f64,
    /// Microsatellite status.
    pub msi: MsiStatus,
}

/// A variant of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantRow {
    /// The profile's id.
    pub profile_id: i32,
    /// Gene.
    pub gene: String,
    /// Alteration class.
    pub alteration_class: AlterationClass,
    /// ESMO ESCAT tier.
    pub escat_tier: EscatTier,
}

/// A tumour board review.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRow {
    /// The patient's id.
    pub patient_id: i32,
    /// Day of the review.
    pub date: NaiveDate,
    /// Its outcome.
    pub outcome: MtbOutcome,
}

/// An enrolment.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolmentRow {
    /// Id.
    pub id: i32,
    /// The patient's id.
    pub patient_id: i32,
    /// The cohort's id.
    pub cohort_id: i32,
    /// The treating site's id.
    pub site_id: i32,
    /// Day of enrolment.
    pub enrolled_on: NaiveDate,
    /// The cohort's stage at enrolment.
    pub stage: CohortStage,
    /// Day treatment started, if it did.
    pub treatment_start: Option<NaiveDate>,
}

/// A response assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRow {
    /// The enrolment's id.
    pub enrolment_id: i32,
    /// Study week (from treatment start).
    pub study_week: i32,
    /// Overall response.
    pub response: OverallResponse,
    /// Day of the assessment.
    pub date: NaiveDate,
}

/// An adverse event.
#[derive(Debug, Clone, PartialEq)]
pub struct AdverseRow {
    /// The enrolment's id.
    pub enrolment_id: i32,
    /// CTCAE term.
    pub term: String,
    /// MedDRA system organ class.
    pub organ_class: String,
    /// CTCAE grade, 1–5.
    pub grade: i32,
    /// Related to the study drug.
    pub related: bool,
    /// Serious.
    pub serious: bool,
}

/// A patient's follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowupRow {
    /// The patient's id.
    pub patient_id: i32,
    /// Day the status was last known.
    pub status_date: NaiveDate,
    /// Day of death, if dead.
    pub death_date: Option<NaiveDate>,
}
