//! The command line: each subcommand wires configuration to the library.

use anyhow::Context;
use secrecy::SecretString;

use crate::auth::{api_token, clients, keys, ScopeSet};
use std::path::Path;

use consortium_store::export::{export, Format};
use consortium_store::import::{file::MAX_FILE_BYTES, Domain, Report, Rights, Upload};
use consortium_synthetic as synthetic;

use crate::config::{
    masked, AuditCommand, Cli, ClientCommand, Command, DemoArgs, ExportArgs, ImportArgs, KeysCommand, PartnerCommand,
    ServeArgs, TokenCommand,
};
use crate::export::{FileFormat, Provenance};
use crate::import::{Mode, Recorded};
use crate::pipeline::record::audit;
use crate::pipeline::release::PolicyOverrides;
use crate::startup::Application;
use crate::{db, graphql, import};

/// Seconds in a day.
const DAY_SECS: i64 = 24 * 60 * 60;

/// The label of the tokens `demo` prints.
const DEMO_TOKEN_LABEL: &str = "demo";

/// Prints one line on standard output. A reader that went away (`consortium partner
/// list | head`) ends the program quietly, as Unix tools do, instead of a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        line(&format!($($arg)*))
    };
}

fn line(text: &str) {
    emit(&format!("{text}\n"));
}

/// Writes `text` on standard output as it is (see [`say`]).
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// `text` cut to `width` characters, the last one an ellipsis when it was longer.
fn cut(text: &str, width: usize) -> String {
    match text.chars().count() > width {
        true => text.chars().take(width.saturating_sub(1)).chain(['…']).collect(),
        false => text.to_owned(),
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Schema => {
            emit(&graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            let db = db::connect(&cli.database_url).await?;
            db::migrate(&db).await?;
            say!("{} is migrated", masked(&cli.database_url));
            Ok(())
        }
        Command::Serve(args) => serve(&cli.database_url, &args).await,
        Command::Demo(args) => run_demo(&cli.database_url, &args).await,
        Command::Token(command) => token(&connect(&cli.database_url).await?, command).await,
        Command::Client(command) => client(&connect(&cli.database_url).await?, command).await,
        Command::Keys(KeysCommand::Rotate) => {
            let key = keys::rotate(&connect(&cli.database_url).await?).await?;
            say!("new signing key {}; older keys stay published until their tokens expire", key.kid);
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => verify_audit(&connect(&cli.database_url).await?).await,
        Command::Partner(command) => partner(&connect(&cli.database_url).await?, command).await,
        Command::Import(args) => import_files(&connect(&cli.database_url).await?, &args).await,
        Command::ExportAnswers(args) => export_answers(&args).await,
    }
}

/// `consortium export-answers`: the question asked over HTTP like any client's, its
/// answer's tables written as files (see [`crate::export`]).
async fn export_answers(args: &ExportArgs) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let format = FileFormat::named(&args.format).context("an export format")?;
    let query =
        std::fs::read_to_string(&args.query).with_context(|| format!("cannot read {}", args.query.display()))?;
    let variables: serde_json::Value = match &args.variables {
        Some(text) => serde_json::from_str(text).context("--variables is not JSON")?,
        None => serde_json::json!({}),
    };
    let body = serde_json::json!({ "query": query, "variables": variables, "operationName": args.operation_name });
    let endpoint = args.url.join("graphql").context("the service's address")?;
    let response = reqwest::Client::new()
        .post(endpoint.clone())
        .bearer_auth(args.token.expose_secret())
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {endpoint}"))?;
    let status = response.status();
    let answer: serde_json::Value =
        response.json().await.with_context(|| format!("{endpoint} answered {status} with no GraphQL response"))?;
    for error in answer["errors"].as_array().into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or("ERROR");
        eprintln!("{code}: {}", error["message"].as_str().unwrap_or_default());
    }
    if answer["data"].is_null() || answer["errors"].as_array().is_some_and(|e| !e.is_empty()) {
        anyhow::bail!("the question was not answered in full ({status}): no file written");
    }
    let provenance = Provenance::of(&answer);
    let tables = crate::export::tables(&answer["data"]);
    // File names from the question's name and the answer's paths, kept to letters, digits,
    // `_`, `-` and `.` (never a path of their own).
    let safe = |name: &str| -> String {
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "_-.".contains(c) { c } else { '_' }).collect()
    };
    let title = args.query.file_stem().map_or_else(|| "answer".to_owned(), |s| safe(&s.to_string_lossy()));
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let write = |name: String, bytes: Vec<u8>, rows: usize| -> anyhow::Result<()> {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        say!("{} ({rows} rows)", path.display());
        Ok(())
    };
    match format {
        FileFormat::Xlsx => {
            let rows = tables.iter().map(|t| t.rows.len()).sum();
            write(format!("{title}.xlsx"), crate::export::xlsx(&title, &provenance, &tables)?, rows)?;
        }
        FileFormat::Csv | FileFormat::Parquet => {
            for table in &tables {
                let bytes = match format {
                    FileFormat::Csv => crate::export::csv(&title, &provenance, table),
                    _ => crate::export::parquet(&provenance, table)?,
                };
                write(format!("{title}.{}.{}", safe(&table.path), format.extension()), bytes, table.rows.len())?;
            }
        }
    }
    say!("{}", provenance.line());
    Ok(())
}

