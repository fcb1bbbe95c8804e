//! The columnar snapshot: one data version of the trial, loaded once and shared
//! read-only by every request.
//!
//! Reading ([`TrialRows::read`]) takes every table concurrently and checks that the data
//! version did not move meanwhile (reading again if it did), so the frames and the
//! version they are tagged with always agree. Facts about a patient that live in other tables
//! (profile, board review, enrolment, follow-up) are denormalised onto the patient's
//! row as small integer keys; the endpoints are then derived with polars
//! ([`crate::endpoints`]).
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

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use consortium_entity::*;
use polars::prelude::*;
use std::path::PathBuf;

use sea_orm::sea_query::{Query, SqliteQueryBuilder};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QuerySelect, TryGetableMany};

use crate::catalogue::Catalogue;
use crate::dimension::{age_band, day_number, month_number};
use crate::endpoints::{self, non_negative, null_day, EndpointRules};
use crate::error::AnalyticsError;
use crate::sqlite_file;

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

/// Runs one table's read as a task of its own, on its own handle of the pool.
async fn spawn<T, F, Fut>(db: &DatabaseConnection, read: F) -> Result<T, AnalyticsError>
where
    T: Send + 'static,
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>> + Send + 'static,
{
    match tokio::spawn(read(db.clone())).await {
        Ok(rows) => Ok(rows?),
        Err(join) => Err(AnalyticsError::Load(DbErr::Custom(format!("a table read failed to complete: {join}")))),
    }
}

/// Where the rows come from: the database through sea-orm, or, for an SQLite file,
/// the file itself (see [`crate::sqlite_file`]).
#[derive(Clone)]
enum Source {
    Database(DatabaseConnection),
    SqliteFile(PathBuf),
}

impl Source {
    fn of(db: &DatabaseConnection) -> Source {
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            let options = db.get_sqlite_connection_pool().connect_options();
            let file = options.get_filename();
            if file.is_file() {
                return Source::SqliteFile(file.to_path_buf());
            }
        }
        Source::Database(db.clone())
    }
}

/// Reads `columns` of every row of entity `E` as tuples `T`, in a task of its own.
async fn read_columns<E, T, const N: usize>(source: &Source, columns: [E::Column; N]) -> Result<Vec<T>, AnalyticsError>
where
    E: EntityTrait + Default,
    E::Column: Send + 'static,
    T: TryGetableMany + sqlite_file::Tuple + Send + 'static,
{
    match source {
        Source::Database(db) => {
            spawn(
                db,
                move |db| async move { E::find().select_only().columns(columns).into_tuple::<T>().all(&db).await },
            )
            .await
        }
        Source::SqliteFile(path) => {
            let sql = Query::select().columns(columns).from(E::default()).to_string(SqliteQueryBuilder);
            let path = path.clone();
            match tokio::task::spawn_blocking(move || sqlite_file::read_all::<T>(&path, &sql)).await {
                Ok(rows) => {
                    rows.map_err(|e| AnalyticsError::Load(DbErr::Custom(format!("reading the SQLite file: {e}"))))
                }
                Err(join) => {
                    Err(AnalyticsError::Load(DbErr::Custom(format!("a table read failed to complete: {join}"))))
                }
            }
        }
    }
}

/// Position of an enum value in its canonical order: the key the frames store.
fn position<E: PartialEq + Copy>(all: &[E], value: E) -> i32 {
    all.iter().position(|v| *v == value).map_or(-1, |i| i as i32)
}

type EnrolmentRow = (i32, i32, i32, i32, NaiveDate, CohortStage, Option<NaiveDate>);

