//! Importing trial data from files: validated before any write, all or nothing,
//! idempotent, and on record.
//!
//! An import is a set of files, one per [`Domain`] (CSV or Parquet; `docs/import.md`
//! lists the columns). It runs in four steps:
//!
//! 1. **Read** each file ([`file`]): refused whole if it is empty, not UTF-8, separated
//!    by something else than commas, a broken Parquet file, another domain's, carries
//!    a direct identifier, or is one the submitter may not send ([`Rights`]).
//! 2. **Stage** ([`world`], [`rows`]): in one transaction (imports take turns: on
//!    PostgreSQL under an advisory lock, on SQLite behind the write lock taken first and
//!    a lock of the process), the stored trial is loaded and whose patients the
//!    submitter may send rows about is settled from it ([`access`]); then every row is
//!    checked (text, types, code lists, references, duplicates, ownership) and staged by
//!    its natural key on top of it, files in domain order so rows may refer to rows of
//!    the same import. Every problem is collected.
//! 3. **Decide**: each journey with an incoming row is checked whole, stored and
//!    incoming rows together ([`journey`]): dates in order, vital status not taken back
//!    except by a correction. Any problem, and nothing is written. A dry run stops here.
//!    Rows equal to the stored ones change nothing: an import that changes nothing says
//!    so, and the data version stays.
//! 4. **Write** the new and changed rows, bump the data version once, and hand the
//!    report to the [`Witness`] to put on record, all in the same transaction: the data
//!    and its record commit together or not at all.

use std::collections::HashSet;
use std::future::Future;

use chrono::NaiveDate;
use consortium_entity::data_version;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};

mod access;
pub mod domain;
pub mod file;
mod journey;
pub mod report;
mod rows;
mod world;

pub use domain::{Domain, Steward};
pub use report::{Code, FileSummary, GrantChange, Problem, Problems, Report};
pub use rows::{study_week, DEFAULT_SCOPES, MAX_TEXT};

/// The advisory lock key under which imports take turns on PostgreSQL ("import").
const IMPORT_LOCK: i64 = 0x696d_706f_7274;

/// Whose patients a submitter may send rows about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteData {
    /// None.
    Nobody,
    /// Every patient's.
    Everyone,
    /// Those referred or treated by a site of the hospital partner with this code.
    OfPartner(String),
}

/// What a submitter may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rights {
    /// The catalogue: partners, sites, drugs, cohorts.
    pub catalogue: bool,
    /// Site data (every domain about patients but follow-up), and follow-up of the same
    /// patients.
    pub site_data: SiteData,
    /// Follow-up of every patient (the registry).
    pub followup: bool,
}

impl Rights {
    /// The operator (the command line, with the database's own credentials): everything.
    pub fn operator() -> Self {
        Rights { catalogue: true, site_data: SiteData::Everyone, followup: true }
    }

    /// Whether the submitter may send files of `domain`.
    pub fn may_send(&self, domain: Domain) -> bool {
        match domain.steward() {
            Steward::Catalogue => self.catalogue,
            Steward::Site => self.site_data != SiteData::Nobody,
            Steward::FollowUp => self.followup || self.site_data != SiteData::Nobody,
        }
    }

    fn why_not(&self, domain: Domain) -> String {
        format!("{domain} files need the {} scope", domain.steward().scope())
    }
}

/// One file of an import.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Its domain.
    pub domain: Domain,
    /// Its name, for reports.
    pub file: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// How to run an import.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Validate and report; change nothing.
    pub dry_run: bool,
    /// Dates after it are in the future.
    pub today: NaiveDate,
    /// Told how far the import has come, now and then.
    pub progress: &'a (dyn Fn(&str) + Sync),
    /// The names of the scopes a partner may be granted (a partners file's `SCOPES`).
    pub scopes: &'a [&'a str],
    /// Whether the import corrects what is on record: follow-up rows may then take
    /// back a recorded vital status (see [`Code::CorrectionRequired`]).
    pub correction: bool,
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("dry_run", &self.dry_run)
            .field("today", &self.today)
            .field("correction", &self.correction)
            .finish()
    }
}

/// Puts an import on record, in its transaction.
pub trait Witness {
    /// Records `report` (of an import that is not a dry run: applied, unchanged or
    /// refused) in `transaction`; an error rolls the import back.
    fn record(
        &self,
        transaction: &DatabaseTransaction,
        report: &Report,
    ) -> impl Future<Output = Result<(), DbErr>> + Send;
}

