//! The activity of the trial over time: referrals to screening, enrolments and
//! treatment starts per calendar month, quarter or year, with running totals, ready to
//! be drawn as lines.
//!
//! Months are month numbers (`year * 12 + month0`, see [`crate::dimension::month_number`]
//! and [`crate::dimension::month_code`]); a quarter or a year is known by its first
//! month. Every series runs without gaps over the months the whole trial has run
//! ([`crate::Catalogue::trial_months`]), whoever it counts, and every split covers that same range, so the
//! lines of a chart share one axis, a quiet period is a visible zero rather than a
//! missing point, and where a series starts tells nothing about its patients.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::cells::{patients, sets, PatientSet};
use crate::dimension::{date_of_day, month_number, Dimension, Filter, Interval, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::{Snapshot, EVENT_DAYS};

/// Referrals, enrolments and treatment starts: in one month, or summed up to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Activity {
    /// Patients referred to molecular profiling (screening).
    pub referrals: PatientSet,
    /// Patients enrolled in a cohort.
    pub enrolments: PatientSet,
    /// Patients who started study treatment.
    pub treatment_starts: PatientSet,
}

impl Activity {
    /// Adds another month's patients to these.
    fn add(&mut self, other: &Activity) {
        self.referrals = self.referrals.union(&other.referrals);
        self.enrolments = self.enrolments.union(&other.enrolments);
        self.treatment_starts = self.treatment_starts.union(&other.treatment_starts);
    }

    /// The set of event `index` (referrals, enrolments, treatment starts).
    fn event_mut(&mut self, index: usize) -> &mut PatientSet {
        match index {
            0 => &mut self.referrals,
            1 => &mut self.enrolments,
            _ => &mut self.treatment_starts,
        }
    }
}

/// One period of one split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodActivity {
    /// The period's first month (a month number, `year * 12 + month0`).
    pub start: i32,
    /// The split's key (as in the patient frame); `None` when not split, or for
    /// patients without a value of the split's dimension (e.g. the cohort of a patient
    /// who is not enrolled).
    pub split: Option<i32>,
    /// What happened in the period.
    pub count: Activity,
    /// What happened in the split from the first period of the series up to and
    /// including this one.
    pub cumulative: Activity,
}

/// Referrals, enrolments and treatment starts of the patients passing `filter`, per
/// period of each of `intervals` (one series per interval, in that order) and, with
/// `split`, per key of that dimension (region and cohort are the natural ones), with
/// cumulative sums within each split.
///
/// Each event is counted in the period it happened, so a patient referred in January
/// and enrolled in March adds a referral to January and an enrolment to March. Rows are
/// sorted by split (`None` first), then period; every split has a row for every period
/// of the trial's months ([`Catalogue::trial_months`](crate::Catalogue)), whoever the
/// filter keeps. No activity: no rows.
pub fn activity(
    snapshot: &Snapshot,
    split: Option<Dimension>,
    filter: &Filter,
    intervals: &[Interval],
) -> Result<Vec<Vec<PeriodActivity>>, AnalyticsError> {
    // A constant null split makes the unsplit series the same computation as a split one.
    let split_key = split.map_or_else(|| lit(NULL).cast(DataType::Int32), |d| col(d.column()));
    let selected = snapshot
        .patients
        .clone()
        .lazy()
        .filter(predicate(Population::Referred, filter))
        .select([
            col("patient_id"),
            split_key.alias("split"),
            col(EVENT_DAYS[0]),
            col(EVENT_DAYS[1]),
            col(EVENT_DAYS[2]),
        ])
        .collect()?;

    let mut per_month: BTreeMap<(Option<i32>, i32), Activity> = BTreeMap::new();
    for (event, day_column) in EVENT_DAYS.iter().enumerate() {
        // Polars reduces the patients to counts per split and day; the calendar month of
        // each distinct day is then found with chrono (the build has no polars temporal
        // support), which is cheap because there are only a few thousand distinct days.
        let out = selected
            .clone()
            .lazy()
            .filter(col(*day_column).is_not_null())
            .group_by([col("split"), col(*day_column)])
            .agg([patients("patients")])
            .collect()?;
        let (splits, days, patients) =
            (out.column("split")?.i32()?, out.column(day_column)?.i32()?, sets(&out, "patients")?);
        for (row, patients) in patients.iter().enumerate() {
            let Some(day) = days.get(row) else { continue };
            let month = date_of_day(day).map(month_number).ok_or_else(|| {
                PolarsError::ComputeError(format!("{day_column} {day} is not a calendar date").into())
            })?;
            let slot = per_month.entry((splits.get(row), month)).or_default().event_mut(event);
            *slot = slot.union(patients);
        }
    }
    let splits: BTreeSet<Option<i32>> = per_month.keys().map(|(s, _)| *s).collect();
    let months = snapshot.catalogue.trial_months;
    Ok(intervals.iter().map(|interval| series(&per_month, &splits, months, *interval)).collect())
}

