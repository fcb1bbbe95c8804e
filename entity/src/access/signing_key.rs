//! A key pair our authorization server signs access tokens with.

use sea_orm::entity::prelude::*;

/// An Ed25519 signing key. The newest unretired key signs; retired keys stay published
/// in the JWKS until every token they signed has expired (rotation with overlap).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_key")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Key id (`kid`), as in token headers and the JWKS.
    #[sea_orm(unique)]
    pub kid: String,
    /// The private key, PKCS#8 DER, base64.
    pub private_pkcs8: String,
    /// The public key, base64url without padding (the JWK `x`).
    pub public_x: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// When the key stopped signing (Unix seconds).
    pub retired_at: Option<i64>,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
