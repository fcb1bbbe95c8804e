//! Survival curves: progression-free and overall survival as Kaplan–Meier estimates,
//! overall or per group, with the summaries a report prints (median with its interval,
//! landmark survival, numbers at risk).
//!
//! PFS is over treated patients. OS is over treated patients too, unless the curves
//! compare the registry's treatment groups (treated, matched but not treated, not
//! matched); then it is over every reviewed patient, each from their own origin (see
//! [`crate::snapshot`]). Times are reported in months of 30.4375 days (a year / 12).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::cells::PatientSet;
use crate::dimension::{Dimension, Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::{Snapshot, MATCHED_NOT_TREATED, NOT_MATCHED, TREATED};
use crate::stats::{kaplan_meier, KaplanMeier, StatsError};
pub use crate::stats::{KaplanMeierRow, MedianSurvival, SurvivalAt};

/// Days per month: the mean month of the Gregorian calendar.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Months at which landmark survival is reported.
pub const LANDMARK_MONTHS: [f64; 2] = [6.0, 12.0];

/// Months at which numbers at risk are reported.
pub const AT_RISK_MONTHS: [f64; 7] = [0.0, 3.0, 6.0, 9.0, 12.0, 18.0, 24.0];

/// The times, in months, of the life table a curve is published as from counts alone
/// (under the cell-key method): fixed, so that neither the number of rows nor their
/// times say anything about the patients.
pub const LIFE_TABLE_MONTHS: [f64; 12] = [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 24.0, 30.0, 36.0, 48.0, 60.0];

/// A time-to-event endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Progression-free survival: treatment start to the first PD or death.
    Pfs,
    /// Overall survival: treatment start (or tumour board review) to death.
    Os,
}

impl Endpoint {
    /// Patient-frame columns of the time in days and the event flag.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Endpoint::Pfs => ("pfs_days", "pfs_event"),
            Endpoint::Os => ("os_days", "os_event"),
        }
    }
}

/// The registry's comparison groups, keyed as in the snapshot's `treatment_group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreatmentGroup {
    /// Started study treatment.
    Treated,
    /// Matched to a cohort by the tumour board, never treated in it.
    MatchedNotTreated,
    /// Reviewed by the tumour board without a cohort match.
    NotMatched,
}

impl TreatmentGroup {
    /// Every group, in key order.
    pub const ALL: [TreatmentGroup; 3] =
        [TreatmentGroup::Treated, TreatmentGroup::MatchedNotTreated, TreatmentGroup::NotMatched];

    /// The group's key in the `treatment_group` column and in [`SurvivalCurve::key`].
    pub fn key(self) -> i32 {
        match self {
            TreatmentGroup::Treated => TREATED,
            TreatmentGroup::MatchedNotTreated => MATCHED_NOT_TREATED,
            TreatmentGroup::NotMatched => NOT_MATCHED,
        }
    }

    /// The group of a key.
    pub fn of_key(key: i32) -> Option<TreatmentGroup> {
        Self::ALL.into_iter().find(|g| g.key() == key)
    }
}

/// How survival curves are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurvivalGrouping {
    /// One curve per key of a dimension (non-empty groups only).
    Dimension(Dimension),
    /// One curve per treatment group, always all three, over every reviewed patient.
    TreatmentGroup,
}

/// Survival read at a landmark time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmark {
    /// The landmark, in months.
    pub months: f64,
    /// S(months) with its 95% band; `None` when the curve is not estimated that far (no
    /// patient, or follow-up ended before it while survival was still above 0).
    pub survival: Option<SurvivalAt>,
}

/// The number of patients at risk at a time, as printed under a survival plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtRisk {
    /// The time, in whole months.
    pub months: u32,
    /// Patients whose time is at or after it.
    pub patients: u64,
}

/// One Kaplan–Meier curve and its summaries; times in months.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalCurve {
    /// The group's key (a dimension key or a [`TreatmentGroup::key`]); `None` for the
    /// ungrouped curve and for patients without a value of the grouping dimension.
    pub key: Option<i32>,
    /// Patients in the curve.
    pub patients: PatientSet,
    /// Patients with an event.
    pub events: PatientSet,
    /// The step table (empty without patients).
    pub table: Vec<KaplanMeierRow>,
    /// Median with its 95% interval.
    pub median: MedianSurvival,
    /// Survival at [`LANDMARK_MONTHS`].
    pub landmarks: Vec<Landmark>,
    /// Numbers at risk at [`AT_RISK_MONTHS`].
    pub at_risk: Vec<AtRisk>,
    /// The patients at risk at each time of [`LIFE_TABLE_MONTHS`] (their time is at or
    /// after it).
    pub at_risk_on_grid: Vec<PatientSet>,
    /// The patients with an event between two times of [`LIFE_TABLE_MONTHS`] (at or
    /// after the one, before the other): `events_between[i][j − i − 1]` for grid times
    /// `i < j`, every run of consecutive intervals a life table may merge.
    pub events_between: Vec<Vec<PatientSet>>,
}

