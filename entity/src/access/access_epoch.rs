//! The access epoch: a counter every change of access (a revoked token, changed
//! grants) moves, so that an answer checked against older credentials can tell.

use sea_orm::entity::prelude::*;

/// The id of the one row.
pub const SINGLE: i32 = 1;

/// The one row of the counter.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_epoch")]
pub struct Model {
    /// Always [`SINGLE`].
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// How many access changes there have been.
    pub epoch: i64,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
