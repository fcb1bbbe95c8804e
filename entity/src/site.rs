//! A treating hospital site (and, for InPreD nodes, a sequencing laboratory).

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// A treating hospital site (and, for InPreD nodes, a sequencing laboratory).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "site")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Short stable code.
    #[sea_orm(unique)]
    pub code: String,
    /// Full name.
    pub name: String,
    /// Regional health authority.
    pub region: HealthRegion,
    /// The hospital partner that runs the site.
    pub partner_id: i32,
    /// Whether the site runs InPreD molecular profiling.
    pub inpred_node: bool,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
