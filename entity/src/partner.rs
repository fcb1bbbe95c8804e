//! A member organisation of the consortium.

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// A member organisation of the consortium.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "partner")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Short stable code, e.g. `OUS` or `ROCHE`.
    #[sea_orm(unique)]
    pub code: String,
    /// Full name.
    pub name: String,
    /// What kind of member it is.
    pub kind: PartnerKind,
    /// Norwegian organisation number (9 digits), the key identity providers send.
    #[sea_orm(unique)]
    pub org_number: String,
    /// Scopes granted instead of its kind's defaults (space-separated); `None`: the
    /// defaults.
    pub scopes: Option<String>,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
