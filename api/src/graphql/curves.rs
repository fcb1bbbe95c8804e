//! The GraphQL shape of a survival curve, and the curve as a Kaplan–Meier step table
//! (exact counts, and the noisy tier); under the cell-key method the curve is a life
//! table instead ([`super::life_table`]).

use async_graphql::SimpleObject;
use consortium_analytics::survival::{SurvivalCurve as Curve, SurvivalGrouping, TreatmentGroup as Group};
use consortium_analytics::Catalogue;

use super::enums::TreatmentGroup;
use super::types::GroupKey;
use crate::pipeline::release::{Count, Measure, Release};

/// One step of a Kaplan–Meier table; published only while at least k patients are at
/// risk (and with times coarsened to the policy's bins). Under the cell-key method a
/// step is a row of a life table on a fixed grid of months instead: at risk at its
/// start, events and censored in it, survival at its end (`months`), all from
/// perturbed counts (intervals merged until each count is published).
#[derive(SimpleObject, Debug, Clone)]
pub struct SurvivalStep {
    /// Months since the origin.
    pub months: Measure,
    /// Patients at risk just before this time.
    pub at_risk: Count,
    /// Events at this time.
    pub events: Count,
    /// Censored at this time.
    pub censored: Count,
    /// Survival from this time until the next step.
    pub survival: Measure,
    /// Lower bound of the 95% band (Greenwood, log(−log)).
    pub lower95: Measure,
    /// Upper bound of the 95% band.
    pub upper95: Measure,
}

/// Median survival with its 95% interval: null where not reached, withheld where the
/// curve is withheld.
#[derive(SimpleObject, Debug, Clone)]
pub struct MedianSurvival {
    /// Median, months.
    pub months: Option<Measure>,
    /// Lower bound of its 95% interval.
    pub lower95: Option<Measure>,
    /// Upper bound of its 95% interval.
    pub upper95: Option<Measure>,
}

/// Survival at a landmark time (null where follow-up does not reach it).
#[derive(SimpleObject, Debug, Clone)]
pub struct Landmark {
    /// The landmark, months.
    pub months: f64,
    /// Survival.
    pub survival: Option<Measure>,
    /// Lower bound of the 95% band.
    pub lower95: Option<Measure>,
    /// Upper bound of the 95% band.
    pub upper95: Option<Measure>,
}

/// Patients at risk at a time.
#[derive(SimpleObject, Debug, Clone)]
pub struct AtRisk {
    /// Months.
    pub months: u32,
    /// Patients at risk.
    pub patients: Count,
}

/// One Kaplan–Meier curve (under the cell-key method, a life table of perturbed counts:
/// see `steps`).
#[derive(SimpleObject, Debug, Clone)]
pub struct SurvivalCurve {
    /// The group when grouped by a dimension.
    pub group: Option<GroupKey>,
    /// The group when compared by treatment group.
    pub treatment_group: Option<TreatmentGroup>,
    /// Patients in the curve.
    pub patients: Count,
    /// Events.
    pub events: Count,
    /// The step table.
    pub steps: Vec<SurvivalStep>,
    /// Median with interval.
    pub median: MedianSurvival,
    /// Survival at 6 and 12 months.
    pub landmarks: Vec<Landmark>,
    /// Numbers at risk at 0, 3, 6, 9, 12, 18, 24 months.
    pub at_risk: Vec<AtRisk>,
}

impl SurvivalCurve {
    /// What `curve` is the curve of, under `grouping`: a group of a dimension, or a
    /// treatment group.
    pub(super) fn keys(
        curve: &Curve,
        grouping: Option<SurvivalGrouping>,
        catalogue: &Catalogue,
    ) -> (Option<GroupKey>, Option<TreatmentGroup>) {
        match grouping {
            Some(SurvivalGrouping::Dimension(d)) => (Some(GroupKey::new(d, curve.key, catalogue)), None),
            Some(SurvivalGrouping::TreatmentGroup) => (None, curve.key.and_then(Group::of_key).map(Into::into)),
            None => (None, None),
        }
    }

    /// `curve` as its Kaplan–Meier step table, each step published while at least k
    /// patients are at risk (exact counts; on the noisy tier, without steps).
    pub(super) fn kaplan_meier(
        curve: &Curve,
        group: Option<GroupKey>,
        treatment_group: Option<TreatmentGroup>,
        release: &Release,
    ) -> Self {
        let patients = release.count(&curve.patients);
        // Patients at risk at `months`: those whose time is at or after it.
        let at_risk_at = |months: f64| curve.table.iter().find(|r| r.time >= months).map_or(0, |r| r.at_risk);
        let gate_at = |months: f64| release.at_risk_gate(&patients, at_risk_at(months));
        let value_at = |months: Option<f64>| months.map(|m| release.gated(m, gate_at(m)));
        Self {
            group,
            treatment_group,
            events: release.count(&curve.events),
            // On the noisy tier even the number of steps (distinct event times) is exact.
            steps: curve
                .table
                .iter()
                .filter(|_| !release.is_noisy())
                .map(|r| {
                    let gate = release.at_risk_gate(&patients, r.at_risk);
                    SurvivalStep {
                        months: release.gated(r.time, gate),
                        at_risk: release.gated_count(r.at_risk, gate),
                        events: release.gated_count(r.events, gate),
                        censored: release.gated_count(r.censored, gate),
                        survival: release.gated(r.survival, gate),
                        lower95: release.gated(r.lower, gate),
                        upper95: release.gated(r.upper, gate),
                    }
                })
                .collect(),
            median: MedianSurvival {
                months: value_at(curve.median.median),
                lower95: value_at(curve.median.lower),
                upper95: value_at(curve.median.upper),
            },
            landmarks: curve
                .landmarks
                .iter()
                .map(|l| {
                    let gate = gate_at(l.months);
                    Landmark {
                        months: l.months,
                        survival: l.survival.map(|s| release.gated(s.survival, gate)),
                        lower95: l.survival.map(|s| release.gated(s.lower, gate)),
                        upper95: l.survival.map(|s| release.gated(s.upper, gate)),
                    }
                })
                .collect(),
            at_risk: curve
                .at_risk
                .iter()
                .map(|a| AtRisk {
                    months: a.months,
                    patients: release.gated_count(a.patients, release.at_risk_gate(&patients, a.patients)),
                })
                .collect(),
            patients,
        }
    }
}
