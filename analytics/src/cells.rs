//! The patients behind every number a measure produces.
//!
//! A count is a [`PatientSet`] (its size is the count), and a rate is a [`Rate`]: the
//! proportion with its exact interval, plus the patients of its numerator and
//! denominator. The release step needs the sets, not only their sizes: it reasons about
//! which patients two cells share (totals and subtotals, the same patients grouped two
//! ways), how many of them a hospital knows, and which site treated them.
//!
//! Sets are built by polars as list aggregates of `patient_id` ([`patients`],
//! [`patients_where`]) and read back with [`sets`].

use std::ops::Deref;

pub use consortium_patients::PatientSet;
use polars::prelude::*;

use crate::error::AnalyticsError;
use crate::stats::{clopper_pearson, Proportion};

/// A proportion and the patients behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// The proportion with its exact 95% interval.
    pub proportion: Proportion,
    /// The patients with the outcome.
    pub numerator: PatientSet,
    /// The patients counted.
    pub denominator: PatientSet,
}

impl Deref for Rate {
    type Target = Proportion;

    fn deref(&self) -> &Proportion {
        &self.proportion
    }
}

impl Rate {
    /// `numerator` among `denominator` with its exact 95% interval; `None` when the
    /// denominator is empty (no rate to report).
    pub fn of(numerator: PatientSet, denominator: PatientSet) -> Result<Option<Rate>, AnalyticsError> {
        if denominator.is_empty() {
            return Ok(None);
        }
        let proportion = exact_proportion(numerator.len() as u64, denominator.len() as u64)?;
        Ok(Some(Rate { proportion, numerator, denominator }))
    }

    /// As [`Rate::of`], for a denominator known not to be empty.
    pub fn nonempty(numerator: PatientSet, denominator: PatientSet) -> Result<Rate, AnalyticsError> {
        Rate::of(numerator, denominator)?
            .ok_or_else(|| PolarsError::ComputeError("a rate over no patient where one was expected".into()).into())
    }
}

/// The aggregate listing a group's patients, named `name`.
pub(crate) fn patients(name: &str) -> Expr {
    col("patient_id").alias(name)
}

/// The aggregate listing a group's patients meeting `condition`, named `name`.
pub(crate) fn patients_where(condition: Expr, name: &str) -> Expr {
    col("patient_id").filter(condition.fill_null(lit(false))).alias(name)
}

/// The sets of a list column of patient ids, one per row.
pub(crate) fn sets(frame: &DataFrame, name: &str) -> Result<Vec<PatientSet>, AnalyticsError> {
    let lists = frame.column(name)?.list()?;
    let mut out = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let ids = match lists.get_as_series(row) {
            Some(series) => ids(series.i32()?),
            None => PatientSet::empty(),
        };
        out.push(ids);
    }
    Ok(out)
}

fn ids(column: &Int32Chunked) -> PatientSet {
    column
        .downcast_iter()
        .flat_map(|chunk| chunk.iter().flatten().filter_map(|id| u32::try_from(*id).ok()).collect::<Vec<_>>())
        .collect()
}

/// `events` of `n` patients with its exact (Clopper–Pearson) 95% interval.
///
/// Callers count `events` among the `n` patients of a non-empty group, so the interval
/// always exists; an error here means a counting bug and is reported as a computation
/// failure rather than as the caller's mistake.
fn exact_proportion(events: u64, n: u64) -> Result<Proportion, AnalyticsError> {
    clopper_pearson(events, n, 0.95)
        .map_err(|e| PolarsError::ComputeError(format!("proportion {events} of {n}: {e}").into()).into())
}