/// `consortium import`: one file, or every file of a directory, as the operator.
async fn import_files(db: &sea_orm::DatabaseConnection, args: &ImportArgs) -> anyhow::Result<()> {
    let uploads = match (&args.dir, &args.domain, &args.file) {
        (Some(dir), _, _) => uploads_in(dir)?,
        (None, Some(domain), Some(file)) => {
            let domain = Domain::named(domain)
                .ok_or_else(|| anyhow::anyhow!("no domain '{domain}'; the domains are: {}", Domain::names()))?;
            vec![upload(domain, file)?]
        }
        _ => anyhow::bail!("name a domain and a file, or --dir"),
    };
    let progress = |step: &str| eprintln!("{step}");
    let mode = Mode { dry_run: args.dry_run, correction: args.correction };
    let report = import::run(db, &uploads, &Rights::operator(), mode, &Recorded::operator(), &progress).await?;
    say!("{}", report.describe());
    if !report.problems.is_empty() {
        anyhow::bail!("the import was refused");
    }
    Ok(())
}

/// The file `path` as an upload of `domain`, refused before it is read when it is
/// larger than an import accepts.
fn upload(domain: Domain, path: &Path) -> anyhow::Result<Upload> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > MAX_FILE_BYTES {
        anyhow::bail!("{} is {size} bytes; an import file has at most {MAX_FILE_BYTES}", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(Upload { domain, file, bytes })
}

/// Every `<domain>.csv` or `<domain>.parquet` file in `dir`.
fn uploads_in(dir: &Path) -> anyhow::Result<Vec<Upload>> {
    let mut uploads = Vec::new();
    for domain in Domain::ALL {
        for format in [Format::Csv, Format::Parquet] {
            let path = dir.join(format!("{}.{}", domain.name(), format.extension()));
            if path.exists() {
                uploads.push(upload(domain, &path)?);
            }
        }
    }
    if uploads.is_empty() {
        anyhow::bail!("{} holds no import file (<domain>.csv or <domain>.parquet)", dir.display());
    }
    Ok(uploads)
}

/// The synthetic consortium of `spec` as import files, in memory.
fn demo_files(spec: &synthetic::DemoSpec) -> anyhow::Result<Vec<Upload>> {
    let trial = synthetic::generate(spec)?;
    let files = export(&trial, Format::Csv)?;
    Ok(files.into_iter().map(|(domain, file, bytes)| Upload { domain, file, bytes }).collect())
}

/// Prints `report` and fails unless it was applied.
fn applied(report: &Report) -> anyhow::Result<()> {
    if !report.applied {
        anyhow::bail!("the demo consortium was not imported:\n{}", report.describe());
    }
    Ok(())
}

/// A connection to an already migrated database.
async fn connect(url: &SecretString) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = db::connect(url).await?;
    db::ensure_migrated(&db, url).await?;
    Ok(db)
}

