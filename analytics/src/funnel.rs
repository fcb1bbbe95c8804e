//! The screening funnel: referred → profiled → actionable → MTB-matched → enrolled →
//! treated → evaluable, counted in one pass over the patient frame.

use polars::prelude::*;

use crate::dimension::{Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::Snapshot;

/// Patients at each funnel step, in [`Population::FUNNEL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    /// `(step, patients)` pairs, each step a subset of the one before.
    pub steps: Vec<(Population, u64)>,
}

impl Funnel {
    /// Patients at one step.
    pub fn count(&self, step: Population) -> u64 {
        self.steps.iter().find(|(s, _)| *s == step).map_or(0, |(_, n)| *n)
    }
}

/// Counts the funnel over the patients that pass `filter`.
pub fn funnel(snapshot: &Snapshot, filter: &Filter) -> Result<Funnel, AnalyticsError> {
    let sums: Vec<Expr> = Population::FUNNEL
        .iter()
        .enumerate()
        .map(|(i, step)| match step.column() {
            None => len().cast(DataType::UInt64).alias(format!("s{i}")),
            Some(flag) => col(flag).sum().cast(DataType::UInt64).alias(format!("s{i}")),
        })
        .collect();
    let out =
        snapshot.patients.clone().lazy().filter(predicate(Population::Referred, filter)).select(sums).collect()?;
    let steps = Population::FUNNEL
        .iter()
        .zip(out.columns())
        .map(|(step, column)| Ok((*step, column.u64()?.get(0).unwrap_or(0))))
        .collect::<Result<_, AnalyticsError>>()?;
    Ok(Funnel { steps })
}