/// The rows of one data version, as read from the database: the input of
/// [`Snapshot::build`]. Reading is async (database I/O); building is CPU work that
/// belongs on a blocking thread, which is why the two are separate steps.
#[derive(Debug)]
pub struct TrialRows {
    version: i64,
    catalogue: Catalogue,
    patients: Vec<(i32, Sex, i32, HealthRegion, i32, NaiveDate)>,
    profiles: Vec<(i32, i32, String, f64, MsiStatus)>,
    variants: Vec<(i32, String, AlterationClass, EscatTier)>,
    reviews: Vec<(i32, NaiveDate, MtbOutcome)>,
    enrolments: Vec<EnrolmentRow>,
    assessments: Vec<(i32, i32, OverallResponse, NaiveDate)>,
    adverse: Vec<(i32, String, String, i32, bool, bool)>,
    followups: Vec<(i32, NaiveDate, Option<NaiveDate>)>,
    read_ms: u64,
}

impl TrialRows {
    /// Reads the current data version, every table in one read transaction.
    ///
    /// The tables are read concurrently, each on a connection of its own, which keeps
    /// both cores (and the database server) busy. Consistency comes from the data
    /// version instead of one transaction: every write bumps it in the transaction
    /// that writes, so if it is the same before and after the reads, no write committed
    /// in between and the rows are one version's. If it moved, the read starts over.
    pub async fn read(db: &DatabaseConnection) -> Result<TrialRows, AnalyticsError> {
        const ATTEMPTS: usize = 5;
        for _ in 0..ATTEMPTS {
            let version = data_version::current(db).await?;
            let rows = Self::read_tables(db, version).await?;
            if data_version::current(db).await? == version {
                return Ok(rows);
            }
            tracing::info!(data_version = version, "data changed while reading the snapshot; reading again");
        }
        Err(AnalyticsError::Load(DbErr::Custom(format!(
            "the data kept changing during {ATTEMPTS} attempts to read a consistent snapshot"
        ))))
    }

    /// Reads every table concurrently, each in a task of its own (so decoding rows also
    /// spreads over the runtime's workers); the caller checks the version did not move.
    async fn read_tables(db: &DatabaseConnection, version: i64) -> Result<TrialRows, AnalyticsError> {
        let started = Instant::now();
        let source = Source::of(db);
        let reference = spawn(db, |db| async move {
            Ok::<_, DbErr>(Catalogue {
                partners: partner::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
                sites: site::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
                drugs: drug::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
                cohorts: cohort::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
                ..Catalogue::default()
            })
        });

        use molecular_profile as mp;
        let patients = read_columns::<patient::Entity, (i32, Sex, i32, HealthRegion, i32, NaiveDate), _>(
            &source,
            [
                patient::Column::Id,
                patient::Column::Sex,
                patient::Column::BirthYear,
                patient::Column::Region,
                patient::Column::ReferringSiteId,
                patient::Column::ReferralDate,
            ],
        );
        let profiles = read_columns::<mp::Entity, (i32, i32, String, f64, MsiStatus), _>(
            &source,
            [mp::Column::Id, mp::Column::PatientId, mp::Column::OncotreeCode, mp::Column::Tmb, mp::Column::MsiStatus],
        );
        let variants = read_columns::<variant::Entity, (i32, String, AlterationClass, EscatTier), _>(
            &source,
            [
                variant::Column::ProfileId,
                variant::Column::Gene,
                variant::Column::AlterationClass,
                variant::Column::EscatTier,
            ],
        );
        let reviews = read_columns::<mtb_review::Entity, (i32, NaiveDate, MtbOutcome), _>(
            &source,
            [mtb_review::Column::PatientId, mtb_review::Column::ReviewDate, mtb_review::Column::Outcome],
        );
        let enrolments = read_columns::<enrolment::Entity, EnrolmentRow, _>(
            &source,
            [
                enrolment::Column::Id,
                enrolment::Column::PatientId,
                enrolment::Column::CohortId,
                enrolment::Column::SiteId,
                enrolment::Column::EnrolledOn,
                enrolment::Column::CohortStage,
                enrolment::Column::TreatmentStart,
            ],
        );
        use response_assessment as ra;
        let assessments = read_columns::<ra::Entity, (i32, i32, OverallResponse, NaiveDate), _>(
            &source,
            [ra::Column::EnrolmentId, ra::Column::StudyWeek, ra::Column::Response, ra::Column::AssessmentDate],
        );
        use adverse_event as ae;
        let adverse = read_columns::<ae::Entity, (i32, String, String, i32, bool, bool), _>(
            &source,
            [
                ae::Column::EnrolmentId,
                ae::Column::CtcaeTerm,
                ae::Column::OrganClass,
                ae::Column::Grade,
                ae::Column::Related,
                ae::Column::Serious,
            ],
        );
        let followups = read_columns::<followup::Entity, (i32, NaiveDate, Option<NaiveDate>), _>(
            &source,
            [followup::Column::PatientId, followup::Column::StatusDate, followup::Column::DeathDate],
        );
        let (catalogue, patients, profiles, variants, reviews, enrolments, assessments, adverse, followups) = tokio::try_join!(
            reference,
            patients,
            profiles,
            variants,
            reviews,
            enrolments,
            assessments,
            adverse,
            followups
        )?;
        let read_ms = started.elapsed().as_millis() as u64;
        Ok(TrialRows {
            version,
            catalogue,
            patients,
            profiles,
            variants,
            reviews,
            enrolments,
            assessments,
            adverse,
            followups,
            read_ms,
        })
    }
}

