//! Exact statistics of the trial: plain numbers in, typed results out.
//!
//! Everything here is a pure function of slices and counts, with no polars, no I/O and no
//! shared state, so the measures built on the snapshot can call these functions and tests
//! can check them against independently computed reference values
//! (`tests/fixtures/reference/*.csv`, produced with lifelines, statsmodels and exact binomial sums).
//!
//! * [`binomial`]: the exact (Clopper–Pearson) interval for a rate such as clinical
//!   benefit at week 16, and the binomial probabilities the two-stage rule needs.
//! * [`mod@kaplan_meier`]: the Kaplan–Meier step table with Greenwood variance and
//!   log(−log) 95% bands, the median with its interval, landmark survival and numbers
//!   at risk, all as lifelines defines them by default.
//! * [`life_table`]: the actuarial estimate over fixed intervals, from counts alone (how
//!   a curve is published under the cell-key method).
//! * [`two_stage`]: Simon's two-stage rule (the trial's 1-of-8 / 5-of-24), its operating
//!   characteristics, and the decision a cohort's counts support.
//!
//! Every failure is a [`StatsError`]. All of them describe input the function cannot
//! work with (no subjects, a negative time, an impossible design), never a fault of the
//! machinery, so callers can report them as bad input.

pub mod binomial;
pub mod kaplan_meier;
pub mod life_table;
pub mod two_stage;

pub use binomial::{binomial_cdf, binomial_pmf, clopper_pearson, Proportion};
pub use kaplan_meier::{kaplan_meier, KaplanMeier, KaplanMeierRow, MedianSurvival, SurvivalAt};
pub use life_table::{life_table, LifeTableInterval};
pub use two_stage::{Decision, OperatingCharacteristics, SimonDesign};

use thiserror::Error;

/// Why a statistic could not be computed from the input given.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// A proportion over zero trials has no estimate and no interval.
    #[error("a proportion needs at least one trial, got n = 0")]
    NoTrials,
    /// More events than trials.
    #[error("{events} events cannot come from {n} trials")]
    EventsExceedTrials {
        /// Events given.
        events: u64,
        /// Trials given.
        n: u64,
    },
    /// A confidence level outside the open interval (0, 1), or NaN.
    #[error("confidence level {0} must lie strictly between 0 and 1")]
    InvalidConfidence(f64),
    /// A probability outside [0, 1], or NaN.
    #[error("probability {0} must lie between 0 and 1")]
    InvalidProbability(f64),
    /// A survival estimate was asked for with no subjects.
    #[error("no subjects to estimate survival from")]
    Empty,
    /// Times and event flags of different lengths.
    #[error("{times} times but {events} event flags")]
    LengthMismatch {
        /// Number of times given.
        times: usize,
        /// Number of event flags given.
        events: usize,
    },
    /// A subject's time is negative, infinite or NaN.
    #[error("time {value} of subject {index} must be finite and not negative")]
    InvalidTime {
        /// Position of the subject in the input.
        index: usize,
        /// The time as given.
        value: f64,
    },
    /// A time at which to read a survival curve is NaN.
    #[error("cannot read a survival curve at time {0}")]
    InvalidTimePoint(f64),
    /// Two-stage design parameters that do not describe a two-stage rule.
    #[error("invalid two-stage design r1 = {r1}, n1 = {n1}, r = {r}, n = {n}: need r1 < n1 < n <= {max} and r1 <= r < n", max = SimonDesign::MAX_N)]
    InvalidDesign {
        /// Stage-1 boundary: stop for futility with this many benefits or fewer.
        r1: u64,
        /// Stage-1 size.
        n1: u64,
        /// Final boundary: negative with this many benefits or fewer.
        r: u64,
        /// Total size.
        n: u64,
    },
    /// Cohort counts that cannot occur under the design's way of counting patients.
    #[error(
        "inconsistent cohort counts (stage 1: {stage1_benefits} of {stage1_evaluable}, \
         total: {total_benefits} of {total_evaluable}): {reason}"
    )]
    InconsistentCounts {
        /// Evaluable patients counted in stage 1.
        stage1_evaluable: u64,
        /// Patients with benefit among them.
        stage1_benefits: u64,
        /// Evaluable patients in total.
        total_evaluable: u64,
        /// Patients with benefit in total.
        total_benefits: u64,
        /// Which rule the counts break.
        reason: &'static str,
    },
}

/// Reading the reference files in `tests/fixtures/reference/`, for the tests of every module.
#[cfg(test)]
pub(crate) mod reference {
    use std::collections::HashMap;

    /// One reference CSV: header names and the rows as strings, read with a minimal
    /// parser because the files are plain (no quoting, no embedded commas).
    pub(crate) struct Table {
        columns: HashMap<String, usize>,
        /// The data rows, each split at commas.
        pub(crate) rows: Vec<Vec<String>>,
    }

    impl Table {
        /// Reads `tests/fixtures/reference/<name>.csv` (copied from the shared reference values).
        pub(crate) fn read(name: &str) -> Table {
            let path = format!("{}/../tests/fixtures/reference/{name}.csv", env!("CARGO_MANIFEST_DIR"));
            let text =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read reference file {path}: {e}"));
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let header = lines.next().expect("reference file has a header");
            let columns =
                header.split(',').enumerate().map(|(i, c)| (c.trim().to_string(), i)).collect::<HashMap<_, _>>();
            let rows =
                lines.map(|l| l.split(',').map(|f| f.trim().to_string()).collect::<Vec<_>>()).collect::<Vec<_>>();
            assert!(!rows.is_empty(), "reference file {path} has no rows");
            for row in &rows {
                assert_eq!(row.len(), columns.len(), "ragged row in {path}: {row:?}");
            }
            Table { columns, rows }
        }

        /// The raw field of `row` in column `column`.
        pub(crate) fn text<'a>(&self, row: &'a [String], column: &str) -> &'a str {
            let index = self.columns.get(column).unwrap_or_else(|| panic!("reference file has no column {column}"));
            &row[*index]
        }

        /// The field as a number; an empty field is `None` (a value that was not reached).
        pub(crate) fn number(&self, row: &[String], column: &str) -> Option<f64> {
            let field = self.text(row, column);
            if field.is_empty() {
                None
            } else {
                Some(field.parse().unwrap_or_else(|e| panic!("bad number {field:?} in {column}: {e}")))
            }
        }

        /// The field as a number that must be present.
        pub(crate) fn float(&self, row: &[String], column: &str) -> f64 {
            self.number(row, column).unwrap_or_else(|| panic!("empty field in column {column}"))
        }

        /// The field as a count.
        pub(crate) fn count(&self, row: &[String], column: &str) -> u64 {
            let field = self.text(row, column);
            field.parse().unwrap_or_else(|e| panic!("bad count {field:?} in {column}: {e}"))
        }
    }

    /// Asserts `actual` is within `1e-6` of `expected`, naming what is compared.
    pub(crate) fn assert_close(actual: f64, expected: f64, what: &str) {
        assert!((actual - expected).abs() <= 1e-6, "{what}: computed {actual}, reference {expected}");
    }
}
