//! Patient counts grouped by any combination of dimensions, over any funnel
//! population, with filters.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::cells::PatientSet;
use crate::dimension::{Dimension, Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::kept_rows;
use crate::snapshot::Snapshot;

/// One group of a grouped count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountGroup {
    /// The group's key per grouping dimension (same order); `None` where the
    /// dimension does not apply (e.g. the cohort of a patient who is not enrolled).
    pub keys: Vec<Option<i32>>,
    /// Patients in the group.
    pub patients: PatientSet,
}

/// A grouped count: the groups, sorted by key, and the total they add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountTable {
    /// Grouping dimensions.
    pub dimensions: Vec<Dimension>,
    /// Non-empty groups, sorted by their keys (`None` first).
    pub groups: Vec<CountGroup>,
    /// Patients over all groups.
    pub total: PatientSet,
}

/// Counts the patients of `population` passing `filter`, grouped by `group_by`
/// (no dimensions: one group, the total).
pub fn count_patients(
    snapshot: &Snapshot,
    population: Population,
    group_by: &[Dimension],
    filter: &Filter,
) -> Result<CountTable, AnalyticsError> {
    let dimensions = distinct_dimensions(group_by)?;
    // The rows and their keys are read straight from the columns and the groups gathered
    // in one pass, in key order: no query plan, no parallel group-by and no list per
    // group for every question.
    let patients = &snapshot.patients;
    let kept = kept_rows(patients, population, filter)?;
    let key_columns =
        dimensions.iter().map(|d| patients.column(d.column())?.i32()).collect::<PolarsResult<Vec<_>>>()?;
    let mut key_values: Vec<_> = key_columns.iter().map(|column| column.iter()).collect();
    let mut keys: GroupKeys = vec![None; dimensions.len()];
    let mut grouped: BTreeMap<GroupKeys, Vec<u32>> = BTreeMap::new();
    for (id, kept) in patients.column("patient_id")?.i32()?.iter().zip(kept) {
        for (key, values) in keys.iter_mut().zip(key_values.iter_mut()) {
            *key = values.next().flatten();
        }
        let Some(id) = id.filter(|_| kept).and_then(|id| u32::try_from(id).ok()) else { continue };
        match grouped.get_mut(keys.as_slice()) {
            Some(ids) => ids.push(id),
            None => {
                grouped.insert(keys.clone(), vec![id]);
            }
        }
    }
    let groups: Vec<CountGroup> =
        grouped.into_iter().map(|(keys, ids)| CountGroup { keys, patients: PatientSet::new(ids) }).collect();
    let total = PatientSet::new(groups.iter().flat_map(|g| g.patients.ids().iter().copied()).collect());
    Ok(CountTable { dimensions, groups, total })
}

/// The grouping dimensions in the order given, refusing a dimension named twice (its
/// groups would be the same keys repeated, which no caller means).
pub(crate) fn distinct_dimensions(group_by: &[Dimension]) -> Result<Vec<Dimension>, AnalyticsError> {
    let mut dimensions: Vec<Dimension> = Vec::with_capacity(group_by.len());
    for d in group_by {
        if dimensions.contains(d) {
            return Err(AnalyticsError::InvalidArgument(format!("dimension {} is grouped by twice", d.noun())));
        }
        dimensions.push(*d);
    }
    Ok(dimensions)
}

/// The keys of one group, one per grouping dimension (`None` where it does not apply).
pub(crate) type GroupKeys = Vec<Option<i32>>;

/// Evaluates `aggregates` over `frame` (the patient frame or a selection of it) once per
/// combination of the dimensions' keys, and returns the aggregated frame with each
/// row's keys in `dimensions` order (`None` where a dimension does not apply).
///
/// With no dimensions the aggregates are evaluated once over the whole frame: one row,
/// or none when the frame is empty.
/// Rows come in no particular order.
pub(crate) fn aggregate_by(
    frame: LazyFrame,
    dimensions: &[Dimension],
    aggregates: Vec<Expr>,
) -> Result<(DataFrame, Vec<GroupKeys>), AnalyticsError> {
    if dimensions.is_empty() {
        // One group of everything (none when the frame is empty).
        let out = frame.with_column(lit(true).alias("__all")).group_by([col("__all")]).agg(aggregates).collect()?;
        let keys = vec![Vec::new(); out.height()];
        return Ok((out, keys));
    }
    let by: Vec<Expr> = dimensions.iter().map(|d| col(d.column())).collect();
    let out = frame.group_by(by).agg(aggregates).collect()?;
    let key_columns = dimensions
        .iter()
        .map(|d| out.column(d.column()).and_then(|c| c.i32().cloned()))
        .collect::<PolarsResult<Vec<_>>>()?;
    let keys = (0..out.height()).map(|row| key_columns.iter().map(|c| c.get(row)).collect()).collect();
    Ok((out, keys))
}
