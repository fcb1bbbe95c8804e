//! The one typed configuration, parsed once from the command line and the environment.
//!
//! Every option has a `--flag` and an environment variable, and its `///` doc is its
//! `--help` text. Nothing else in the code base reads the environment. The database URL
//! is a secret (it may carry a password): it is only ever shown masked.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

/// The embedded default: an SQLite file under `./data/`, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/consortium.db?mode=rwc";

/// Consortium Analytics: anonymised aggregates of a national precision-cancer-medicine
/// trial, served over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "consortium", version)]
pub struct Cli {
    /// Database to use: `sqlite://path?mode=rwc` or `postgres://user:password@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: SecretString,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API on an already migrated database.
    Serve(ServeArgs),
    /// Apply pending schema migrations, then exit.
    Migrate,
    /// Migrate, fill the database with a synthetic consortium (if empty), and serve.
    Demo(DemoArgs),
    /// Print the GraphQL schema (SDL) to standard output.
    Schema,
    /// Scoped API tokens for partners and dashboards.
    #[command(subcommand)]
    Token(TokenCommand),
    /// OAuth2 clients of the authorization server.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The authorization server's signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Partners' grants.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Import trial data from a file (CSV or Parquet; columns in docs/import.md), or every
    /// file of an export: validated first, then applied all or nothing with one
    /// data-version bump, on record in the audit trail. Rows are matched by natural key:
    /// importing the same file again changes nothing; a corrected row updates.
    Import(ImportArgs),
    /// Ask a running service one question (a `.graphql` file) with an API token, and
    /// write the released tables of its answer as files — CSV or Parquet, one file per
    /// table; XLSX, one workbook — each carrying its data version, disclosure policy
    /// and audit record. Withheld values stay withheld, with their rule.
    ExportAnswers(ExportArgs),
}

/// What to ask and where to write the answer.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The file holding the question (GraphQL).
    pub query: PathBuf,
    /// The files' format.
    #[arg(long, value_parser = ["csv", "parquet", "xlsx"], default_value = "csv")]
    pub format: String,
    /// The service's address.
    #[arg(long, env = "CONSORTIUM_URL", default_value = "http://127.0.0.1:8000")]
    pub url: url::Url,
    /// The API token to ask with.
    #[arg(long, env = "CONSORTIUM_TOKEN", hide_env_values = true)]
    pub token: SecretString,
    /// The question's variables, as a JSON object.
    #[arg(long)]
    pub variables: Option<String>,
    /// Which operation of the file to run, when it holds several.
    #[arg(long)]
    pub operation_name: Option<String>,
    /// The directory to write the files to (created when missing).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// What to import.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file's domain: partners, sites, drugs, cohorts, dm, profiles, variants, ds, ex,
    /// rs, ae, ss.
    #[arg(required_unless_present = "dir", requires = "file")]
    pub domain: Option<String>,
    /// The file.
    pub file: Option<PathBuf>,
    /// Import every `<domain>.csv` or `<domain>.parquet` file of this directory in one go
    /// (what `consortium demo --export` writes).
    #[arg(long, conflicts_with_all = ["domain", "file"])]
    pub dir: Option<PathBuf>,
    /// Validate and report; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The files correct what is on record: follow-up rows may turn a recorded death
    /// back to alive, change a date of death or move the last date known alive back.
    /// The correction is on record in the audit trail.
    #[arg(long)]
    pub correction: bool,
}

/// Partners.
#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Change a partner's grants: add scopes (`--add`), set exactly these (`--scopes`),
    /// or go back to its kind's defaults (`--defaults`); prints the grants before and
    /// after. Tokens already issued keep at most the new grants from their next request
    /// on. Scopes: enrolment:read, response:read, outcome:read, safety:read,
    /// genomics:read, followup:write, data:write, audit:read, admin.
    Grant {
        /// The partner's code (`consortium partner list` shows them).
        #[arg(long)]
        partner: String,
        /// Scopes to add to what the partner holds, space- or comma-separated.
        #[arg(long, required_unless_present_any = ["scopes", "defaults"], conflicts_with_all = ["scopes", "defaults"])]
        add: Option<String>,
        /// Replace the partner's grants with exactly these scopes.
        #[arg(long, conflicts_with = "defaults")]
        scopes: Option<String>,
        /// Back to the defaults of the partner's kind.
        #[arg(long)]
        defaults: bool,
    },
    /// List partners: code, kind, name and the scopes each holds.
    List,
}

