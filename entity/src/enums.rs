//! The domain's closed vocabularies, stored as stable upper-case codes.
//!
//! Each enum derives [`DeriveActiveEnum`] with a string representation, so the
//! database holds the code itself (`'MSI_HIGH'`, `'PD'`), the migrations can write a
//! CHECK constraint from [`ActiveEnum::values`], and the analytics layer can map each
//! variant to a small integer by its position in [`Iterable::iter`](sea_orm::Iterable::iter).

use sea_orm::entity::prelude::*;
use sea_orm::Iterable;
use serde::{Deserialize, Serialize};

/// Implements `code()` and `label()` for a string-backed enum: the code is the stored
/// value, the label a human-readable name for tables and dashboards.
macro_rules! labelled {
    ($ty:ty { $($variant:ident => $label:literal),+ $(,)? }) => {
        impl $ty {
            /// The stable code stored in the database and used by the API.
            pub fn code(&self) -> String {
                self.to_value()
            }
            /// A human-readable name.
            pub fn label(&self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }
            /// All variants, in their canonical order.
            pub fn all() -> Vec<Self> {
                <Self as Iterable>::iter().collect()
            }
        }
    };
}

/// What kind of member of the consortium a partner is; decides its default access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PartnerKind {
    /// A hospital with a cancer department (trial site).
    #[sea_orm(string_value = "HOSPITAL")]
    Hospital,
    /// The national cancer registry (long-term follow-up).
    #[sea_orm(string_value = "REGISTRY")]
    Registry,
    /// A pharmaceutical company supplying study drugs.
    #[sea_orm(string_value = "INDUSTRY")]
    Industry,
    /// Academic researchers and the trial's coordinating statisticians.
    #[sea_orm(string_value = "ACADEMIC")]
    Academic,
}
labelled!(PartnerKind { Hospital => "Hospital", Registry => "Registry", Industry => "Industry", Academic => "Academic" });

/// One of Norway's four regional health authorities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum HealthRegion {
    /// Helse Sør-Øst.
    #[sea_orm(string_value = "SOUTH_EAST")]
    SouthEast,
    /// Helse Vest.
    #[sea_orm(string_value = "WEST")]
    West,
    /// Helse Midt-Norge.
    #[sea_orm(string_value = "CENTRAL")]
    Central,
    /// Helse Nord.
    #[sea_orm(string_value = "NORTH")]
    North,
}
labelled!(HealthRegion { SouthEast => "South-East", West => "West", Central => "Central", North => "North" });

/// Sex as recorded in the trial (CDISC DM `SEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Sex {
    /// Female.
    #[sea_orm(string_value = "FEMALE")]
    Female,
    /// Male.
    #[sea_orm(string_value = "MALE")]
    Male,
}
labelled!(Sex { Female => "Female", Male => "Male" });

/// Microsatellite instability status from the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MsiStatus {
    /// Microsatellite stable.
    #[sea_orm(string_value = "MSS")]
    Stable,
    /// Microsatellite instability high (dMMR).
    #[sea_orm(string_value = "MSI_HIGH")]
    High,
    /// The assay could not decide.
    #[sea_orm(string_value = "INDETERMINATE")]
    Indeterminate,
}
labelled!(MsiStatus { Stable => "MSS", High => "MSI-high", Indeterminate => "Indeterminate" });

/// The kind of molecular alteration a variant or a cohort is about.
///
/// Biomarker-defined alterations (MSI-high, high TMB) are recorded as variants of the
/// pseudo-genes `MSI` and `TMB`, so "gene" is one dimension for every cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AlterationClass {
    /// Single-nucleotide variant or small indel with an HGVS protein change.
    #[sea_orm(string_value = "MUTATION")]
    Mutation,
    /// Copy-number amplification.
    #[sea_orm(string_value = "AMPLIFICATION")]
    Amplification,
    /// Gene fusion.
    #[sea_orm(string_value = "FUSION")]
    Fusion,
    /// Deletion.
    #[sea_orm(string_value = "DELETION")]
    Deletion,
    /// Bi-allelic loss of function.
    #[sea_orm(string_value = "BIALLELIC_LOSS")]
    BiallelicLoss,
    /// Microsatellite instability high / mismatch-repair deficiency.
    #[sea_orm(string_value = "MSI_HIGH")]
    MsiHigh,
    /// Tumour mutational burden above the cohort's threshold.
    #[sea_orm(string_value = "TMB_HIGH")]
    TmbHigh,
}
labelled!(AlterationClass {
    Mutation => "Mutation", Amplification => "Amplification", Fusion => "Fusion",
    Deletion => "Deletion", BiallelicLoss => "Bi-allelic loss", MsiHigh => "MSI-high", TmbHigh => "TMB-high",
});

