//! Row scope: the patients a partner may aggregate over, applied to a whole snapshot.
//!
//! A [`RowScope`] is the second half of authorization (the first, which fields a caller
//! may ask for, lives in the API). It is applied once, by [`Snapshot::restricted`], which
//! returns a snapshot holding only what the scope allows: every measure then runs on
//! that snapshot, so totals, survival curves, time series and reference lists cannot
//! see past it, whatever the question.
//!
//! * `cohorts`: when set, only patients enrolled in these cohorts remain (with their
//!   variants, assessments and adverse events), and the catalogue keeps only these
//!   cohorts and their drugs. A filter naming any other cohort then fails exactly as a
//!   cohort that does not exist would, so a company cannot even learn that a
//!   competitor's cohort exists.
//! * `sites`: when set, every patient remains (national aggregates), but only these
//!   sites can be drilled into: the `site` dimension of patients elsewhere is blanked
//!   (they group under "no site"), and a filter on another site is refused.

use std::collections::{BTreeSet, HashSet};

use polars::prelude::*;

use crate::error::AnalyticsError;
use crate::snapshot::Snapshot;

/// The rows a principal may aggregate over; `None` on a field means no restriction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RowScope {
    /// Cohorts whose patients may be aggregated over.
    pub cohorts: Option<BTreeSet<i32>>,
    /// Sites that may be drilled into.
    pub sites: Option<BTreeSet<i32>>,
}

impl RowScope {
    /// Everything: the registry's and academic partners' scope.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Whether nothing is restricted.
    pub fn is_everything(&self) -> bool {
        self.cohorts.is_none() && self.sites.is_none()
    }
}

impl Snapshot {
    /// This snapshot reduced to what `scope` allows (see the module documentation).
    pub fn restricted(&self, scope: &RowScope) -> Result<Snapshot, AnalyticsError> {
        let mut out = self.clone();
        if let Some(cohorts) = &scope.cohorts {
            let keep = membership(&out.patients, "cohort", |key| key.is_some_and(|k| cohorts.contains(&k)))?;
            out.patients = out.patients.filter(&keep)?;
            let patients = ids(&out.patients, "patient_id")?;
            let enrolments = ids(&out.patients, "enrolment_id")?;
            out.variants = keep_rows(&out.variants, "patient_id", &patients)?;
            out.assessments = keep_rows(&out.assessments, "enrolment_id", &enrolments)?;
            out.adverse_events = keep_rows(&out.adverse_events, "enrolment_id", &enrolments)?;
            out.catalogue.cohorts.retain(|id, _| cohorts.contains(id));
            let drugs: BTreeSet<i32> = out.catalogue.cohorts.values().map(|c| c.drug_id).collect();
            out.catalogue.drugs.retain(|id, _| drugs.contains(id));
        }
        if let Some(sites) = &scope.sites {
            let site = out.patients.column("site")?.i32()?;
            let blanked: Int32Chunked = keys(site).map(|key| key.filter(|k| sites.contains(k))).collect();
            out.patients.with_column(blanked.with_name("site".into()).into_series().into_column())?;
            out.catalogue.site_drill_down = Some(sites.clone());
        }
        Ok(out)
    }
}

impl Snapshot {
    /// Each patient with a site (as the `site` dimension has it), `(patient, site)`
    /// sorted by patient: in a hospital's view only its own sites are left.
    pub fn patient_sites(&self) -> Result<Vec<(u32, i32)>, AnalyticsError> {
        let ids = self.patients.column("patient_id")?.i32()?;
        let sites = self.patients.column("site")?.i32()?;
        let mut pairs: Vec<(u32, i32)> =
            keys(ids).zip(keys(sites)).filter_map(|(id, site)| Some((u32::try_from(id?).ok()?, site?))).collect();
        pairs.sort_unstable();
        Ok(pairs)
    }
}

/// A mask of the rows whose `column` key satisfies `keep`.
fn membership(frame: &DataFrame, column: &str, keep: impl Fn(Option<i32>) -> bool) -> PolarsResult<BooleanChunked> {
    Ok(keys(frame.column(column)?.i32()?).map(|key| Some(keep(key))).collect())
}

/// The distinct non-null keys of `column`.
fn ids(frame: &DataFrame, column: &str) -> PolarsResult<HashSet<i32>> {
    Ok(keys(frame.column(column)?.i32()?).flatten().collect())
}

/// The keys of an integer column, in row order.
fn keys(column: &Int32Chunked) -> impl Iterator<Item = Option<i32>> + '_ {
    column.downcast_iter().flat_map(|chunk| chunk.iter().map(|key| key.copied()))
}

/// The rows of `frame` whose `column` key is in `keys`.
fn keep_rows(frame: &DataFrame, column: &str, keys: &HashSet<i32>) -> PolarsResult<DataFrame> {
    let keep = membership(frame, column, |key| key.is_some_and(|k| keys.contains(&k)))?;
    frame.filter(&keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dimension::{Dimension, Filter, Population};
    use crate::fixture::dozen;
    use crate::{count_patients, funnel};

    fn supplier_two() -> RowScope {
        // Partner 2 supplies drug 2, given in cohorts 2 and 3.
        RowScope { cohorts: Some([2, 3].into()), sites: None }
    }

    #[test]
    fn a_cohort_scope_keeps_only_the_patients_of_those_cohorts() {
        let full = dozen();
        let scoped = full.restricted(&supplier_two()).expect("restricts");
        // Patients 6, 7, 8, 12 are in cohort 2 and 13 in cohort 3.
        assert_eq!(scoped.patients.height(), 5);
        let referred = funnel(&scoped, &Filter::default()).expect("funnel").steps[0].1.count();
        assert_eq!(referred, 5);
        let by_cohort =
            count_patients(&scoped, Population::Enrolled, &[Dimension::Cohort], &Filter::default()).expect("counts");
        let total: u64 = by_cohort.groups.iter().map(|g| g.patients.count()).sum();
        assert_eq!(total, 5);
        assert!(scoped.assessments.height() < full.assessments.height());
        assert!(scoped.assessments.height() > 0);
    }

    #[test]
    fn another_companys_cohort_is_as_unknown_as_a_cohort_that_does_not_exist() {
        let scoped = dozen().restricted(&supplier_two()).expect("restricts");
        let theirs = scoped.catalogue.key(Dimension::Cohort, "C1").expect_err("hidden");
        let nobodys = scoped.catalogue.key(Dimension::Cohort, "C99").expect_err("missing");
        assert_eq!(theirs.to_string().replace("C1", "X"), nobodys.to_string().replace("C99", "X"));
        assert_eq!(scoped.catalogue.drugs.keys().copied().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn a_site_scope_keeps_national_totals_but_blanks_other_sites() {
        let full = dozen();
        let scoped = full.restricted(&RowScope { cohorts: None, sites: Some([7].into()) }).expect("restricts");
        assert_eq!(scoped.patients.height(), full.patients.height());
        let by_site =
            count_patients(&scoped, Population::Referred, &[Dimension::Site], &Filter::default()).expect("counts");
        assert!(by_site.groups.iter().all(|g| g.keys[0].is_none()), "no other site can be drilled into");
        let refused = scoped.catalogue.key(Dimension::Site, "S1").expect_err("out of scope");
        assert!(matches!(refused, AnalyticsError::OutOfScope { .. }));
        assert!(full.catalogue.key(Dimension::Site, "S1").is_ok());
    }

    #[test]
    fn everything_changes_nothing() {
        let full = dozen();
        let same = full.restricted(&RowScope::everything()).expect("restricts");
        assert!(same.patients.equals_missing(&full.patients));
    }
}
