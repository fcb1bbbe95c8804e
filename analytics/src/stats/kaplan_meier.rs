//! The Kaplan–Meier estimate of a survival curve (PFS, OS), with the conventions of
//! lifelines' defaults so that results can be checked against it:
//!
//! * one row per distinct time, whether an event or only censorings happen there;
//! * `at_risk` counts the subjects whose time is at or after the row's time, so a subject
//!   censored at an event time is still at risk for that event;
//! * Greenwood's variance of log S(t), `Σ d / (n (n − d))` over event times, and the 95%
//!   band on the log(−log) scale, `S(t)^exp(∓ z·σ / ln S(t))`, which stays inside [0, 1];
//! * where the band is undefined, lifelines' choices: it is [1, 1] while S(t) = 1 (no
//!   event yet), [0, 0] once S(t) = 0, and a step where everyone left at risk has the
//!   event adds nothing to the variance (its term would divide by zero);
//! * the median is the first time S(t) ≤ 0.5, and its 95% interval runs from the first
//!   time the lower band is ≤ 0.5 to the first time the upper band is; any of the three
//!   is `None` when the curve never gets there.

use super::StatsError;

/// The standard normal quantile at 0.975, for two-sided 95% bands.
const Z_95: f64 = 1.959_963_984_540_054;

/// One step of the Kaplan–Meier table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KaplanMeierRow {
    /// The time (e.g. months since treatment start).
    pub time: f64,
    /// Subjects still under observation just before `time` (their time is ≥ `time`).
    pub at_risk: u64,
    /// Events at `time`.
    pub events: u64,
    /// Subjects censored at `time`.
    pub censored: u64,
    /// S(t) for `time ≤ t <` the next row's time.
    pub survival: f64,
    /// Lower bound of the 95% band.
    pub lower: f64,
    /// Upper bound of the 95% band.
    pub upper: f64,
}

/// The survival curve read at one time: the step function's value and its 95% band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalAt {
    /// The time asked for.
    pub time: f64,
    /// S(time).
    pub survival: f64,
    /// Lower bound of the 95% band at `time`.
    pub lower: f64,
    /// Upper bound of the 95% band at `time`.
    pub upper: f64,
}

/// The median survival time and its 95% interval; `None` where the curve (or its band)
/// never falls to 0.5 within follow-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianSurvival {
    /// First time S(t) ≤ 0.5.
    pub median: Option<f64>,
    /// First time the lower band is ≤ 0.5.
    pub lower: Option<f64>,
    /// First time the upper band is ≤ 0.5.
    pub upper: Option<f64>,
}

/// A fitted Kaplan–Meier curve: the step table, in increasing time.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    rows: Vec<KaplanMeierRow>,
    subjects: u64,
}

/// Fits the Kaplan–Meier curve to one time per subject and whether the subject's time
/// ends in the event (`true`) or in censoring (`false`). The order of subjects does not
/// matter.
///
/// # Errors
///
/// [`StatsError::LengthMismatch`] when the slices differ in length, [`StatsError::Empty`]
/// when there are no subjects, and [`StatsError::InvalidTime`] for a time that is
/// negative, infinite or NaN.
pub fn kaplan_meier(times: &[f64], events: &[bool]) -> Result<KaplanMeier, StatsError> {
    if times.len() != events.len() {
        return Err(StatsError::LengthMismatch { times: times.len(), events: events.len() });
    }
    if times.is_empty() {
        return Err(StatsError::Empty);
    }
    let mut subjects = Vec::with_capacity(times.len());
    for (index, (&time, &event)) in times.iter().zip(events).enumerate() {
        if !(time.is_finite() && time >= 0.0) {
            return Err(StatsError::InvalidTime { index, value: time });
        }
        // Adding +0.0 turns a −0.0 into +0.0, so the reported time is never "−0".
        subjects.push((time + 0.0, event));
    }
    // No NaN is left, so the total order is the numeric order.
    subjects.sort_by(|a, b| a.0.total_cmp(&b.0));

    let mut rows = Vec::new();
    let mut at_risk = subjects.len() as u64;
    let mut estimate = ProductLimit::default();
    let mut start = 0;
    while start < subjects.len() {
        let time = subjects[start].0;
        let end = start + subjects[start..].iter().take_while(|(t, _)| *t == time).count();
        let deaths = subjects[start..end].iter().filter(|(_, e)| *e).count() as u64;
        let censored = (end - start) as u64 - deaths;
        let (survival, lower, upper) = estimate.step(at_risk as f64, deaths as f64);
        rows.push(KaplanMeierRow { time, at_risk, events: deaths, censored, survival, lower, upper });
        at_risk -= deaths + censored;
        start = end;
    }

    Ok(KaplanMeier { rows, subjects: subjects.len() as u64 })
}

