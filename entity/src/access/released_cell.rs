//! The differencing guard's ledgers: every distinct patient set released to a partner on
//! a data version.

use sea_orm::entity::prelude::*;

/// One released patient set. Written in the same transaction as the audit record of
/// the request that first released it, so no released value is missing from the ledger.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "released_cell")]
pub struct Model {
    /// Position in the ledger (the order it was written in).
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The data version the set was released from.
    pub data_version: i64,
    /// The partner it was released to (whose ledger it is in).
    pub partner_code: String,
    /// How many patients (the set's size, for the guard's size index).
    pub patients: i64,
    /// The k of the policy it was released under: a later set must not single out
    /// fewer than the larger of its own k and this one with it.
    pub k: i64,
    /// The set, as a serialised compressed bitmap of patient ids (roaring format).
    pub members: Vec<u8>,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
