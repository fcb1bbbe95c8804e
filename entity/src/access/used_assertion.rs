//! A client assertion already spent: `jti` values are single-use (RFC 7523 §3).

use sea_orm::entity::prelude::*;

/// A spent client assertion, kept until it would have expired anyway.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "used_assertion")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The client that signed it.
    pub client_id: String,
    /// Its `jti`; unique per client.
    pub jti: String,
    /// The assertion's own expiry (Unix seconds).
    pub expires_at: i64,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
