//! The latest follow-up status of a patient (registry linkage).

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// The latest follow-up status of a patient (registry linkage).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "followup")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Patient followed (one current status per patient).
    #[sea_orm(unique)]
    pub patient_id: i32,
    /// Vital status at the status date.
    pub vital_status: VitalStatus,
    /// Date the status was last confirmed.
    pub status_date: Date,
    /// Date of death, when dead.
    pub death_date: Option<Date>,
    /// Who reported it.
    pub source: FollowupSource,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
