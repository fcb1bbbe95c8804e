//! A study drug (or combination), supplied free by an industry partner.

use sea_orm::entity::prelude::*;

/// A study drug (or combination), supplied free by an industry partner.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "drug")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Short stable code.
    #[sea_orm(unique)]
    pub code: String,
    /// Name, e.g. `trastuzumab + pertuzumab`.
    pub name: String,
    /// Mechanism of action.
    pub mechanism: String,
    /// The industry partner that supplies it.
    pub supplier_id: i32,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
