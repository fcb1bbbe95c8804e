//! The trial's endpoints, derived per enrolment with polars exactly as `domain.md`
//! defines them:
//!
//! * **week-16 assessment**: the first assessment with study week in the window
//!   (14–20 by default, configurable in [`EndpointRules`]);
//! * **evaluable**: treated, and either has a week-16 assessment, or had PD (or died)
//!   before the window opens (week 14);
//! * **clinical benefit** (disease control at week 16): the week-16 assessment is CR,
//!   PR or SD and no PD came before it;
//! * **best overall response**: the best of CR > PR > SD > PD > NE over all assessments.

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
        Self { window_start: 14, window_end: 20 }
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

#[cfg(test)]
mod tests {
    use super::response::*;
    use super::*;

    /// Derives the endpoints of hand-made patients; `course` is (week, response) pairs.
    fn endpoints(patients: &[(bool, Option<i32>, &[(i32, i32)])]) -> Vec<(bool, bool, Option<i32>)> {
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