/// Kaplan–Meier curves of `endpoint` over the patients passing `filter`, times coarsened
/// to the end of their `time_bin_months` bin when given: one curve when
/// `group_by` is `None` (present even without patients), otherwise one per group as
/// [`SurvivalGrouping`] describes, in key order (`None` first).
///
/// # Errors
///
/// [`AnalyticsError::InvalidArgument`] when PFS is asked for by treatment group (only
/// treated patients have PFS, so the comparison has nothing to compare).
pub fn survival(
    snapshot: &Snapshot,
    endpoint: Endpoint,
    group_by: Option<SurvivalGrouping>,
    filter: &Filter,
    time_bin_months: Option<f64>,
) -> Result<Vec<SurvivalCurve>, AnalyticsError> {
    let (selection, key) = match group_by {
        None => (predicate(Population::Treated, filter), lit(NULL).cast(DataType::Int32)),
        Some(SurvivalGrouping::Dimension(d)) => (predicate(Population::Treated, filter), col(d.column())),
        Some(SurvivalGrouping::TreatmentGroup) if endpoint == Endpoint::Pfs => {
            return Err(AnalyticsError::InvalidArgument(
                "progression-free survival exists for treated patients only; compare treatment groups on \
                 overall survival"
                    .into(),
            ))
        }
        Some(SurvivalGrouping::TreatmentGroup) => {
            (predicate(Population::Referred, filter).and(col("treatment_group").is_not_null()), col("treatment_group"))
        }
    };
    let (days, event) = endpoint.columns();
    let rows = snapshot
        .patients
        .clone()
        .lazy()
        .filter(selection.and(col(days).is_not_null()))
        .select([
            col("patient_id"),
            key.alias("key"),
            col(days).alias("days"),
            col(event).fill_null(lit(false)).alias("event"),
        ])
        .collect()?;
    let patients = rows.column("patient_id")?.i32()?;
    let keys = rows.column("key")?.i32()?;
    let times = rows.column("days")?.i32()?;
    let events = rows.column("event")?.bool()?;

    let mut groups: BTreeMap<Option<i32>, Subjects> = BTreeMap::new();
    match group_by {
        None => {
            groups.insert(None, Default::default());
        }
        Some(SurvivalGrouping::TreatmentGroup) => {
            groups.extend(TreatmentGroup::ALL.map(|g| (Some(g.key()), Default::default())));
        }
        Some(SurvivalGrouping::Dimension(_)) => {}
    }
    let bin = time_bin_months.filter(|b| *b > 0.0);
    for row in 0..rows.height() {
        let (Some(days), Some(patient)) = (times.get(row), patients.get(row).and_then(|p| u32::try_from(p).ok()))
        else {
            continue;
        };
        let group = groups.entry(keys.get(row)).or_default();
        let months = f64::from(days) / DAYS_PER_MONTH;
        // Coarsened: the end of the bin the time falls in, so no step is one patient's day.
        group.times.push(bin.map_or(months, |b| (months / b).ceil() * b));
        let event = events.get(row).unwrap_or(false);
        group.events.push(event);
        group.patients.push(patient);
    }
    groups.into_iter().map(|(key, subjects)| curve(key, &subjects)).collect()
}

/// The subjects of one curve: time (months), event flag and patient, row by row.
#[derive(Default)]
struct Subjects {
    times: Vec<f64>,
    events: Vec<bool>,
    patients: Vec<u32>,
}

