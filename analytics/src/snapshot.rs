//! The columnar snapshot: one data version of the trial, loaded once and shared
//! read-only by every request.
//!
//! Reading ([`TrialRows::read`]) takes every table inside one read transaction (repeatable read on
//! PostgreSQL; SQLite transactions are serialisable), so the frames and the version
//! they are tagged with always agree. Facts about a patient that live in other tables
//! (profile, board review, enrolment, follow-up) are denormalised onto the patient's
//! row as small integer keys; the endpoints are then derived with polars
//! ([`crate::endpoints`]).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use consortium_entity::*;
use polars::prelude::*;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, IsolationLevel, QuerySelect,
    TransactionTrait,
};

use crate::catalogue::Catalogue;
use crate::dimension::{age_band, day_number, month_number};
use crate::endpoints::{self, EndpointRules};
use crate::error::AnalyticsError;

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
    /// One row per response assessment: `enrolment_id`, `study_week`, `response`.
    pub assessments: DataFrame,
    /// One row per adverse event: `enrolment_id`, `grade`, `related`, `serious`,
    /// `ctcae_term`, `organ_class`.
    pub adverse_events: DataFrame,
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
    assessments: Vec<(i32, i32, OverallResponse)>,
    adverse: Vec<(i32, String, String, i32, bool, bool)>,
    followups: Vec<(i32, NaiveDate, Option<NaiveDate>)>,
    read_ms: u64,
}