async fn partner(db: &sea_orm::DatabaseConnection, command: PartnerCommand) -> anyhow::Result<()> {
    use crate::auth::grants::{granted, set_grants, GrantChange};
    use consortium_entity::partner;
    use sea_orm::{EntityTrait, QueryOrder};
    let partners = partner::Entity::find().order_by_asc(partner::Column::Code).all(db).await?;
    match command {
        PartnerCommand::List => {
            // Columns as wide as their longest value, names cut at 40 characters.
            let code = partners.iter().map(|p| p.code.chars().count()).max().unwrap_or(0).max(4);
            let name = partners.iter().map(|p| p.name.chars().count()).max().unwrap_or(0).clamp(4, 40);
            say!("{:<code$} {:<9} {:<name$} scopes", "code", "kind", "name");
            for p in &partners {
                say!("{:<code$} {:<9} {:<name$} {}", p.code, p.kind.label(), cut(&p.name, name), granted(p));
            }
        }
        PartnerCommand::Grant { partner, add, scopes, defaults: _ } => {
            if !partners.iter().any(|p| p.code == partner) {
                let codes: Vec<&str> = partners.iter().map(|p| p.code.as_str()).collect();
                anyhow::bail!("no partner '{partner}'; the partners are: {}", codes.join(", "));
            }
            let parse = |text: String| text.parse::<ScopeSet>().map_err(crate::auth::AccessError::from);
            let change = match (add, scopes) {
                (Some(add), _) => GrantChange::Add(parse(add)?),
                (None, Some(scopes)) => GrantChange::Exactly(parse(scopes)?),
                (None, None) => GrantChange::Defaults,
            };
            let (before, after) = set_grants(db, &partner, change).await?;
            say!("{partner} held: {before}");
            say!("{partner} now holds: {after}");
        }
    }
    Ok(())
}

async fn token(db: &sea_orm::DatabaseConnection, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Issue { partner, scopes, expires, label } => {
            let scopes: ScopeSet = scopes.parse().map_err(crate::auth::AccessError::from)?;
            let issued = api_token::issue(db, &partner, scopes, &label, expires).await?;
            say!("{}", issued.token);
            eprintln!(
                "token {} for {partner} with '{}', expires {}; it is shown only now",
                issued.row.prefix,
                issued.row.scopes,
                timestamp(issued.row.expires_at)
            );
        }
        TokenCommand::List { partner } => {
            say!("{:<14} {:<10} {:<22} {:<22} {:<10} scopes", "prefix", "partner", "expires", "last used", "state");
            for (row, partner) in api_token::list(db, partner.as_deref()).await? {
                let state = if row.revoked_at.is_some() { "revoked" } else { "active" };
                let last_used = row.last_used_at.map_or_else(|| "never".to_owned(), timestamp);
                say!(
                    "{:<14} {:<10} {:<22} {:<22} {:<10} {}",
                    row.prefix,
                    partner,
                    timestamp(row.expires_at),
                    last_used,
                    state,
                    row.scopes
                );
            }
        }
        TokenCommand::Revoke { prefix } => {
            if api_token::revoke(db, &prefix).await? {
                say!("revoked {prefix}");
            } else {
                anyhow::bail!("no active token with prefix {prefix}");
            }
        }
        TokenCommand::Allow { prefix, files } => {
            let mut documents = Vec::with_capacity(files.len());
            for file in &files {
                let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
                documents.push((file.display().to_string(), text));
            }
            let count = crate::pipeline::admit::persisted::allow(db, &prefix, &documents).await?;
            say!("{prefix} may run {count} registered operations, and nothing else");
        }
    }
    Ok(())
}

async fn client(db: &sea_orm::DatabaseConnection, command: ClientCommand) -> anyhow::Result<()> {
    let ClientCommand::Add { partner, client_id, scopes, secret, jwks_file } = command;
    let scopes: ScopeSet = scopes.parse().map_err(crate::auth::AccessError::from)?;
    let jwks = match jwks_file {
        Some(path) => Some(std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?),
        None => None,
    };
    let registered = clients::register(db, &partner, client_id, scopes, secret, jwks).await?;
    say!("client_id: {}", registered.client.client_id);
    if let Some(secret) = registered.secret {
        say!("client_secret: {secret}");
        eprintln!("the secret is shown only now");
    }
    Ok(())
}

async fn verify_audit(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let verification = audit::verify(db).await?;
    match verification.broken {
        None => {
            say!("audit trail intact: {} records, head {}", verification.records, verification.head);
            Ok(())
        }
        Some((id, reason)) => anyhow::bail!("audit trail broken at record {id}: {reason}"),
    }
}