/// The curve of one group; an empty group has an empty table and no estimates.
fn curve(key: Option<i32>, subjects: &Subjects) -> Result<SurvivalCurve, AnalyticsError> {
    let fitted = match kaplan_meier(&subjects.times, &subjects.events) {
        Ok(fitted) => Some(fitted),
        Err(StatsError::Empty) => None,
        // Times are non-negative day counts divided by a constant: any other failure is a
        // fault of the snapshot, not of the question.
        Err(e) => return Err(AnalyticsError::Compute(PolarsError::ComputeError(e.to_string().into()))),
    };
    let (at_risk_on_grid, events_between) = on_grid(subjects);
    let Some(km) = fitted else {
        return Ok(SurvivalCurve {
            key,
            patients: PatientSet::empty(),
            events: PatientSet::empty(),
            table: Vec::new(),
            median: MedianSurvival { median: None, lower: None, upper: None },
            landmarks: LANDMARK_MONTHS.map(|months| Landmark { months, survival: None }).to_vec(),
            at_risk: AT_RISK_MONTHS.map(|months| AtRisk { months: months as u32, patients: 0 }).to_vec(),
            at_risk_on_grid,
            events_between,
        });
    };
    let landmarks = LANDMARK_MONTHS.iter().map(|&months| landmark(&km, months)).collect::<Result<_, _>>()?;
    let at_risk = AT_RISK_MONTHS
        .iter()
        .map(|&months| Ok(AtRisk { months: months as u32, patients: km.at_risk_at(months).map_err(stats_fault)? }))
        .collect::<Result<_, AnalyticsError>>()?;
    let with_event = subjects.patients.iter().zip(&subjects.events).filter(|(_, e)| **e).map(|(p, _)| *p);
    Ok(SurvivalCurve {
        key,
        patients: subjects.patients.iter().copied().collect(),
        events: with_event.collect(),
        table: km.rows().to_vec(),
        median: km.median_with_interval(),
        landmarks,
        at_risk,
        at_risk_on_grid,
        events_between,
    })
}

/// The patients at risk at each time of [`LIFE_TABLE_MONTHS`], and those with an event
/// between any two of them (see [`SurvivalCurve::events_between`]).
fn on_grid(subjects: &Subjects) -> (Vec<PatientSet>, Vec<Vec<PatientSet>>) {
    let who = |keep: &dyn Fn(f64, bool) -> bool| -> PatientSet {
        let rows = subjects.times.iter().zip(&subjects.events).zip(&subjects.patients);
        rows.filter(|((time, event), _)| keep(**time, **event)).map(|(_, patient)| *patient).collect()
    };
    let at_risk = LIFE_TABLE_MONTHS.iter().map(|&from| who(&|time, _| time >= from)).collect();
    let between: Vec<PatientSet> =
        LIFE_TABLE_MONTHS.windows(2).map(|w| who(&|time, event| event && time >= w[0] && time < w[1])).collect();
    let events = (0..between.len())
        .map(|from| {
            let mut run = PatientSet::empty();
            between[from..]
                .iter()
                .map(|interval| {
                    run = run.union(interval);
                    run.clone()
                })
                .collect()
        })
        .collect();
    (at_risk, events)
}

/// Survival at `months`, unless follow-up ended before it with survival still above 0
/// (the value would be a carried-forward guess; once the curve is at 0 it stays there).
fn landmark(km: &KaplanMeier, months: f64) -> Result<Landmark, AnalyticsError> {
    let read = km.survival_at(months).map_err(stats_fault)?;
    let followed = km.at_risk_at(months).map_err(stats_fault)? > 0;
    let survival = (followed || read.survival <= 0.0).then_some(read);
    Ok(Landmark { months, survival })
}

