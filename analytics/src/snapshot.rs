//! The columnar snapshot: one data version of the trial, built once from its rows
//! ([`TrialRows`], read by the store) and shared read-only by every request.
//!
//! Facts about a patient that live in other tables (profile, board review, enrolment,
//! follow-up) are denormalised onto the patient's row as small integer keys; the
//! endpoints are then derived with polars ([`crate::endpoints`]).
//!
//! Besides the dimensions and funnel flags, the patient frame carries the endpoint
//! columns the measures read:
//!
//! * `w16_response`, `best_response` (codes of [`crate::endpoints::response`]),
//!   `evaluable`, `benefit`, `objective_response` and `evaluated_day` (the day the
//!   week-16 endpoint was settled), as [`crate::endpoints::derive_dated`] defines them;
//! * `pfs_days`, `pfs_event`: progression-free survival of treated patients;
//! * `os_days`, `os_event`: overall survival, from treatment start for treated patients
//!   and from the tumour board's review for reviewed patients never treated, to death
//!   from follow-up, censored at follow-up's status date (at day 0 when there is no
//!   follow-up); null without either origin;
//! * `treatment_group`: the registry's comparison, [`TREATED`], [`MATCHED_NOT_TREATED`] or
//!   [`NOT_MATCHED`]; null when neither treated nor reviewed.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use chrono::{DateTime, Datelike, Utc};
use consortium_entity::{
    vocabulary, AlterationClass, CohortStage, EscatTier, HealthRegion, MsiStatus, MtbOutcome, OverallResponse, Sex,
};
use polars::prelude::*;

use crate::catalogue::Catalogue;
use crate::dimension::{age_band, date_of_day, day_number, month_number};
use crate::endpoints::{self, non_negative, null_day, EndpointRules};
use crate::error::AnalyticsError;
use crate::rows::{AdverseRow, AssessmentRow, PatientRow, ProfileRow, TrialRows, VariantRow};

/// `treatment_group` key of patients who started study treatment.
pub const TREATED: i32 = 0;
/// `treatment_group` key of patients the tumour board matched to a cohort who were never
/// treated in it.
pub const MATCHED_NOT_TREATED: i32 = 1;
/// `treatment_group` key of patients the tumour board reviewed without a cohort match.
pub const NOT_MATCHED: i32 = 2;

/// One data version of the trial as polars frames.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The data version the snapshot was loaded at.
    pub version: i64,
    /// When it was built.
    pub built_at: DateTime<Utc>,
    /// Reference tables and code translation.
    pub catalogue: Catalogue,
    /// One row per patient: dimensions (see [`crate::Dimension::column`]), funnel
    /// flags (see [`crate::Population::column`]), dates as day numbers, endpoints.
    pub patients: DataFrame,
    /// One row per variant: `patient_id`, `gene`, `alteration_class`, `escat_tier`.
    pub variants: DataFrame,
    /// One row per response assessment: `enrolment_id`, `study_week`, `response`,
    /// `assessment_date` (a day number).
    pub assessments: DataFrame,
    /// One row per adverse event: `enrolment_id`, `grade`, `related`, `serious`,
    /// `ctcae_term`, `organ_class`.
    pub adverse_events: DataFrame,
}

/// Position of an enum value in its canonical order: the key the frames store.
fn position<E: PartialEq + Copy>(all: &[E], value: E) -> i32 {
    all.iter().position(|v| *v == value).map_or(-1, |i| i as i32)
}

