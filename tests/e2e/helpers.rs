//! Spawning the real service for a test: a fresh database (an SQLite file in a temp
//! directory, or a new PostgreSQL database when `TEST_DATABASE_URL` is set, dropped
//! afterwards), a synthetic consortium, the server on a random port, and one
//! `graphql(query, variables)` helper that checks every error carries a code.
//!
//! Requests are authenticated: `graphql` sends a token of the registry (which sees
//! every cohort), issued on first use; `graphql_as` sends any token.

use std::sync::Arc;

use consortium_api::config::ServeArgs;
use consortium_api::state::AppState;
use consortium_api::{db, Application};
use consortium_synthetic as demo;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use secrecy::SecretString;
use serde_json::{json, Value};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the server at `TEST_DATABASE_URL`.
    Postgres,
}

/// A running service and a handle on its database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub state: Arc<AppState>,
    registry_token: tokio::sync::OnceCell<String>,
    database: TestDatabase,
}

/// Patients in the consortium every test starts with (seeded, so answers are stable).
pub const PATIENTS: u32 = 600;

/// The disclosure override of the test apps: the registry and academic partners (the
/// tests' default callers) see exact values; companies and hospitals get their kinds'
/// exact tier (the per-answer rules, the cell-key method off), which the tests of
/// `disclosure` and `differencing` attack; the early-look partner is on the noisy tier
/// as in the demo. The cell-key method, every kind's default, is tested in
/// `perturbation` and `attacks` with apps under the default policies.
pub const TRUSTED: &str = "registry:k=1,survival-bin=exact,perturbation=off;\
                           academic:k=1,survival-bin=exact,perturbation=off;\
                           industry:perturbation=off;hospital:perturbation=off;EARLYLOOK:noise=0.5,budget=10";

/// The seed of that consortium.
pub const SEED: u64 = 7;

impl TestApp {
    /// Spawns the service on `backend` with the standard test consortium; `None` when
    /// PostgreSQL is asked for but `TEST_DATABASE_URL` is not set.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, Some(PATIENTS)).await
    }

    /// Spawns the service on `backend` with the standard consortium and no snapshot
    /// watcher: the snapshot moves only when the test calls `state.refresh()`.
    pub async fn spawn_refreshed_by_hand(backend: Backend) -> Option<TestApp> {
        Self::spawn_configured(backend, Some(PATIENTS), |args| args.refresh_secs = 24 * 60 * 60).await
    }

    /// Spawns the service on `backend`, with a consortium of `patients` (none: empty).
    pub async fn spawn_with(backend: Backend, patients: Option<u32>) -> Option<TestApp> {
        Self::spawn_configured(backend, patients, |_| {}).await
    }

    /// Spawns the service on `backend` with `patients`, its options changed by `configure`.
    pub async fn spawn_configured(
        backend: Backend,
        patients: Option<u32>,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> Option<TestApp> {
        Self::spawn_consortium(backend, patients.map(|patients| demo::DemoSpec { seed: SEED, patients }), configure)
            .await
    }

    /// Spawns the service on `backend` with the consortium `demo` serves by default.
    pub async fn spawn_demo(backend: Backend) -> Option<TestApp> {
        Self::spawn_consortium(backend, Some(demo::DemoSpec::DEMO), |_| {}).await
    }

    /// Spawns the service on `backend` with the consortium `spec` (none: empty).
    pub async fn spawn_consortium(
        backend: Backend,
        spec: Option<demo::DemoSpec>,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> Option<TestApp> {
        let database = TestDatabase::create(backend).await?;
        let db = db::connect(&database.url).await.expect("connect to the test database");
        db::migrate(&db).await.expect("migrate the test database");
        if let Some(spec) = spec {
            let consortium = demo::generate(&spec).expect("generate");
            consortium_store::write_trial(&db, &consortium).await.expect("store the consortium");
        }
        let mut args = ServeArgs {
            bind: "127.0.0.1:0".parse().expect("address"),
            // The statistics are checked, exactly, as a registry that may see every cell;
            // disclosure control is checked with company and hospital tokens under the
            // defaults (and tests that need the registry's default set it back).
            disclosure_overrides: TRUSTED.parse().expect("overrides"),
            ..ServeArgs::default()
        };
        configure(&mut args);
        let app = Application::build(&args, db.clone()).await.expect("build the application");
        let address = format!("http://{}", app.local_addr());
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        Some(TestApp {
            address,
            client: reqwest::Client::new(),
            db,
            state,
            registry_token: tokio::sync::OnceCell::new(),
            database,
        })
    }

    /// Posts a GraphQL request as the registry and returns the response body,
    /// asserting that every error in it carries `extensions.code`.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let token = self.registry_token().await;
        self.graphql_as(&token, query, variables).await
    }

    /// Posts a GraphQL request with `token` and returns the response body, asserting
    /// that every error in it carries `extensions.code`.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        let body: Value = response.json().await.expect("a JSON body");
        assert_every_error_has_a_code(&body);
        body
    }

    /// A token of the consortium's registry with all its grants; on a database without
    /// a registry, of an academic partner created for the test.
    pub async fn registry_token(&self) -> String {
        self.registry_token
            .get_or_init(|| async {
                use consortium_entity::{partner, PartnerKind};
                use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
                let registry = partner::Entity::find()
                    .filter(partner::Column::Kind.eq(PartnerKind::Registry))
                    .one(&self.db)
                    .await
                    .expect("partners");
                let code = match registry {
                    Some(registry) => registry.code,
                    None => {
                        let academic = partner::ActiveModel {
                            code: Set("E2E".into()),
                            name: Set("End-to-end tests".into()),
                            kind: Set(PartnerKind::Academic),
                            org_number: Set("999999999".into()),
                            scopes: Set(None),
                            ..Default::default()
                        };
                        academic.insert(&self.db).await.expect("a partner for the tests").code
                    }
                };
                self.token_for(&code, None).await
            })
            .await
            .clone()
    }

    /// A fresh API token of partner `code`, with `scopes` or all its grants.
    pub async fn token_for(&self, code: &str, scopes: Option<&str>) -> String {
        use consortium_api::auth::{api_token, grants::granted, ScopeSet};
        use consortium_entity::partner;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let partner = partner::Entity::find()
            .filter(partner::Column::Code.eq(code))
            .one(&self.db)
            .await
            .expect("partners")
            .expect("the partner exists");
        let scopes = scopes.map_or_else(|| granted(&partner), |s| s.parse::<ScopeSet>().expect("valid scopes"));
        api_token::issue(&self.db, code, scopes, "e2e", 3600).await.expect("issue a token").token
    }

    /// The backend the test's database is on.
    pub fn backend(&self) -> Backend {
        match self.database.cleanup {
            Cleanup::Sqlite(_) => Backend::Sqlite,
            Cleanup::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The URL of the test's database (for replicas in processes of their own).
    pub fn database_url(&self) -> String {
        use secrecy::ExposeSecret;
        self.database.url.expose_secret().to_owned()
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Registers OAuth client `client_id` of partner `partner` with `scopes` and a
    /// secret; returns the secret.
    pub async fn client_with_secret(&self, partner: &str, client_id: &str, scopes: &str) -> String {
        let scopes = scopes.parse().expect("valid scopes");
        consortium_api::auth::clients::register(&self.db, partner, Some(client_id.to_owned()), scopes, true, None)
            .await
            .expect("register the client")
            .secret
            .expect("a generated secret")
    }

    /// An access token from our token endpoint for a client authenticating with its
    /// secret (`client_secret_basic`).
    pub async fn client_credentials(&self, client_id: &str, secret: &str) -> String {
        let body: Value = self
            .client
            .post(format!("{}/oauth/token", self.address))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("POST /oauth/token")
            .json()
            .await
            .expect("a JSON body");
        body["access_token"].as_str().expect("an access token").to_owned()
    }

    /// Runs a raw SQL count on the database, as an independent check of the answers.
    pub async fn sql_count(&self, sql: &str) -> u64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one(Statement::from_string(backend, sql.to_owned()))
            .await
            .expect("SQL query")
            .expect("one row");
        row.try_get_by_index::<i64>(0).expect("an integer") as u64
    }
}

/// An audit record of an answer released to partner `partner` on data version 1 (for
/// appending through the audit writer directly).
pub fn answered_record(partner: &str) -> consortium_entity::access::audit_record::Model {
    consortium_entity::access::audit_record::Model {
        id: 0,
        prev_hash: String::new(),
        hash: String::new(),
        at_ms: 0,
        partner_code: Some(partner.into()),
        token_id: None,
        operation: None,
        query_hash: String::new(),
        variables_hash: String::new(),
        data_version: 1,
        outcome: "OK".into(),
        duration_ms: 0,
        released: 1,
        withheld: 0,
        policy_version: None,
        epsilon: None,
        detail: None,
    }
}

/// Asserts that every error of a GraphQL response body has `extensions.code`.
pub fn assert_every_error_has_a_code(body: &Value) {
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        for error in errors {
            assert!(error["extensions"]["code"].is_string(), "error without a code: {error}");
        }
    }
}

