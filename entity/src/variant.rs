//! A molecular alteration found in a profile.

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// A molecular alteration found in a profile.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "variant")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Profile the variant was found in.
    pub profile_id: i32,
    /// HGNC gene symbol, or the pseudo-genes `MSI` / `TMB` for biomarkers.
    pub gene: String,
    /// Kind of alteration.
    pub alteration_class: AlterationClass,
    /// HGVS protein change, e.g. `p.V600E`, for mutations.
    pub protein_change: Option<String>,
    /// ESMO ESCAT actionability tier.
    pub escat_tier: EscatTier,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