/// Imports `uploads` as a submitter with `rights`; see the module documentation.
/// Problems with the files are in the report; an error is the database's.
pub async fn import(
    db: &DatabaseConnection,
    uploads: &[Upload],
    rights: &Rights,
    options: Options<'_>,
    witness: &impl Witness,
) -> Result<Report, DbErr> {
    let mut report = Report { dry_run: options.dry_run, correction: options.correction, ..Report::default() };
    let mut tables = Vec::new();
    let mut domains = HashSet::new();
    let mut ordered: Vec<&Upload> = uploads.iter().collect();
    ordered.sort_by_key(|u| u.domain);
    for upload in ordered {
        report.files.push(FileSummary::new(upload.domain, &upload.file, sha256_hex(&upload.bytes)));
        if !rights.may_send(upload.domain) {
            report.problems.push(Problem::file(&upload.file, Code::DomainNotPermitted, rights.why_not(upload.domain)));
            continue;
        }
        if !domains.insert(upload.domain) {
            let message = format!("a second {} file in one import; send one file per domain", upload.domain);
            report.problems.push(Problem::file(&upload.file, Code::DuplicateKey, message));
            continue;
        }
        match file::read(upload.domain, &upload.file, &upload.bytes) {
            Ok(table) => {
                (options.progress)(&format!("{}: read {} rows", upload.file, table.rows));
                let index = report.files.len() - 1;
                report.files[index].format = Some(table.format.extension().to_owned());
                tables.push((upload.domain, index, table));
            }
            Err(problem) => report.problems.push(problem),
        }
    }
    // On SQLite one process's imports take turns here, and another process's behind the
    // database's write lock, taken by the transaction's first statement.
    let _turn = match db.get_database_backend() {
        DatabaseBackend::Sqlite => Some(SQLITE_TURN.lock().await),
        _ => None,
    };
    let Some(transaction) = begin_turn(db).await? else {
        let message = format!(
            "another process kept the database's write lock for over {} s; send the import again",
            TURN_WAIT.as_secs()
        );
        report.problems.push(Problem::file("", Code::Busy, message));
        return Ok(report);
    };
    report.data_version = data_version::current(&transaction).await?;
    if !report.problems.is_empty() {
        return finish(transaction, report, witness).await;
    }
    let mut world = world::World::load(&transaction).await?;
    let context = rows::Context {
        today: options.today,
        access: access::Access::of(rights, &world),
        progress: options.progress,
        scopes: options.scopes,
    };
    let mut changes = rows::Changes::default();
    for (domain, index, table) in &tables {
        let sheet = rows::Sheet { table, file: *index };
        let summary = &mut report.files[*index];
        rows::stage(*domain, &mut world, &sheet, &context, &mut changes, &mut report.problems, summary);
    }
    report.corrected = journey::check(&mut world, options.correction, &report.files, &mut report.problems);
    report.problems.sort(&report.files);
    report.rehomed = changes.rehomed.len() as u64;
    report.grants = changes.grants;
    if !report.problems.is_empty() || !world.is_changed() || report.dry_run {
        return finish(transaction, report, witness).await;
    }
    (options.progress)("writing");
    world.write(&transaction).await?;
    report.data_version = data_version::bump(&transaction).await?;
    report.applied = true;
    finish(transaction, report, witness).await
}

/// Ends the import's transaction: a dry run rolls back, anything else is put on record
/// and committed (with the data when it was applied).
async fn finish(transaction: DatabaseTransaction, mut report: Report, witness: &impl Witness) -> Result<Report, DbErr> {
    if report.dry_run {
        report.applied = false;
        transaction.rollback().await?;
        return Ok(report);
    }
    witness.record(&transaction, &report).await?;
    transaction.commit().await?;
    Ok(report)
}

/// Imports of this process on SQLite, one at a time (see [`import`]).
static SQLITE_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Longest an import waits for another process's import to end (SQLite).
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Begins the import's transaction once it is the database's only writer; `None` when
/// another process held the write lock for longer than [`TURN_WAIT`].
async fn begin_turn(db: &DatabaseConnection) -> Result<Option<DatabaseTransaction>, DbErr> {
    let started = std::time::Instant::now();
    loop {
        let transaction = db.begin().await?;
        match take_turn(&transaction).await {
            Ok(()) => return Ok(Some(transaction)),
            Err(error) if is_locked(&error) => {
                transaction.rollback().await?;
                if started.elapsed() > TURN_WAIT {
                    return Ok(None);
                }
            }
            Err(error) => return Err(error),
        }
    }
}

/// Whether `error` is SQLite's "database is locked": another connection writes (the
/// connection already waited its busy timeout).
fn is_locked(error: &DbErr) -> bool {
    error.to_string().contains("database is locked")
}

/// Makes the import's transaction the database's only writer until it ends: on
/// PostgreSQL an advisory lock; on SQLite a first statement that writes (it changes
/// nothing), which takes the write lock at once and waits for another process's import
/// to end (a transaction that read first and wrote later would instead fail when
/// another wrote in between).
async fn take_turn(transaction: &DatabaseTransaction) -> Result<(), DbErr> {
    let turn = match transaction.get_database_backend() {
        DatabaseBackend::Postgres => format!("SELECT pg_advisory_xact_lock({IMPORT_LOCK})"),
        _ => "UPDATE data_version SET version = version WHERE id = 0".to_owned(),
    };
    transaction.execute_unprepared(&turn).await.map(|_| ())
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
