//! Each noisy-tier partner's privacy budget: the ε spent in its current window.

use sea_orm::entity::prelude::*;

/// One partner's spending.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_budget")]
pub struct Model {
    /// The partner.
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_code: String,
    /// Start of the window `spent` belongs to (Unix seconds, a multiple of the window).
    pub window_start: i64,
    /// ε spent in that window.
    pub spent: f64,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