impl Snapshot {
    /// Builds the frames from the rows of one data version (CPU-bound: call it from a
    /// blocking thread, not an async worker).
    pub fn build(rows: TrialRows, rules: EndpointRules) -> Result<Snapshot, AnalyticsError> {
        let started = Instant::now();
        let TrialRows {
            version,
            mut catalogue,
            patients,
            profiles,
            variants,
            reviews,
            enrolments,
            assessments,
            adverse,
            followups,
            read_ms,
        } = rows;

        // Tumour types and genes get dense keys in sorted order. The fixed vocabularies
        // come first, so the codes a filter accepts do not depend on who has them; a code
        // in the data but not in them is kept (it is still data), and is what an import
        // validating against the vocabularies prevents.
        let tumour_types: BTreeSet<&str> = vocabulary::ONCOTREE
            .iter()
            .copied()
            .chain(profiles.iter().map(|p| p.2.as_str()))
            .chain(catalogue.cohorts.values().map(|c| c.oncotree_code.as_str()))
            .collect();
        let genes: BTreeSet<&str> = vocabulary::GENE_PANEL
            .iter()
            .copied()
            .chain(variants.iter().map(|v| v.1.as_str()))
            .chain(catalogue.cohorts.values().map(|c| c.gene.as_str()))
            .collect();
        catalogue.tumour_types = tumour_types.into_iter().map(str::to_owned).collect();
        catalogue.genes = genes.into_iter().map(str::to_owned).collect();

        let n = patients.len();
        let row_of: HashMap<i32, usize> = patients.iter().enumerate().map(|(row, p)| (p.0, row)).collect();
        let (sexes, regions) = (Sex::all(), HealthRegion::all());
        let mut cols = PatientColumns::with_len(n);
        for (row, (id, sex, birth_year, region, site, referred)) in patients.iter().enumerate() {
            let age = referred.year() - birth_year;
            cols.patient_id[row] = *id;
            cols.sex[row] = position(&sexes, *sex);
            cols.age[row] = age;
            cols.age_band[row] = age_band(age);
            cols.region[row] = position(&regions, *region);
            cols.site[row] = *site;
            cols.referral_day[row] = day_number(*referred);
        }

        let mut profile_row: HashMap<i32, usize> = HashMap::with_capacity(profiles.len());
        for (profile_id, patient_id, oncotree, tmb, msi) in &profiles {
            let Some(&row) = row_of.get(patient_id) else { continue };
            profile_row.insert(*profile_id, row);
            cols.profiled[row] = true;
            cols.tumour_type[row] = catalogue.tumour_type_key(oncotree);
            cols.tmb[row] = Some(*tmb);
            cols.msi_high[row] = *msi == MsiStatus::High;
        }

        // Actionable: any variant at ESCAT I–III; the primary gene is the best tier's.
        let (classes, tiers) = (AlterationClass::all(), EscatTier::all());
        let mut best_tier: Vec<Option<EscatTier>> = vec![None; n];
        let mut variant_cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (profile_id, gene, class, tier) in &variants {
            let Some(&row) = profile_row.get(profile_id) else { continue };
            let gene_key = catalogue.gene_key(gene);
            variant_cols.0.push(cols.patient_id[row]);
            variant_cols.1.push(gene_key);
            variant_cols.2.push(position(&classes, *class));
            variant_cols.3.push(position(&tiers, *tier));
            if tier.is_actionable() && best_tier[row].is_none_or(|best| *tier < best) {
                best_tier[row] = Some(*tier);
                cols.actionable[row] = true;
                cols.gene[row] = gene_key;
                cols.alteration_class[row] = Some(position(&classes, *class));
            }
        }

        for (patient_id, date, outcome) in &reviews {
            let Some(&row) = row_of.get(patient_id) else { continue };
            cols.matched[row] = *outcome == MtbOutcome::MatchedCohort;
            cols.review_day[row] = Some(day_number(*date));
        }

        for (patient_id, status, death) in &followups {
            let Some(&row) = row_of.get(patient_id) else { continue };
            cols.status_day[row] = Some(day_number(*status));
            cols.death_day[row] = death.map(day_number);
        }

        let stages = CohortStage::all();
        let mut treated_of_enrolment = Vec::with_capacity(enrolments.len());
        let mut death_of_enrolment = Vec::with_capacity(enrolments.len());
        for (enrolment_id, patient_id, cohort_id, site_id, enrolled_on, stage, start) in &enrolments {
            let Some(&row) = row_of.get(patient_id) else { continue };
            let drug = catalogue.cohorts.get(cohort_id).map(|c| c.drug_id);
            let cohort_gene = catalogue.cohorts.get(cohort_id).and_then(|c| catalogue.gene_key(&c.gene));
            let cohort_class = catalogue.cohorts.get(cohort_id).map(|c| position(&classes, c.alteration_class));
            cols.enrolment_id[row] = Some(*enrolment_id);
            cols.enrolled[row] = true;
            cols.cohort[row] = Some(*cohort_id);
            cols.drug[row] = drug;
            cols.supplier[row] = drug.and_then(|d| catalogue.drugs.get(&d)).map(|d| d.supplier_id);
            cols.gene[row] = cohort_gene.or(cols.gene[row]);
            cols.alteration_class[row] = cohort_class.or(cols.alteration_class[row]);
            cols.site[row] = *site_id;
            cols.enrolled_day[row] = Some(day_number(*enrolled_on));
            cols.enrolment_month[row] = Some(month_number(*enrolled_on));
            cols.enrolment_year[row] = Some(enrolled_on.year());
            cols.cohort_stage[row] = Some(position(&stages, *stage));
            cols.treated[row] = start.is_some();
            cols.treatment_start_day[row] = start.map(day_number);
            treated_of_enrolment.push((*enrolment_id, start.map(day_number)));
            death_of_enrolment.push(cols.death_day[row]);
        }

        let responses = OverallResponse::all();
        let assessments = df!(
            "enrolment_id" => assessments.iter().map(|a| a.0).collect::<Vec<_>>(),
            "study_week" => assessments.iter().map(|a| a.1).collect::<Vec<_>>(),
            "response" => assessments.iter().map(|a| position(&responses, a.2)).collect::<Vec<_>>(),
            "assessment_date" => assessments.iter().map(|a| day_number(a.3)).collect::<Vec<_>>(),
        )?;
        let enrolment_frame = df!(
            "enrolment_id" => treated_of_enrolment.iter().map(|e| e.0).collect::<Vec<_>>(),
            "treated" => treated_of_enrolment.iter().map(|e| e.1.is_some()).collect::<Vec<_>>(),
            "start_day" => treated_of_enrolment.iter().map(|e| e.1).collect::<Vec<_>>(),
            "death_day" => death_of_enrolment,
        )?;
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

        let variants = df!(
            "patient_id" => variant_cols.0,
            "gene" => variant_cols.1,
            "alteration_class" => variant_cols.2,
            "escat_tier" => variant_cols.3,
        )?;
        let adverse_events = df!(
            "enrolment_id" => adverse.iter().map(|a| a.0).collect::<Vec<_>>(),
            "ctcae_term" => adverse.iter().map(|a| a.1.as_str()).collect::<Vec<_>>(),
            "organ_class" => adverse.iter().map(|a| a.2.as_str()).collect::<Vec<_>>(),
            "grade" => adverse.iter().map(|a| a.3).collect::<Vec<_>>(),
            "related" => adverse.iter().map(|a| a.4).collect::<Vec<_>>(),
            "serious" => adverse.iter().map(|a| a.5).collect::<Vec<_>>(),
        )?;
        tracing::info!(
            data_version = version,
            patients = n,
            read_ms,
            build_ms = started.elapsed().as_millis() as u64,
            "snapshot built"
        );
        Ok(Snapshot { version, built_at: Utc::now(), catalogue, patients, variants, assessments, adverse_events })
    }
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

/// Hand-written trials for the tests of the measures: [`TrialRows`] from literal rows,
/// built into a [`Snapshot`] without a database.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;