/// Scoped API tokens.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token; its secret is printed once and never stored.
    Issue {
        /// Code of the partner the token acts for.
        #[arg(long)]
        partner: String,
        /// Scopes, space- or comma-separated (within the partner's grants).
        #[arg(long)]
        scopes: String,
        /// When the token expires: a lifetime (`90d`, `12h`, `30m`) or a date
        /// (`2027-06-30`, the end of that day, UTC).
        #[arg(long, default_value = "90d", value_parser = parse_lifetime)]
        expires: i64,
        /// What the token is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (prefix, partner, scopes, expiry, last use, revocation).
    List {
        /// Only this partner's tokens.
        #[arg(long)]
        partner: Option<String>,
    },
    /// Revoke a token by its prefix; effective at once on every replica.
    Revoke {
        /// The token's prefix (`cat_` and 8 characters).
        prefix: String,
    },
    /// Limit a token to registered operations (a dashboard's token): from now on it runs
    /// only the operations of these files, and those registered before.
    Allow {
        /// The token's prefix (`cat_` and 8 characters).
        prefix: String,
        /// Files with one GraphQL operation each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// OAuth2 clients.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client for the client-credentials grant.
    Add {
        /// Code of the partner the client acts for.
        #[arg(long)]
        partner: String,
        /// The client id (generated when omitted).
        #[arg(long)]
        client_id: Option<String>,
        /// Scopes the client may ask for (within the partner's grants).
        #[arg(long)]
        scopes: String,
        /// Generate a secret for `client_secret_basic` (printed once).
        #[arg(long)]
        secret: bool,
        /// A JWK Set file with the client's public keys, for `private_key_jwt`.
        #[arg(long)]
        jwks_file: Option<PathBuf>,
    },
}

/// Signing keys.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a signing key and retire the others (they stay published while tokens they
    /// signed may still be in use).
    Rotate,
}

