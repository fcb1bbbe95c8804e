//! The shared vocabulary of questions: the dimensions a count can be grouped or
//! filtered by, the funnel populations it can count, and date ranges.
//!
//! Every dimension is one single-valued column of the snapshot's patient frame,
//! holding a small integer key (an id or an enum position); the [`crate::Catalogue`]
//! turns keys into stable codes and labels and back. Because each patient has exactly
//! one value (or none) per dimension, the groups of any grouping add up to the total.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::AnalyticsError;

/// A dimension to group or filter patients by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Dimension {
    /// The cohort the patient is enrolled in (none if not enrolled).
    Cohort,
    /// The study drug of that cohort.
    Drug,
    /// The industry partner supplying that drug.
    Supplier,
    /// Tumour type (OncoTree code) from the molecular profile.
    TumourType,
    /// The patient's primary alteration gene: the cohort's target gene when enrolled,
    /// otherwise the gene of the best-tier actionable variant (none if no actionable one).
    Gene,
    /// The class of the patient's primary alteration: the cohort's alteration class when
    /// enrolled, otherwise the class of the best-tier actionable variant (none if no
    /// actionable one). Keys are positions in `AlterationClass::all()`.
    AlterationClass,
    /// The patient's site: the treating site when enrolled, otherwise the referring one.
    Site,
    /// The patient's health region of residence.
    Region,
    /// Calendar month of enrolment (`YYYY-MM`).
    EnrolmentMonth,
    /// Calendar year of enrolment, the reporting period (`2024`); the key is the year.
    EnrolmentYear,
    /// The stage of the cohort the patient entered.
    CohortStage,
    /// Sex.
    Sex,
    /// Age at referral, in bands (`18-39`, `40-49` … `80+`).
    AgeBand,
}

impl Dimension {
    /// Every dimension, in canonical order.
    pub const ALL: [Dimension; 13] = [
        Dimension::Cohort,
        Dimension::Drug,
        Dimension::Supplier,
        Dimension::TumourType,
        Dimension::Gene,
        Dimension::AlterationClass,
        Dimension::Site,
        Dimension::Region,
        Dimension::EnrolmentMonth,
        Dimension::EnrolmentYear,
        Dimension::CohortStage,
        Dimension::Sex,
        Dimension::AgeBand,
    ];

    /// Name of the patient-frame column holding this dimension's key.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Cohort => "cohort",
            Dimension::Drug => "drug",
            Dimension::Supplier => "supplier",
            Dimension::TumourType => "tumour_type",
            Dimension::Gene => "gene",
            Dimension::AlterationClass => "alteration_class",
            Dimension::Site => "site",
            Dimension::Region => "region",
            Dimension::EnrolmentMonth => "enrolment_month",
            Dimension::EnrolmentYear => "enrolment_year",
            Dimension::CohortStage => "cohort_stage",
            Dimension::Sex => "sex",
            Dimension::AgeBand => "age_band",
        }
    }

    /// A lower-case name for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Dimension::Cohort => "cohort",
            Dimension::Drug => "drug",
            Dimension::Supplier => "supplier",
            Dimension::TumourType => "tumour type",
            Dimension::Gene => "gene",
            Dimension::AlterationClass => "alteration class",
            Dimension::Site => "site",
            Dimension::Region => "region",
            Dimension::EnrolmentMonth => "enrolment month",
            Dimension::EnrolmentYear => "enrolment year",
            Dimension::CohortStage => "cohort stage",
            Dimension::Sex => "sex",
            Dimension::AgeBand => "age band",
        }
    }
}

/// A step of the screening funnel: the set of patients a count is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Population {
    /// Referred to molecular profiling (every patient).
    Referred,
    /// Has an InPreD molecular profile.
    Profiled,
    /// The profile has an actionable alteration (ESCAT tier I–III).
    Actionable,
    /// The molecular tumour board matched the patient to a cohort of this trial.
    Matched,
    /// Enrolled in a cohort.
    Enrolled,
    /// Started study treatment.
    Treated,
    /// Evaluable for the week-16 endpoint.
    Evaluable,
}

impl Population {
    /// The funnel, in order.
    pub const FUNNEL: [Population; 7] = [
        Population::Referred,
        Population::Profiled,
        Population::Actionable,
        Population::Matched,
        Population::Enrolled,
        Population::Treated,
        Population::Evaluable,
    ];

    /// The boolean patient-frame column marking members, or `None` for everyone.
    pub fn column(self) -> Option<&'static str> {
        match self {
            Population::Referred => None,
            Population::Profiled => Some("profiled"),
            Population::Actionable => Some("actionable"),
            Population::Matched => Some("matched"),
            Population::Enrolled => Some("enrolled"),
            Population::Treated => Some("treated"),
            Population::Evaluable => Some("evaluable"),
        }
    }
}

/// An inclusive range of calendar dates; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct DateRange {
    /// First day included.
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
}

impl DateRange {
    /// A validated range: `from` must not be after `to`.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self, AnalyticsError> {
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(AnalyticsError::InvalidArgument(format!("date range starts ({f}) after it ends ({t})")));
            }
        }
        Ok(Self { from, to })
    }

    /// The range as days since 1970-01-01, the unit dates have in the snapshot.
    pub fn as_days(&self) -> (Option<i32>, Option<i32>) {
        (self.from.map(day_number), self.to.map(day_number))
    }
}

/// Which patients to keep: every listed dimension must take one of its listed keys,
/// and the dates must fall in the ranges. The default keeps everyone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Filter {
    /// Dimension → accepted keys (as in the patient frame). An empty list keeps no one.
    pub keys: Vec<(Dimension, Vec<i32>)>,
    /// Referral date range.
    pub referred: Option<DateRange>,
    /// Enrolment date range (keeps only enrolled patients).
    pub enrolled: Option<DateRange>,
}