/// Survival as a product of conditional survivals, with Greenwood's variance of its
/// log: what the Kaplan–Meier curve and the life table ([`super::life_table`]) both
/// accumulate, step by step.
#[derive(Debug, Clone, Copy)]
pub(super) struct ProductLimit {
    survival: f64,
    greenwood: f64,
}

impl Default for ProductLimit {
    fn default() -> Self {
        Self { survival: 1.0, greenwood: 0.0 }
    }
}

impl ProductLimit {
    /// Steps past `d` events among `n` at risk; returns S and its 95% band.
    pub(super) fn step(&mut self, n: f64, d: f64) -> (f64, f64, f64) {
        if n > 0.0 && d > 0.0 {
            // The product of conditional survival, rather than exp of summed logs, keeps
            // exact fractions (an exact half) as exact as floating point allows.
            self.survival *= (n - d) / n;
            // A step where everyone left at risk has the event adds nothing (its term
            // would divide by zero).
            if d < n {
                self.greenwood += d / (n * (n - d));
            }
        }
        let (lower, upper) = band(self.survival, self.greenwood);
        (self.survival, lower, upper)
    }
}

/// The log(−log) 95% band for survival `s` with Greenwood variance `var` of ln S.
pub(super) fn band(s: f64, var: f64) -> (f64, f64) {
    // S = 1: ln S = 0 and the transformed scale is undefined; lifelines fills 1.
    if s >= 1.0 {
        return (1.0, 1.0);
    }
    // S = 0: ln(−ln S) is +∞, which lifelines' formula maps to 0 for both bounds.
    if s <= 0.0 {
        return (0.0, 0.0);
    }
    // exp(−exp(ln(−ln S) ∓ z·σ/ln S)) written as a power of S, the same quantity with
    // fewer transcendental calls. ln S < 0, so `k` < 0 and the lower bound is S^(>1).
    let k = Z_95 * var.sqrt() / s.ln();
    (s.powf((-k).exp()), s.powf(k.exp()))
}

impl KaplanMeier {
    /// The step table: one row per distinct time, in increasing time.
    pub fn rows(&self) -> &[KaplanMeierRow] {
        &self.rows
    }

    /// Number of subjects the curve was fitted to.
    pub fn subjects(&self) -> u64 {
        self.subjects
    }

    /// Number of events over all times.
    pub fn events(&self) -> u64 {
        self.rows.iter().map(|r| r.events).sum()
    }

    /// The median survival time: the first time S(t) ≤ 0.5, or `None` if the curve
    /// stays above 0.5 throughout follow-up.
    pub fn median(&self) -> Option<f64> {
        // S(t) is a product of fractions and can be exactly 1/2 (e.g. 3/4 · 2/3); each
        // factor adds at most two roundings, so a value within that many ulps of 0.5
        // counts as reaching it rather than letting rounding push the median one event
        // later.
        let mut factors = 0.0;
        self.rows
            .iter()
            .find(|r| {
                if r.events > 0 {
                    factors += 2.0;
                }
                r.survival <= 0.5 * (1.0 + factors * f64::EPSILON)
            })
            .map(|r| r.time)
    }

    /// The median with its 95% interval (first times the lower and the upper band fall
    /// to 0.5 or below).
    pub fn median_with_interval(&self) -> MedianSurvival {
        let first = |f: fn(&KaplanMeierRow) -> f64| self.rows.iter().find(|r| f(r) <= 0.5).map(|r| r.time);
        MedianSurvival { median: self.median(), lower: first(|r| r.lower), upper: first(|r| r.upper) }
    }