/// The audit trail.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; fails if any record was edited or removed.
    Verify,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Options of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Seconds between checks of the data version (a change rebuilds the snapshot).
    #[arg(long, env = "SNAPSHOT_REFRESH_SECS", default_value_t = 2)]
    pub refresh_secs: u64,

    /// Maximum depth of a GraphQL query.
    #[arg(long, env = "GRAPHQL_MAX_DEPTH", default_value_t = 15)]
    pub max_depth: usize,

    /// Maximum complexity (number of fields, lists weighted) of a GraphQL query.
    #[arg(long, env = "GRAPHQL_MAX_COMPLEXITY", default_value_t = 2000)]
    pub max_complexity: usize,

    /// Most operations in one batched request; their complexity is also limited
    /// together, by `GRAPHQL_MAX_COMPLEXITY`.
    #[arg(long, env = "GRAPHQL_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// Seconds a request may run; past it the caller gets `TIMEOUT` and its work stops.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Changes to the disclosure policies: `target:setting=value,…;…`, the target a
    /// partner kind or code, the settings `k`, `zeros` (withheld|shown), `insider`
    /// (on|off), `dominance` (a share or off), `survival-bin` (months or exact), `noise`
    /// (ε per count, or off: the noisy tier) and `budget` (ε per privacy window).
    #[arg(long, env = "DISCLOSURE_OVERRIDES", default_value = "")]
    pub disclosure_overrides: crate::pipeline::release::PolicyOverrides,

    /// Results kept in the answer cache (per data version and question).
    #[arg(long, env = "CACHE_CAPACITY", default_value_t = 10_000)]
    pub cache_capacity: u64,

    /// Bytes of released patient sets the differencing guard keeps per data version;
    /// past it, nothing new is released until the next data version.
    #[arg(long, env = "LEDGER_MAX_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub ledger_max_bytes: u64,

    /// Length of a privacy-budget window of the noisy tier, in seconds (30 days by
    /// default): a partner's budget is spent anew in each.
    #[arg(long, env = "PRIVACY_WINDOW_SECS", default_value_t = 30 * 86_400)]
    pub privacy_window_secs: i64,

    /// The service's public base URL: the `iss` of the tokens it issues and the base of
    /// its OAuth endpoints (default: `http://` and the bound address).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The audience (`aud`) access tokens must name to be accepted here.
    #[arg(long, env = "TOKEN_AUDIENCE", default_value = "consortium-analytics")]
    pub audience: String,

    /// Lifetime of the access tokens the authorization server issues, in seconds.
    #[arg(long, env = "ACCESS_TOKEN_LIFETIME_SECS", default_value_t = 600)]
    pub token_lifetime_secs: i64,

    /// A JSON file listing trusted external token issuers (federated identity).
    #[arg(long, env = "TRUSTED_ISSUERS_FILE")]
    pub trusted_issuers: Option<PathBuf>,

    /// Query-complexity points each token may spend per rate-limit window.
    #[arg(long, env = "RATE_LIMIT_POINTS", default_value_t = 50_000)]
    pub rate_limit_points: i64,

    /// Length of a rate-limit window, in seconds.
    #[arg(long, env = "RATE_LIMIT_WINDOW_SECS", default_value_t = 60)]
    pub rate_limit_window_secs: i64,

    /// An identity provider researchers sign in to GraphiQL with (`/auth/login`); it
    /// must also be one of the trusted issuers.
    #[arg(long, env = "SIGN_IN_ISSUER")]
    pub sign_in_issuer: Option<String>,

    /// Our client id at that identity provider (a public client using PKCE).
    #[arg(long, env = "SIGN_IN_CLIENT_ID", default_value = "graphiql")]
    pub sign_in_client_id: String,

    /// Scopes asked for at sign-in, space-separated.
    #[arg(long, env = "SIGN_IN_SCOPES", default_value = "openid")]
    pub sign_in_scopes: String,

    /// Largest GraphQL multipart request (an import's file) accepted, in bytes; larger
    /// files go through the command line.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_upload_bytes: usize,

    /// Seconds a client has to send a request's headers once it starts (a connection
    /// that trickles them is closed); the body is read within the request deadline.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Seconds a WebSocket client has to send `connection_init` (then 4408).
    #[arg(long, env = "WS_INIT_TIMEOUT_SECS", default_value_t = 5)]
    pub ws_init_timeout_secs: u64,

    /// Most subscriptions running at once on one WebSocket connection.
    #[arg(long, env = "WS_MAX_SUBSCRIPTIONS", default_value_t = 16)]
    pub ws_max_subscriptions: usize,

    /// Most WebSocket connections open at once with one token.
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_TOKEN", default_value_t = 8)]
    pub ws_max_connections_per_token: usize,

    /// Chromium (or Chrome), run headless to print the cohort report as PDF
    /// (`/reports/cohorts.pdf`); by default Debian's `/usr/bin/chromium` when installed.
    /// Without one, the report is printed from the browser (`/reports`).
    #[arg(long, env = "CHROMIUM")]
    pub chromium: Option<PathBuf>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            refresh_secs: 2,
            max_depth: 15,
            max_complexity: 2000,
            max_batch: 10,
            disclosure_overrides: crate::pipeline::release::PolicyOverrides::default(),
            request_timeout_secs: 30,
            cache_capacity: 10_000,
            ledger_max_bytes: 256 * 1024 * 1024,
            privacy_window_secs: 30 * 86_400,
            public_url: None,
            audience: "consortium-analytics".to_owned(),
            token_lifetime_secs: 600,
            trusted_issuers: None,
            rate_limit_points: 50_000,
            rate_limit_window_secs: 60,
            sign_in_issuer: None,
            sign_in_client_id: "graphiql".to_owned(),
            sign_in_scopes: "openid".to_owned(),
            max_upload_bytes: 256 * 1024 * 1024,
            header_read_timeout_secs: 10,
            ws_init_timeout_secs: 5,
            ws_max_subscriptions: 16,
            ws_max_connections_per_token: 8,
            chromium: None,
        }
    }
}

