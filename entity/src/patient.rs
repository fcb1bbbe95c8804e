//! A pseudonymous trial participant: referred for molecular profiling.

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// A pseudonymous trial participant: referred for molecular profiling.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "patient")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Trial pseudonym (never a name or national identity number).
    #[sea_orm(unique)]
    pub pseudonym: String,
    /// Sex.
    pub sex: Sex,
    /// Year of birth (no full date, by design).
    pub birth_year: i32,
    /// Health region of residence.
    pub region: HealthRegion,
    /// Hospital site that referred the patient.
    pub referring_site_id: i32,
    /// Date of referral to molecular profiling.
    pub referral_date: Date,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