impl Snapshot {
    /// Builds the frames from the rows of one data version (CPU-bound: call it from a
    /// blocking thread, not an async worker).
    pub fn build(mut rows: TrialRows, rules: EndpointRules) -> Result<Snapshot, AnalyticsError> {
        let started = Instant::now();
        let (version, read_ms, mut catalogue) = (rows.version, rows.read_ms, std::mem::take(&mut rows.catalogue));
        code_lists(&mut catalogue, &rows.profiles, &rows.variants);
        let mut cols = PatientColumns::of(&rows.patients);
        let row_of: HashMap<i32, usize> = rows.patients.iter().enumerate().map(|(row, p)| (p.id, row)).collect();
        let variants = cols.add_profiles(&rows, &row_of, &catalogue)?;
        cols.add_reviews_and_followups(&rows, &row_of);
        let enrolment_frame = cols.add_enrolments(&rows, &row_of, &catalogue)?;
        let assessments = assessment_frame(&rows.assessments)?;
        let derived = endpoints::derive_dated(enrolment_frame.lazy(), assessments.clone().lazy(), rules)?.select([
            col("enrolment_id"),
            col("w16_response"),
            col("best_response"),
            col("evaluable"),
            col("benefit"),
            col("objective_response"),
            col("evaluated_day"),
            col("pfs_days"),
            col("pfs_event"),
        ]);
        let patients = cols
            .into_frame()?
            .lazy()
            .left_join(derived, col("enrolment_id"), col("enrolment_id"))
            .with_columns([
                col("evaluable").fill_null(lit(false)),
                col("benefit").fill_null(lit(false)),
                col("objective_response").fill_null(lit(false)),
            ])
            .with_columns(overall_survival())
            .collect()?;
        let adverse_events = adverse_event_frame(&rows.adverse_events)?;
        catalogue.trial_months = trial_months(&patients)?;
        let build_ms = started.elapsed().as_millis() as u64;
        let n = patients.height();
        tracing::info!(data_version = version, patients = n, read_ms, build_ms, "snapshot built");
        Ok(Snapshot { version, built_at: Utc::now(), catalogue, patients, variants, assessments, adverse_events })
    }
}

/// The patient frame's columns of the days of the three events a series counts:
/// referral, enrolment and treatment start.
pub(crate) const EVENT_DAYS: [&str; 3] = ["referral_day", "enrolled_day", "treatment_start_day"];

/// The months the trial has run, over all of its patients: from the first referral to
/// the last referral, enrolment or treatment start (`None` without patients). Every
/// series runs over these months, so that where a series starts and ends says nothing
/// about the patients it counts.
pub(crate) fn trial_months(patients: &DataFrame) -> Result<Option<(i32, i32)>, AnalyticsError> {
    let mut days = Vec::with_capacity(2 * EVENT_DAYS.len());
    for column in EVENT_DAYS {
        if let Ok(values) = patients.column(column) {
            let values = values.i32()?;
            days.extend([values.min(), values.max()].into_iter().flatten());
        }
    }
    let months: Vec<i32> = days.into_iter().filter_map(date_of_day).map(month_number).collect();
    Ok(months.iter().min().copied().zip(months.iter().max().copied()))
}

/// Gives tumour types and genes dense keys in sorted order. The fixed vocabularies come
/// first, so the codes a filter accepts do not depend on who has them; a code in the data
/// but not in them is kept (it is still data), and is what an import validating against
/// the vocabularies prevents.
fn code_lists(catalogue: &mut Catalogue, profiles: &[ProfileRow], variants: &[VariantRow]) {
    let tumour_types: BTreeSet<&str> = vocabulary::ONCOTREE
        .iter()
        .copied()
        .chain(profiles.iter().map(|p| p.oncotree_code.as_str()))
        .chain(catalogue.cohorts.values().map(|c| c.oncotree_code.as_str()))
        .collect();
    let genes: BTreeSet<&str> = vocabulary::GENE_PANEL
        .iter()
        .copied()
        .chain(variants.iter().map(|v| v.gene.as_str()))
        .chain(catalogue.cohorts.values().map(|c| c.gene.as_str()))
        .collect();
    let tumour_types = tumour_types.into_iter().map(str::to_owned).collect();
    let genes = genes.into_iter().map(str::to_owned).collect();
    (catalogue.tumour_types, catalogue.genes) = (tumour_types, genes);
}