/// Options of the demo.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Seed of the synthetic consortium (same seed, same consortium).
    #[arg(long, env = "DEMO_SEED", default_value_t = consortium_synthetic::DemoSpec::DEMO.seed)]
    pub seed: u64,

    /// Number of referred patients, 100 to 1,000,000.
    #[arg(long, env = "DEMO_PATIENTS", default_value_t = consortium_synthetic::DemoSpec::DEMO.patients)]
    pub patients: u32,

    /// Fill the database and exit instead of serving.
    #[arg(long)]
    pub no_serve: bool,

    /// Write the consortium as import files (one CSV per domain) into this directory,
    /// and exit without touching the database.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,

    /// Server options.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// A token lifetime in seconds from now, from `90d`, `12h`, `30m` or a date
/// `YYYY-MM-DD` (valid to the end of that day, UTC).
pub fn parse_lifetime(text: &str) -> Result<i64, String> {
    let unit = |suffix: char, seconds: i64| {
        text.strip_suffix(suffix).and_then(|n| n.parse::<i64>().ok()).filter(|n| *n > 0).map(|n| n * seconds)
    };
    let lifetime = unit('d', 86_400).or_else(|| unit('h', 3_600)).or_else(|| unit('m', 60)).or_else(|| {
        let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        let end = day.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
        Some(end - chrono::Utc::now().timestamp()).filter(|s| *s > 0)
    });
    lifetime.ok_or_else(|| format!("'{text}' is not a lifetime (90d, 12h, 30m) or a future date (YYYY-MM-DD)"))
}

/// The database URL with any password replaced by `***`, for messages and logs.
pub fn masked(url: &SecretString) -> String {
    let raw = url.expose_secret();
    match url::Url::parse(raw) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // set_password fails only for URLs that cannot have one; then hide it all.
            if parsed.set_password(Some("***")).is_ok() {
                parsed.to_string()
            } else {
                "<database url>".to_owned()
            }
        }
        Ok(_) => raw.to_owned(),
        Err(_) => raw.split('@').next_back().map_or_else(String::new, |tail| format!("***@{tail}")),
    }
}

/// The directory an SQLite URL's file lives in, to create it before connecting.
pub fn sqlite_parent_dir(url: &SecretString) -> Option<PathBuf> {
    sqlite_file(url)?.parent().filter(|p| !p.as_os_str().is_empty()).map(PathBuf::from)
}

/// The file of an SQLite URL (none for another database or an in-memory one).
pub fn sqlite_file(url: &SecretString) -> Option<PathBuf> {
    let raw = url.expose_secret();
    let path = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn passwords_are_masked_and_other_urls_kept() {
        let url = SecretString::from("postgres://app:s3cret@db.example:5432/trial");
        assert_eq!(masked(&url), "postgres://app:***@db.example:5432/trial");
        assert!(!masked(&url).contains("s3cret"));
        let plain = SecretString::from(DEFAULT_DATABASE_URL);
        assert_eq!(masked(&plain), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn sqlite_files_get_their_directory_created() {
        let url = SecretString::from(DEFAULT_DATABASE_URL);
        assert_eq!(sqlite_parent_dir(&url), Some(PathBuf::from("data")));
        assert_eq!(sqlite_parent_dir(&SecretString::from("sqlite::memory:")), None);
        assert_eq!(sqlite_parent_dir(&SecretString::from("postgres://x@y/z")), None);
    }

    #[test]
    fn token_lifetimes_are_durations_or_future_dates() {
        assert_eq!(parse_lifetime("90d"), Ok(90 * 86_400));
        assert_eq!(parse_lifetime("12h"), Ok(12 * 3_600));
        assert_eq!(parse_lifetime("30m"), Ok(1_800));
        let next_year = chrono::Utc::now().date_naive().succ_opt().map(|d| d.format("%Y-%m-%d").to_string());
        assert!(parse_lifetime(&next_year.unwrap_or_default()).is_ok_and(|s| s > 0 && s <= 2 * 86_400));
        for bad in ["", "0d", "-3d", "ten days", "2001-01-01", "5y"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
