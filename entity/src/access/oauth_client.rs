//! A machine client of our OAuth2 authorization server.

use sea_orm::entity::prelude::*;

/// A registered OAuth2 client, authenticating with a secret (`client_secret_basic`),
/// a signed assertion (`private_key_jwt`), or either.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_client")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The public client identifier.
    #[sea_orm(unique)]
    pub client_id: String,
    /// The partner the client acts for.
    pub partner_id: i32,
    /// Hex SHA-256 of the client secret, if it may use one.
    pub secret_hash: Option<String>,
    /// The client's public keys (a JWK Set, JSON), if it may sign assertions.
    pub jwks: Option<String>,
    /// Scopes the client may ask for, space-separated.
    pub scopes: String,
    /// Registration time (Unix seconds).
    pub created_at: i64,
    /// When the client was disabled (Unix seconds).
    pub revoked_at: Option<i64>,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