/// The assessment frame: `enrolment_id`, `study_week`, `response`, `assessment_date`.
fn assessment_frame(assessments: &[AssessmentRow]) -> PolarsResult<DataFrame> {
    let responses = OverallResponse::all();
    df!(
        "enrolment_id" => assessments.iter().map(|a| a.enrolment_id).collect::<Vec<_>>(),
        "study_week" => assessments.iter().map(|a| a.study_week).collect::<Vec<_>>(),
        "response" => assessments.iter().map(|a| position(&responses, a.response)).collect::<Vec<_>>(),
        "assessment_date" => assessments.iter().map(|a| day_number(a.date)).collect::<Vec<_>>(),
    )
}

/// The adverse-event frame.
fn adverse_event_frame(adverse: &[AdverseRow]) -> PolarsResult<DataFrame> {
    df!(
        "enrolment_id" => adverse.iter().map(|a| a.enrolment_id).collect::<Vec<_>>(),
        "ctcae_term" => adverse.iter().map(|a| a.term.as_str()).collect::<Vec<_>>(),
        "organ_class" => adverse.iter().map(|a| a.organ_class.as_str()).collect::<Vec<_>>(),
        "grade" => adverse.iter().map(|a| a.grade).collect::<Vec<_>>(),
        "related" => adverse.iter().map(|a| a.related).collect::<Vec<_>>(),
        "serious" => adverse.iter().map(|a| a.serious).collect::<Vec<_>>(),
    )
}

/// `os_days`, `os_event` and `treatment_group` of the patient frame.
///
/// A treated patient's clock starts at treatment start; a reviewed patient who was never
/// treated starts at the review, the point where the registry's comparison groups part.
/// Without follow-up a patient is only known to be alive at the origin, so is censored at
/// day 0 (counted at risk at the start, adding nothing after it).
fn overall_survival() -> Vec<Expr> {
    let origin = when(col("treated")).then(col("treatment_start_day")).otherwise(col("review_day"));
    let end = when(col("death_day").is_not_null()).then(col("death_day")).otherwise(col("status_day"));
    let has_origin = origin.clone().is_not_null();
    let group = when(col("treated"))
        .then(lit(TREATED))
        .when(col("matched"))
        .then(lit(MATCHED_NOT_TREATED))
        .when(col("review_day").is_not_null())
        .then(lit(NOT_MATCHED))
        .otherwise(null_day());
    vec![
        when(has_origin.clone())
            .then(non_negative((end - origin).fill_null(lit(0))))
            .otherwise(null_day())
            .alias("os_days"),
        when(has_origin)
            .then(col("death_day").is_not_null())
            .otherwise(lit(NULL).cast(DataType::Boolean))
            .alias("os_event"),
        group.alias("treatment_group"),
    ]
}

/// The patient frame's columns while they are being filled, row by row.
struct PatientColumns {
    patient_id: Vec<i32>,
    sex: Vec<i32>,
    age: Vec<i32>,
    age_band: Vec<i32>,
    region: Vec<i32>,
    site: Vec<i32>,
    referral_day: Vec<i32>,
    profiled: Vec<bool>,
    tumour_type: Vec<Option<i32>>,
    tmb: Vec<Option<f64>>,
    msi_high: Vec<bool>,
    actionable: Vec<bool>,
    gene: Vec<Option<i32>>,
    alteration_class: Vec<Option<i32>>,
    matched: Vec<bool>,
    review_day: Vec<Option<i32>>,
    enrolment_id: Vec<Option<i32>>,
    enrolled: Vec<bool>,
    cohort: Vec<Option<i32>>,
    drug: Vec<Option<i32>>,
    supplier: Vec<Option<i32>>,
    enrolled_day: Vec<Option<i32>>,
    enrolment_month: Vec<Option<i32>>,
    enrolment_year: Vec<Option<i32>>,
    cohort_stage: Vec<Option<i32>>,
    treated: Vec<bool>,
    treatment_start_day: Vec<Option<i32>>,
    status_day: Vec<Option<i32>>,
    death_day: Vec<Option<i32>>,
}

