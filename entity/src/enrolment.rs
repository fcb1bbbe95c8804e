//! A patient'\''s enrolment in a cohort at a site, with treatment dates.

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// A patient'\''s enrolment in a cohort at a site, with treatment dates.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "enrolment")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Enrolled patient (at most one enrolment per patient).
    #[sea_orm(unique)]
    pub patient_id: i32,
    /// Cohort.
    pub cohort_id: i32,
    /// Treating site.
    pub site_id: i32,
    /// Enrolment date.
    pub enrolled_on: Date,
    /// Stage of the cohort the patient entered.
    pub cohort_stage: CohortStage,
    /// Treatment start (day 0); none if never treated.
    pub treatment_start: Option<Date>,
    /// Treatment end, if ended.
    pub treatment_end: Option<Date>,
    /// Why treatment ended.
    pub end_reason: Option<TreatmentEndReason>,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
