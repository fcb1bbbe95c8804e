//! The import entry points' common part: what a principal may send (its scopes as
//! [`Rights`]) and the audit record of an import, written in the import's own
//! transaction by [`Recorded`]. The command line (`consortium import`) and the GraphQL
//! mutation (`importData`) both run [`consortium_store::import::import`] through
//! [`run`].

use chrono::Utc;
use consortium_entity::access::audit_record;
use consortium_store::import::{self, Options, Report, Rights, SiteData, Upload, Witness};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde_json::{json, Value};

use crate::auth::{Principal, Scope};
use crate::graphql::document::{query_hash, variables_hash};

/// The outcome on record of an import that changed nothing: every row was stored already.
pub const UNCHANGED: &str = "UNCHANGED";

/// The outcome on record of an import refused for problems with its files.
pub const INVALID_IMPORT: &str = "INVALID_IMPORT";

/// What `principal` may send: the catalogue with `admin`; its own sites' patients with
/// `data:write` (a hospital); every patient's follow-up with `followup:write` (the
/// registry). Anything else may send nothing.
pub fn rights_of(principal: &Principal) -> Rights {
    if principal.has(Scope::Admin) {
        return Rights::operator();
    }
    let site_data = match principal.has(Scope::DataWrite) {
        true => SiteData::OfPartner(principal.partner.code.clone()),
        false => SiteData::Nobody,
    };
    Rights { catalogue: false, site_data, followup: principal.has(Scope::FollowupWrite) }
}

/// Who an import is on record as.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The partner, for an import through the API; none for the operator.
    pub partner_code: Option<String>,
    /// The token's id, or `cli` for the operator.
    pub token_id: String,
    /// The entry point: `import` (command line) or the GraphQL operation's name.
    pub operation: String,
}

impl Recorded {
    /// The operator at the command line.
    pub fn operator() -> Self {
        Recorded { partner_code: None, token_id: "cli".into(), operation: "import".into() }
    }

    /// `principal`, through the API.
    pub fn principal(principal: &Principal) -> Self {
        Recorded {
            partner_code: Some(principal.partner.code.clone()),
            token_id: principal.token_id.clone(),
            operation: "importData".into(),
        }
    }
}

/// What an import's record says it changed: per file its domain, name, format, hash and
/// rows; the problems' count; whether it was a correction and what it corrected;
/// patients moved between sites; grants changed.
fn detail(report: &Report) -> Value {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|f| {
            json!({
                "domain": f.domain, "file": f.file, "format": f.format, "sha256": f.sha256, "rows": f.rows,
                "inserted": f.inserted, "updated": f.updated, "unchanged": f.unchanged,
            })
        })
        .collect();
    json!({
        "import": files,
        "problems": report.problems.total,
        "correction": report.correction,
        "corrected": report.corrected,
        "rehomed": report.rehomed,
        "grants": report.grants,
    })
}

impl Witness for Recorded {
    async fn record(&self, transaction: &DatabaseTransaction, report: &Report) -> Result<(), DbErr> {
        let detail = detail(report);
        let outcome = match (report.problems.listed.first(), report.applied) {
            (Some(_), _) => INVALID_IMPORT,
            (None, true) => "OK",
            (None, false) => UNCHANGED,
        };
        let record = audit_record::Model {
            id: 0,
            at_ms: Utc::now().timestamp_millis(),
            partner_code: self.partner_code.clone(),
            token_id: Some(self.token_id.clone()),
            operation: Some(self.operation.clone()),
            query_hash: query_hash(""),
            variables_hash: variables_hash(&detail),
            data_version: report.data_version,
            outcome: outcome.to_owned(),
            duration_ms: 0,
            released: 0,
            withheld: 0,
            policy_version: None,
            epsilon: None,
            detail: Some(detail.to_string()),
            prev_hash: String::new(),
            hash: String::new(),
        };
        // Partners' grants changed: every replica checks credentials again.
        if report.applied && !report.grants.is_empty() {
            crate::auth::epoch::announce_access_change(transaction).await?;
        }
        crate::pipeline::record::recorder::append_within(transaction, record).await.map(|_| ())
    }
}

/// How an import runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// Validate and report; change nothing.
    pub dry_run: bool,
    /// The import corrects vital status on record (see [`Options::correction`]).
    pub correction: bool,
}

/// Runs an import of `uploads` for a submitter with `rights`, on record as `recorded`.
pub async fn run(
    db: &DatabaseConnection,
    uploads: &[Upload],
    rights: &Rights,
    mode: Mode,
    recorded: &Recorded,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Report, DbErr> {
    let scopes = Scope::ALL.map(Scope::as_str);
    let today = Utc::now().date_naive();
    let options = Options { dry_run: mode.dry_run, today, progress, scopes: &scopes, correction: mode.correction };
    import::import(db, uploads, rights, options, recorded).await
}