/// ESMO Scale for Clinical Actionability of molecular Targets (ESCAT).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum EscatTier {
    /// I-A: prospective randomised evidence in this tumour type.
    #[sea_orm(string_value = "I-A")]
    IA,
    /// I-B: prospective non-randomised evidence.
    #[sea_orm(string_value = "I-B")]
    IB,
    /// I-C: basket-trial evidence across tumour types.
    #[sea_orm(string_value = "I-C")]
    IC,
    /// II-A: retrospective evidence.
    #[sea_orm(string_value = "II-A")]
    IIA,
    /// II-B: prospective evidence without clinical benefit shown.
    #[sea_orm(string_value = "II-B")]
    IIB,
    /// III-A: evidence in another tumour type.
    #[sea_orm(string_value = "III-A")]
    IIIA,
    /// III-B: evidence for another alteration in the same pathway.
    #[sea_orm(string_value = "III-B")]
    IIIB,
    /// IV-A: preclinical evidence only.
    #[sea_orm(string_value = "IV-A")]
    IVA,
    /// X: no evidence of actionability.
    #[sea_orm(string_value = "X")]
    X,
}
labelled!(EscatTier {
    IA => "I-A", IB => "I-B", IC => "I-C", IIA => "II-A", IIB => "II-B",
    IIIA => "III-A", IIIB => "III-B", IVA => "IV-A", X => "X",
});

impl EscatTier {
    /// Whether a variant at this tier counts as an *actionable alteration* in the
    /// screening funnel: tiers I to III (clinical evidence somewhere). Our rule.
    pub fn is_actionable(self) -> bool {
        self <= EscatTier::IIIB
    }
}

/// Outcome of a molecular tumour board review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MtbOutcome {
    /// Matched to an open cohort of this trial.
    #[sea_orm(string_value = "MATCHED_COHORT")]
    MatchedCohort,
    /// Matched to another clinical trial.
    #[sea_orm(string_value = "OTHER_TRIAL")]
    OtherTrial,
    /// Referred to an early-access programme.
    #[sea_orm(string_value = "EARLY_ACCESS")]
    EarlyAccess,
    /// No actionable match.
    #[sea_orm(string_value = "NO_MATCH")]
    NoMatch,
}
labelled!(MtbOutcome { MatchedCohort => "Matched to a cohort", OtherTrial => "Other trial", EarlyAccess => "Early access", NoMatch => "No match" });

/// A cohort's recorded status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CohortStatus {
    /// Recruiting the first stage.
    #[sea_orm(string_value = "STAGE_1")]
    Stage1,
    /// Recruiting the second stage.
    #[sea_orm(string_value = "STAGE_2")]
    Stage2,
    /// Positive after stage 2; recruiting an expansion cohort.
    #[sea_orm(string_value = "EXPANSION")]
    Expansion,
    /// Closed after stage 1: too few benefits.
    #[sea_orm(string_value = "CLOSED_FUTILITY")]
    ClosedFutility,
    /// Closed after stage 2: too few benefits.
    #[sea_orm(string_value = "CLOSED_NEGATIVE")]
    ClosedNegative,
    /// Closed for another reason (supply, slow accrual, safety).
    #[sea_orm(string_value = "CLOSED_OTHER")]
    ClosedOther,
}
labelled!(CohortStatus {
    Stage1 => "Stage 1", Stage2 => "Stage 2", Expansion => "Expansion",
    ClosedFutility => "Closed (futility)", ClosedNegative => "Closed (negative)", ClosedOther => "Closed (other)",
});

/// The stage of its cohort a patient was enrolled into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CohortStage {
    /// Stage 1 (the first `n1` evaluable patients).
    #[sea_orm(string_value = "STAGE_1")]
    Stage1,
    /// Stage 2 (up to `n` evaluable patients).
    #[sea_orm(string_value = "STAGE_2")]
    Stage2,
    /// The expansion cohort after a positive stage 2.
    #[sea_orm(string_value = "EXPANSION")]
    Expansion,
}
labelled!(CohortStage { Stage1 => "Stage 1", Stage2 => "Stage 2", Expansion => "Expansion" });