/// The codes of a response's errors.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: SecretString,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// Creates an empty database on `backend`.
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("trial.db").display());
                Some(TestDatabase { url: SecretString::from(url), cleanup: Cleanup::Sqlite(dir) })
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.expect("connect to TEST_DATABASE_URL");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
                admin.close().await.expect("close admin connection");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Some(TestDatabase {
                    url: SecretString::from(url.to_string()),
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, database) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; drop the database from a thread of its own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async {
                    let admin = Database::connect(&admin_url).await.expect("connect to TEST_DATABASE_URL");
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                        .await
                        .expect("drop database");
                });
            })
            .join();
            if dropped.is_err() {
                eprintln!("could not drop test database {name}");
            }
        }
    }
}

/// A component a test needs is not there: under CI (`CI=true`) the test fails; locally
/// it is skipped, saying so.
pub fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} cannot be skipped under CI=true");
    }
    eprintln!("{what} is skipped: a component is missing");
}

/// Declares a test that runs once on SQLite and once on PostgreSQL (skipped, with a
/// note, when `TEST_DATABASE_URL` is not set; failed under `CI=true`).
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        $crate::on_both_backends! { spawn = $crate::helpers::TestApp::spawn; $(#[$meta])* async fn $name($app: TestApp) $body }
    };
    (spawn = $spawn:path; $(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::helpers::{Backend, TestApp};

            async fn scenario($app: TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                scenario($spawn(Backend::Sqlite).await.expect("an SQLite app")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                match $spawn(Backend::Postgres).await {
                    Some(app) => scenario(app).await,
                    None => $crate::helpers::missing("TEST_DATABASE_URL is not set: the PostgreSQL run"),
                }
            }
        }
    };
}

/// The `consortium` binary built beside the test binary (`None` before the workspace
/// is built).
pub fn consortium_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let binary = exe.parent()?.parent()?.join("consortium");
    binary.exists().then_some(binary)
}
