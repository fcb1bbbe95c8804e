//! GraphQL enums mirroring the domain's, converted both ways by async-graphql's
//! `remote` derive so the API names stay in step with the domain.

use async_graphql::Enum;

/// A dimension to group or filter patients by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_analytics::Dimension")]
pub enum Dimension {
    /// The cohort the patient is enrolled in.
    Cohort,
    /// The cohort's study drug.
    Drug,
    /// The industry partner supplying the drug.
    Supplier,
    /// Tumour type (OncoTree code).
    TumourType,
    /// Primary alteration gene (cohort target gene when enrolled).
    Gene,
    /// Treating site when enrolled, otherwise referring site.
    Site,
    /// Health region of residence.
    Region,
    /// Calendar month of enrolment.
    EnrolmentMonth,
    /// Stage of the cohort at enrolment.
    CohortStage,
    /// Sex.
    Sex,
    /// Age band at referral.
    AgeBand,
    /// Alteration class (the cohort's when enrolled, else the primary variant's).
    AlterationClass,
    /// Calendar year of enrolment (the period).
    EnrolmentYear,
}

/// A step of the screening funnel.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_analytics::Population")]
pub enum Population {
    /// Referred to molecular profiling.
    Referred,
    /// Molecularly profiled by InPreD.
    Profiled,
    /// With an actionable alteration (ESCAT I–III).
    Actionable,
    /// Matched to a cohort by the molecular tumour board.
    Matched,
    /// Enrolled in a cohort.
    Enrolled,
    /// Started study treatment.
    Treated,
    /// Evaluable for disease control at week 16.
    Evaluable,
}

/// Kind of consortium partner.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_entity::PartnerKind")]
pub enum PartnerKind {
    /// Hospital.
    Hospital,
    /// Cancer registry.
    Registry,
    /// Pharmaceutical company.
    Industry,
    /// Academic group.
    Academic,
}

/// Regional health authority.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_entity::HealthRegion")]
pub enum HealthRegion {
    /// South-East.
    SouthEast,
    /// West.
    West,
    /// Central.
    Central,
    /// North.
    North,
}

/// Sex.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_entity::Sex")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

/// Stage of a cohort a patient entered.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_entity::CohortStage")]
pub enum CohortStage {
    /// Stage 1.
    #[graphql(name = "STAGE_1")]
    Stage1,
    /// Stage 2.
    #[graphql(name = "STAGE_2")]
    Stage2,
    /// Expansion.
    Expansion,
}

/// Recorded status of a cohort.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_entity::CohortStatus")]
pub enum CohortStatus {
    /// Recruiting stage 1.
    #[graphql(name = "STAGE_1")]
    Stage1,
    /// Recruiting stage 2.
    #[graphql(name = "STAGE_2")]
    Stage2,
    /// Positive; recruiting an expansion cohort.
    Expansion,
    /// Closed after stage 1 for futility.
    ClosedFutility,
    /// Closed after stage 2, negative.
    ClosedNegative,
    /// Closed for another reason.
    ClosedOther,
}

/// Kind of molecular alteration.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_entity::AlterationClass")]
pub enum AlterationClass {
    /// Mutation.
    Mutation,
    /// Amplification.
    Amplification,
    /// Fusion.
    Fusion,
    /// Deletion.
    Deletion,
    /// Bi-allelic loss.
    BiallelicLoss,
    /// MSI-high.
    MsiHigh,
    /// TMB-high.
    TmbHigh,
}

/// Overall response at an assessment (RECIST-style), best first.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_entity::OverallResponse")]
pub enum OverallResponse {
    /// Complete response.
    Cr,
    /// Partial response.
    Pr,
    /// Stable disease.
    Sd,
    /// Progressive disease.
    Pd,
    /// Not evaluable.
    Ne,
}

/// A time-to-event endpoint.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_analytics::survival::Endpoint")]
pub enum SurvivalEndpoint {
    /// Progression-free survival: treatment start to first PD or death (treated patients).
    Pfs,
    /// Overall survival: treatment start, or tumour-board date if untreated, to death.
    Os,
}

/// The registry's comparison groups.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_analytics::survival::TreatmentGroup")]
pub enum TreatmentGroup {
    /// Started study treatment.
    Treated,
    /// Matched to a cohort by the tumour board but never treated in it.
    MatchedNotTreated,
    /// Reviewed by the tumour board without a cohort match.
    NotMatched,
}
