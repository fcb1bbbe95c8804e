//! The screening funnel: referred → profiled → actionable → MTB-matched → enrolled →
//! treated → evaluable, counted in one pass over the patient frame.

use polars::prelude::*;

use crate::cells::{patients, patients_where, sets, PatientSet};
use crate::dimension::{Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::Snapshot;

/// Patients at each funnel step, in [`Population::FUNNEL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    /// `(step, patients)` pairs, each step a subset of the one before.
    pub steps: Vec<(Population, PatientSet)>,
}

impl Funnel {
    /// Patients at one step.
    pub fn count(&self, step: Population) -> u64 {
        self.steps.iter().find(|(s, _)| *s == step).map_or(0, |(_, n)| n.len() as u64)
    }
}

/// Counts the funnel over the patients that pass `filter`.
pub fn funnel(snapshot: &Snapshot, filter: &Filter) -> Result<Funnel, AnalyticsError> {
    let sums: Vec<Expr> = Population::FUNNEL
        .iter()
        .enumerate()
        .map(|(i, step)| match step.column() {
            None => patients(&format!("s{i}")).implode(true),
            Some(flag) => patients_where(col(flag), &format!("s{i}")).implode(true),
        })
        .collect();
    let out =
        snapshot.patients.clone().lazy().filter(predicate(Population::Referred, filter)).select(sums).collect()?;
    let steps = Population::FUNNEL
        .iter()
        .enumerate()
        .map(|(i, step)| Ok((*step, sets(&out, &format!("s{i}"))?.pop().unwrap_or_default())))
        .collect::<Result<_, AnalyticsError>>()?;
    Ok(Funnel { steps })
}
