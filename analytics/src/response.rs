//! Response of treated patients: disease control at week 16 (clinical benefit), objective
//! response and the distribution of best overall response, grouped by any dimensions.
//!
//! Rates are over the **evaluable** patients, as `domain.md` defines them, with exact
//! (Clopper–Pearson) 95% intervals; a group with no evaluable patient has no rate rather
//! than a rate of 0.

use polars::prelude::*;

use crate::cells::{patients, patients_where, sets, PatientSet, Rate};
use crate::counts::{aggregate_by, distinct_dimensions};
use crate::dimension::{Dimension, Filter, Population};
use crate::endpoints::response::NE;
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::Snapshot;

/// Response of one group of treated patients.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseGroup {
    /// The group's key per grouping dimension (same order); empty for the overall row.
    pub keys: Vec<Option<i32>>,
    /// Treated patients in the group.
    pub treated: PatientSet,
    /// Of those, evaluable for the week-16 endpoint.
    pub evaluable: PatientSet,
    /// Clinical benefit (DCR16): benefit among evaluable; `None` when none is evaluable.
    pub benefit: Option<Rate>,
    /// Objective response (best overall response CR or PR) among evaluable; `None` when
    /// none is evaluable.
    pub objective_response: Option<Rate>,
    /// Best overall response of the evaluable patients: CR, PR, SD, PD and NE, in that
    /// order (a patient without any assessment counts as NE). Together, `evaluable`.
    pub best_response: [PatientSet; 5],
}

/// Response of the treated patients passing `filter`, grouped by `group_by`: the
/// non-empty groups sorted by key (`None` first), then the overall row (empty `keys`),
/// which is always present, even when no patient is selected. With no grouping dimension
/// the overall row is the only one.
///
/// # Errors
///
/// [`AnalyticsError::InvalidArgument`] when a dimension is named twice.
pub fn response_summary(
    snapshot: &Snapshot,
    group_by: &[Dimension],
    filter: &Filter,
) -> Result<Vec<ResponseGroup>, AnalyticsError> {
    let dimensions = distinct_dimensions(group_by)?;
    let selected = snapshot.patients.clone().lazy().filter(predicate(Population::Treated, filter));
    let mut rows = if dimensions.is_empty() { Vec::new() } else { summarise(selected.clone(), &dimensions)? };
    rows.sort_by(|a, b| a.keys.cmp(&b.keys));
    let overall = summarise(selected, &[])?.pop().unwrap_or_else(|| ResponseGroup {
        keys: Vec::new(),
        treated: PatientSet::empty(),
        evaluable: PatientSet::empty(),
        benefit: None,
        objective_response: None,
        best_response: Default::default(),
    });
    rows.push(overall);
    Ok(rows)
}

