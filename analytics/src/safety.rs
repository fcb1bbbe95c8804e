//! Adverse-event summaries of the treated patients, as `domain.md` asks for them:
//! patients with at least one event per grade band, never event counts alone.
//!
//! Each row is one CTCAE term (or one system organ class) within one split of the
//! treated patients (by drug, by cohort, or all together), and gives, as a count and as
//! a proportion of the split's treated patients with an exact (Clopper–Pearson) 95%
//! interval, the patients with at least one event
//!
//! * of any grade,
//! * of grade 3 or higher,
//! * judged related to the study drug (any grade),
//! * related *and* of grade 3 or higher (the same event must be both),
//! * reported as serious.
//!
//! A patient with several events of the same term counts once for that term, and once
//! in the split's "any adverse event" row. Adverse events are joined to patients through
//! the enrolment, so events of patients who never started treatment are left out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;

use crate::cells::{patients, patients_where, sets, PatientSet, Rate};
use crate::dimension::{Dimension, Filter, Population};
use crate::error::AnalyticsError;
use crate::selection::predicate;
use crate::snapshot::Snapshot;

/// What the rows of an adverse-event summary are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdverseEventLevel {
    /// One row per CTCAE v5 term (e.g. `Diarrhea`).
    Term,
    /// One row per system organ class (e.g. `Gastrointestinal disorders`).
    OrganClass,
}

impl AdverseEventLevel {
    /// The adverse-event column holding the row's category.
    fn column(self) -> &'static str {
        match self {
            AdverseEventLevel::Term => "ctcae_term",
            AdverseEventLevel::OrganClass => "organ_class",
        }
    }
}

/// How the treated patients are split before counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SafetyGrouping {
    /// All treated patients together.
    None,
    /// One split per study drug.
    Drug,
    /// One split per cohort.
    Cohort,
}

impl SafetyGrouping {
    /// The dimension the split follows, if any.
    pub fn dimension(self) -> Option<Dimension> {
        match self {
            SafetyGrouping::None => None,
            SafetyGrouping::Drug => Some(Dimension::Drug),
            SafetyGrouping::Cohort => Some(Dimension::Cohort),
        }
    }
}

/// One row of an adverse-event summary: one category within one split.
///
/// Every proportion is over [`AdverseEventRow::treated`] and carries its patient count
/// as [`Proportion::events`].
#[derive(Debug, Clone, PartialEq)]
pub struct AdverseEventRow {
    /// The split's key (a drug or cohort id, as in the patient frame); `None` when the
    /// summary is not split, or for treated patients without a value of the split's
    /// dimension.
    pub split: Option<i32>,
    /// The CTCAE term or organ class; `None` on the split's "any adverse event" row.
    pub category: Option<String>,
    /// Treated patients in the split: the denominator of every proportion in the row.
    pub treated: PatientSet,
    /// Patients with at least one event of any grade.
    pub any_grade: Rate,
    /// Patients with at least one event of grade 3 or higher.
    pub grade_3_plus: Rate,
    /// Patients with at least one treatment-related event of any grade.
    pub related: Rate,
    /// Patients with at least one treatment-related event of grade 3 or higher.
    pub related_grade_3_plus: Rate,
    /// Patients with at least one serious event.
    pub serious: Rate,
}

/// The per-patient flags, in the order of the row's proportions.
const FLAGS: [&str; 5] = ["any_grade", "grade_3_plus", "related", "related_grade_3_plus", "serious"];