/// Why treatment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TreatmentEndReason {
    /// Progressive disease.
    #[sea_orm(string_value = "PROGRESSION")]
    Progression,
    /// Unacceptable toxicity.
    #[sea_orm(string_value = "TOXICITY")]
    Toxicity,
    /// Death.
    #[sea_orm(string_value = "DEATH")]
    Death,
    /// Patient's or physician's decision.
    #[sea_orm(string_value = "WITHDRAWAL")]
    Withdrawal,
    /// Planned treatment completed.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Any other reason.
    #[sea_orm(string_value = "OTHER")]
    Other,
}
labelled!(TreatmentEndReason {
    Progression => "Progression", Toxicity => "Toxicity", Death => "Death",
    Withdrawal => "Withdrawal", Completed => "Completed", Other => "Other",
});

/// The response criteria an assessment was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ResponseCriteria {
    /// RECIST 1.1 (solid tumours).
    #[sea_orm(string_value = "RECIST_1_1")]
    Recist11,
    /// RANO (brain tumours).
    #[sea_orm(string_value = "RANO")]
    Rano,
    /// Lugano (lymphoma).
    #[sea_orm(string_value = "LUGANO")]
    Lugano,
    /// iwCLL (chronic lymphocytic leukaemia).
    #[sea_orm(string_value = "IWCLL")]
    Iwcll,
    /// IMWG (myeloma).
    #[sea_orm(string_value = "IMWG")]
    Imwg,
}
labelled!(ResponseCriteria { Recist11 => "RECIST 1.1", Rano => "RANO", Lugano => "Lugano", Iwcll => "iwCLL", Imwg => "IMWG" });

/// Overall response at one assessment (CDISC RS `OVRLRESP`), best first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(4))")]
pub enum OverallResponse {
    /// Complete response.
    #[sea_orm(string_value = "CR")]
    Cr,
    /// Partial response.
    #[sea_orm(string_value = "PR")]
    Pr,
    /// Stable disease.
    #[sea_orm(string_value = "SD")]
    Sd,
    /// Progressive disease.
    #[sea_orm(string_value = "PD")]
    Pd,
    /// Not evaluable.
    #[sea_orm(string_value = "NE")]
    Ne,
}
labelled!(OverallResponse { Cr => "Complete response", Pr => "Partial response", Sd => "Stable disease", Pd => "Progressive disease", Ne => "Not evaluable" });

/// Vital status reported by follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum VitalStatus {
    /// Alive at the status date.
    #[sea_orm(string_value = "ALIVE")]
    Alive,
    /// Dead (date of death recorded).
    #[sea_orm(string_value = "DEAD")]
    Dead,
}
labelled!(VitalStatus { Alive => "Alive", Dead => "Dead" });

/// Who reported a follow-up status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum FollowupSource {
    /// The national cancer registry (linkage with the population register).
    #[sea_orm(string_value = "REGISTRY")]
    Registry,
    /// The treating site.
    #[sea_orm(string_value = "SITE")]
    Site,
}
labelled!(FollowupSource { Registry => "Registry", Site => "Site" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_the_database_representation() {
        for tier in EscatTier::all() {
            assert_eq!(EscatTier::try_from_value(&tier.code()).ok(), Some(tier));
        }
        assert_eq!(OverallResponse::Pd.code(), "PD");
        assert_eq!(EscatTier::IIA.code(), "II-A");
    }

    #[test]
    fn only_tiers_one_to_three_are_actionable() {
        let actionable: Vec<_> = EscatTier::all().into_iter().filter(|t| t.is_actionable()).collect();
        assert_eq!(actionable.len(), 7);
        assert!(!EscatTier::IVA.is_actionable());
        assert!(!EscatTier::X.is_actionable());
    }

    #[test]
    fn responses_are_ordered_best_first() {
        assert!(OverallResponse::Cr < OverallResponse::Pr);
        assert!(OverallResponse::Sd < OverallResponse::Pd);
        assert_eq!(OverallResponse::all().into_iter().min(), Some(OverallResponse::Cr));
    }
}