/// The response groups of the `selected` patients, in no particular order.
fn summarise(selected: LazyFrame, dimensions: &[Dimension]) -> Result<Vec<ResponseGroup>, AnalyticsError> {
    // Response codes run CR = 0 … NE = 4, the order of `best_response`. An evaluable
    // patient without assessments has no best response; it counts as NE.
    let best = || col("best_response").fill_null(lit(NE));
    let mut aggregates = vec![
        patients("treated"),
        patients_where(col("evaluable"), "evaluable"),
        patients_where(col("benefit"), "benefit"),
        patients_where(col("objective_response"), "objective_response"),
    ];
    aggregates
        .extend((0..=NE).map(|code| patients_where(col("evaluable").and(best().eq(lit(code))), &format!("bor{code}"))));
    let (out, keys) = aggregate_by(selected, dimensions, aggregates)?;
    let treated = sets(&out, "treated")?;
    let evaluable = sets(&out, "evaluable")?;
    let benefit = sets(&out, "benefit")?;
    let objective = sets(&out, "objective_response")?;
    let mut best_response = (0..=NE).map(|code| sets(&out, &format!("bor{code}"))).collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(keys.len());
    for (i, keys) in keys.into_iter().enumerate() {
        let bor: [PatientSet; 5] = std::array::from_fn(|code| std::mem::take(&mut best_response[code][i]));
        rows.push(ResponseGroup {
            keys,
            treated: treated[i].clone(),
            evaluable: evaluable[i].clone(),
            benefit: Rate::of(benefit[i].clone(), evaluable[i].clone())?,
            objective_response: Rate::of(objective[i].clone(), evaluable[i].clone())?,
            best_response: bor,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::dozen;
    use crate::stats::clopper_pearson;
    use consortium_entity::AlterationClass;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_overall_row_counts_evaluable_benefit_and_best_response_of_the_treated() {
        let rows = response_summary(&dozen(), &[], &Filter::default()).expect("summary");
        assert_eq!(rows.len(), 1);
        let all = &rows[0];
        assert!(all.keys.is_empty());
        // Treated: 1–7 except 8 (never treated), plus 12 and 13.
        assert_eq!((all.treated.count(), all.evaluable.count()), (9, 7));
        let benefit = all.benefit.clone().expect("evaluable patients");
        assert_eq!((benefit.events, benefit.n), (3, 7));
        let expected = clopper_pearson(3, 7, 0.95).expect("valid");
        assert!(close(benefit.lower, expected.lower) && close(benefit.upper, expected.upper));
        // 3 of 7 lies inside its interval, which is wide at this size.
        assert!(benefit.lower < 3.0 / 7.0 && benefit.upper > 3.0 / 7.0 && benefit.upper - benefit.lower > 0.5);
        let objective = all.objective_response.clone().expect("evaluable patients");
        assert_eq!((objective.events, objective.n), (2, 7));
        // CR: 2; PR: 6; SD: 1; PD: 3, 7, 13; NE: 4 (died before any assessment).
        assert_eq!(all.best_response.each_ref().map(PatientSet::count), [1, 1, 1, 3, 1]);
    }

    #[test]
    fn groups_follow_the_cohort_and_add_up_to_the_overall_row() {
        let rows = response_summary(&dozen(), &[Dimension::Cohort], &Filter::default()).expect("summary");
        let keys: Vec<_> = rows.iter().map(|r| r.keys.clone()).collect();
        assert_eq!(keys, vec![vec![Some(1)], vec![Some(2)], vec![Some(3)], vec![]]);
        let (c1, c2, c3) = (&rows[0], &rows[1], &rows[2]);
        assert_eq!((c1.treated.count(), c1.evaluable.count(), c1.benefit.as_ref().map(|p| p.events)), (5, 4, Some(2)));
        assert_eq!(c1.best_response.each_ref().map(PatientSet::count), [1, 0, 1, 1, 1]);
        assert_eq!((c2.treated.count(), c2.evaluable.count(), c2.benefit.as_ref().map(|p| p.events)), (3, 2, Some(1)));
        assert_eq!(c2.best_response.each_ref().map(PatientSet::count), [0, 1, 0, 1, 0]);
        assert_eq!(c2.objective_response.as_ref().map(|p| (p.events, p.n)), Some((1, 2)));
        let overall = &rows[3];
        let sum = |f: fn(&ResponseGroup) -> u64| rows[..3].iter().map(f).sum::<u64>();
        assert_eq!(sum(|r| r.treated.count()), overall.treated.count());
        assert_eq!(sum(|r| r.evaluable.count()), overall.evaluable.count());
        assert_eq!(c3.best_response.each_ref().map(PatientSet::count), [0, 0, 0, 1, 0]);
    }

    #[test]
    fn no_benefit_in_one_patient_has_the_exact_interval_zero_to_0_975() {
        let rows = response_summary(&dozen(), &[Dimension::Cohort], &Filter::default()).expect("summary");
        let benefit = rows[2].benefit.clone().expect("one evaluable patient");
        assert_eq!((benefit.events, benefit.n, benefit.estimate, benefit.lower), (0, 1, 0.0, 0.0));
        assert!(close(benefit.upper, 0.975), "{}", benefit.upper);
    }

    #[test]
    fn benefit_in_every_patient_has_the_exact_interval_from_the_square_root_of_0_025_to_one() {
        // The two men, patients 2 and 6, are both evaluable with benefit.
        let filter = Filter { keys: vec![(Dimension::Sex, vec![1])], ..Filter::default() };
        let rows = response_summary(&dozen(), &[], &filter).expect("summary");
        let benefit = rows[0].benefit.clone().expect("evaluable patients");
        assert_eq!((benefit.events, benefit.n, benefit.upper), (2, 2, 1.0));
        assert!(close(benefit.lower, 0.025_f64.sqrt()), "{}", benefit.lower);
        assert_eq!(rows[0].objective_response.as_ref().map(|p| (p.events, p.n)), Some((2, 2)));
    }

    #[test]
    fn a_group_without_evaluable_patients_has_no_rate() {
        // Enrolled in 2024: only patient 12, treated but never assessed.
        let rows = response_summary(&dozen(), &[Dimension::EnrolmentYear], &Filter::default()).expect("summary");
        let late = rows.iter().find(|r| r.keys == [Some(2024)]).expect("a 2024 group");
        assert_eq!(
            (late.treated.count(), late.evaluable.count(), late.benefit.clone(), late.objective_response.clone()),
            (1, 0, None, None)
        );
        assert_eq!(late.best_response.each_ref().map(PatientSet::count), [0; 5]);
    }

    #[test]
    fn a_filter_that_keeps_nobody_leaves_only_an_empty_overall_row() {
        let filter = Filter { keys: vec![(Dimension::Cohort, vec![99])], ..Filter::default() };
        let rows = response_summary(&dozen(), &[Dimension::Cohort], &filter).expect("summary");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].treated.count(), rows[0].benefit.clone()), (0, None));
    }

    #[test]
    fn alteration_class_groups_use_the_cohorts_class() {
        let rows = response_summary(&dozen(), &[Dimension::AlterationClass], &Filter::default()).expect("summary");
        let key = |c| AlterationClass::all().iter().position(|x| *x == c).map(|i| i as i32);
        let treated: Vec<_> = rows.iter().map(|r| (r.keys.clone(), r.treated.count())).collect();
        assert_eq!(
            treated,
            vec![
                (vec![key(AlterationClass::Mutation)], 5),
                (vec![key(AlterationClass::Amplification)], 1),
                (vec![key(AlterationClass::Fusion)], 3),
                (vec![], 9),
            ]
        );
    }

    #[test]
    fn grouping_by_a_dimension_twice_is_a_user_error() {
        let err = response_summary(&dozen(), &[Dimension::Sex, Dimension::Sex], &Filter::default()).err();
        assert!(err.is_some_and(|e| e.is_user_error()));
    }
}
