//! The trial protocol's fixed numbers, defined once: the measures (`consortium-analytics`)
//! compute the endpoints with them and the synthetic consortium (`consortium-synthetic`)
//! simulates patients under them, so the two cannot drift apart.
//!
//! Endpoints are defined in `docs/domain.md`: the week-16 assessment is the first with a
//! study week in [`WEEK_16_WINDOW`]; a patient is evaluable with one, or with
//! progression or death before the window opens ([`EARLY_CUTOFF_WEEK`]). Cohorts are
//! monitored with Simon-like two-stage rules, [`TWO_STAGE`] by default.

use std::ops::RangeInclusive;

/// Study weeks of the week-16 assessment: the first assessment in this window counts.
pub const WEEK_16_WINDOW: RangeInclusive<i32> = 14..=20;

/// Progression or death before this study week (the window's first) makes a patient
/// evaluable without a week-16 assessment.
pub const EARLY_CUTOFF_WEEK: i32 = *WEEK_16_WINDOW.start();

/// Weeks between response assessments.
pub const ASSESSMENT_INTERVAL_WEEKS: i32 = 8;

/// A two-stage design in Simon's notation: stop after `n1` evaluable patients with at
/// most `r1` benefits; positive after `n` with more than `r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TwoStage {
    /// Most benefits in stage 1 that still close the cohort.
    pub r1: i32,
    /// Evaluable patients in stage 1.
    pub n1: i32,
    /// Most benefits in all that still make the cohort negative.
    pub r: i32,
    /// Evaluable patients in both stages.
    pub n: i32,
}

/// The trial's rule: at least 1 benefit of 8 to continue, at least 5 of 24 to be positive
/// (`0/8, 4/24`).
pub const TWO_STAGE: TwoStage = TwoStage { r1: 0, n1: 8, r: 4, n: 24 };