impl PatientColumns {
    /// The columns of `patients`, one row each, every fact from other tables empty.
    fn of(patients: &[PatientRow]) -> Self {
        let (sexes, regions) = (Sex::all(), HealthRegion::all());
        let mut cols = PatientColumns::with_len(patients.len());
        for (row, patient) in patients.iter().enumerate() {
            let age = patient.referral_date.year() - patient.birth_year;
            cols.patient_id[row] = patient.id;
            cols.sex[row] = position(&sexes, patient.sex);
            cols.age[row] = age;
            cols.age_band[row] = age_band(age);
            cols.region[row] = position(&regions, patient.region);
            cols.site[row] = patient.referring_site;
            cols.referral_day[row] = day_number(patient.referral_date);
        }
        cols
    }

    /// Profiles and their variants onto the patients' rows (actionable: any variant at
    /// ESCAT I–III, the primary gene the best tier's); returns the variant frame.
    fn add_profiles(
        &mut self,
        rows: &TrialRows,
        row_of: &HashMap<i32, usize>,
        catalogue: &Catalogue,
    ) -> PolarsResult<DataFrame> {
        let mut profile_row: HashMap<i32, usize> = HashMap::with_capacity(rows.profiles.len());
        for profile in &rows.profiles {
            let Some(&row) = row_of.get(&profile.patient_id) else { continue };
            profile_row.insert(profile.id, row);
            self.profiled[row] = true;
            self.tumour_type[row] = catalogue.tumour_type_key(&profile.oncotree_code);
            self.tmb[row] = Some(profile.tmb);
            self.msi_high[row] = profile.msi == MsiStatus::High;
        }
        let (classes, tiers) = (AlterationClass::all(), EscatTier::all());
        let mut best_tier: Vec<Option<EscatTier>> = vec![None; self.patient_id.len()];
        let mut frame = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for variant in &rows.variants {
            let Some(&row) = profile_row.get(&variant.profile_id) else { continue };
            let (class, tier) = (variant.alteration_class, variant.escat_tier);
            let gene_key = catalogue.gene_key(&variant.gene);
            frame.0.push(self.patient_id[row]);
            frame.1.push(gene_key);
            frame.2.push(position(&classes, class));
            frame.3.push(position(&tiers, tier));
            if tier.is_actionable() && best_tier[row].is_none_or(|best| tier < best) {
                best_tier[row] = Some(tier);
                self.actionable[row] = true;
                self.gene[row] = gene_key;
                self.alteration_class[row] = Some(position(&classes, class));
            }
        }
        df!("patient_id" => frame.0, "gene" => frame.1, "alteration_class" => frame.2, "escat_tier" => frame.3)
    }

    /// The tumour board's reviews and the follow-up onto the patients' rows.
    fn add_reviews_and_followups(&mut self, rows: &TrialRows, row_of: &HashMap<i32, usize>) {
        for review in &rows.reviews {
            let Some(&row) = row_of.get(&review.patient_id) else { continue };
            self.matched[row] = review.outcome == MtbOutcome::MatchedCohort;
            self.review_day[row] = Some(day_number(review.date));
        }
        for followup in &rows.followups {
            let Some(&row) = row_of.get(&followup.patient_id) else { continue };
            self.status_day[row] = Some(day_number(followup.status_date));
            self.death_day[row] = followup.death_date.map(day_number);
        }
    }