    /// The date `day` days after 2023-01-02, the fixtures' day 0; negative days are before.
    pub(crate) fn date(day: i32) -> NaiveDate {
        let origin = NaiveDate::from_ymd_opt(2023, 1, 2).expect("valid date");
        origin + chrono::Duration::days(i64::from(day))
    }

    /// The snapshot day number of a fixture day.
    pub(crate) fn day(day: i32) -> i32 {
        day_number(date(day))
    }

    /// A trial being written row by row. Every enrolment's id is its patient's id, and so
    /// is every profile's.
    pub(crate) struct Trial {
        rows: TrialRows,
    }

    impl Trial {
        /// An empty trial with two industry partners (ids 1, 2), each supplying one drug
        /// (drug 1 from partner 1, drug 2 from partner 2).
        pub(crate) fn new() -> Self {
            let mut catalogue = Catalogue::default();
            catalogue.sites.insert(
                1,
                site::Model {
                    id: 1,
                    code: "S1".into(),
                    name: "Site 1".into(),
                    region: HealthRegion::SouthEast,
                    partner_id: 1,
                    inpred_node: true,
                },
            );
            for id in [1, 2] {
                catalogue.partners.insert(
                    id,
                    partner::Model {
                        id,
                        code: format!("P{id}"),
                        name: format!("Partner {id}"),
                        kind: PartnerKind::Industry,
                        org_number: format!("99999999{id}"),
                        scopes: None,
                    },
                );
                catalogue.drugs.insert(
                    id,
                    drug::Model {
                        id,
                        code: format!("D{id}"),
                        name: format!("Drug {id}"),
                        mechanism: "kinase inhibitor".into(),
                        supplier_id: id,
                    },
                );
            }
            Self {
                rows: TrialRows {
                    version: 1,
                    catalogue,
                    patients: Vec::new(),
                    profiles: Vec::new(),
                    variants: Vec::new(),
                    reviews: Vec::new(),
                    enrolments: Vec::new(),
                    assessments: Vec::new(),
                    adverse: Vec::new(),
                    followups: Vec::new(),
                    read_ms: 0,
                },
            }
        }

