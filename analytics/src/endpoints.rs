//! The trial's endpoints, derived per enrolment with polars exactly as `domain.md`
//! defines them:
//!
//! * **week-16 assessment**: the first assessment with study week in the window
//!   (14–20 by default, configurable in [`EndpointRules`]);
//! * **evaluable**: treated, and either has a week-16 assessment, or had PD (or died)
//!   before the window opens (week 14);
//! * **clinical benefit** (disease control at week 16): the week-16 assessment is CR,
//!   PR or SD and no PD came before it;
//! * **best overall response**: the best of CR > PR > SD > PD > NE over all assessments;
//!   **objective response** is a best overall response of CR or PR in an evaluable patient.
//!
//! [`derive_dated`] adds what needs calendar dates:
//!
//! * **evaluated day**: the day an evaluable patient's week-16 endpoint was settled: the
//!   week-16 assessment's date, or the date of the early PD or of the early death, whichever
//!   came first. It orders patients in a cohort's two-stage rule;
//! * **progression-free survival**: days from treatment start to the first PD or death,
//!   whichever comes first; without either, censored at the last assessment (at day 0 when
//!   there is no assessment).

use polars::lazy::dsl::min_horizontal;
use polars::prelude::*;

/// Configurable parts of the endpoint definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointRules {
    /// First study week of the week-16 window (inclusive).
    pub window_start: i32,
    /// Last study week of the week-16 window (inclusive).
    pub window_end: i32,
}

impl Default for EndpointRules {
    fn default() -> Self {
        let window = consortium_entity::protocol::WEEK_16_WINDOW;
        Self { window_start: *window.start(), window_end: *window.end() }
    }
}

/// Response codes as stored in the snapshot: the position in best-first order, so that
/// the minimum over assessments is the best overall response.
pub mod response {
    /// Complete response.
    pub const CR: i32 = 0;
    /// Partial response.
    pub const PR: i32 = 1;
    /// Stable disease.
    pub const SD: i32 = 2;
    /// Progressive disease.
    pub const PD: i32 = 3;
    /// Not evaluable.
    pub const NE: i32 = 4;
}

/// Derives the endpoints of every enrolment.
///
/// `enrolments` needs `enrolment_id` (i32), `treated` (bool) and `death_after_start_days`
/// (i32, null when alive or untreated); `assessments` needs `enrolment_id`,
/// `study_week` and `response` (i32 codes of [`response`]). Returns one row per
/// enrolment with `w16_week`, `w16_response`, `first_pd_week`, `best_response`,
/// `evaluable` and `benefit` (booleans never null).
pub fn derive(enrolments: LazyFrame, assessments: LazyFrame, rules: EndpointRules) -> LazyFrame {
    let week = || col("study_week");
    let week16 = assessments
        .clone()
        .filter(week().gt_eq(lit(rules.window_start)).and(week().lt_eq(lit(rules.window_end))))
        .sort(["enrolment_id", "study_week"], SortMultipleOptions::default())
        .group_by_stable([col("enrolment_id")])
        .agg([week().first().alias("w16_week"), col("response").first().alias("w16_response")]);
    let first_pd = assessments
        .clone()
        .filter(col("response").eq(lit(response::PD)))
        .group_by([col("enrolment_id")])
        .agg([week().min().alias("first_pd_week")]);
    let best = assessments.group_by([col("enrolment_id")]).agg([col("response").min().alias("best_response")]);

    let early_pd = col("first_pd_week").lt(lit(rules.window_start)).fill_null(lit(false));
    let early_death = col("death_after_start_days").lt(lit(rules.window_start * 7)).fill_null(lit(false));
    let evaluable = col("treated").and(col("w16_week").is_not_null().or(early_pd).or(early_death));
    let no_pd_before = col("first_pd_week").is_null().or(col("first_pd_week").gt_eq(col("w16_week")));
    let benefit = col("evaluable")
        .and(col("w16_response").lt_eq(lit(response::SD)).fill_null(lit(false)))
        .and(no_pd_before.fill_null(lit(false)));

    let on = || col("enrolment_id");
    enrolments
        .left_join(week16, on(), on())
        .left_join(first_pd, on(), on())
        .left_join(best, on(), on())
        .with_column(evaluable.alias("evaluable"))
        .with_column(benefit.alias("benefit"))
}