/// The series of `interval`'s periods over the trial's `months`, per split.
fn series(
    per_month: &BTreeMap<(Option<i32>, i32), Activity>,
    splits: &BTreeSet<Option<i32>>,
    months: Option<(i32, i32)>,
    interval: Interval,
) -> Vec<PeriodActivity> {
    let Some((first, last)) = months else { return Vec::new() };
    let (first, last) = (interval.start(first), interval.start(last));
    let mut rows = Vec::new();
    for split in splits {
        let mut cumulative = Activity::default();
        for start in (first..=last).step_by(interval.months() as usize) {
            let mut count = Activity::default();
            for (_, month_count) in per_month.range((*split, start)..(*split, start + interval.months())) {
                count.add(month_count);
            }
            cumulative.add(&count);
            rows.push(PeriodActivity { start, split: *split, count, cumulative: cumulative.clone() });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dimension::{day_number, month_code, DateRange};
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> i32 {
        day_number(NaiveDate::from_ymd_opt(y, m, d).expect("valid date"))
    }

    /// Five patients in two regions, referred from December 2023 to June 2024; two of
    /// them enrolled and treated; no activity at all in May 2024.
    fn snapshot() -> Snapshot {
        let enrolled = [Some(day(2024, 3, 2)), None, Some(day(2024, 2, 25)), None, None];
        let patients = df!(
            "patient_id" => [1, 2, 3, 4, 5],
            "region" => [0, 0, 1, 1, 0],
            "cohort" => [Some(7), None, Some(8), None, None],
            "referral_day" => [day(2024, 1, 15), day(2024, 1, 31), day(2024, 2, 10), day(2024, 6, 5), day(2023, 12, 31)],
            "enrolled" => enrolled.map(|d| d.is_some()),
            "enrolled_day" => enrolled,
            "treated" => [true, false, true, false, false],
            "treatment_start_day" => [Some(day(2024, 3, 20)), None, Some(day(2024, 4, 1)), None, None],
        )
        .expect("patients");
        crate::fixture::frames(patients)
    }

    fn activity_by(split: Option<Dimension>, filter: &Filter, interval: Interval) -> Vec<PeriodActivity> {
        let mut series = super::activity(&snapshot(), split, filter, &[interval]).expect("activity");
        series.pop().expect("one series")
    }

    fn activity(split: Option<Dimension>, filter: &Filter) -> Vec<PeriodActivity> {
        activity_by(split, filter, Interval::Month)
    }

    /// `(period code, [referrals, enrolments, starts], [their cumulative sums])` per row.
    fn table_by(rows: &[PeriodActivity], interval: Interval) -> Vec<(String, [u64; 3], [u64; 3])> {
        rows.iter().map(|r| (interval.code(r.start), counts(&r.count), counts(&r.cumulative))).collect()
    }

    fn table(rows: &[PeriodActivity]) -> Vec<(String, [u64; 3], [u64; 3])> {
        table_by(rows, Interval::Month)
    }

    fn counts(a: &Activity) -> [u64; 3] {
        [a.referrals.count(), a.enrolments.count(), a.treatment_starts.count()]
    }

    fn expect(rows: &[(&str, [u64; 3], [u64; 3])]) -> Vec<(String, [u64; 3], [u64; 3])> {
        rows.iter().map(|(m, c, s)| ((*m).to_owned(), *c, *s)).collect()
    }

    #[test]
    fn months_run_without_gaps_and_accumulate() {
        let rows = activity(None, &Filter::default());
        assert!(rows.iter().all(|r| r.split.is_none()));
        assert_eq!(rows[0].start, 2023 * 12 + 11, "December 2023 is the first month");
        assert_eq!(
            table(&rows),
            expect(&[
                ("2023-12", [1, 0, 0], [1, 0, 0]),
                ("2024-01", [2, 0, 0], [3, 0, 0]),
                ("2024-02", [1, 1, 0], [4, 1, 0]),
                ("2024-03", [0, 1, 1], [4, 2, 1]),
                ("2024-04", [0, 0, 1], [4, 2, 2]),
                ("2024-05", [0, 0, 0], [4, 2, 2]),
                ("2024-06", [1, 0, 0], [5, 2, 2]),
            ])
        );
    }

    #[test]
    fn every_split_covers_the_whole_range_with_its_own_running_totals() {
        let rows = activity(Some(Dimension::Region), &Filter::default());
        assert_eq!(rows.len(), 14, "two regions × seven months");
        let (region_0, region_1): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.split == Some(0));
        assert_eq!(
            table(&region_1),
            expect(&[
                ("2023-12", [0, 0, 0], [0, 0, 0]),
                ("2024-01", [0, 0, 0], [0, 0, 0]),
                ("2024-02", [1, 1, 0], [1, 1, 0]),
                ("2024-03", [0, 0, 0], [1, 1, 0]),
                ("2024-04", [0, 0, 1], [1, 1, 1]),
                ("2024-05", [0, 0, 0], [1, 1, 1]),
                ("2024-06", [1, 0, 0], [2, 1, 1]),
            ])
        );
        let last = region_0.last().expect("rows");
        assert_eq!((month_code(last.start), counts(&last.cumulative)), ("2024-06".to_owned(), [3, 1, 1]));
    }

    #[test]
    fn patients_without_a_value_of_the_split_form_their_own_line() {
        let rows = activity(Some(Dimension::Cohort), &Filter::default());
        let splits: BTreeSet<Option<i32>> = rows.iter().map(|r| r.split).collect();
        assert_eq!(splits.into_iter().collect::<Vec<_>>(), [None, Some(7), Some(8)]);
        let unenrolled = rows.iter().rfind(|r| r.split.is_none()).expect("rows");
        assert_eq!(counts(&unenrolled.cumulative), [3, 0, 0]);
    }

    #[test]
    fn the_range_is_the_trials_whoever_the_filter_keeps() {
        let from = NaiveDate::from_ymd_opt(2024, 3, 1);
        let enrolled_in_march = Filter { enrolled: Some(DateRange { from, to: None }), ..Filter::default() };
        // Only patient 1: referred in January, enrolled and treated in March; the series
        // still runs from the trial's first month to its last.
        assert_eq!(
            table(&activity(None, &enrolled_in_march)),
            expect(&[
                ("2023-12", [0, 0, 0], [0, 0, 0]),
                ("2024-01", [1, 0, 0], [1, 0, 0]),
                ("2024-02", [0, 0, 0], [1, 0, 0]),
                ("2024-03", [0, 1, 1], [1, 1, 1]),
                ("2024-04", [0, 0, 0], [1, 1, 1]),
                ("2024-05", [0, 0, 0], [1, 1, 1]),
                ("2024-06", [0, 0, 0], [1, 1, 1]),
            ])
        );
    }

    #[test]
    fn quarters_and_years_add_up_their_months() {
        assert_eq!(
            table_by(&activity_by(None, &Filter::default(), Interval::Quarter), Interval::Quarter),
            expect(&[
                ("2023-Q4", [1, 0, 0], [1, 0, 0]),
                ("2024-Q1", [3, 2, 1], [4, 2, 1]),
                ("2024-Q2", [1, 0, 1], [5, 2, 2]),
            ])
        );
        let years = activity_by(Some(Dimension::Region), &Filter::default(), Interval::Year);
        assert_eq!(
            table_by(&years, Interval::Year),
            expect(&[
                ("2023", [1, 0, 0], [1, 0, 0]),
                ("2024", [2, 1, 1], [3, 1, 1]),
                ("2023", [0, 0, 0], [0, 0, 0]),
                ("2024", [2, 1, 1], [2, 1, 1]),
            ])
        );
        // The same patients however the months are cut.
        let months = activity(None, &Filter::default());
        let quarters = activity_by(None, &Filter::default(), Interval::Quarter);
        assert_eq!(months.last().map(|r| &r.cumulative), quarters.last().map(|r| &r.cumulative));
    }

    #[test]
    fn periods_are_calendar_periods() {
        let march_2024 = 2024 * 12 + 2;
        assert_eq!(Interval::Quarter.start(march_2024), 2024 * 12);
        assert_eq!(Interval::Year.start(2024 * 12 + 11), 2024 * 12);
        assert_eq!(Interval::Month.start(march_2024), march_2024);
        let codes: Vec<String> = Interval::ALL.iter().map(|i| i.code(i.start(2024 * 12 + 10))).collect();
        assert_eq!(codes, ["2024-11", "2024-Q4", "2024"]);
        let december_to_june = Some((2023 * 12 + 11, 2024 * 12 + 5));
        let periods: Vec<usize> = Interval::ALL.iter().map(|i| i.periods(december_to_june)).collect();
        assert_eq!(periods, [7, 3, 2]);
    }

    #[test]
    fn no_patients_give_no_months() {
        let no_one = Filter { keys: vec![(Dimension::Region, vec![])], ..Filter::default() };
        assert!(activity(None, &no_one).is_empty());
        assert!(activity(Some(Dimension::Region), &no_one).is_empty());
        let nobody = crate::fixture::frames(snapshot().patients.head(Some(0)));
        assert_eq!(nobody.catalogue.trial_months, None);
        assert_eq!(super::activity(&nobody, None, &Filter::default(), &Interval::ALL).expect("activity"), [[], [], []]);
    }
}
