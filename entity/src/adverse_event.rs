//! An adverse event during treatment (CDISC AE, CTCAE v5).

use sea_orm::entity::prelude::*;

/// An adverse event during treatment (CDISC AE, CTCAE v5).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "adverse_event")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Enrolment during which it occurred.
    pub enrolment_id: i32,
    /// CTCAE v5 term, e.g. `Diarrhea`.
    pub ctcae_term: String,
    /// MedDRA system organ class.
    pub organ_class: String,
    /// CTCAE grade, 1 to 5.
    pub grade: i32,
    /// Onset date.
    pub onset_date: Date,
    /// Judged related to the study drug.
    pub related: bool,
    /// Serious adverse event.
    pub serious: bool,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
