//! Patient counts grouped by any combination of dimensions, over any funnel
//! population, with filters.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::cells::PatientSet;
use crate::dimension::{Dimension, Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
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
    // Polars selects the rows (one per patient) and their keys; the groups are gathered
    // here in one pass, in key order, rather than as polars list aggregates (which cost
    // a parallel group-by and a list per group for every question).
    let mut columns = vec![col("patient_id")];
    columns.extend(dimensions.iter().map(|d| col(d.column())));
    let selected = snapshot.patients.clone().lazy().filter(predicate(population, filter)).select(columns).collect()?;
    let ids = values(selected.column("patient_id")?.i32()?);
    let keys = dimensions
        .iter()
        .map(|d| Ok(values(selected.column(d.column())?.i32()?)))
        .collect::<PolarsResult<Vec<Vec<Option<i32>>>>>()?;
    let mut grouped: BTreeMap<GroupKeys, Vec<u32>> = BTreeMap::new();
    for (row, id) in ids.iter().enumerate() {
        let Some(id) = id.and_then(|id| u32::try_from(id).ok()) else { continue };
        grouped.entry(keys.iter().map(|column| column[row]).collect()).or_default().push(id);
    }
    let groups: Vec<CountGroup> =
        grouped.into_iter().map(|(keys, ids)| CountGroup { keys, patients: PatientSet::new(ids) }).collect();
    let total = PatientSet::new(groups.iter().flat_map(|g| g.patients.ids().iter().copied()).collect());
    Ok(CountTable { dimensions, groups, total })
}

/// A column's values in row order.
fn values(column: &Int32Chunked) -> Vec<Option<i32>> {
    column.downcast_iter().flat_map(|chunk| chunk.iter().map(|v| v.copied())).collect()
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
