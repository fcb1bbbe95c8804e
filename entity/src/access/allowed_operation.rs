//! Allow-lists: the operations a token limited to registered ones may run.

use sea_orm::entity::prelude::*;

/// One operation a token may run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allowed_operation")]
pub struct Model {
    /// The token's prefix (`cat_` and 8 characters).
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_prefix: String,
    /// Hex SHA-256 of the operation's normalised text (as `audit_record.query_hash`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub query_hash: String,
    /// Where it came from (the file registered), for people reading the list.
    pub source: String,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
