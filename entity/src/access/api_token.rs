//! A scoped API token issued to a partner (industry partners, dashboards).

use sea_orm::entity::prelude::*;

/// A scoped API token; the secret itself is shown once at issue and never stored.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The token's public, recognisable beginning (`cat_` and 8 characters): how
    /// lists, logs and audit records name it.
    #[sea_orm(unique)]
    pub prefix: String,
    /// Hex SHA-256 of the whole token.
    #[sea_orm(unique)]
    pub secret_hash: String,
    /// The partner the token acts for.
    pub partner_id: i32,
    /// Granted scopes, space-separated.
    pub scopes: String,
    /// What the token is for, in the issuer's words.
    pub label: String,
    /// Issue time (Unix seconds).
    pub created_at: i64,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
    /// Revocation time, if revoked (Unix seconds).
    pub revoked_at: Option<i64>,
    /// Last successful use (Unix seconds, updated at most once a minute).
    pub last_used_at: Option<i64>,
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
