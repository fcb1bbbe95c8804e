//! A cohort: one tumour type × one alteration × one drug, with its two-stage design.

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// A cohort: one tumour type × one alteration × one drug, with its two-stage design.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cohort")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Short stable code.
    #[sea_orm(unique)]
    pub code: String,
    /// Descriptive name.
    pub name: String,
    /// Tumour type (OncoTree code), or `SOLID` for tumour-agnostic cohorts.
    pub oncotree_code: String,
    /// Target gene (or `MSI` / `TMB`).
    pub gene: String,
    /// Target alteration class.
    pub alteration_class: AlterationClass,
    /// Study drug.
    pub drug_id: i32,
    /// Simon design: stop after stage 1 if benefits ≤ r1 among n1.
    pub design_r1: i32,
    /// Simon design: evaluable patients in stage 1.
    pub design_n1: i32,
    /// Simon design: negative if benefits ≤ r among n.
    pub design_r: i32,
    /// Simon design: evaluable patients after stage 2.
    pub design_n: i32,
    /// Recorded status.
    pub status: CohortStatus,
    /// Date the cohort opened.
    pub opened_on: Date,
    /// Date the cohort closed, if it has.
    pub closed_on: Option<Date>,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
