//! One request on record, hash-chained to the one before.

use sea_orm::entity::prelude::*;

/// One request, refused ones included. `hash` covers every other field and the previous
/// record's hash; `prev_hash` is unique, so the records form one chain even when several
/// replicas append at once.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_record")]
pub struct Model {
    /// Position in the chain.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// When the request arrived (Unix milliseconds).
    pub at_ms: i64,
    /// The partner, when the caller was authenticated.
    pub partner_code: Option<String>,
    /// The token's id (an API token's prefix, an access token's `jti`), never the token.
    pub token_id: Option<String>,
    /// The GraphQL operation name, if given.
    pub operation: Option<String>,
    /// Hex SHA-256 of the query with its whitespace normalised.
    pub query_hash: String,
    /// Hex SHA-256 of the variables as canonical JSON.
    pub variables_hash: String,
    /// The data version answered from.
    pub data_version: i64,
    /// `OK`, or the stable code of the (first) error.
    pub outcome: String,
    /// Time to answer, in milliseconds.
    pub duration_ms: i64,
    /// Numbers released.
    pub released: i64,
    /// Numbers withheld.
    pub withheld: i64,
    /// The disclosure policy the numbers were released under (`1`, `1+local`); none
    /// when the request released nothing (refused before execution).
    pub policy_version: Option<String>,
    /// The privacy loss ε the request spent from its partner's budget (the noisy
    /// tier); none for a partner not on it.
    pub epsilon: Option<f64>,
    /// What a write changed, as canonical JSON (an import: domains, files' hashes, rows
    /// inserted, updated and unchanged); none for a request that writes no trial data.
    pub detail: Option<String>,
    /// The previous record's hash (zeros for the first).
    #[sea_orm(unique)]
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
