//! Reference data of one snapshot (partners, sites, drugs, cohorts, tumour types,
//! genes) and the translation between dimension keys, stable codes and labels.
//!
//! Keys are what the patient frame stores; codes are what the API speaks (`LUAD`,
//! `BRAF`, `2024-03`, a cohort's code); labels are for people.

use std::collections::{BTreeMap, BTreeSet};

use consortium_entity::{cohort, drug, partner, site, AlterationClass, CohortStage, HealthRegion, Sex};

use crate::dimension::{month_code, parse_month, parse_year, year_code, Dimension, Interval, AGE_BANDS};
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
    /// The months the whole trial has run (first and last, month numbers; see
    /// [`crate::snapshot::trial_months`]): the time axis of every series, the same
    /// in every partner's view.
    pub trial_months: Option<(i32, i32)>,
    /// The only sites a filter may name, when the snapshot is restricted to drilling
    /// into some sites (see [`crate::RowScope`]); `None`: every site.
    pub site_drill_down: Option<BTreeSet<i32>>,
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
            Dimension::AlterationClass => idx.and_then(|i| AlterationClass::all().get(i).map(|c| c.code())),
            Dimension::Region => idx.and_then(|i| HealthRegion::all().get(i).map(|r| r.code())),
            Dimension::CohortStage => idx.and_then(|i| CohortStage::all().get(i).map(|s| s.code())),
            Dimension::Sex => idx.and_then(|i| Sex::all().get(i).map(|s| s.code())),
            Dimension::AgeBand => idx.and_then(|i| AGE_BANDS.get(i).map(|(_, label)| (*label).to_owned())),
            Dimension::EnrolmentMonth => Some(month_code(key)),
            Dimension::EnrolmentYear => year_code(key),
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
            Dimension::AlterationClass => idx.and_then(|i| AlterationClass::all().get(i).map(|c| c.label().to_owned())),
            Dimension::Region => idx.and_then(|i| HealthRegion::all().get(i).map(|r| r.label().to_owned())),
            Dimension::CohortStage => idx.and_then(|i| CohortStage::all().get(i).map(|s| s.label().to_owned())),
            Dimension::Sex => idx.and_then(|i| Sex::all().get(i).map(|s| s.label().to_owned())),
            Dimension::TumourType
            | Dimension::Gene
            | Dimension::AgeBand
            | Dimension::EnrolmentMonth
            | Dimension::EnrolmentYear => self.code(dimension, key),
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
            Dimension::AlterationClass => position(AlterationClass::all().iter().map(|c| c.code()).collect()),
            Dimension::Region => position(HealthRegion::all().iter().map(|r| r.code()).collect()),
            Dimension::CohortStage => position(CohortStage::all().iter().map(|s| s.code()).collect()),
            Dimension::Sex => position(Sex::all().iter().map(|s| s.code()).collect()),
            Dimension::AgeBand => AGE_BANDS.iter().position(|(_, label)| *label == code).map(|i| i as i32),
            Dimension::EnrolmentMonth => parse_month(code),
            Dimension::EnrolmentYear => parse_year(code),
        };
        let key =
            key.ok_or_else(|| AnalyticsError::UnknownCode { dimension: dimension.noun(), code: code.to_owned() })?;
        let drillable = dimension != Dimension::Site || self.site_drill_down.as_ref().is_none_or(|s| s.contains(&key));
        if drillable {
            Ok(key)
        } else {
            Err(AnalyticsError::OutOfScope { dimension: dimension.noun(), code: code.to_owned() })
        }
    }

    /// How many values `dimension` can take in this catalogue, counting "does not apply"
    /// as one: the most groups a grouping by it can have, known without looking at any
    /// patient (the trial's months, the reference tables, the fixed vocabularies).
    pub fn domain(&self, dimension: Dimension) -> usize {
        let values = match dimension {
            Dimension::Cohort => self.cohorts.len(),
            Dimension::Drug => self.drugs.len(),
            Dimension::Supplier => self.drugs.values().map(|d| d.supplier_id).collect::<BTreeSet<_>>().len(),
            Dimension::TumourType => self.tumour_types.len(),
            Dimension::Gene => self.genes.len(),
            Dimension::AlterationClass => AlterationClass::all().len(),
            Dimension::Site => self.sites.len(),
            Dimension::Region => HealthRegion::all().len(),
            Dimension::EnrolmentMonth => Interval::Month.periods(self.trial_months),
            Dimension::EnrolmentYear => Interval::Year.periods(self.trial_months),
            Dimension::CohortStage => CohortStage::all().len(),
            Dimension::Sex => Sex::all().len(),
            Dimension::AgeBand => AGE_BANDS.len(),
        };
        values + 1
    }

    /// The most groups a grouping by `dimensions` can have (one without any).
    pub fn groups(&self, dimensions: &[Dimension]) -> usize {
        dimensions.iter().fold(1usize, |groups, d| groups.saturating_mul(self.domain(*d)))
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
    fn a_domain_is_known_without_patients_and_counts_does_not_apply() {
        let cat = Catalogue { trial_months: Some((2023 * 12 + 11, 2024 * 12 + 5)), ..catalogue() };
        assert_eq!(cat.domain(Dimension::TumourType), 4);
        assert_eq!(cat.domain(Dimension::EnrolmentMonth), 8, "December 2023 to June 2024, and none");
        assert_eq!(cat.domain(Dimension::EnrolmentYear), 3);
        assert_eq!(cat.domain(Dimension::Sex), Sex::all().len() + 1);
        assert_eq!(cat.groups(&[Dimension::TumourType, Dimension::Gene]), 4 * 3);
        assert_eq!(cat.groups(&[]), 1);
    }

    #[test]
    fn codes_and_keys_are_inverse_for_every_enumerated_dimension() {
        let cat = catalogue();
        for dim in [
            Dimension::Region,
            Dimension::Sex,
            Dimension::CohortStage,
            Dimension::AgeBand,
            Dimension::Gene,
            Dimension::AlterationClass,
        ] {
            let mut key = 0;
            while let Some(code) = cat.code(dim, key) {
                assert_eq!(cat.key(dim, &code).ok(), Some(key), "{dim:?} {code}");
                key += 1;
            }
            assert!(key > 0, "{dim:?} has no codes");
        }
    }

    #[test]
    fn alteration_classes_and_years_have_codes_and_labels() {
        let cat = catalogue();
        let fusion = cat.key(Dimension::AlterationClass, "FUSION").ok();
        assert_eq!(fusion, AlterationClass::all().iter().position(|c| *c == AlterationClass::Fusion).map(|i| i as i32));
        assert_eq!(fusion.and_then(|k| cat.label(Dimension::AlterationClass, k)).as_deref(), Some("Fusion"));
        assert_eq!(cat.code(Dimension::AlterationClass, 7), None);
        assert_eq!(cat.key(Dimension::EnrolmentYear, "2024").ok(), Some(2024));
        assert_eq!(cat.code(Dimension::EnrolmentYear, 2024).as_deref(), Some("2024"));
        assert_eq!(cat.label(Dimension::EnrolmentYear, 2024).as_deref(), Some("2024"));
        assert!(cat.key(Dimension::EnrolmentYear, "24").is_err());
    }

    #[test]
    fn every_dimension_has_a_code_for_a_key_it_produced() {
        // One key per dimension that its snapshot column could hold; each must have a
        // code that translates back, so no dimension is left out of the three tables.
        let mut cat = catalogue();
        cat.cohorts.insert(3, cohort_model(3));
        cat.drugs.insert(
            4,
            drug::Model { id: 4, code: "D4".into(), name: "d".into(), mechanism: "m".into(), supplier_id: 5 },
        );
        cat.partners.insert(
            5,
            partner::Model {
                id: 5,
                code: "P5".into(),
                name: "p".into(),
                kind: consortium_entity::PartnerKind::Industry,
                org_number: "1".into(),
                scopes: None,
            },
        );
        cat.sites.insert(
            6,
            site::Model {
                id: 6,
                code: "S6".into(),
                name: "s".into(),
                region: HealthRegion::North,
                partner_id: 5,
                inpred_node: false,
            },
        );
        for dim in Dimension::ALL {
            let key = match dim {
                Dimension::Cohort => 3,
                Dimension::Drug => 4,
                Dimension::Supplier => 5,
                Dimension::Site => 6,
                Dimension::EnrolmentMonth => 2024 * 12 + 2,
                Dimension::EnrolmentYear => 2024,
                _ => 1,
            };
            let code = cat.code(dim, key);
            assert!(code.is_some(), "{dim:?} has no code for {key}");
            assert!(cat.label(dim, key).is_some(), "{dim:?} has no label for {key}");
            assert_eq!(code.and_then(|c| cat.key(dim, &c).ok()), Some(key), "{dim:?}");
        }
    }

    fn cohort_model(id: i32) -> cohort::Model {
        let date = chrono::NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default();
        cohort::Model {
            id,
            code: format!("C{id}"),
            name: "cohort".into(),
            oncotree_code: "CHOL".into(),
            gene: "BRAF".into(),
            alteration_class: AlterationClass::Mutation,
            drug_id: 4,
            design_r1: 0,
            design_n1: 8,
            design_r: 4,
            design_n: 24,
            status: consortium_entity::CohortStatus::Stage1,
            opened_on: date,
            closed_on: None,
        }
    }

    #[test]
    fn an_unknown_code_names_its_dimension() {
        let err = catalogue().key(Dimension::TumourType, "NOPE").err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("unknown tumour type code 'NOPE'"));
    }
}
