//! What each partner was charged for: one row per noisy value a partner has received
//! on a data version, so that receiving it again costs nothing.

use sea_orm::entity::prelude::*;

/// One noisy value charged to one partner.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_charge")]
pub struct Model {
    /// The data version.
    #[sea_orm(primary_key, auto_increment = false)]
    pub data_version: i64,
    /// The partner charged.
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_code: String,
    /// The value's cell (see [`super::noisy_count`]).
    #[sea_orm(primary_key, auto_increment = false)]
    pub cell: String,
    /// The ε charged.
    pub epsilon: f64,
    /// When (Unix seconds).
    pub at: i64,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