    /// Enrolments onto the patients' rows (the cohort's gene and class win over the
    /// profile's); returns the frame the endpoints are derived from: `enrolment_id`,
    /// `treated`, `start_day`, `death_day`. Call it after the follow-up is added.
    fn add_enrolments(
        &mut self,
        rows: &TrialRows,
        row_of: &HashMap<i32, usize>,
        catalogue: &Catalogue,
    ) -> PolarsResult<DataFrame> {
        let (classes, stages) = (AlterationClass::all(), CohortStage::all());
        let (mut ids, mut starts, mut deaths) = (Vec::new(), Vec::new(), Vec::new());
        for enrolment in &rows.enrolments {
            let Some(&row) = row_of.get(&enrolment.patient_id) else { continue };
            let (enrolled_on, start) = (enrolment.enrolled_on, enrolment.treatment_start);
            let cohort = catalogue.cohorts.get(&enrolment.cohort_id);
            let drug = cohort.map(|c| c.drug_id);
            self.enrolment_id[row] = Some(enrolment.id);
            self.enrolled[row] = true;
            self.cohort[row] = Some(enrolment.cohort_id);
            self.drug[row] = drug;
            self.supplier[row] = drug.and_then(|d| catalogue.drugs.get(&d)).map(|d| d.supplier_id);
            self.gene[row] = cohort.and_then(|c| catalogue.gene_key(&c.gene)).or(self.gene[row]);
            self.alteration_class[row] =
                cohort.map(|c| position(&classes, c.alteration_class)).or(self.alteration_class[row]);
            self.site[row] = enrolment.site_id;
            self.enrolled_day[row] = Some(day_number(enrolled_on));
            self.enrolment_month[row] = Some(month_number(enrolled_on));
            self.enrolment_year[row] = Some(enrolled_on.year());
            self.cohort_stage[row] = Some(position(&stages, enrolment.stage));
            self.treated[row] = start.is_some();
            self.treatment_start_day[row] = start.map(day_number);
            ids.push(enrolment.id);
            starts.push(start.map(day_number));
            deaths.push(self.death_day[row]);
        }
        let treated: Vec<bool> = starts.iter().map(Option::is_some).collect();
        df!("enrolment_id" => ids, "treated" => treated, "start_day" => starts, "death_day" => deaths)
    }

    fn with_len(n: usize) -> Self {
        Self {
            patient_id: vec![0; n],
            sex: vec![0; n],
            age: vec![0; n],
            age_band: vec![0; n],
            region: vec![0; n],
            site: vec![0; n],
            referral_day: vec![0; n],
            profiled: vec![false; n],
            tumour_type: vec![None; n],
            tmb: vec![None; n],
            msi_high: vec![false; n],
            actionable: vec![false; n],
            gene: vec![None; n],
            alteration_class: vec![None; n],
            matched: vec![false; n],
            review_day: vec![None; n],
            enrolment_id: vec![None; n],
            enrolled: vec![false; n],
            cohort: vec![None; n],
            drug: vec![None; n],
            supplier: vec![None; n],
            enrolled_day: vec![None; n],
            enrolment_month: vec![None; n],
            enrolment_year: vec![None; n],
            cohort_stage: vec![None; n],
            treated: vec![false; n],
            treatment_start_day: vec![None; n],
            status_day: vec![None; n],
            death_day: vec![None; n],
        }
    }

