//! GraphQL input types, translated into analytics questions with their codes checked
//! against the snapshot's catalogue (an unknown code is the caller's error).

use async_graphql::InputObject;
use consortium_analytics::{Catalogue, DateRange, Dimension, Filter};

use super::date::Date;
use super::enums::{CohortStage, HealthRegion, Sex};
use crate::error::ApiError;

/// An inclusive date range; either end may be left open.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct DateRangeInput {
    /// First day included.
    pub from: Option<Date>,
    /// Last day included.
    pub to: Option<Date>,
}

/// Which patients to count: within a field every listed value is accepted (OR);
/// across fields all must hold (AND). Codes are those of the reference lists.
#[derive(InputObject, Debug, Clone, Default)]
pub struct PatientFilter {
    /// Cohort codes.
    pub cohorts: Option<Vec<String>>,
    /// Drug codes.
    pub drugs: Option<Vec<String>>,
    /// Supplier (industry partner) codes.
    pub suppliers: Option<Vec<String>>,
    /// OncoTree codes.
    pub tumour_types: Option<Vec<String>>,
    /// Gene symbols.
    pub genes: Option<Vec<String>>,
    /// Site codes.
    pub sites: Option<Vec<String>>,
    /// Health regions.
    pub regions: Option<Vec<HealthRegion>>,
    /// Enrolment months, `YYYY-MM`.
    pub enrolment_months: Option<Vec<String>>,
    /// Cohort stages at enrolment.
    pub cohort_stages: Option<Vec<CohortStage>>,
    /// Sexes.
    pub sexes: Option<Vec<Sex>>,
    /// Age bands: `18-39`, `40-49`, `50-59`, `60-69`, `70-79`, `80+`.
    pub age_bands: Option<Vec<String>>,
    /// Referral date range.
    pub referred_between: Option<DateRangeInput>,
    /// Enrolment date range (keeps enrolled patients only).
    pub enrolled_between: Option<DateRangeInput>,
}

fn codes<T: Copy>(values: &Option<Vec<T>>, code: impl Fn(T) -> String) -> Option<Vec<String>> {
    values.as_ref().map(|v| v.iter().map(|x| code(*x)).collect())
}

impl PatientFilter {
    /// The analytics filter, with every code resolved against `catalogue`.
    pub fn resolve(&self, catalogue: &Catalogue) -> Result<Filter, ApiError> {
        let by_dimension: [(Dimension, Option<Vec<String>>); 11] = [
            (Dimension::Cohort, self.cohorts.clone()),
            (Dimension::Drug, self.drugs.clone()),
            (Dimension::Supplier, self.suppliers.clone()),
            (Dimension::TumourType, self.tumour_types.clone()),
            (Dimension::Gene, self.genes.clone()),
            (Dimension::Site, self.sites.clone()),
            (Dimension::Region, codes(&self.regions, |r| consortium_entity::HealthRegion::from(r).code())),
            (Dimension::EnrolmentMonth, self.enrolment_months.clone()),
            (Dimension::CohortStage, codes(&self.cohort_stages, |s| consortium_entity::CohortStage::from(s).code())),
            (Dimension::Sex, codes(&self.sexes, |s| consortium_entity::Sex::from(s).code())),
            (Dimension::AgeBand, self.age_bands.clone()),
        ];
        let mut filter = Filter::default();
        for (dimension, values) in by_dimension {
            let Some(values) = values else { continue };
            let mut keys = values.iter().map(|code| catalogue.key(dimension, code)).collect::<Result<Vec<_>, _>>()?;
            keys.sort_unstable();
            keys.dedup();
            filter.keys.push((dimension, keys));
        }
        let range =
            |r: &Option<DateRangeInput>| r.map(|r| DateRange::new(r.from.map(|d| d.0), r.to.map(|d| d.0))).transpose();
        filter.referred = range(&self.referred_between)?;
        filter.enrolled = range(&self.enrolled_between)?;
        Ok(filter)
    }
}
