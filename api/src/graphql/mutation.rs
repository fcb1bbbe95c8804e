//! Writes: importing trial data from a file (a GraphQL multipart request).

use async_graphql::{Context, Enum, Object, SimpleObject, Upload};
use consortium_store::import::{self as store, Domain, Report};

use super::access;
use crate::error::ApiError;
use crate::import::{rights_of, run, Mode, Recorded};

/// The writes.
#[derive(Debug, Default)]
pub struct Mutation;

/// The domain of an import file (columns in `docs/import.md`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_store::import::Domain")]
pub enum ImportDomain {
    /// Catalogue: consortium members (`admin`).
    Partners,
    /// Catalogue: treating sites (`admin`).
    Sites,
    /// Catalogue: study drugs (`admin`).
    Drugs,
    /// Catalogue: cohorts with their two-stage design (`admin`).
    Cohorts,
    /// SDTM DM: demographics and referral (`data:write`).
    Dm,
    /// InPreD molecular profiles (`data:write`).
    Profiles,
    /// InPreD variants (`data:write`).
    Variants,
    /// SDTM DS: the tumour board's review (`data:write`).
    Ds,
    /// SDTM EX: enrolment and treatment (`data:write`).
    Ex,
    /// SDTM RS: overall response assessments (`data:write`).
    Rs,
    /// SDTM AE: adverse events (`data:write`).
    Ae,
    /// SDTM SS: survival status (`followup:write`, or `data:write` for one's own patients).
    Ss,
}

/// What an import found and did.
#[derive(SimpleObject, Debug)]
pub struct ImportReport {
    /// Whether the database changed (false for a dry run, a refused import, and one whose
    /// rows were all stored already).
    pub applied: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The data version after the import (bumped once when it applied).
    pub data_version: i64,
    /// One summary per file.
    pub files: Vec<ImportedFile>,
    /// The problems found, up to 100 (any problem, and nothing changed).
    pub problems: Vec<ImportProblem>,
    /// How many problems in all.
    pub problem_count: i32,
    /// Whether the import was sent as a correction of vital status.
    pub correction: bool,
    /// Follow-up rows that corrected a vital status on record (a correction only).
    pub corrected: i32,
    /// Patients moved to another site (an `admin` import only).
    pub rehomed: i32,
    /// Partners whose grants the import changes.
    pub grants_changed: Vec<ImportedGrant>,
}

/// A partner's grants before and after an import.
#[derive(SimpleObject, Debug)]
pub struct ImportedGrant {
    /// The partner's code.
    pub partner: String,
    /// Its scopes before (null: its kind's defaults).
    pub before: Option<String>,
    /// Its scopes after (null: its kind's defaults).
    pub after: Option<String>,
}

/// The rows of one file by what became of them.
#[derive(SimpleObject, Debug)]
pub struct ImportedFile {
    /// The domain.
    pub domain: String,
    /// The file's name.
    pub file: String,
    /// Hex SHA-256 of the file (on record in the audit trail).
    pub sha256: String,
    /// The format its content was read as (`csv`, `parquet`); null when unreadable.
    pub format: Option<String>,
    /// Rows read.
    pub rows: i64,
    /// Rows that are new.
    pub inserted: i64,
    /// Rows that changed the stored row with the same natural key.
    pub updated: i64,
    /// Rows equal to the stored row.
    pub unchanged: i64,
}

/// One problem of an import.
#[derive(SimpleObject, Debug)]
pub struct ImportProblem {
    /// The file.
    pub file: String,
    /// The line (the header is line 1); none for the file as a whole.
    pub line: Option<i64>,
    /// The column.
    pub column: Option<String>,
    /// The value found (masked when it looks like a direct identifier).
    pub value: Option<String>,
    /// The stable code (`docs/import.md` lists them).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<Report> for ImportReport {
    fn from(report: Report) -> Self {
        ImportReport {
            applied: report.applied,
            dry_run: report.dry_run,
            data_version: report.data_version,
            files: report
                .files
                .into_iter()
                .map(|f| ImportedFile {
                    domain: f.domain,
                    file: f.file,
                    sha256: f.sha256,
                    format: f.format,
                    rows: count(f.rows),
                    inserted: count(f.inserted),
                    updated: count(f.updated),
                    unchanged: count(f.unchanged),
                })
                .collect(),
            problems: report
                .problems
                .listed
                .into_iter()
                .map(|p| ImportProblem {
                    file: p.file,
                    line: p.line.map(|l| count(l as u64)),
                    column: p.column,
                    value: p.value,
                    code: p.code.as_str().to_owned(),
                    message: p.message,
                })
                .collect(),
            problem_count: i32::try_from(report.problems.total).unwrap_or(i32::MAX),
            correction: report.correction,
            corrected: i32::try_from(report.corrected).unwrap_or(i32::MAX),
            rehomed: i32::try_from(report.rehomed).unwrap_or(i32::MAX),
            grants_changed: report
                .grants
                .into_iter()
                .map(|g| ImportedGrant { partner: g.partner, before: g.before, after: g.after })
                .collect(),
        }
    }
}

#[Object]
impl Mutation {
    /// Imports one file of trial data (CSV or Parquet, sent as a GraphQL multipart
    /// request): validated first, then applied all or nothing with one data-version
    /// bump, on record in the audit trail. Rows are matched by natural key: the same
    /// file again changes nothing; a corrected row updates. Hospitals (`data:write`)
    /// send their own sites' patients, the registry (`followup:write`) follow-up, the
    /// administration (`admin`) the catalogue. Problems with the file come back in the
    /// report, not as errors. A follow-up file that takes back a vital status on record
    /// (a death turned back to alive, a changed date of death, the last date known
    /// alive moved back) is refused unless sent with `correction: true`; the correction
    /// is on record.
    async fn import_data(
        &self,
        ctx: &Context<'_>,
        domain: ImportDomain,
        file: Upload,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = false)] correction: bool,
    ) -> async_graphql::Result<ImportReport> {
        let principal = access::principal(ctx)?;
        let domain = Domain::from(domain);
        let rights = rights_of(principal);
        if !rights.may_send(domain) {
            let needs = domain.steward().scope();
            return Err(ApiError::Forbidden(format!("importing {domain} files needs the {needs} scope")).into());
        }
        let state = access::state(ctx)?;
        let value = file.value(ctx).map_err(|e| ApiError::BadUserInput(format!("the file cannot be read: {e}")))?;
        let upload = store::Upload { domain, file: value.filename, bytes: value.content.to_vec() };
        let mode = Mode { dry_run, correction };
        let report = run(&state.db, &[upload], &rights, mode, &Recorded::principal(principal), &|_| {}).await?;
        if report.applied {
            state.refresh().await?;
        }
        Ok(report.into())
    }
}