    fn into_frame(self) -> PolarsResult<DataFrame> {
        df!(
            "patient_id" => self.patient_id,
            "sex" => self.sex,
            "age" => self.age,
            "age_band" => self.age_band,
            "region" => self.region,
            "site" => self.site,
            "referral_day" => self.referral_day,
            "profiled" => self.profiled,
            "tumour_type" => self.tumour_type,
            "tmb" => self.tmb,
            "msi_high" => self.msi_high,
            "actionable" => self.actionable,
            "gene" => self.gene,
            "alteration_class" => self.alteration_class,
            "matched" => self.matched,
            "review_day" => self.review_day,
            "enrolment_id" => self.enrolment_id,
            "enrolled" => self.enrolled,
            "cohort" => self.cohort,
            "drug" => self.drug,
            "supplier" => self.supplier,
            "enrolled_day" => self.enrolled_day,
            "enrolment_month" => self.enrolment_month,
            "enrolment_year" => self.enrolment_year,
            "cohort_stage" => self.cohort_stage,
            "treated" => self.treated,
            "treatment_start_day" => self.treatment_start_day,
            "status_day" => self.status_day,
            "death_day" => self.death_day,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{day, dozen};

    /// The patient frame's `column` by patient id, as i32 (booleans as 0/1).
    fn by_patient(snapshot: &Snapshot, column: &str) -> HashMap<i32, Option<i32>> {
        let frame = &snapshot.patients;
        let ids = frame.column("patient_id").and_then(|c| c.i32().cloned()).expect("patient ids");
        let values = frame.column(column).and_then(|c| c.cast(&DataType::Int32)).expect("column");
        let values = values.i32().expect("i32 values");
        (0..ids.len()).map(|row| (ids.get(row).expect("id"), values.get(row))).collect()
    }

    fn expect(snapshot: &Snapshot, column: &str, expected: &[(i32, Option<i32>)]) {
        let got = by_patient(snapshot, column);
        for (patient, value) in expected {
            assert_eq!(got.get(patient).copied().flatten(), *value, "{column} of patient {patient}");
        }
    }

    #[test]
    fn evaluable_patients_are_dated_by_the_assessment_or_death_that_settled_their_endpoint() {
        let s = dozen();
        expect(
            &s,
            "evaluated_day",
            &[
                (1, Some(day(212))),
                (2, Some(day(212))),
                (3, Some(day(156))),
                (4, Some(day(160))),
                (5, None),
                (6, Some(day(205))),
                (7, Some(day(156))),
                (8, None),
                (12, None),
                (13, Some(day(156))),
            ],
        );
        expect(&s, "w16_response", &[(1, Some(2)), (2, Some(0)), (3, None), (6, Some(1)), (5, None)]);
        expect(
            &s,
            "objective_response",
            &[(1, Some(0)), (2, Some(1)), (3, Some(0)), (6, Some(1)), (9, Some(0)), (12, Some(0))],
        );
    }

    #[test]
    fn progression_free_survival_runs_to_the_first_progression_or_death_or_the_last_assessment() {
        let s = dozen();
        expect(
            &s,
            "pfs_days",
            &[
                (1, Some(168)),
                (2, Some(168)),
                (3, Some(56)),
                (4, Some(60)),
                (5, Some(42)),
                (6, Some(133)),
                (7, Some(56)),
                (8, None),
                (9, None),
                (12, Some(0)),
                (13, Some(56)),
            ],
        );
        expect(
            &s,
            "pfs_event",
            &[
                (1, Some(1)),
                (2, Some(0)),
                (3, Some(1)),
                (4, Some(1)),
                (5, Some(0)),
                (6, Some(1)),
                (12, Some(0)),
                (8, None),
            ],
        );
    }

    #[test]
    fn overall_survival_starts_at_treatment_or_review_and_ends_at_death_or_last_status() {
        let s = dozen();
        expect(
            &s,
            "os_days",
            &[
                (1, Some(300)),
                (2, Some(400)),
                (3, Some(90)),
                (4, Some(60)),
                (6, Some(300)),
                (8, Some(250)),
                (9, Some(400)),
                (10, Some(100)),
                (11, None),
                (12, Some(0)),
            ],
        );
        expect(
            &s,
            "os_event",
            &[(1, Some(0)), (3, Some(1)), (6, Some(1)), (8, Some(1)), (9, Some(0)), (10, Some(1)), (11, None)],
        );
        expect(
            &s,
            "treatment_group",
            &[
                (1, Some(TREATED)),
                (12, Some(TREATED)),
                (8, Some(MATCHED_NOT_TREATED)),
                (9, Some(MATCHED_NOT_TREATED)),
                (10, Some(NOT_MATCHED)),
                (11, None),
            ],
        );
    }

    #[test]
    fn the_alteration_class_is_the_cohorts_or_else_the_primary_variants() {
        let s = dozen();
        let key = |class| Some(position(&AlterationClass::all(), class));
        expect(
            &s,
            "alteration_class",
            &[
                (1, key(AlterationClass::Mutation)),
                (6, key(AlterationClass::Fusion)),
                (9, key(AlterationClass::Amplification)),
                (10, None),
                (11, None),
            ],
        );
        expect(&s, "enrolment_year", &[(1, Some(2023)), (12, Some(2024)), (9, None)]);
    }

    #[test]
    fn assessments_carry_their_dates() {
        let s = dozen();
        let dates = s.assessments.column("assessment_date").and_then(|c| c.i32().cloned()).expect("dates");
        // Patient 1's first assessment is at week 8 of a treatment started on day 100.
        assert_eq!(dates.get(0), Some(day(156)));
        assert_eq!(dates.len(), s.assessments.height());
    }
}
