//! Reading one data version for the analytics snapshot: every table's rows the measures
//! use, as [`TrialRows`] (the analytics crate builds them into frames, without I/O).
//!
//! The tables are read concurrently, each on a connection of its own (and each decoded
//! in a task of its own), which keeps both cores and the database server busy.
//! Consistency comes from the data version instead of one transaction: every write bumps
//! it in the transaction that writes, so if it is the same before and after the reads,
//! no write committed in between and the rows are one version's. If it moved, the read
//! starts over. An SQLite file's tables are read with `rusqlite` directly (see
//! [`crate::sqlite_file`]).

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use consortium_analytics::rows::{
    AdverseRow, AssessmentRow, EnrolmentRow, FollowupRow, PatientRow, ProfileRow, ReviewRow, VariantRow,
};
use consortium_analytics::{Catalogue, TrialRows};
use consortium_entity::*;
use sea_orm::sea_query::{Query, SqliteQueryBuilder};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QuerySelect, TryGetableMany};

use crate::sqlite_file;

/// Attempts at a consistent read before giving up.
const ATTEMPTS: usize = 5;

/// Reads the current data version's rows (see the module documentation).
pub async fn read(db: &DatabaseConnection) -> Result<TrialRows, DbErr> {
    for _ in 0..ATTEMPTS {
        let version = data_version::current(db).await?;
        let rows = read_tables(db, version).await?;
        if data_version::current(db).await? == version {
            return Ok(rows);
        }
        tracing::info!(data_version = version, "data changed while reading the snapshot; reading again");
    }
    Err(DbErr::Custom(format!("the data kept changing during {ATTEMPTS} attempts to read a consistent snapshot")))
}

/// Runs one table's read as a task of its own, on its own handle of the pool.
async fn spawn<T, F, Fut>(db: &DatabaseConnection, read: F) -> Result<T, DbErr>
where
    T: Send + 'static,
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>> + Send + 'static,
{
    match tokio::spawn(read(db.clone())).await {
        Ok(rows) => rows,
        Err(join) => Err(DbErr::Custom(format!("a table read failed to complete: {join}"))),
    }
}

/// Where the rows come from: the database through sea-orm, or, for an SQLite file,
/// the file itself.
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

/// Reads `columns` of every row of entity `E` as tuples `T`, in a task of its own, and
/// makes each a row `R`.
async fn read_columns<E, T, R, const N: usize>(source: &Source, columns: [E::Column; N]) -> Result<Vec<R>, DbErr>
where
    E: EntityTrait + Default,
    E::Column: Send + 'static,
    T: TryGetableMany + sqlite_file::Tuple + Send + 'static,
    R: FromColumns<T>,
{
    let tuples: Vec<T> = match source {
        Source::Database(db) => {
            let read = move |db: DatabaseConnection| async move {
                E::find().select_only().columns(columns).into_tuple::<T>().all(&db).await
            };
            spawn(db, read).await?
        }
        Source::SqliteFile(path) => {
            let sql = Query::select().columns(columns).from(E::default()).to_string(SqliteQueryBuilder);
            let path = path.clone();
            match tokio::task::spawn_blocking(move || sqlite_file::read_all::<T>(&path, &sql)).await {
                Ok(rows) => rows.map_err(|e| DbErr::Custom(format!("reading the SQLite file: {e}")))?,
                Err(join) => return Err(DbErr::Custom(format!("a table read failed to complete: {join}"))),
            }
        }
    };
    Ok(tuples.into_iter().map(R::from_columns).collect())
}

/// The reference tables, whole.
async fn catalogue(db: DatabaseConnection) -> Result<Catalogue, DbErr> {
    Ok(Catalogue {
        partners: partner::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
        sites: site::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
        drugs: drug::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
        cohorts: cohort::Entity::find().all(&db).await?.into_iter().map(|m| (m.id, m)).collect(),
        ..Catalogue::default()
    })
}

/// Reads every table concurrently; the caller checks the version did not move.
async fn read_tables(db: &DatabaseConnection, version: i64) -> Result<TrialRows, DbErr> {
    let started = Instant::now();
    let source = Source::of(db);
    let s = &source;
    let (catalogue, patients, profiles, variants, reviews, enrolments, assessments, adverse_events, followups) = tokio::try_join!(
        spawn(db, catalogue),
        patients(s),
        profiles(s),
        variants(s),
        reviews(s),
        enrolments(s),
        assessments(s),
        adverse_events(s),
        followups(s)
    )?;
    let read_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(TrialRows {
        version,
        catalogue,
        patients,
        profiles,
        variants,
        reviews,
        enrolments,
        assessments,
        adverse_events,
        followups,
        read_ms,
    })
}

