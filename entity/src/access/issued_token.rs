//! An access token our authorization server issued, kept for introspection and
//! revocation.

use sea_orm::entity::prelude::*;

/// An issued JWT access token, by its `jti`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "issued_token")]
pub struct Model {
    /// The token's `jti`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub jti: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The partner the client acts for.
    pub partner_id: i32,
    /// Granted scopes, space-separated.
    pub scopes: String,
    /// Issue time (Unix seconds).
    pub issued_at: i64,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
    /// Revocation time, if revoked (Unix seconds).
    pub revoked_at: Option<i64>,
}

/// The partner the token acts for (read with the token, in one query).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The partner.
    #[sea_orm(belongs_to = "crate::partner::Entity", from = "Column::PartnerId", to = "crate::partner::Column::Id")]
    Partner,
}

impl Related<crate::partner::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Partner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