    /// The curve read at `time`, e.g. landmark survival at 6 and 12 months: the value of
    /// the last step at or before `time` (1 with band [1, 1] before the first step).
    ///
    /// Past the last observed time the last value is carried forward, as lifelines does;
    /// [`KaplanMeier::at_risk_at`] returning 0 tells the caller the landmark lies beyond
    /// follow-up.
    ///
    /// # Errors
    ///
    /// [`StatsError::InvalidTimePoint`] when `time` is NaN.
    pub fn survival_at(&self, time: f64) -> Result<SurvivalAt, StatsError> {
        if time.is_nan() {
            return Err(StatsError::InvalidTimePoint(time));
        }
        let steps = self.rows.partition_point(|r| r.time <= time);
        let (survival, lower, upper) = match steps.checked_sub(1).map(|i| &self.rows[i]) {
            Some(r) => (r.survival, r.lower, r.upper),
            None => (1.0, 1.0, 1.0),
        };
        Ok(SurvivalAt { time, survival, lower, upper })
    }

    /// Number at risk at `time`: subjects whose time is ≥ `time` (those with an event or
    /// censoring exactly at `time` are still counted), as printed under survival plots.
    ///
    /// # Errors
    ///
    /// [`StatsError::InvalidTimePoint`] when `time` is NaN.
    pub fn at_risk_at(&self, time: f64) -> Result<u64, StatsError> {
        if time.is_nan() {
            return Err(StatsError::InvalidTimePoint(time));
        }
        let before = self.rows.partition_point(|r| r.time < time);
        Ok(self.rows.get(before).map_or(0, |r| r.at_risk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::reference::{assert_close, Table};

    /// The 20 subjects of `km_small_input.csv`.
    fn small_input() -> (Vec<f64>, Vec<bool>) {
        let table = Table::read("km_small_input");
        let times = table.rows.iter().map(|r| table.float(r, "time")).collect();
        let events = table
            .rows
            .iter()
            .map(|r| match table.text(r, "event") {
                "1" => true,
                "0" => false,
                other => panic!("event must be 0 or 1, got {other:?}"),
            })
            .collect();
        (times, events)
    }

    fn small_fit() -> KaplanMeier {
        let (times, events) = small_input();
        kaplan_meier(&times, &events).expect("valid input")
    }

    #[test]
    fn every_row_of_the_reference_table_is_reproduced() {
        let km = small_fit();
        let table = Table::read("km_small_expected");
        assert_eq!(km.rows().len(), table.rows.len(), "number of distinct times");
        for (row, expected) in km.rows().iter().zip(&table.rows) {
            let t = table.float(expected, "time");
            let what = format!("time {t}");
            assert_close(row.time, t, &what);
            assert_eq!(row.at_risk, table.count(expected, "at_risk"), "{what}");
            assert_eq!(row.events, table.count(expected, "events"), "{what}");
            assert_eq!(row.censored, table.count(expected, "censored"), "{what}");
            assert_close(row.survival, table.float(expected, "survival"), &what);
            assert_close(row.lower, table.float(expected, "lower95"), &what);
            assert_close(row.upper, table.float(expected, "upper95"), &what);
        }
        assert_eq!(km.subjects(), 20);
    }

    #[test]
    fn the_median_and_its_interval_match_the_reference() {
        let km = small_fit();
        let table = Table::read("km_small_median");
        let expected = &table.rows[0];
        let got = km.median_with_interval();
        for (name, value) in [("median", got.median), ("lower95", got.lower), ("upper95", got.upper)] {
            match (value, table.number(expected, name)) {
                (Some(v), Some(e)) => assert_close(v, e, name),
                (v, e) => assert_eq!(v, e, "{name}"),
            }
        }
        assert_eq!(km.median(), got.median);
    }

    #[test]
    fn survival_at_a_landmark_is_the_last_step_at_or_before_it() {
        let km = small_fit();
        let table = Table::read("km_small_expected");
        for t in [0.0, 1.0, 1.2, 2.2, 6.0, 7.1, 12.0, 13.9, 14.0, 36.0] {
            let got = km.survival_at(t).expect("valid time");
            // The reference row in force at `t`, found in the file itself.
            let step = table.rows.iter().rev().find(|r| table.float(r, "time") <= t);
            let (s, lo, hi) = match step {
                Some(r) => (table.float(r, "survival"), table.float(r, "lower95"), table.float(r, "upper95")),
                None => (1.0, 1.0, 1.0),
            };
            let what = format!("S({t})");
            assert_eq!(got.time, t);
            assert_close(got.survival, s, &what);
            assert_close(got.lower, lo, &what);
            assert_close(got.upper, hi, &what);
        }
    }

    #[test]
    fn numbers_at_risk_count_subjects_whose_time_is_not_before_t() {
        let km = small_fit();
        let (times, _) = small_input();
        for t in [0.0, 1.2, 2.0, 3.0, 6.0, 7.1, 12.0, 14.0, 14.5] {
            let expected = times.iter().filter(|&&x| x >= t).count() as u64;
            assert_eq!(km.at_risk_at(t), Ok(expected), "at risk at {t}");
        }
    }

    #[test]
    fn the_order_of_subjects_does_not_matter() {
        let (mut times, mut events) = small_input();
        times.reverse();
        events.reverse();
        let reversed = kaplan_meier(&times, &events).expect("valid input");
        assert_eq!(reversed, small_fit());
    }

    #[test]
    fn all_censored_subjects_give_survival_one_and_no_median() {
        let km = kaplan_meier(&[3.0, 1.0, 2.0, 2.0], &[false; 4]).expect("valid input");
        assert_eq!(km.events(), 0);
        assert_eq!(km.rows().len(), 3);
        for row in km.rows() {
            assert_eq!((row.survival, row.lower, row.upper), (1.0, 1.0, 1.0));
        }
        assert_eq!(km.median_with_interval(), MedianSurvival { median: None, lower: None, upper: None });
        let later = km.survival_at(10.0).expect("valid time");
        assert_eq!((later.survival, later.lower, later.upper), (1.0, 1.0, 1.0));
        assert_eq!(km.at_risk_at(2.0), Ok(3));
    }

    #[test]
    fn a_curve_that_stays_above_one_half_has_no_median() {
        // Two events among ten: S ends at 0.9 · 6/7 ≈ 0.77, so neither the median nor
        // the upper band is reached (the lower band may be, in so small a sample).
        let times = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let mut events = [false; 10];
        events[0] = true;
        events[3] = true;
        let km = kaplan_meier(&times, &events).expect("valid input");
        assert_eq!(km.median(), None);
        let last = km.rows()[9];
        assert!((last.survival - 0.9 * (6.0 / 7.0)).abs() < 1e-12);
        assert!(last.lower < last.survival && last.survival < last.upper && last.upper < 1.0);
        assert_eq!(km.median_with_interval().upper, None);
    }

    #[test]
    fn a_single_subject_with_an_event_drops_the_curve_to_zero() {
        let km = kaplan_meier(&[4.5], &[true]).expect("valid input");
        let row = km.rows()[0];
        assert_eq!((row.at_risk, row.events, row.censored), (1, 1, 0));
        // Everyone at risk has the event: S = 0 and, as in lifelines, the band is [0, 0].
        assert_eq!((row.survival, row.lower, row.upper), (0.0, 0.0, 0.0));
        assert_eq!(km.median_with_interval(), MedianSurvival { median: Some(4.5), lower: Some(4.5), upper: Some(4.5) });
        assert_eq!(km.at_risk_at(4.5), Ok(1));
        assert_eq!(km.at_risk_at(4.6), Ok(0));
    }

    #[test]
    fn a_single_censored_subject_gives_a_flat_curve() {
        let km = kaplan_meier(&[2.0], &[false]).expect("valid input");
        let row = km.rows()[0];
        assert_eq!((row.at_risk, row.events, row.censored), (1, 0, 1));
        assert_eq!((row.survival, row.lower, row.upper), (1.0, 1.0, 1.0));
        assert_eq!(km.median(), None);
    }

    #[test]
    fn a_subject_censored_at_an_event_time_is_still_at_risk_for_it() {
        // At t = 1 one of three subjects has the event and one is censored: the censored
        // subject counts in the denominator, so S(1) = 2/3, not 1/2.
        let km = kaplan_meier(&[1.0, 1.0, 2.0], &[true, false, true]).expect("valid input");
        let first = km.rows()[0];
        assert_eq!((first.at_risk, first.events, first.censored), (3, 1, 1));
        assert!((first.survival - 2.0 / 3.0).abs() < 1e-15);
        let second = km.rows()[1];
        assert_eq!((second.at_risk, second.events, second.censored), (1, 1, 0));
        assert_eq!(second.survival, 0.0);
    }

    #[test]
    fn greenwood_variance_gives_the_textbook_band_for_a_single_step() {
        // One event among ten: S = 0.9, Var(ln S) = 1 / (10 · 9), and the log(−log) band
        // is S^exp(±1.96·σ/ln S), written out here from the definitions.
        let mut events = [false; 10];
        events[0] = true;
        let times: Vec<f64> = (1..=10).map(f64::from).collect();
        let km = kaplan_meier(&times, &events).expect("valid input");
        let row = km.rows()[0];
        let sigma = (1.0_f64 / 90.0).sqrt();
        let log_s = 0.9_f64.ln();
        // lifelines: exp(−exp(ln(−ln S) ∓ z·σ / ln S)).
        let lower = (-((-log_s).ln() - 1.959_963_984_540_054 * sigma / log_s).exp()).exp();
        let upper = (-((-log_s).ln() + 1.959_963_984_540_054 * sigma / log_s).exp()).exp();
        assert!((row.survival - 0.9).abs() < 1e-15);
        assert!((row.lower - lower).abs() < 1e-12, "{} vs {lower}", row.lower);
        assert!((row.upper - upper).abs() < 1e-12, "{} vs {upper}", row.upper);
    }

    #[test]
    fn an_exact_half_counts_as_reaching_the_median() {
        // S(2) = 3/4 · 2/3 = 1/2 exactly, whatever the rounding of the product.
        let km = kaplan_meier(&[1.0, 2.0, 3.0, 4.0], &[true; 4]).expect("valid input");
        assert_eq!(km.median(), Some(2.0));
        let km = kaplan_meier(&[1.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[true; 6]).expect("valid");
        // 4/6 · 3/4 = 1/2 at t = 2.
        assert_eq!(km.median(), Some(2.0));
    }

    #[test]
    fn negative_zero_and_zero_are_the_same_time() {
        let km = kaplan_meier(&[-0.0, 0.0, 1.0], &[true, false, true]).expect("valid input");
        assert_eq!(km.rows().len(), 2);
        assert!(km.rows()[0].time == 0.0 && km.rows()[0].time.is_sign_positive());
        assert_eq!(km.rows()[0].at_risk, 3);
    }

    #[test]
    fn empty_input_is_an_error() {
        assert_eq!(kaplan_meier(&[], &[]), Err(StatsError::Empty));
    }

    #[test]
    fn times_and_events_of_different_lengths_are_an_error() {
        assert_eq!(kaplan_meier(&[1.0, 2.0], &[true]), Err(StatsError::LengthMismatch { times: 2, events: 1 }));
    }

    #[test]
    fn negative_infinite_or_nan_times_are_an_error() {
        for bad in [-1.0, -1e-12, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let result = kaplan_meier(&[1.0, bad, 2.0], &[true, true, false]);
            match result {
                Err(StatsError::InvalidTime { index: 1, value }) => {
                    assert!(value.to_bits() == bad.to_bits(), "{value} vs {bad}")
                }
                other => panic!("time {bad} gave {other:?}"),
            }
        }
    }

    #[test]
    fn reading_the_curve_at_nan_is_an_error() {
        let km = small_fit();
        assert!(matches!(km.survival_at(f64::NAN), Err(StatsError::InvalidTimePoint(_))));
        assert!(matches!(km.at_risk_at(f64::NAN), Err(StatsError::InvalidTimePoint(_))));
    }
}
