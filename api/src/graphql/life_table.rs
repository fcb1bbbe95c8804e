//! A survival curve under the cell-key method: a life table on a fixed grid of months,
//! built from perturbed counts only.
//!
//! A Kaplan–Meier step table cannot be published perturbed: its rows are the distinct
//! event times, so their number and times rest on exact counts, and a step's counts
//! differ from the next by one patient's event. Instead, as registries and the
//! statistical agencies' output rules publish survival, the curve is a life table on the
//! months of [`LIFE_TABLE_MONTHS`]: for a row from one time of the grid to a later one,
//! the patients at risk at its start and at its end and the events in it, each keyed by
//! the patients it counts (so the same patients always get the same perturbed value).
//! Consecutive intervals are merged until every count of a row is published (OpenSAFELY's
//! rule for survival output: no row rests on fewer than k events); the table stops where
//! no merge publishes. Survival, its band, the median, landmarks and the numbers at risk
//! are computed from the published counts alone ([`life_table`]).

use consortium_analytics::stats::{life_table, LifeTableInterval};
use consortium_analytics::survival::{SurvivalAt, SurvivalCurve as Curve, AT_RISK_MONTHS, LIFE_TABLE_MONTHS};

use super::curves::{AtRisk, Landmark, MedianSurvival, SurvivalCurve, SurvivalStep};
use super::enums::TreatmentGroup;
use super::types::GroupKey;
use crate::pipeline::release::{Count, Measure, Release};

/// One published row of the life table: its counts as released, and their values.
struct Row {
    at_risk: Count,
    events: Count,
    remaining: Count,
    interval: LifeTableInterval,
}

impl Row {
    /// The row from grid time `from` to grid time `to`, when all its counts are published.
    fn published(from: usize, to: usize, at_risk: &Count, events: &Count, remaining: &Count) -> Option<Row> {
        let interval = LifeTableInterval {
            from: LIFE_TABLE_MONTHS[from],
            to: LIFE_TABLE_MONTHS[to],
            at_risk: *at_risk.published()?,
            events: *events.published()?,
            remaining: *remaining.published()?,
        };
        Some(Row { at_risk: at_risk.clone(), events: events.clone(), remaining: remaining.clone(), interval })
    }

    fn basis(&self) -> [&Count; 3] {
        [&self.at_risk, &self.events, &self.remaining]
    }
}

/// `curve` as a life table of perturbed counts (see the module documentation).
pub(super) fn perturbed(
    curve: &Curve,
    group: Option<GroupKey>,
    treatment_group: Option<TreatmentGroup>,
    release: &Release,
) -> SurvivalCurve {
    let at_risk: Vec<Count> = curve.at_risk_on_grid.iter().map(|set| release.count(set)).collect();
    let rows = rows(curve, &at_risk, release);
    let intervals: Vec<LifeTableInterval> = rows.iter().map(|row| row.interval).collect();
    let survival = life_table(&intervals);
    // What rests on the rows up to and including row `i`.
    let basis_to = |i: usize| -> Vec<&Count> { rows[..=i].iter().flat_map(Row::basis).collect() };
    let steps: Vec<SurvivalStep> = rows
        .iter()
        .zip(&survival)
        .enumerate()
        .map(|(i, (row, at))| {
            let basis = basis_to(i);
            SurvivalStep {
                months: release.from_published(row.interval.to, &row.basis()),
                at_risk: row.at_risk.clone(),
                events: row.events.clone(),
                censored: release.from_published(row.interval.withdrawn(), &row.basis()),
                survival: release.from_published(at.survival, &basis),
                lower95: release.from_published(at.lower, &basis),
                upper95: release.from_published(at.upper, &basis),
            }
        })
        .collect();
    // The table reaches the grid's end, or stops where no merge publishes.
    let complete = intervals.last().is_some_and(|i| Some(&i.to) == LIFE_TABLE_MONTHS.last());
    let first_at_or_below = |read: fn(&SurvivalAt) -> f64| -> Option<Measure> {
        match survival.iter().position(|at| read(at) <= 0.5) {
            Some(i) => Some(release.from_published(survival[i].time, &basis_to(i))),
            None if complete => None,
            None => Some(release.from_published(0.0, &[])),
        }
    };
    let landmark = |months: f64| {
        let at = survival.iter().position(|at| at.time == months);
        let read = |value: fn(&SurvivalAt) -> f64| match at {
            Some(i) => release.from_published(value(&survival[i]), &basis_to(i)),
            None => release.from_published(0.0, &[]),
        };
        Landmark {
            months,
            survival: Some(read(|a| a.survival)),
            lower95: Some(read(|a| a.lower)),
            upper95: Some(read(|a| a.upper)),
        }
    };
    let grid_count = |months: f64| {
        let index = LIFE_TABLE_MONTHS.iter().position(|m| *m == months);
        index.and_then(|i| at_risk.get(i)).cloned().unwrap_or_else(|| release.from_published(0, &[]))
    };
    SurvivalCurve {
        group,
        treatment_group,
        patients: release.count(&curve.patients),
        events: release.count(&curve.events),
        steps,
        median: MedianSurvival {
            months: first_at_or_below(|a| a.survival),
            lower95: first_at_or_below(|a| a.lower),
            upper95: first_at_or_below(|a| a.upper),
        },
        landmarks: curve.landmarks.iter().map(|l| landmark(l.months)).collect(),
        at_risk: AT_RISK_MONTHS
            .iter()
            .map(|&months| AtRisk { months: months as u32, patients: grid_count(months) })
            .collect(),
    }
}

/// The published rows: from the grid's start, each the shortest run of intervals whose
/// counts (at risk at its start and end, events in it) are all published. Every
/// candidate's events are registered, so that all are decided together.
fn rows(curve: &Curve, at_risk: &[Count], release: &Release) -> Vec<Row> {
    let last = LIFE_TABLE_MONTHS.len() - 1;
    // events[i][j − i − 1]: the events from grid time i to grid time j.
    let events: Vec<Vec<Count>> =
        curve.events_between.iter().map(|runs| runs.iter().map(|set| release.count(set)).collect()).collect();
    let mut rows = Vec::new();
    let mut from = 0;
    while from < last {
        let row = (from + 1..=last).find_map(|to| {
            Some((to, Row::published(from, to, &at_risk[from], &events[from][to - from - 1], &at_risk[to])?))
        });
        let Some((to, row)) = row else { break };
        rows.push(row);
        from = to;
    }
    rows
}