/// Summarises the adverse events of the treated patients passing `filter`, one row per
/// category of `level` within each split of `by`.
///
/// Splits are those with at least one treated patient, in key order (`None` first).
/// Each split starts with its "any adverse event" row (present even when the split had
/// no events), followed by one row per category seen anywhere in the selection, in
/// alphabetical order; a category no patient of the split had gets a row of zeros, so
/// splits can be compared side by side. No treated patients: no rows.
pub fn adverse_event_summary(
    snapshot: &Snapshot,
    level: AdverseEventLevel,
    by: SafetyGrouping,
    filter: &Filter,
) -> Result<Vec<AdverseEventRow>, AnalyticsError> {
    // A constant null split makes the unsplit summary the same computation as a split one.
    let split = by.dimension().map_or_else(|| lit(NULL).cast(DataType::Int32), |d| col(d.column()));
    let treated = snapshot
        .patients
        .clone()
        .lazy()
        .filter(predicate(Population::Treated, filter))
        .select([col("patient_id"), col("enrolment_id"), split.alias("split")])
        .collect()?;

    let denominators = treated.clone().lazy().group_by([col("split")]).agg([patients("treated")]).collect()?;
    let treated_per_split: BTreeMap<Option<i32>, PatientSet> = {
        let keys = denominators.column("split")?.i32()?;
        (0..denominators.height()).map(|row| keys.get(row)).zip(sets(&denominators, "treated")?).collect()
    };
    let events = events(snapshot, treated, level);
    let by_category = per_patient(&events, &["split", "category"])?;
    let (splits, names) = (by_category.column("split")?.i32()?, by_category.column("category")?.str()?);
    let flags = flag_columns(&by_category)?;
    let mut categories: BTreeSet<String> = BTreeSet::new();
    let mut counts: HashMap<(Option<i32>, Option<String>), Flags> = HashMap::new();
    for row in 0..by_category.height() {
        let name = names.get(row).map(str::to_owned);
        if let Some(name) = &name {
            categories.insert(name.clone());
        }
        counts.insert((splits.get(row), name), read(&flags, row));
    }
    let overall = per_patient(&events, &["split"])?;
    let (splits, flags) = (overall.column("split")?.i32()?, flag_columns(&overall)?);
    let mut any_event: HashMap<Option<i32>, Flags> =
        (0..overall.height()).map(|row| (splits.get(row), read(&flags, row))).collect();

    let mut rows = Vec::with_capacity(treated_per_split.len() * (categories.len() + 1));
    for (&split, treated) in &treated_per_split {
        rows.push(row(split, None, treated, any_event.remove(&split).unwrap_or_default())?);
        for name in &categories {
            let found = counts.remove(&(split, Some(name.clone()))).unwrap_or_default();
            rows.push(row(split, Some(name.clone()), treated, found)?);
        }
    }
    Ok(rows)
}

/// The adverse events of the `treated` patients (`split`, `patient_id`,
/// `enrolment_id`), one row each with its split, patient, category of `level` and
/// [`FLAGS`].
fn events(snapshot: &Snapshot, treated: DataFrame, level: AdverseEventLevel) -> LazyFrame {
    let grade_3_plus = || col("grade").gt_eq(lit(3)).fill_null(lit(false));
    let related = || col("related").fill_null(lit(false));
    snapshot.adverse_events.clone().lazy().inner_join(treated.lazy(), col("enrolment_id"), col("enrolment_id")).select(
        [
            col("split"),
            col("patient_id"),
            col(level.column()).alias("category"),
            lit(true).alias("any_grade"),
            grade_3_plus().alias("grade_3_plus"),
            related().alias("related"),
            // Judged per event: a related grade-2 event and an unrelated grade-3 event
            // do not make a related grade ≥ 3 patient.
            related().and(grade_3_plus()).alias("related_grade_3_plus"),
            col("serious").fill_null(lit(false)).alias("serious"),
        ],
    )
}

/// The patients with each of [`FLAGS`] per `keys`: events collapsed to one row per
/// patient first, so that patients are counted, not events.
fn per_patient(events: &LazyFrame, keys: &[&str]) -> PolarsResult<DataFrame> {
    let by: Vec<Expr> = keys.iter().map(|k| col(*k)).chain([col("patient_id")]).collect();
    let patient_any: Vec<Expr> = FLAGS.iter().map(|f| col(*f).any(true)).collect();
    let patients: Vec<Expr> = FLAGS.iter().map(|f| patients_where(col(*f), f)).collect();
    events
        .clone()
        .group_by(by)
        .agg(patient_any)
        .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg(patients)
        .collect()
}

/// The patient sets of each of [`FLAGS`] in `out`, column by column.
fn flag_columns(out: &DataFrame) -> Result<Vec<Vec<PatientSet>>, AnalyticsError> {
    FLAGS.iter().map(|f| sets(out, f)).collect()
}

/// Row `row` of the flag columns.
fn read(columns: &[Vec<PatientSet>], row: usize) -> Flags {
    std::array::from_fn(|i| columns.get(i).and_then(|c| c.get(row)).cloned().unwrap_or_default())
}

/// The patients of each of [`FLAGS`].
type Flags = [PatientSet; 5];