        /// A cohort on `gene` with alteration `class`, treated with `drug`, monitored with
        /// the design `[r1, n1, r, n]`, with the recorded `status`.
        pub(crate) fn cohort(
            mut self,
            id: i32,
            gene: &str,
            class: AlterationClass,
            drug: i32,
            design: [i32; 4],
            status: CohortStatus,
        ) -> Self {
            let model = cohort::Model {
                id,
                code: format!("C{id}"),
                name: format!("Cohort {id}"),
                oncotree_code: "CHOL".into(),
                gene: gene.into(),
                alteration_class: class,
                drug_id: drug,
                design_r1: design[0],
                design_n1: design[1],
                design_r: design[2],
                design_n: design[3],
                status,
                opened_on: date(0),
                closed_on: None,
            };
            self.rows.catalogue.cohorts.insert(id, model);
            self
        }

        /// A patient referred on day 0, born 1960, female unless `male`.
        pub(crate) fn patient(mut self, id: i32, male: bool) -> Self {
            let sex = if male { Sex::Male } else { Sex::Female };
            self.rows.patients.push((id, sex, 1960, HealthRegion::SouthEast, 1, date(0)));
            self
        }

        /// A colorectal profile of `patient` with its variants (gene, class, tier).
        pub(crate) fn profile(mut self, patient: i32, variants: &[(&str, AlterationClass, EscatTier)]) -> Self {
            self.rows.profiles.push((patient, patient, "COADREAD".into(), 4.0, MsiStatus::Stable));
            for (gene, class, tier) in variants {
                self.rows.variants.push((patient, (*gene).into(), *class, *tier));
            }
            self
        }

