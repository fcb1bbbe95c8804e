//! Complexity points spent by one caller in one rate-limit window.

use sea_orm::entity::prelude::*;

/// Points a caller (a token) spent in the window starting at `window_start`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_window")]
pub struct Model {
    /// Who spent them: the token id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// Start of the window (Unix seconds).
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_start: i64,
    /// Points spent so far.
    pub spent: i64,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
