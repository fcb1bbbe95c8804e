//! Monthly activity of the trial: referrals to screening, enrolments and treatment
//! starts per calendar month, with running totals, ready to be drawn as lines.
//!
//! Months are month numbers (`year * 12 + month0`, see [`crate::dimension::month_number`]
//! and [`crate::dimension::month_code`]). The series runs without gaps from the first to
//! the last month with any activity, and every split covers that same range, so the
//! lines of a chart share one axis and a quiet month is a visible zero rather than a
//! missing point.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::cells::{patients, sets, PatientSet};
use crate::dimension::{date_of_day, month_number, Dimension, Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::Snapshot;

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

/// One month of one split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyActivity {
    /// The month number (`year * 12 + month0`).
    pub month: i32,
    /// The split's key (as in the patient frame); `None` when not split, or for
    /// patients without a value of the split's dimension (e.g. the cohort of a patient
    /// who is not enrolled).
    pub split: Option<i32>,
    /// What happened in the month.
    pub count: Activity,
    /// What happened in the split from the first month of the series up to and
    /// including this one.
    pub cumulative: Activity,
}

/// The three events counted, each with the patient-frame column holding its day.
const EVENTS: [&str; 3] = ["referral_day", "enrolled_day", "treatment_start_day"];

/// Referrals, enrolments and treatment starts of the patients passing `filter`, per
/// month and, with `split`, per key of that dimension (region and cohort are the natural
/// ones), with cumulative sums within each split.
///
/// Each event is counted in the month it happened, so a patient referred in January and
/// enrolled in March adds a referral to January and an enrolment to March. Rows are
/// sorted by split (`None` first), then month; every split has a row for every month
/// from the first to the last month with activity in any split. No activity: no rows.
pub fn monthly_activity(
    snapshot: &Snapshot,
    split: Option<Dimension>,
    filter: &Filter,
) -> Result<Vec<MonthlyActivity>, AnalyticsError> {
    // A constant null split makes the unsplit series the same computation as a split one.
    let split_key = split.map_or_else(|| lit(NULL).cast(DataType::Int32), |d| col(d.column()));
    let selected = snapshot
        .patients
        .clone()
        .lazy()
        .filter(predicate(Population::Referred, filter))
        .select([col("patient_id"), split_key.alias("split"), col(EVENTS[0]), col(EVENTS[1]), col(EVENTS[2])])
        .collect()?;

    let mut per_month: BTreeMap<(Option<i32>, i32), Activity> = BTreeMap::new();
    for (event, day_column) in EVENTS.iter().enumerate() {
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

    let (Some(first), Some(last)) = (per_month.keys().map(|(_, m)| *m).min(), per_month.keys().map(|(_, m)| *m).max())
    else {
        return Ok(Vec::new());
    };
    let splits: BTreeSet<Option<i32>> = per_month.keys().map(|(s, _)| *s).collect();
    let months_per_split = usize::try_from(last - first + 1).unwrap_or(0);
    let mut rows = Vec::with_capacity(splits.len() * months_per_split);
    for split in splits {
        let mut cumulative = Activity::default();
        for month in first..=last {
            let count = per_month.remove(&(split, month)).unwrap_or_default();
            cumulative.add(&count);
            rows.push(MonthlyActivity { month, split, count, cumulative: cumulative.clone() });
        }
    }
    Ok(rows)
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

    fn activity(split: Option<Dimension>, filter: &Filter) -> Vec<MonthlyActivity> {
        monthly_activity(&snapshot(), split, filter).expect("activity")
    }

    /// `(month code, [referrals, enrolments, starts], [their cumulative sums])` per row.
    fn table(rows: &[MonthlyActivity]) -> Vec<(String, [u64; 3], [u64; 3])> {
        rows.iter().map(|r| (month_code(r.month), counts(&r.count), counts(&r.cumulative))).collect()
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
        assert_eq!(rows[0].month, 2023 * 12 + 11, "December 2023 is the first month");
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
        assert_eq!((month_code(last.month), counts(&last.cumulative)), ("2024-06".to_owned(), [3, 1, 1]));
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
    fn the_range_follows_the_filtered_patients() {
        let from = NaiveDate::from_ymd_opt(2024, 3, 1);
        let enrolled_in_march = Filter { enrolled: Some(DateRange { from, to: None }), ..Filter::default() };
        // Only patient 1: referred in January, enrolled and treated in March.
        assert_eq!(
            table(&activity(None, &enrolled_in_march)),
            expect(&[
                ("2024-01", [1, 0, 0], [1, 0, 0]),
                ("2024-02", [0, 0, 0], [1, 0, 0]),
                ("2024-03", [0, 1, 1], [1, 1, 1]),
            ])
        );
    }

    #[test]
    fn no_patients_give_no_months() {
        let no_one = Filter { keys: vec![(Dimension::Region, vec![])], ..Filter::default() };
        assert!(activity(None, &no_one).is_empty());
        assert!(activity(Some(Dimension::Region), &no_one).is_empty());
    }
}