        /// The tumour board's review of `patient` on `day`.
        pub(crate) fn review(mut self, patient: i32, day: i32, outcome: MtbOutcome) -> Self {
            self.rows.reviews.push((patient, date(day), outcome));
            self
        }

        /// Enrols `patient` in `cohort` on `day`, starting treatment on `start` if given.
        pub(crate) fn enrol(mut self, patient: i32, cohort: i32, day: i32, start: Option<i32>) -> Self {
            let start = start.map(date);
            self.rows.enrolments.push((patient, patient, cohort, 1, date(day), CohortStage::Stage1, start));
            self
        }

        /// A patient matched, enrolled a week before and treated from `start`: the common
        /// case, in one call.
        pub(crate) fn treated(self, patient: i32, cohort: i32, start: i32) -> Self {
            self.patient(patient, false).review(patient, start - 14, MtbOutcome::MatchedCohort).enrol(
                patient,
                cohort,
                start - 7,
                Some(start),
            )
        }

        /// A response assessment of `patient` at study `week`, dated `week` weeks after
        /// the treatment start of the patient's enrolment.
        pub(crate) fn assess(mut self, patient: i32, week: i32, response: OverallResponse) -> Self {
            let start = self.rows.enrolments.iter().find(|e| e.1 == patient).and_then(|e| e.6).unwrap_or(date(0));
            let when = start + chrono::Duration::weeks(i64::from(week));
            self.rows.assessments.push((patient, week, response, when));
            self
        }

        /// Follow-up of `patient`: alive on `status_day`, or dead on `death_day`.
        pub(crate) fn follow(mut self, patient: i32, status_day: i32, death_day: Option<i32>) -> Self {
            self.rows.followups.push((patient, date(status_day), death_day.map(date)));
            self
        }

        /// The snapshot, with the default endpoint rules.
        pub(crate) fn build(self) -> Snapshot {
            Snapshot::build(self.rows, EndpointRules::default()).expect("the fixture builds")
        }
    }