async fn patients(source: &Source) -> Result<Vec<PatientRow>, DbErr> {
    use patient::Column as C;
    let columns = [C::Id, C::Sex, C::BirthYear, C::Region, C::ReferringSiteId, C::ReferralDate];
    read_columns::<patient::Entity, Patient, _, _>(source, columns).await
}

async fn profiles(source: &Source) -> Result<Vec<ProfileRow>, DbErr> {
    use molecular_profile::Column as C;
    let columns = [C::Id, C::PatientId, C::OncotreeCode, C::Tmb, C::MsiStatus];
    read_columns::<molecular_profile::Entity, Profile, _, _>(source, columns).await
}

async fn variants(source: &Source) -> Result<Vec<VariantRow>, DbErr> {
    use variant::Column as C;
    let columns = [C::ProfileId, C::Gene, C::AlterationClass, C::EscatTier];
    read_columns::<variant::Entity, Variant, _, _>(source, columns).await
}

async fn reviews(source: &Source) -> Result<Vec<ReviewRow>, DbErr> {
    use mtb_review::Column as C;
    read_columns::<mtb_review::Entity, Review, _, _>(source, [C::PatientId, C::ReviewDate, C::Outcome]).await
}

async fn enrolments(source: &Source) -> Result<Vec<EnrolmentRow>, DbErr> {
    use enrolment::Column as C;
    let columns = [C::Id, C::PatientId, C::CohortId, C::SiteId, C::EnrolledOn, C::CohortStage, C::TreatmentStart];
    read_columns::<enrolment::Entity, Enrolment, _, _>(source, columns).await
}

async fn assessments(source: &Source) -> Result<Vec<AssessmentRow>, DbErr> {
    use response_assessment::Column as C;
    let columns = [C::EnrolmentId, C::StudyWeek, C::Response, C::AssessmentDate];
    read_columns::<response_assessment::Entity, Assessment, _, _>(source, columns).await
}

async fn adverse_events(source: &Source) -> Result<Vec<AdverseRow>, DbErr> {
    use adverse_event::Column as C;
    let columns = [C::EnrolmentId, C::CtcaeTerm, C::OrganClass, C::Grade, C::Related, C::Serious];
    read_columns::<adverse_event::Entity, Adverse, _, _>(source, columns).await
}

async fn followups(source: &Source) -> Result<Vec<FollowupRow>, DbErr> {
    use followup::Column as C;
    read_columns::<followup::Entity, Followup, _, _>(source, [C::PatientId, C::StatusDate, C::DeathDate]).await
}

/// The columns each table is read as, in the order they are selected.
type Patient = (i32, Sex, i32, HealthRegion, i32, NaiveDate);
type Profile = (i32, i32, String, f64, MsiStatus);
type Variant = (i32, String, AlterationClass, EscatTier);
type Review = (i32, NaiveDate, MtbOutcome);
type Enrolment = (i32, i32, i32, i32, NaiveDate, CohortStage, Option<NaiveDate>);
type Assessment = (i32, i32, OverallResponse, NaiveDate);
type Adverse = (i32, String, String, i32, bool, bool);
type Followup = (i32, NaiveDate, Option<NaiveDate>);

/// Each row from the columns it is read as (a conversion here, not in analytics, which
/// knows nothing of how rows are read).
trait FromColumns<T> {
    fn from_columns(columns: T) -> Self;
}

macro_rules! rows_from {
    ($($row:ident <- $tuple:ident ($($field:ident),+)),+ $(,)?) => {$(
        impl FromColumns<$tuple> for $row {
            fn from_columns(($($field,)+): $tuple) -> Self {
                $row { $($field),+ }
            }
        }
    )+};
}

rows_from!(
    PatientRow <- Patient(id, sex, birth_year, region, referring_site, referral_date),
    ProfileRow <- Profile(id, patient_id, oncotree_code, tmb, msi),
    VariantRow <- Variant(profile_id, gene, alteration_class, escat_tier),
    ReviewRow <- Review(patient_id, date, outcome),
    EnrolmentRow <- Enrolment(id, patient_id, cohort_id, site_id, enrolled_on, stage, treatment_start),
    AssessmentRow <- Assessment(enrolment_id, study_week, response, date),
    AdverseRow <- Adverse(enrolment_id, term, organ_class, grade, related, serious),
    FollowupRow <- Followup(patient_id, status_date, death_date),
);
