//! The secret the cell-key method derives each patient's record key from.

use sea_orm::entity::prelude::*;

/// The one row (id 1), created by the first service that starts on the database and
/// read by every replica, so all of them perturb a cell alike. It never leaves the
/// database; changing it would give every cell a fresh perturbation, which partners
/// could average, so it is never rotated.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "record_key_secret")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// 32 random bytes, base64.
    pub secret: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