/// Days since 1970-01-01: the snapshot's date unit.
pub fn day_number(date: NaiveDate) -> i32 {
    // A date in chrono's range is at most ~±95 million days from the epoch: fits i32.
    date.signed_duration_since(NaiveDate::default()).num_days() as i32
}

/// The date of a snapshot day number.
pub fn date_of_day(day: i32) -> Option<NaiveDate> {
    NaiveDate::default().checked_add_signed(chrono::Duration::days(i64::from(day)))
}

/// Month number (`year * 12 + month0`) of a date, the key of [`Dimension::EnrolmentMonth`].
pub fn month_number(date: NaiveDate) -> i32 {
    use chrono::Datelike;
    date.year() * 12 + date.month0() as i32
}

/// `YYYY-MM` of a month number.
pub fn month_code(month: i32) -> String {
    format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

/// Month number of a `YYYY-MM` code.
pub fn parse_month(code: &str) -> Option<i32> {
    let (y, m) = code.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    (y.to_string().len() == 4 && (1..=12).contains(&m)).then_some(y * 12 + m - 1)
}

/// `YYYY` of a year, the code of [`Dimension::EnrolmentYear`]; `None` outside 0–9999.
pub fn year_code(year: i32) -> Option<String> {
    (0..=9999).contains(&year).then(|| format!("{year:04}"))
}

/// The year of a `YYYY` code (exactly four digits).
pub fn parse_year(code: &str) -> Option<i32> {
    (code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())).then(|| code.parse().ok()).flatten()
}

/// The age bands of [`Dimension::AgeBand`], by lower bound.
pub const AGE_BANDS: [(i32, &str); 6] =
    [(0, "18-39"), (40, "40-49"), (50, "50-59"), (60, "60-69"), (70, "70-79"), (80, "80+")];

/// The age band index of an age.
pub fn age_band(age: i32) -> i32 {
    AGE_BANDS.iter().rposition(|(lower, _)| age >= *lower).unwrap_or(0) as i32
}

/// The length of a series' periods: months, or months coarsened to quarters or years
/// (when a month's counts are too small to publish, a quarter's or a year's may not be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Interval {
    /// Calendar months (`2024-03`).
    Month,
    /// Calendar quarters (`2024-Q1`).
    Quarter,
    /// Calendar years (`2024`).
    Year,
}

impl Interval {
    /// From the finest to the coarsest.
    pub const ALL: [Interval; 3] = [Interval::Month, Interval::Quarter, Interval::Year];

    /// Months per period.
    pub fn months(self) -> i32 {
        match self {
            Interval::Month => 1,
            Interval::Quarter => 3,
            Interval::Year => 12,
        }
    }

    /// The first month of the period `month` falls in (month numbers, see
    /// [`month_number`]).
    pub fn start(self, month: i32) -> i32 {
        month - month.rem_euclid(12) % self.months()
    }

    /// How many periods the trial's `months` (first and last) cover.
    pub fn periods(self, months: Option<(i32, i32)>) -> usize {
        months.map_or(0, |(first, last)| ((self.start(last) - self.start(first)) / self.months() + 1) as usize)
    }

    /// The period starting at month `start`: `2024-03`, `2024-Q1` or `2024`.
    pub fn code(self, start: i32) -> String {
        let year = start.div_euclid(12);
        match self {
            Interval::Month => month_code(start),
            Interval::Quarter => format!("{year:04}-Q{}", start.rem_euclid(12) / 3 + 1),
            Interval::Year => format!("{year:04}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        let a = NaiveDate::from_ymd_opt(2024, 5, 1);
        let b = NaiveDate::from_ymd_opt(2024, 4, 1);
        assert!(matches!(DateRange::new(a, b), Err(AnalyticsError::InvalidArgument(_))));
        assert!(DateRange::new(b, a).is_ok());
        assert!(DateRange::new(a, a).is_ok());
    }

    #[test]
    fn month_codes_round_trip_and_reject_nonsense() {
        let d = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap_or_default();
        assert_eq!(month_code(month_number(d)), "2023-12");
        assert_eq!(parse_month("2023-12"), Some(month_number(d)));
        for bad in ["2023-13", "2023-00", "23-01", "2023", "x-y"] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }

    #[test]
    fn year_codes_round_trip_and_reject_nonsense() {
        assert_eq!(year_code(2024).as_deref(), Some("2024"));
        assert_eq!(parse_year("2024"), Some(2024));
        assert_eq!(year_code(-1), None);
        for bad in ["24", "20245", "2O24", "+024", ""] {
            assert_eq!(parse_year(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_dimension_is_listed_once_with_its_own_column() {
        let columns: std::collections::BTreeSet<&str> = Dimension::ALL.iter().map(|d| d.column()).collect();
        assert_eq!(columns.len(), Dimension::ALL.len());
        assert!(Dimension::ALL.contains(&Dimension::AlterationClass));
        assert!(Dimension::ALL.contains(&Dimension::EnrolmentYear));
    }

    #[test]
    fn ages_fall_into_their_bands() {
        assert_eq!(AGE_BANDS[age_band(18) as usize].1, "18-39");
        assert_eq!(AGE_BANDS[age_band(40) as usize].1, "40-49");
        assert_eq!(AGE_BANDS[age_band(79) as usize].1, "70-79");
        assert_eq!(AGE_BANDS[age_band(95) as usize].1, "80+");
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2021, 4, 1).unwrap_or_default();
        assert_eq!(date_of_day(day_number(d)), Some(d));
    }
}
