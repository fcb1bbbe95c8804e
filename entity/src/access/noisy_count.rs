//! The noisy tier's values: the noisy count of a patient set, drawn once per data
//! version and noise scale and kept, so that asking again, by anyone, in any words,
//! gets the same value and averaging repeated answers removes nothing.

use sea_orm::entity::prelude::*;

/// One noisy count.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "noisy_count")]
pub struct Model {
    /// The data version the count is of.
    #[sea_orm(primary_key, auto_increment = false)]
    pub data_version: i64,
    /// Hex SHA-256 of the patient set and the ε of its noise (the set is not stored).
    #[sea_orm(primary_key, auto_increment = false)]
    pub cell: String,
    /// The count with its noise, as published.
    pub value: i64,
}

/// Relations are enforced by foreign keys in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