/// A statistics failure on input the snapshot produced: a computation fault.
fn stats_fault(e: StatsError) -> AnalyticsError {
    AnalyticsError::Compute(PolarsError::ComputeError(e.to_string().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{dozen, Trial};
    use consortium_entity::{AlterationClass, CohortStatus};

    const M: f64 = DAYS_PER_MONTH;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn one(curves: Vec<SurvivalCurve>) -> SurvivalCurve {
        assert_eq!(curves.len(), 1, "{curves:?}");
        curves.into_iter().next().expect("one curve")
    }

    #[test]
    fn progression_free_survival_of_the_treated_steps_as_computed_by_hand() {
        // Days: 0 c (12), 42 c (5), 56 e ×3 (3, 7, 13), 60 e (4), 133 e (6), 168 e (1) and c (2).
        let c = one(survival(&dozen(), Endpoint::Pfs, None, &Filter::default(), None).expect("curve"));
        assert_eq!((c.key, c.patients.count(), c.events.count()), (None, 9, 6));
        let steps: Vec<(f64, u64, u64, u64)> =
            c.table.iter().map(|r| (r.time * M, r.at_risk, r.events, r.censored)).collect();
        let expected =
            [(0.0, 9, 0, 1), (42.0, 8, 0, 1), (56.0, 7, 3, 0), (60.0, 4, 1, 0), (133.0, 3, 1, 0), (168.0, 2, 1, 1)];
        assert_eq!(steps.len(), expected.len());
        for (got, want) in steps.iter().zip(expected) {
            assert!(close(got.0, want.0) && (got.1, got.2, got.3) == (want.1, want.2, want.3), "{got:?} vs {want:?}");
        }
        let survival: Vec<f64> = c.table.iter().map(|r| r.survival).collect();
        for (got, want) in survival.iter().zip([1.0, 1.0, 4.0 / 7.0, 3.0 / 7.0, 2.0 / 7.0, 1.0 / 7.0]) {
            assert!(close(*got, want), "{survival:?}");
        }
        // S first falls to 0.5 or below at day 60.
        assert!(c.median.median.is_some_and(|m| close(m, 60.0 / M)));
        let at_risk: Vec<u64> = c.at_risk.iter().map(|a| a.patients).collect();
        // At 3 months (91.3 days): 133, 168, 168.
        assert_eq!(at_risk, vec![9, 3, 0, 0, 0, 0, 0]);
        // Follow-up ends at 5.5 months with survival 1/7: the landmarks are not estimated.
        assert_eq!(c.landmarks.iter().map(|l| l.survival).collect::<Vec<_>>(), vec![None, None]);
    }

    #[test]
    fn an_event_and_a_censoring_at_the_same_time_keep_the_censored_patient_at_risk() {
        // OS of the treated: patient 1 censored and patient 6 dead, both at day 300.
        let c = one(survival(&dozen(), Endpoint::Os, None, &Filter::default(), None).expect("curve"));
        let tie = c.table.iter().find(|r| close(r.time * M, 300.0)).expect("a step at day 300");
        // At risk at 300: patients 1, 6 and 2 (400).
        assert_eq!((tie.at_risk, tie.events, tie.censored), (3, 1, 1));
        let before = c.table.iter().rev().find(|r| r.time < tie.time).expect("earlier steps").survival;
        assert!(close(tie.survival, before * 2.0 / 3.0));
        // Events: 3 (day 90), 4 (60), 6 (300).
        assert_eq!((c.patients.count(), c.events.count()), (9, 3));
    }

    #[test]
    fn overall_survival_by_treatment_group_covers_every_reviewed_patient() {
        let filter = Filter::default();
        let curves =
            survival(&dozen(), Endpoint::Os, Some(SurvivalGrouping::TreatmentGroup), &filter, None).expect("curves");
        let keys: Vec<_> = curves.iter().map(|c| (c.key, c.patients.count(), c.events.count())).collect();
        // Treated: 9 (3 deaths); matched not treated: 8 (died 250 days after review), 9;
        // not matched: 10. Patient 11 was never reviewed.
        assert_eq!(keys, vec![(Some(0), 9, 3), (Some(1), 2, 1), (Some(2), 1, 1)]);
        // Group 1: S = 1/2 at 250 days, exactly the median.
        assert!(curves[1].median.median.is_some_and(|m| close(m, 250.0 / M)));
        // Group 2: its only patient died at 100 days; survival is 0 and known after it.
        let lone = &curves[2];
        assert!(lone.median.median.is_some_and(|m| close(m, 100.0 / M)));
        let at_six = lone.landmarks[0].survival.expect("known to be 0");
        assert_eq!((at_six.survival, at_six.lower, at_six.upper), (0.0, 0.0, 0.0));
        assert_eq!(TreatmentGroup::of_key(curves[1].key.unwrap_or(-1)), Some(TreatmentGroup::MatchedNotTreated));
    }

    #[test]
    fn a_group_without_events_has_no_median() {
        // OS by cohort: cohort 3's only patient (13) is alive at 200 days.
        let by_cohort = Some(SurvivalGrouping::Dimension(Dimension::Cohort));
        let curves = survival(&dozen(), Endpoint::Os, by_cohort, &Filter::default(), None).expect("curves");
        assert_eq!(curves.iter().map(|c| c.key).collect::<Vec<_>>(), vec![Some(1), Some(2), Some(3)]);
        let c3 = &curves[2];
        assert_eq!((c3.patients.count(), c3.events.count()), (1, 0));
        assert_eq!(c3.median, MedianSurvival { median: None, lower: None, upper: None });
        // Followed 6.6 months: survival at 6 months is 1 with the band [1, 1].
        let six = c3.landmarks[0].survival.expect("followed past 6 months");
        assert_eq!((six.survival, six.lower, six.upper), (1.0, 1.0, 1.0));
        assert_eq!(c3.landmarks[1].survival, None);
    }

    #[test]
    fn a_curve_where_everyone_is_censored_at_the_start_stays_at_one() {
        // Enrolled in 2024: patient 12, treated, never assessed, no follow-up.
        let filter = Filter { keys: vec![(Dimension::EnrolmentYear, vec![2024])], ..Filter::default() };
        for endpoint in [Endpoint::Pfs, Endpoint::Os] {
            let c = one(survival(&dozen(), endpoint, None, &filter, None).expect("curve"));
            assert_eq!((c.patients.count(), c.events.count()), (1, 0));
            assert_eq!(c.table.len(), 1);
            assert_eq!((c.table[0].time, c.table[0].survival, c.table[0].censored), (0.0, 1.0, 1));
            assert_eq!(c.median.median, None);
            assert_eq!(c.at_risk[0].patients, 1);
            assert_eq!(c.at_risk[1].patients, 0);
        }
    }

    #[test]
    fn an_empty_selection_gives_an_empty_curve_and_empty_treatment_groups_are_kept() {
        let nobody = Filter { keys: vec![(Dimension::Cohort, vec![99])], ..Filter::default() };
        let c = one(survival(&dozen(), Endpoint::Pfs, None, &nobody, None).expect("curve"));
        assert_eq!((c.patients.count(), c.events.count(), c.table.len(), c.median.median), (0, 0, 0, None));
        assert!(c.landmarks.iter().all(|l| l.survival.is_none()));
        assert!(c.at_risk.iter().all(|a| a.patients == 0));
        let by_dimension = Some(SurvivalGrouping::Dimension(Dimension::Cohort));
        assert!(survival(&dozen(), Endpoint::Pfs, by_dimension, &nobody, None).expect("curves").is_empty());
        // The men (2 and 6) are both treated: the other two groups are present and empty.
        let men = Filter { keys: vec![(Dimension::Sex, vec![1])], ..Filter::default() };
        let groups =
            survival(&dozen(), Endpoint::Os, Some(SurvivalGrouping::TreatmentGroup), &men, None).expect("curves");
        assert_eq!(
            groups.iter().map(|c| (c.key, c.patients.count())).collect::<Vec<_>>(),
            vec![(Some(0), 2), (Some(1), 0), (Some(2), 0)]
        );
    }

    #[test]
    fn progression_free_survival_by_treatment_group_is_refused() {
        let err =
            survival(&dozen(), Endpoint::Pfs, Some(SurvivalGrouping::TreatmentGroup), &Filter::default(), None).err();
        assert!(err.is_some_and(|e| e.is_user_error()));
    }

    #[test]
    fn the_grid_holds_the_patients_at_risk_and_every_run_of_intervals_their_events() {
        // As above: events on days 56 (×3), 60 (months 1.8–2.0), 133 and 168 (4.4, 5.5).
        let c = one(survival(&dozen(), Endpoint::Pfs, None, &Filter::default(), None).expect("curve"));
        let counts = |sets: &[PatientSet]| sets.iter().map(PatientSet::count).collect::<Vec<_>>();
        assert_eq!(counts(&c.at_risk_on_grid)[..3], [9, 3, 0]);
        assert_eq!(c.events_between.len(), LIFE_TABLE_MONTHS.len() - 1);
        assert_eq!(counts(&c.events_between[0])[..3], [4, 6, 6], "0–3, 0–6, 0–9 months");
        assert_eq!(counts(&c.events_between[1])[..2], [2, 2], "3–6, 3–9 months");
        assert_eq!(c.events_between[0][1], c.events_between[0][0].union(&c.events_between[1][0]));
        assert!(c
            .events_between
            .iter()
            .enumerate()
            .all(|(from, runs)| runs.len() == LIFE_TABLE_MONTHS.len() - 1 - from));
    }

    #[test]
    fn landmarks_inside_follow_up_read_the_curve_with_its_band() {
        // Ten treated patients: one progression at month 3, the rest censored at 13.
        let mut t = Trial::new().cohort(1, "BRAF", AlterationClass::Mutation, 1, [0, 8, 4, 24], CohortStatus::Stage1);
        for p in 1..=10 {
            t = t.treated(p, 1, 0);
            t = if p == 1 {
                t.assess(p, 13, consortium_entity::OverallResponse::Pd)
            } else {
                t.assess(p, 57, consortium_entity::OverallResponse::Sd)
            };
        }
        let c = one(survival(&t.build(), Endpoint::Pfs, None, &Filter::default(), None).expect("curve"));
        for landmark in &c.landmarks {
            let s = landmark.survival.expect("followed past the landmark");
            assert!(close(s.survival, 0.9), "{s:?}");
            assert!(s.lower < 0.9 && s.upper > 0.9 && s.upper < 1.0);
        }
        assert_eq!(c.at_risk.iter().map(|a| a.patients).collect::<Vec<_>>(), vec![10, 9, 9, 9, 9, 0, 0]);
    }
}
