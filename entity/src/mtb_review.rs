//! The national molecular tumour board'\''s review of a profiled patient.

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// The national molecular tumour board'\''s review of a profiled patient.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mtb_review")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Reviewed patient (one review per patient).
    #[sea_orm(unique)]
    pub patient_id: i32,
    /// Date of the board meeting.
    pub review_date: Date,
    /// What the board decided.
    pub outcome: MtbOutcome,
    /// Cohort recommended, when matched to a cohort of this trial.
    pub recommended_cohort_id: Option<i32>,
    /// ESCAT tier of the evidence behind the recommendation.
    pub evidence_tier: Option<EscatTier>,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
