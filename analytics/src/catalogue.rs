//! Reference data of one snapshot (partners, sites, drugs, cohorts, tumour types,
//! genes) and the translation between dimension keys, stable codes and labels.
//!
//! Keys are what the patient frame stores; codes are what the API speaks (`LUAD`,
//! `BRAF`, `2024-03`, a cohort's code); labels are for people.

use std::collections::BTreeMap;

use consortium_entity::{cohort, drug, partner, site, CohortStage, HealthRegion, Sex};

use crate::dimension::{month_code, parse_month, Dimension, AGE_BANDS};
use crate::error::AnalyticsError;

/// The small reference tables of a snapshot, keyed by id.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Partners by id.
    pub partners: BTreeMap<i32, partner::Model>,
    /// Sites by id.
    pub sites: BTreeMap<i32, site::Model>,
    /// Drugs by id.
    pub drugs: BTreeMap<i32, drug::Model>,
    /// Cohorts by id.
    pub cohorts: BTreeMap<i32, cohort::Model>,
    /// OncoTree codes seen in profiles or cohorts, sorted; a key is a position here.
    pub tumour_types: Vec<String>,
    /// Gene symbols seen in variants or cohorts, sorted; a key is a position here.
    pub genes: Vec<String>,
}

impl Catalogue {
    /// The stable code of a dimension key, or `None` if the key is unknown.
    pub fn code(&self, dimension: Dimension, key: i32) -> Option<String> {
        let idx = usize::try_from(key).ok();
        match dimension {
            Dimension::Cohort => self.cohorts.get(&key).map(|c| c.code.clone()),
            Dimension::Drug => self.drugs.get(&key).map(|d| d.code.clone()),
            Dimension::Supplier => self.partners.get(&key).map(|p| p.code.clone()),
            Dimension::Site => self.sites.get(&key).map(|s| s.code.clone()),
            Dimension::TumourType => idx.and_then(|i| self.tumour_types.get(i).cloned()),
            Dimension::Gene => idx.and_then(|i| self.genes.get(i).cloned()),
            Dimension::Region => idx.and_then(|i| HealthRegion::all().get(i).map(|r| r.code())),
            Dimension::CohortStage => idx.and_then(|i| CohortStage::all().get(i).map(|s| s.code())),
            Dimension::Sex => idx.and_then(|i| Sex::all().get(i).map(|s| s.code())),
            Dimension::AgeBand => idx.and_then(|i| AGE_BANDS.get(i).map(|(_, label)| (*label).to_owned())),
            Dimension::EnrolmentMonth => Some(month_code(key)),
        }
    }

    /// A human-readable label of a dimension key.
    pub fn label(&self, dimension: Dimension, key: i32) -> Option<String> {
        let idx = usize::try_from(key).ok();
        match dimension {
            Dimension::Cohort => self.cohorts.get(&key).map(|c| c.name.clone()),
            Dimension::Drug => self.drugs.get(&key).map(|d| d.name.clone()),
            Dimension::Supplier => self.partners.get(&key).map(|p| p.name.clone()),
            Dimension::Site => self.sites.get(&key).map(|s| s.name.clone()),
            Dimension::Region => idx.and_then(|i| HealthRegion::all().get(i).map(|r| r.label().to_owned())),
            Dimension::CohortStage => idx.and_then(|i| CohortStage::all().get(i).map(|s| s.label().to_owned())),
            Dimension::Sex => idx.and_then(|i| Sex::all().get(i).map(|s| s.label().to_owned())),
            Dimension::TumourType | Dimension::Gene | Dimension::AgeBand | Dimension::EnrolmentMonth => {
                self.code(dimension, key)
            }
        }
    }

    /// The key of a code, or [`AnalyticsError::UnknownCode`].
    pub fn key(&self, dimension: Dimension, code: &str) -> Result<i32, AnalyticsError> {
        let position = |codes: Vec<String>| codes.iter().position(|c| c == code).map(|i| i as i32);
        let key = match dimension {
            Dimension::Cohort => self.cohorts.values().find(|c| c.code == code).map(|c| c.id),
            Dimension::Drug => self.drugs.values().find(|d| d.code == code).map(|d| d.id),
            Dimension::Supplier => self
                .partners
                .values()
                .find(|p| p.code == code && self.drugs.values().any(|d| d.supplier_id == p.id))
                .map(|p| p.id),
            Dimension::Site => self.sites.values().find(|s| s.code == code).map(|s| s.id),
            Dimension::TumourType => self.tumour_types.iter().position(|t| t == code).map(|i| i as i32),
            Dimension::Gene => self.genes.iter().position(|g| g == code).map(|i| i as i32),
            Dimension::Region => position(HealthRegion::all().iter().map(|r| r.code()).collect()),
            Dimension::CohortStage => position(CohortStage::all().iter().map(|s| s.code()).collect()),
            Dimension::Sex => position(Sex::all().iter().map(|s| s.code()).collect()),
            Dimension::AgeBand => AGE_BANDS.iter().position(|(_, label)| *label == code).map(|i| i as i32),
            Dimension::EnrolmentMonth => parse_month(code),
        };
        key.ok_or_else(|| AnalyticsError::UnknownCode { dimension: dimension.noun(), code: code.to_owned() })
    }

    /// Position of a tumour type in [`Catalogue::tumour_types`].
    pub fn tumour_type_key(&self, oncotree: &str) -> Option<i32> {
        self.tumour_types.binary_search_by(|t| t.as_str().cmp(oncotree)).ok().map(|i| i as i32)
    }

    /// Position of a gene in [`Catalogue::genes`].
    pub fn gene_key(&self, gene: &str) -> Option<i32> {
        self.genes.binary_search_by(|g| g.as_str().cmp(gene)).ok().map(|i| i as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue {
            tumour_types: vec!["CHOL".into(), "COADREAD".into(), "LUAD".into()],
            genes: vec!["BRAF".into(), "ERBB2".into()],
            ..Catalogue::default()
        }
    }

    #[test]
    fn codes_and_keys_are_inverse_for_every_enumerated_dimension() {
        let cat = catalogue();
        for dim in [Dimension::Region, Dimension::Sex, Dimension::CohortStage, Dimension::AgeBand, Dimension::Gene] {
            let mut key = 0;
            while let Some(code) = cat.code(dim, key) {
                assert_eq!(cat.key(dim, &code).ok(), Some(key), "{dim:?} {code}");
                key += 1;
            }
            assert!(key > 0, "{dim:?} has no codes");
        }
    }

    #[test]
    fn an_unknown_code_names_its_dimension() {
        let err = catalogue().key(Dimension::TumourType, "NOPE").err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("unknown tumour type code 'NOPE'"));
    }
}
