//! An InPreD molecular profile of a tumour sample.

use crate::enums::*;
use sea_orm::entity::prelude::*;

/// An InPreD molecular profile of a tumour sample.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "molecular_profile")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Profiled patient (one profile per patient).
    #[sea_orm(unique)]
    pub patient_id: i32,
    /// Laboratory sample identifier.
    #[sea_orm(unique)]
    pub sample_id: String,
    /// Gene panel, e.g. `TSO500`.
    pub panel: String,
    /// InPreD node that sequenced the sample.
    pub sequencing_site_id: i32,
    /// Sample date.
    pub sample_date: Date,
    /// Tumour type as an OncoTree code, e.g. `COADREAD`.
    pub oncotree_code: String,
    /// ICD-10 code of the primary tumour, e.g. `C18`.
    pub icd10: String,
    /// Tumour mutational burden, mutations per megabase.
    pub tmb: f64,
    /// Microsatellite instability status.
    pub msi_status: MsiStatus,
}

/// Relations are enforced by foreign keys in the migrations; queries join in polars.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