    /// A dozen patients whose endpoints the tests of every measure compute by hand
    /// (days are fixture days; treated patients start on day 100 unless noted):
    ///
    /// | id | who | course | evaluable / benefit / BOR | PFS days | OS days |
    /// |----|-----|--------|---------------------------|----------|---------|
    /// | 1  | cohort 1 | SD w8, SD w16, PD w24; alive at 400 | yes / yes / SD | 168 event | 300 cens. |
    /// | 2  | cohort 1, male | PR w8, CR w16, CR w24; alive at 500 | yes / yes / CR | 168 cens. | 400 cens. |
    /// | 3  | cohort 1 | PD w8; died 190 | yes / no / PD | 56 event | 90 event |
    /// | 4  | cohort 1 | no assessment; died 160 | yes / no / none (NE) | 60 event | 60 event |
    /// | 5  | cohort 1 | SD w6, stopped; alive at 300 | no | 42 cens. | 200 cens. |
    /// | 6  | cohort 2, male | SD w8, PR w15, PD w19; died 400 | yes / yes / PR | 133 event | 300 event |
    /// | 7  | cohort 2 | PD w8; alive at 250 | yes / no / PD | 56 event | 150 cens. |
    /// | 8  | cohort 2, enrolled, never treated; matched 50; died 300 | | | – | 250 event (from review) |
    /// | 9  | matched 60, not enrolled; alive at 460 | | | – | 400 cens. (from review) |
    /// | 10 | reviewed 70, no match; died 170 | | | – | 100 event (from review) |
    /// | 11 | profiled, never reviewed; alive at 500 | | | – | – |
    /// | 12 | cohort 2, enrolled 400 (2024), started 410; nothing since | no | 0 cens. | 0 cens. |
    /// | 13 | cohort 3 | PD w8; alive at 300 | yes / no / PD | 56 event | 200 cens. |
    ///
    /// Cohort 1 targets a BRAF mutation (drug 1), cohort 2 a RET fusion (drug 2), cohort 3
    /// an ERBB2 amplification (drug 2). Patient 1's own variant is a fusion (the cohort's
    /// class wins); patient 9's primary variant is an ERBB2 amplification at tier II-A
    /// (beating a KRAS mutation at III-B); patient 10 has only a tier IV-A variant.
    pub(crate) fn dozen() -> Snapshot {
        use AlterationClass::*;
        use OverallResponse::*;
        let design = [0, 8, 4, 24];
        Trial::new()
            .cohort(1, "BRAF", Mutation, 1, design, CohortStatus::Stage1)
            .cohort(2, "RET", Fusion, 2, design, CohortStatus::Stage1)
            .cohort(3, "ERBB2", Amplification, 2, design, CohortStatus::Stage1)
            .treated(1, 1, 100)
            .profile(1, &[("BRAF", Fusion, EscatTier::IA)])
            .assess(1, 8, Sd)
            .assess(1, 16, Sd)
            .assess(1, 24, Pd)
            .follow(1, 400, None)
            .patient(2, true)
            .review(2, 86, MtbOutcome::MatchedCohort)
            .enrol(2, 1, 93, Some(100))
            .assess(2, 8, Pr)
            .assess(2, 16, Cr)
            .assess(2, 24, Cr)
            .follow(2, 500, None)
            .treated(3, 1, 100)
            .assess(3, 8, Pd)
            .follow(3, 190, Some(190))
            .treated(4, 1, 100)
            .follow(4, 160, Some(160))
            .treated(5, 1, 100)
            .assess(5, 6, Sd)
            .follow(5, 300, None)
            .patient(6, true)
            .review(6, 86, MtbOutcome::MatchedCohort)
            .enrol(6, 2, 93, Some(100))
            .assess(6, 8, Sd)
            .assess(6, 15, Pr)
            .assess(6, 19, Pd)
            .follow(6, 400, Some(400))
            .treated(7, 2, 100)
            .assess(7, 8, Pd)
            .follow(7, 250, None)
            .patient(8, false)
            .review(8, 50, MtbOutcome::MatchedCohort)
            .enrol(8, 2, 57, None)
            .follow(8, 300, Some(300))
            .patient(9, false)
            .profile(9, &[("KRAS", Mutation, EscatTier::IIIB), ("ERBB2", Amplification, EscatTier::IIA)])
            .review(9, 60, MtbOutcome::MatchedCohort)
            .follow(9, 460, None)
            .patient(10, false)
            .profile(10, &[("TP53", Mutation, EscatTier::IVA)])
            .review(10, 70, MtbOutcome::NoMatch)
            .follow(10, 170, Some(170))
            .patient(11, false)
            .profile(11, &[])
            .follow(11, 500, None)
            .patient(12, false)
            .review(12, 393, MtbOutcome::MatchedCohort)
            .enrol(12, 2, 400, Some(410))
            .treated(13, 3, 100)
            .assess(13, 8, Pd)
            .follow(13, 300, None)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{day, dozen};
    use super::*;

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
