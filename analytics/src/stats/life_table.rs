//! The actuarial (life-table) estimate of survival over fixed intervals: the form in
//! which a curve can be published from counts alone — patients at risk at the start of
//! each interval, events in it, and patients still at risk at its end — as registries
//! and the statistical agencies' output rules publish survival.
//!
//! * Patients leaving the interval without the event (withdrawn: at risk at its start,
//!   no event in it, not at risk at its end) are at risk for half of it: the effective
//!   number at risk is `n − w/2`.
//! * S at the end of an interval is S at its start times `1 − d / (n − w/2)`; Greenwood's
//!   variance of ln S sums `d / (n' (n' − d))`, and the 95% band is on the log(−log)
//!   scale, as for [`super::kaplan_meier`].
//! * The counts may come from a release step that perturbs them, so they need not add
//!   up: events beyond the number at risk count as everyone at risk, a negative
//!   withdrawal as none.

use super::kaplan_meier::ProductLimit;
use super::SurvivalAt;

/// The counts of one interval of a life table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifeTableInterval {
    /// Start of the interval (e.g. months since treatment start).
    pub from: f64,
    /// Its end.
    pub to: f64,
    /// Patients at risk at `from`.
    pub at_risk: u64,
    /// Events in `[from, to)`.
    pub events: u64,
    /// Patients still at risk at `to`.
    pub remaining: u64,
}

impl LifeTableInterval {
    /// Patients who left the interval without the event (censored in it).
    pub fn withdrawn(&self) -> u64 {
        let events = self.events.min(self.at_risk);
        self.at_risk.saturating_sub(events).saturating_sub(self.remaining)
    }
}

/// Survival at the end of each of `intervals` (consecutive, from the first one's start,
/// where S = 1), with its 95% band.
pub fn life_table(intervals: &[LifeTableInterval]) -> Vec<SurvivalAt> {
    let mut estimate = ProductLimit::default();
    intervals
        .iter()
        .map(|interval| {
            let n = interval.at_risk as f64 - interval.withdrawn() as f64 / 2.0;
            let d = (interval.events as f64).min(n.max(0.0));
            let (survival, lower, upper) = estimate.step(n, d);
            SurvivalAt { time: interval.to, survival, lower, upper }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::kaplan_meier;
    use crate::stats::kaplan_meier::band;

    fn interval(from: f64, to: f64, at_risk: u64, events: u64, remaining: u64) -> LifeTableInterval {
        LifeTableInterval { from, to, at_risk, events, remaining }
    }

    #[test]
    fn without_withdrawals_it_is_the_kaplan_meier_curve_at_the_interval_ends() {
        // Ten patients: events at 1, 2, 2, 4 and 7 months, the others censored at 9.
        let times = [1.0, 2.0, 2.0, 4.0, 7.0, 9.0, 9.0, 9.0, 9.0, 9.0];
        let events = [true, true, true, true, true, false, false, false, false, false];
        let km = kaplan_meier(&times, &events).expect("curve");
        let table =
            life_table(&[interval(0.0, 3.0, 10, 3, 7), interval(3.0, 6.0, 7, 1, 6), interval(6.0, 9.0, 6, 1, 5)]);
        for at in &table {
            let expected = km.survival_at(at.time - 1e-9).expect("read");
            assert!((at.survival - expected.survival).abs() < 1e-12, "{at:?} vs {expected:?}");
        }
        assert!((table[2].survival - 0.5).abs() < 1e-12);
    }

    #[test]
    fn the_withdrawn_are_at_risk_for_half_the_interval() {
        // 20 at risk, 4 events, 6 withdrawn: n' = 17, S = 13/17.
        let table = life_table(&[interval(0.0, 6.0, 20, 4, 10)]);
        assert!((table[0].survival - 13.0 / 17.0).abs() < 1e-12, "{table:?}");
        let variance = 4.0 / (17.0 * 13.0);
        let (lower, upper) = band(13.0 / 17.0, variance);
        assert_eq!((table[0].lower, table[0].upper), (lower, upper));
        assert!(table[0].lower < table[0].survival && table[0].survival < table[0].upper);
    }

    #[test]
    fn counts_that_do_not_add_up_are_read_as_the_nearest_that_do() {
        let table = life_table(&[interval(0.0, 3.0, 5, 9, 0), interval(3.0, 6.0, 5, 1, 7)]);
        assert_eq!(table[0].survival, 0.0, "more events than at risk: everyone");
        assert_eq!(interval(3.0, 6.0, 5, 1, 7).withdrawn(), 0);
        assert_eq!(table[1].survival, 0.0);
        assert_eq!(life_table(&[interval(0.0, 3.0, 0, 0, 0)])[0].survival, 1.0, "nobody: nothing happens");
    }
}
