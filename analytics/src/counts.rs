//! Patient counts grouped by any combination of dimensions, over any funnel
//! population, with filters.

use polars::prelude::*;

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
    pub patients: u64,
}

/// A grouped count: the groups, sorted by key, and the total they add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountTable {
    /// Grouping dimensions.
    pub dimensions: Vec<Dimension>,
    /// Non-empty groups, sorted by their keys (`None` first).
    pub groups: Vec<CountGroup>,
    /// Patients over all groups.
    pub total: u64,
}

/// Counts the patients of `population` passing `filter`, grouped by `group_by`
/// (no dimensions: one group, the total).
pub fn count_patients(
    snapshot: &Snapshot,
    population: Population,
    group_by: &[Dimension],
    filter: &Filter,
) -> Result<CountTable, AnalyticsError> {
    let mut dimensions: Vec<Dimension> = Vec::with_capacity(group_by.len());
    for d in group_by {
        if dimensions.contains(d) {
            return Err(AnalyticsError::InvalidArgument(format!("dimension {} is grouped by twice", d.noun())));
        }
        dimensions.push(*d);
    }
    let selected = snapshot.patients.clone().lazy().filter(predicate(population, filter));
    let mut groups = if dimensions.is_empty() {
        let out = selected.select([len().cast(DataType::UInt64).alias("patients")]).collect()?;
        let total = out.column("patients")?.u64()?.get(0).unwrap_or(0);
        vec![CountGroup { keys: Vec::new(), patients: total }]
    } else {
        let keys: Vec<Expr> = dimensions.iter().map(|d| col(d.column())).collect();
        let out = selected.group_by(keys).agg([len().cast(DataType::UInt64).alias("patients")]).collect()?;
        let key_columns = dimensions
            .iter()
            .map(|d| out.column(d.column()).and_then(|c| c.i32().cloned()))
            .collect::<PolarsResult<Vec<_>>>()?;
        let counts = out.column("patients")?.u64()?;
        (0..out.height())
            .map(|row| CountGroup {
                keys: key_columns.iter().map(|c| c.get(row)).collect(),
                patients: counts.get(row).unwrap_or(0),
            })
            .collect()
    };
    groups.retain(|g| g.patients > 0);
    groups.sort_by(|a, b| a.keys.cmp(&b.keys));
    let total = groups.iter().map(|g| g.patients).sum();
    Ok(CountTable { dimensions, groups, total })
}