fn timestamp(unix_secs: i64) -> String {
    chrono::DateTime::from_timestamp(unix_secs, 0)
        .map_or_else(|| unix_secs.to_string(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// Fresh 30-day tokens with every scope its grants allow, for the first partner of each
/// kind and every partner on the noisy tier: what a new user needs to try the API as
/// each kind of partner. The tokens an earlier start of the demo printed are revoked,
/// so restarts do not pile up live ones.
async fn demo_tokens(
    db: &sea_orm::DatabaseConnection,
    overrides: &PolicyOverrides,
) -> anyhow::Result<Vec<(String, String, String)>> {
    use sea_orm::{EntityTrait, QueryOrder};
    let revoked = api_token::revoke_labelled(db, DEMO_TOKEN_LABEL).await?;
    if revoked > 0 {
        say!("revoked {revoked} demo tokens of an earlier start");
    }
    let partners =
        consortium_entity::partner::Entity::find().order_by_asc(consortium_entity::partner::Column::Id).all(db).await?;
    let first_of_kind =
        consortium_entity::PartnerKind::all().into_iter().filter_map(|kind| partners.iter().find(|p| p.kind == kind));
    let noisy = partners.iter().filter(|p| overrides.for_partner(p).policy.noise.is_some());
    let mut tokens = Vec::new();
    for partner in first_of_kind.chain(noisy) {
        let scopes = crate::auth::grants::granted(partner);
        let issued = api_token::issue(db, &partner.code, scopes, DEMO_TOKEN_LABEL, 30 * DAY_SECS).await?;
        let label = match overrides.for_partner(partner).policy.noise {
            Some(_) => "noisy",
            None => partner.kind.label(),
        };
        tokens.push((label.to_owned(), partner.code.clone(), issued.token));
    }
    Ok(tokens)
}

async fn serve(url: &SecretString, args: &ServeArgs) -> anyhow::Result<()> {
    // Serving never creates a database: an SQLite file that is not there is refused
    // before anything is written.
    if let Some(file) = crate::config::sqlite_file(url).filter(|file| !file.exists()) {
        anyhow::bail!(
            "there is no database at {}: create one with `consortium migrate` (or try `consortium demo`)",
            file.display()
        );
    }
    let db = db::connect(url).await?;
    db::ensure_migrated(&db, url).await?;
    let app = Application::build(args, db).await?;
    app.run_until_stopped().await.context("server failed")
}

async fn run_demo(url: &SecretString, args: &DemoArgs) -> anyhow::Result<()> {
    let spec = synthetic::DemoSpec { seed: args.seed, patients: args.patients };
    if let Some(dir) = &args.export {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for upload in demo_files(&spec)? {
            let path = dir.join(&upload.file);
            std::fs::write(&path, &upload.bytes).with_context(|| format!("cannot write {}", path.display()))?;
            say!("{} ({} bytes)", path.display(), upload.bytes.len());
        }
        say!("import them with: consortium import --dir {}", dir.display());
        return Ok(());
    }
    let db = db::connect(url).await?;
    db::migrate(&db).await?;
    if consortium_store::is_empty(&db).await? {
        let started = std::time::Instant::now();
        // The demo fills its database the way real data arrives: by importing files.
        let uploads = demo_files(&spec)?;
        let quiet = |_: &str| {};
        let report =
            import::run(&db, &uploads, &Rights::operator(), Mode::default(), &Recorded::operator(), &quiet).await?;
        applied(&report)?;
        say!(
            "imported a synthetic consortium: {} patients, {} rows, seed {}, data version {} ({:.1} s)",
            spec.patients,
            report.totals().0,
            spec.seed,
            report.data_version,
            started.elapsed().as_secs_f64()
        );
    } else {
        say!("{} already holds a consortium; serving it as it is", masked(url));
    }
    if args.no_serve {
        return Ok(());
    }
    let mut serve = args.serve.clone();
    serve.disclosure_overrides = synthetic::DISCLOSURE_OVERRIDES
        .parse::<PolicyOverrides>()
        .map_err(anyhow::Error::msg)?
        .then(&serve.disclosure_overrides);
    let tokens = demo_tokens(&db, &serve.disclosure_overrides).await?;
    let app = Application::build(&serve, db).await?;
    say!("Playground: http://{}/graphql   Dashboards: http://{}/dashboards", app.local_addr(), app.local_addr());
    say!("Paste one of these into the token field at the top of either page:");
    for (kind, partner, token) in tokens {
        say!("  {kind:<9} {partner:<10} {token}");
    }
    app.run_until_stopped().await.context("server failed")
}
