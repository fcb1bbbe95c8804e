//! One tumour response assessment (CDISC RS).

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// One tumour response assessment (CDISC RS).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "response_assessment")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Enrolment assessed.
    pub enrolment_id: i32,
    /// Assessment date.
    pub assessment_date: Date,
    /// Weeks since treatment start.
    pub study_week: i32,
    /// Criteria used.
    pub criteria: ResponseCriteria,
    /// Overall response.
    pub response: OverallResponse,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