impl TrialRows {
    /// Reads the current data version, every table in one read transaction.
    pub async fn read(db: &DatabaseConnection) -> Result<TrialRows, AnalyticsError> {
        let started = Instant::now();
        let txn = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            }
            _ => db.begin().await?,
        };
        let version = data_version::current(&txn).await?;

        let catalogue = Catalogue {
            partners: partner::Entity::find().all(&txn).await?.into_iter().map(|m| (m.id, m)).collect(),
            sites: site::Entity::find().all(&txn).await?.into_iter().map(|m| (m.id, m)).collect(),
            drugs: drug::Entity::find().all(&txn).await?.into_iter().map(|m| (m.id, m)).collect(),
            cohorts: cohort::Entity::find().all(&txn).await?.into_iter().map(|m| (m.id, m)).collect(),
            ..Catalogue::default()
        };

        use molecular_profile as mp;
        let patients: Vec<(i32, Sex, i32, HealthRegion, i32, NaiveDate)> = patient::Entity::find()
            .select_only()
            .columns([
                patient::Column::Id,
                patient::Column::Sex,
                patient::Column::BirthYear,
                patient::Column::Region,
                patient::Column::ReferringSiteId,
                patient::Column::ReferralDate,
            ])
            .into_tuple()
            .all(&txn)
            .await?;
        let profiles: Vec<(i32, i32, String, f64, MsiStatus)> = mp::Entity::find()
            .select_only()
            .columns([
                mp::Column::Id,
                mp::Column::PatientId,
                mp::Column::OncotreeCode,
                mp::Column::Tmb,
                mp::Column::MsiStatus,
            ])
            .into_tuple()
            .all(&txn)
            .await?;
        let variants: Vec<(i32, String, AlterationClass, EscatTier)> = variant::Entity::find()
            .select_only()
            .columns([
                variant::Column::ProfileId,
                variant::Column::Gene,
                variant::Column::AlterationClass,
                variant::Column::EscatTier,
            ])
            .into_tuple()
            .all(&txn)
            .await?;
        let reviews: Vec<(i32, NaiveDate, MtbOutcome)> = mtb_review::Entity::find()
            .select_only()
            .columns([mtb_review::Column::PatientId, mtb_review::Column::ReviewDate, mtb_review::Column::Outcome])
            .into_tuple()
            .all(&txn)
            .await?;
        let enrolments: Vec<EnrolmentRow> = enrolment::Entity::find()
            .select_only()
            .columns([
                enrolment::Column::Id,
                enrolment::Column::PatientId,
                enrolment::Column::CohortId,
                enrolment::Column::SiteId,
                enrolment::Column::EnrolledOn,
                enrolment::Column::CohortStage,
                enrolment::Column::TreatmentStart,
            ])
            .into_tuple()
            .all(&txn)
            .await?;
        use response_assessment as ra;
        let assessments: Vec<(i32, i32, OverallResponse)> = ra::Entity::find()
            .select_only()
            .columns([ra::Column::EnrolmentId, ra::Column::StudyWeek, ra::Column::Response])
            .into_tuple()
            .all(&txn)
            .await?;
        use adverse_event as ae;
        let adverse: Vec<(i32, String, String, i32, bool, bool)> = ae::Entity::find()
            .select_only()
            .columns([
                ae::Column::EnrolmentId,
                ae::Column::CtcaeTerm,
                ae::Column::OrganClass,
                ae::Column::Grade,
                ae::Column::Related,
                ae::Column::Serious,
            ])
            .into_tuple()
            .all(&txn)
            .await?;
        let followups: Vec<(i32, NaiveDate, Option<NaiveDate>)> = followup::Entity::find()
            .select_only()
            .columns([followup::Column::PatientId, followup::Column::StatusDate, followup::Column::DeathDate])
            .into_tuple()
            .all(&txn)
            .await?;
        txn.commit().await?;
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

        // Tumour types and genes get dense keys in sorted order.
        let tumour_types: BTreeSet<&str> = profiles
            .iter()
            .map(|p| p.2.as_str())
            .chain(catalogue.cohorts.values().map(|c| c.oncotree_code.as_str()))
            .collect();
        let genes: BTreeSet<&str> =
            variants.iter().map(|v| v.1.as_str()).chain(catalogue.cohorts.values().map(|c| c.gene.as_str())).collect();
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
        let mut death_after_start = Vec::with_capacity(enrolments.len());
        for (enrolment_id, patient_id, cohort_id, site_id, enrolled_on, stage, start) in &enrolments {
            let Some(&row) = row_of.get(patient_id) else { continue };
            let drug = catalogue.cohorts.get(cohort_id).map(|c| c.drug_id);
            let cohort_gene = catalogue.cohorts.get(cohort_id).and_then(|c| catalogue.gene_key(&c.gene));
            cols.enrolment_id[row] = Some(*enrolment_id);
            cols.enrolled[row] = true;
            cols.cohort[row] = Some(*cohort_id);
            cols.drug[row] = drug;
            cols.supplier[row] = drug.and_then(|d| catalogue.drugs.get(&d)).map(|d| d.supplier_id);
            cols.gene[row] = cohort_gene.or(cols.gene[row]);
            cols.site[row] = *site_id;
            cols.enrolled_day[row] = Some(day_number(*enrolled_on));
            cols.enrolment_month[row] = Some(month_number(*enrolled_on));
            cols.cohort_stage[row] = Some(position(&stages, *stage));
            cols.treated[row] = start.is_some();
            cols.treatment_start_day[row] = start.map(day_number);
            treated_of_enrolment.push((*enrolment_id, start.is_some()));
            death_after_start.push(start.zip(cols.death_day[row]).map(|(s, d)| d - day_number(s)));
        }

        let responses = OverallResponse::all();
        let assessments = df!(
            "enrolment_id" => assessments.iter().map(|a| a.0).collect::<Vec<_>>(),
            "study_week" => assessments.iter().map(|a| a.1).collect::<Vec<_>>(),
            "response" => assessments.iter().map(|a| position(&responses, a.2)).collect::<Vec<_>>(),
        )?;
        let enrolment_frame = df!(
            "enrolment_id" => treated_of_enrolment.iter().map(|e| e.0).collect::<Vec<_>>(),
            "treated" => treated_of_enrolment.iter().map(|e| e.1).collect::<Vec<_>>(),
            "death_after_start_days" => death_after_start,
        )?;
        let derived = endpoints::derive(enrolment_frame.lazy(), assessments.clone().lazy(), rules).select([
            col("enrolment_id"),
            col("best_response"),
            col("evaluable"),
            col("benefit"),
        ]);
        let patients = cols
            .into_frame()?
            .lazy()
            .left_join(derived, col("enrolment_id"), col("enrolment_id"))
            .with_columns([col("evaluable").fill_null(lit(false)), col("benefit").fill_null(lit(false))])
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
    matched: Vec<bool>,
    review_day: Vec<Option<i32>>,
    enrolment_id: Vec<Option<i32>>,
    enrolled: Vec<bool>,
    cohort: Vec<Option<i32>>,
    drug: Vec<Option<i32>>,
    supplier: Vec<Option<i32>>,
    enrolled_day: Vec<Option<i32>>,
    enrolment_month: Vec<Option<i32>>,
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
            matched: vec![false; n],
            review_day: vec![None; n],
            enrolment_id: vec![None; n],
            enrolled: vec![false; n],
            cohort: vec![None; n],
            drug: vec![None; n],
            supplier: vec![None; n],
            enrolled_day: vec![None; n],
            enrolment_month: vec![None; n],
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
            "matched" => self.matched,
            "review_day" => self.review_day,
            "enrolment_id" => self.enrolment_id,
            "enrolled" => self.enrolled,
            "cohort" => self.cohort,
            "drug" => self.drug,
            "supplier" => self.supplier,
            "enrolled_day" => self.enrolled_day,
            "enrolment_month" => self.enrolment_month,
            "cohort_stage" => self.cohort_stage,
            "treated" => self.treated,
            "treatment_start_day" => self.treatment_start_day,
            "status_day" => self.status_day,
            "death_day" => self.death_day,
        )
    }
}