/// A row from its patients, in [`FLAGS`] order.
fn row(
    split: Option<i32>,
    category: Option<String>,
    treated: &PatientSet,
    flags: Flags,
) -> Result<AdverseEventRow, AnalyticsError> {
    let [any_grade, grade_3_plus, related, related_grade_3_plus, serious] = flags;
    let rate = |patients: PatientSet| Rate::nonempty(patients, treated.clone());
    Ok(AdverseEventRow {
        split,
        category,
        treated: treated.clone(),
        any_grade: rate(any_grade)?,
        grade_3_plus: rate(grade_3_plus)?,
        related: rate(related)?,
        related_grade_3_plus: rate(related_grade_3_plus)?,
        serious: rate(serious)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::clopper_pearson;

    /// Four treated patients (two on drug 100 / cohort 1, two on drug 200 / cohort 2),
    /// one enrolled but never treated, one never enrolled.
    fn snapshot() -> Snapshot {
        let patients = df!(
            "patient_id" => [1, 2, 3, 4, 5, 6],
            "region" => [0, 0, 1, 1, 1, 0],
            "enrolment_id" => [Some(11), Some(12), Some(13), Some(14), Some(15), None],
            "enrolled" => [true, true, true, true, true, false],
            "treated" => [true, true, true, true, false, false],
            "drug" => [Some(100), Some(100), Some(200), Some(200), Some(200), None],
            "cohort" => [Some(1), Some(1), Some(2), Some(2), Some(2), None],
        )
        .expect("patients");
        let adverse_events = df!(
            "enrolment_id" => [11, 11, 11, 12, 12, 13, 15],
            "ctcae_term" => ["Diarrhea", "Diarrhea", "Nausea", "Diarrhea", "Fatigue", "Fatigue", "Diarrhea"],
            "organ_class" => ["GI", "GI", "GI", "GI", "General", "General", "GI"],
            "grade" => [1, 3, 2, 2, 3, 1, 4],
            "related" => [false, true, true, true, false, true, true],
            "serious" => [false, true, false, false, false, false, true],
        )
        .expect("adverse events");
        Snapshot { adverse_events, ..crate::fixture::frames(patients) }
    }

    fn summary(level: AdverseEventLevel, by: SafetyGrouping, filter: &Filter) -> Vec<AdverseEventRow> {
        adverse_event_summary(&snapshot(), level, by, filter).expect("summary")
    }

    fn find<'a>(rows: &'a [AdverseEventRow], split: Option<i32>, category: Option<&str>) -> &'a AdverseEventRow {
        rows.iter()
            .find(|r| r.split == split && r.category.as_deref() == category)
            .unwrap_or_else(|| panic!("no row {split:?} {category:?}"))
    }

    /// (any grade, grade ≥ 3, related, related grade ≥ 3, serious) patient counts.
    fn counts(row: &AdverseEventRow) -> [u64; 5] {
        [
            row.any_grade.events,
            row.grade_3_plus.events,
            row.related.events,
            row.related_grade_3_plus.events,
            row.serious.events,
        ]
    }

    #[test]
    fn patients_are_counted_once_however_many_events_they_had() {
        let rows = summary(AdverseEventLevel::Term, SafetyGrouping::None, &Filter::default());
        // Patient 1 had two diarrhoea events (grade 1 and grade 3); patient 2 one.
        let diarrhoea = find(&rows, None, Some("Diarrhea"));
        assert_eq!(diarrhoea.treated.count(), 4);
        assert_eq!(counts(diarrhoea), [2, 1, 2, 1, 1]);
        assert_eq!(counts(find(&rows, None, Some("Fatigue"))), [2, 1, 1, 0, 0]);
        assert_eq!(counts(find(&rows, None, Some("Nausea"))), [1, 0, 1, 0, 0]);
    }

    #[test]
    fn the_any_event_row_counts_each_patient_once_and_bands_each_event_on_its_own() {
        let rows = summary(AdverseEventLevel::Term, SafetyGrouping::None, &Filter::default());
        let any = find(&rows, None, None);
        // Patient 2 had a related grade-2 event and an unrelated grade-3 one: grade ≥ 3
        // and related, but not related grade ≥ 3.
        assert_eq!(counts(any), [3, 2, 3, 1, 1]);
        assert_eq!(rows.len(), 4, "the any row and three terms");
        assert_eq!(rows[0].category, None, "the any row comes first");
    }

    #[test]
    fn events_of_patients_never_treated_are_left_out() {
        let rows = summary(AdverseEventLevel::Term, SafetyGrouping::Drug, &Filter::default());
        // Patient 5 (drug 200) had a grade-4 diarrhoea but never started treatment.
        let drug_200 = find(&rows, Some(200), Some("Diarrhea"));
        assert_eq!(drug_200.treated.count(), 2);
        assert_eq!(counts(drug_200), [0, 0, 0, 0, 0]);
        assert_eq!(counts(find(&rows, Some(200), None)), [1, 0, 1, 0, 0]);
    }

    #[test]
    fn every_split_lists_every_category_even_with_no_patients() {
        let rows = summary(AdverseEventLevel::Term, SafetyGrouping::Drug, &Filter::default());
        let listed: Vec<(Option<i32>, Option<&str>)> = rows.iter().map(|r| (r.split, r.category.as_deref())).collect();
        assert_eq!(
            listed,
            [
                (Some(100), None),
                (Some(100), Some("Diarrhea")),
                (Some(100), Some("Fatigue")),
                (Some(100), Some("Nausea")),
                (Some(200), None),
                (Some(200), Some("Diarrhea")),
                (Some(200), Some("Fatigue")),
                (Some(200), Some("Nausea")),
            ]
        );
        assert_eq!(counts(find(&rows, Some(100), Some("Diarrhea"))), [2, 1, 2, 1, 1]);
        assert_eq!(counts(find(&rows, Some(200), Some("Nausea"))), [0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_split_with_no_events_still_has_its_any_event_row() {
        let no_events = Snapshot { adverse_events: snapshot().adverse_events.head(Some(0)), ..snapshot() };
        let rows =
            adverse_event_summary(&no_events, AdverseEventLevel::Term, SafetyGrouping::Cohort, &Filter::default())
                .expect("summary");
        let listed: Vec<_> = rows.iter().map(|r| (r.split, r.category.clone(), r.treated.count(), counts(r))).collect();
        assert_eq!(listed, [(Some(1), None, 2, [0; 5]), (Some(2), None, 2, [0; 5])]);
    }

    #[test]
    fn the_filter_restricts_the_treated_patients_and_the_categories() {
        // Region 1 keeps patients 3 and 4 (patient 5 is not treated): only fatigue is seen.
        let filter = Filter { keys: vec![(Dimension::Region, vec![1])], ..Filter::default() };
        let rows = summary(AdverseEventLevel::Term, SafetyGrouping::None, &filter);
        let listed: Vec<_> = rows.iter().map(|r| (r.category.as_deref(), r.treated.count(), counts(r))).collect();
        assert_eq!(listed, [(None, 2, [1, 0, 1, 0, 0]), (Some("Fatigue"), 2, [1, 0, 1, 0, 0])]);
    }

    #[test]
    fn organ_classes_pool_the_terms_within_them() {
        let rows = summary(AdverseEventLevel::OrganClass, SafetyGrouping::None, &Filter::default());
        // GI: diarrhoea and nausea of patients 1 and 2; General: fatigue of 2 and 3.
        assert_eq!(counts(find(&rows, None, Some("GI"))), [2, 1, 2, 1, 1]);
        assert_eq!(counts(find(&rows, None, Some("General"))), [2, 1, 1, 0, 0]);
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn proportions_are_over_the_treated_with_exact_intervals() {
        let rows = summary(AdverseEventLevel::Term, SafetyGrouping::None, &Filter::default());
        let any = &find(&rows, None, None).any_grade;
        assert_eq!((any.events, any.n), (3, 4));
        assert!((any.estimate - 0.75).abs() < 1e-12);
        assert_eq!(any.proportion, clopper_pearson(3, 4, 0.95).expect("interval"));
        // 3 of 4: the lower bound solves P(X >= 3 | p) = 4p³ − 3p⁴ = 0.025 (by bisection:
        // 0.194120449…) and the upper bound P(X <= 3 | p) = 1 − p⁴ = 0.025, so p = 0.975^(1/4).
        assert!((any.lower - 0.194_120_449_683).abs() < 1e-9, "{}", any.lower);
        assert!((any.upper - 0.975_f64.powf(0.25)).abs() < 1e-12, "{}", any.upper);
        // 0 of 4 related grade ≥ 3 nausea: [0, 1 − 0.025^(1/4)].
        let none = &find(&rows, None, Some("Nausea")).related_grade_3_plus;
        assert_eq!((none.events, none.lower), (0, 0.0));
        assert!((none.upper - (1.0 - 0.025_f64.powf(0.25))).abs() < 1e-12);
    }

    #[test]
    fn no_treated_patients_give_no_rows() {
        let filter = Filter { keys: vec![(Dimension::Cohort, vec![])], ..Filter::default() };
        assert!(summary(AdverseEventLevel::Term, SafetyGrouping::Drug, &filter).is_empty());
        assert!(summary(AdverseEventLevel::Term, SafetyGrouping::None, &filter).is_empty());
    }
}