/// Derives the endpoints of every enrolment as [`derive()`] does, plus those that need
/// dates (see the module documentation).
///
/// `enrolments` needs `enrolment_id`, `treated`, `start_day` (treatment start as a day
/// number, null when untreated) and `death_day` (null when alive); `assessments` needs
/// `enrolment_id`, `study_week`, `response` and `assessment_date` (a day number). Adds to
/// the columns of [`derive()`]: `w16_day`, `first_pd_day`, `last_assessment_day`,
/// `evaluated_day` (null unless evaluable), `objective_response` (never null), and
/// `pfs_days` and `pfs_event` (null when untreated).
///
/// Durations are clamped at 0: an assessment or a death recorded before treatment start is
/// a data error that must not produce a negative time, which no survival estimate accepts.
pub fn derive_dated(enrolments: LazyFrame, assessments: LazyFrame, rules: EndpointRules) -> PolarsResult<LazyFrame> {
    let enrolments = enrolments.with_column((col("death_day") - col("start_day")).alias("death_after_start_days"));
    let day = || col("assessment_date");
    let on = || col("enrolment_id");
    let pd_days = assessments
        .clone()
        .filter(col("response").eq(lit(response::PD)))
        .group_by([on()])
        .agg([day().min().alias("first_pd_day")]);
    let last_days = assessments.clone().group_by([on()]).agg([day().max().alias("last_assessment_day")]);
    // The week-16 assessment is the first in the window by study week; its date is the
    // earliest assessment of that week, which is that assessment unless a week holds two.
    let week16_days =
        assessments.clone().group_by([on(), col("study_week").alias("w16_week")]).agg([day().min().alias("w16_day")]);

    let early_pd = col("first_pd_week").lt(lit(rules.window_start)).fill_null(lit(false));
    let early_death = col("death_after_start_days").lt(lit(rules.window_start * 7)).fill_null(lit(false));
    // Nulls are skipped by the horizontal minimum, so each candidate counts only when it
    // applies; being evaluable guarantees that at least one does.
    let settled = min_horizontal([
        col("w16_day"),
        when(early_pd).then(col("first_pd_day")).otherwise(null_day()),
        when(early_death).then(col("death_day")).otherwise(null_day()),
    ])?;
    let evaluated = when(col("evaluable")).then(settled).otherwise(null_day());
    let objective = col("evaluable").and(col("best_response").lt_eq(lit(response::PR)).fill_null(lit(false)));

    let progressed = min_horizontal([col("first_pd_day"), col("death_day")])?;
    let end_day = when(progressed.clone().is_not_null()).then(progressed.clone()).otherwise(col("last_assessment_day"));
    let pfs_days =
        when(col("treated")).then(non_negative((end_day - col("start_day")).fill_null(lit(0)))).otherwise(null_day());
    let pfs_event = when(col("treated")).then(progressed.is_not_null()).otherwise(lit(NULL).cast(DataType::Boolean));

    Ok(derive(enrolments, assessments, rules)
        .left_join(pd_days, on(), on())
        .left_join(last_days, on(), on())
        .join(week16_days, [on(), col("w16_week")], [on(), col("w16_week")], JoinArgs::new(JoinType::Left))
        .with_columns([
            evaluated.alias("evaluated_day"),
            objective.alias("objective_response"),
            pfs_days.alias("pfs_days"),
            pfs_event.alias("pfs_event"),
        ]))
}

/// A null of the day-number type, for the branches of a `when` that do not apply.
pub(crate) fn null_day() -> Expr {
    lit(NULL).cast(DataType::Int32)
}

/// `days` with negative values raised to 0; nulls stay null.
pub(crate) fn non_negative(days: Expr) -> Expr {
    when(days.clone().lt(lit(0))).then(lit(0)).otherwise(days)
}

#[cfg(test)]
mod tests {
    use super::response::*;
    use super::*;

    /// A hand-made patient: treated, death day, and the course as (week, response) pairs.
    type Patient<'a> = (bool, Option<i32>, &'a [(i32, i32)]);

    /// Derives the endpoints (evaluable, benefit, best response) of hand-made patients.
    fn endpoints(patients: &[Patient<'_>]) -> Vec<(bool, bool, Option<i32>)> {
        let ids: Vec<i32> = (0..patients.len() as i32).collect();
        let enrolments = df!(
            "enrolment_id" => &ids,
            "treated" => patients.iter().map(|p| p.0).collect::<Vec<_>>(),
            "death_after_start_days" => patients.iter().map(|p| p.1).collect::<Vec<_>>(),
        )
        .expect("enrolments frame");
        let mut a = (Vec::new(), Vec::new(), Vec::new());
        for (id, p) in patients.iter().enumerate() {
            for (week, resp) in p.2 {
                a.0.push(id as i32);
                a.1.push(*week);
                a.2.push(*resp);
            }
        }
        let assessments = df!("enrolment_id" => a.0, "study_week" => a.1, "response" => a.2).expect("assessments");
        let out = derive(enrolments.lazy(), assessments.lazy(), EndpointRules::default())
            .sort(["enrolment_id"], SortMultipleOptions::default())
            .collect()
            .expect("derive");
        let evaluable = out.column("evaluable").and_then(|c| c.bool().cloned()).expect("evaluable");
        let benefit = out.column("benefit").and_then(|c| c.bool().cloned()).expect("benefit");
        let best = out.column("best_response").and_then(|c| c.i32().cloned()).expect("best");
        (0..patients.len())
            .map(|i| (evaluable.get(i).expect("non-null"), benefit.get(i).expect("non-null"), best.get(i)))
            .collect()
    }

    #[test]
    fn endpoints_follow_the_written_definitions() {
        let got = endpoints(&[
            // Stable at week 16: evaluable, benefit.
            (true, None, &[(8, SD), (16, SD), (24, PD)]),
            // PD at week 8: evaluable (early PD), no benefit.
            (true, None, &[(8, PD)]),
            // Died at day 60 before any assessment: evaluable, no benefit.
            (true, Some(60), &[]),
            // Stopped at week 6 without PD: not evaluable.
            (true, None, &[(6, SD)]),
            // PD at week 8, then a "PR" in the window: PD came first, so no benefit.
            (true, None, &[(8, PD), (16, PR)]),
            // Week-16 assessment at week 15 (inside the window) is the first in window.
            (true, None, &[(15, PR), (19, PD)]),
            // Enrolled but never treated: never evaluable.
            (false, None, &[]),
            // Assessment only at week 21: outside the window, no early PD: not evaluable.
            (true, None, &[(21, SD)]),
        ]);
        assert_eq!(got[0], (true, true, Some(SD)));
        assert_eq!(got[1], (true, false, Some(PD)));
        assert_eq!(got[2], (true, false, None));
        assert_eq!(got[3], (false, false, Some(SD)));
        assert_eq!(got[4], (true, false, Some(PR)));
        assert_eq!(got[5], (true, true, Some(PR)));
        assert_eq!(got[6], (false, false, None));
        assert_eq!(got[7], (false, false, Some(SD)));
    }
}
