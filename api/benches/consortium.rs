//! Benchmark: for each size, time to generate and store a synthetic consortium (SQLite,
//! and PostgreSQL when `BENCH_DATABASE_URL` names a server), to read and build the
//! snapshot, to compute the funnel and a two-dimension grouped count (uncached), to
//! compute every cohort's response, two-stage status and PFS/OS curves from the cold
//! snapshot, and to answer cached questions, plus the process's peak memory.
//!
//! `cargo bench -p consortium-api --bench consortium` (sizes: `BENCH_PATIENTS`,
//! comma-separated, default `10000,100000,1000000`). Results go to standard output as
//! a Markdown table; BENCHMARKS.md keeps the numbers measured on the reference machine.

// Tests and benchmarks may panic on a broken expectation: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::Request;
use common::{median, ms};
use consortium_analytics::endpoints::EndpointRules;
use consortium_analytics::monitoring::cohort_monitoring;
use consortium_analytics::survival::{survival, Endpoint, SurvivalGrouping};
use consortium_analytics::{
    count_patients, funnel, response_summary, Dimension, Filter, Population, RowScope, Snapshot,
};
use consortium_api::auth::grants::granted;
use consortium_api::auth::{api_token, Authenticator, Principal};
use consortium_api::config::ServeArgs;
use consortium_api::db;
use consortium_api::graphql::build_schema;
use consortium_api::pipeline::context::RequestContext;
use consortium_api::pipeline::release::{PolicyOverrides, Release};
use consortium_api::state::AppState;
use consortium_entity::{partner, PartnerKind};
use consortium_synthetic as demo;
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

async fn run_backend(
    label: &str,
    url: SecretString,
    consortium: &consortium_store::Trial,
    patients: u32,
    generate: f64,
) {
    let conn = db::connect(&url).await.expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let t = Instant::now();
    consortium_store::write_trial(&conn, consortium).await.expect("store");
    let store = t.elapsed();

    let t = Instant::now();
    let rows = consortium_store::snapshot::read(&conn).await.expect("read");
    let read = t.elapsed();
    let t = Instant::now();
    let snapshot = Snapshot::build(rows, EndpointRules::default()).expect("build");
    let build = t.elapsed();

    let all = Filter::default();
    let funnel_time = median(11, || {
        funnel(&snapshot, &all).expect("funnel");
    });
    let two_dims = [Dimension::Region, Dimension::EnrolmentMonth];
    let grouped = median(11, || {
        count_patients(&snapshot, Population::Enrolled, &two_dims, &all).expect("count");
    });
    let referred_two_dims = median(11, || {
        count_patients(&snapshot, Population::Referred, &[Dimension::Region, Dimension::AgeBand], &all).expect("count");
    });

    // Every cohort's statistics from the cold snapshot: response, two-stage status, PFS
    // and OS curves by cohort (each computed once, nothing cached).
    let by_cohort = Some(SurvivalGrouping::Dimension(Dimension::Cohort));
    let t = Instant::now();
    response_summary(&snapshot, &[Dimension::Cohort], &all).expect("responses");
    cohort_monitoring(&snapshot).expect("monitoring");
    survival(&snapshot, Endpoint::Pfs, by_cohort, &all, None).expect("pfs");
    survival(&snapshot, Endpoint::Os, by_cohort, &all, None).expect("os");
    let cohort_statistics = t.elapsed();

    let args = ServeArgs {
        ledger_max_bytes: u64::MAX,
        privacy_window_secs: 86_400,
        rate_limit_points: i64::MAX / 4,
        ..ServeArgs::default()
    };
    let state = AppState::build(conn.clone(), &args).await.expect("state");
    let (cached_statistic, cached) = cached_answers(&state, by_cohort, &two_dims).await;
    let (graphql, with_auth) = over_graphql(&conn, &state, &args).await;
    let auth_ratio = graphql[50].as_secs_f64() / with_auth[50].as_secs_f64();
    println!(
        "| {patients} | {label} | {generate:.1} | {:.1} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} | {:.0}% | {:.2} | {} | {:.0} |",
        store.as_secs_f64(),
        read.as_secs_f64(),
        build.as_secs_f64(),
        ms(funnel_time),
        ms(grouped),
        ms(referred_two_dims),
        us(cached[50]),
        ms(graphql[50]),
        ms(with_auth[50]),
        auth_ratio * 100.0,
        cohort_statistics.as_secs_f64(),
        us(cached_statistic[50]),
        peak_mib()
    );
    drop(state);
    conn.close().await.expect("close");
}

/// Medians of a survival question and of a grouped count answered from the cache (101
/// runs each, sorted).
async fn cached_answers(
    state: &AppState,
    by_cohort: Option<SurvivalGrouping>,
    two_dims: &[Dimension],
) -> (Vec<Duration>, Vec<Duration>) {
    let survival_question = (Endpoint::Os, by_cohort, Filter::default());
    let os_by_cohort =
        |s: &Snapshot, (e, g, f): &(Endpoint, Option<SurvivalGrouping>, Filter)| survival(s, *e, *g, f, None);
    let everything = state.view(state.snapshot(), "bench", |_| RowScope::everything()).await.expect("view");
    state.answer(&everything, survival_question.clone(), os_by_cohort).await.expect("warm the cache");
    let mut cached_statistic = Vec::new();
    for _ in 0..101 {
        let t = Instant::now();
        state.answer(&everything, survival_question.clone(), os_by_cohort).await.expect("cached survival");
        cached_statistic.push(t.elapsed());
    }
    cached_statistic.sort();
    let question = (Population::Enrolled, two_dims.to_vec(), Filter::default());
    let count = |s: &Snapshot, (p, d, f): &(Population, Vec<Dimension>, Filter)| count_patients(s, *p, d, f);
    state.answer(&everything, question.clone(), count).await.expect("warm the cache");
    let mut cached = Vec::new();
    for _ in 0..101 {
        let t = Instant::now();
        state.answer(&everything, question.clone(), count).await.expect("cached count");
        cached.push(t.elapsed());
    }
    cached.sort();
    (cached_statistic, cached)
}

/// The cached query through the schema as the registry with its principal already known
/// (no token to check, no row scope), then as a company presenting its API token (hash
/// lookup, partner read, row scope): the cost of authentication and scope filtering
/// (101 runs each, sorted).
async fn over_graphql(
    conn: &sea_orm::DatabaseConnection,
    state: &Arc<AppState>,
    args: &ServeArgs,
) -> (Vec<Duration>, Vec<Duration>) {
    let schema = build_schema(Arc::clone(state), args);
    let registry = partner_of(conn, PartnerKind::Registry).await;
    let known = Principal {
        scopes: granted(&registry),
        partner: registry,
        token_id: "bench".into(),
        expires_at: 0,
        allowed: None,
    };
    let company = partner_of(conn, PartnerKind::Industry).await;
    let token = api_token::issue(conn, &company.code, granted(&company), "bench", 3600).await.expect("token").token;
    let auth =
        Authenticator::new(conn.clone(), "http://bench".into(), "bench".into(), 600, Vec::new()).await.expect("auth");
    let query = "{ patientCounts(groupBy: [REGION, ENROLMENT_MONTH]) { total { value } groups { keys { code } patients { value } } } }";
    let request =
        || RequestContext::new(state.snapshot(), Release::new(PolicyOverrides::default().for_partner(&known.partner)));
    let as_known = || schema.execute(Request::new(query).data(known.clone()).data(request()));
    as_known().await;
    let authenticated = || async {
        let principal = auth.authenticate(Some(&format!("Bearer {token}"))).await.expect("authenticated");
        schema.execute(Request::new(query).data(principal).data(request())).await
    };
    authenticated().await;
    let (mut graphql, mut with_auth) = (Vec::new(), Vec::new());
    for _ in 0..101 {
        let t = Instant::now();
        let response = as_known().await;
        graphql.push(t.elapsed());
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let t = Instant::now();
        let response = authenticated().await;
        with_auth.push(t.elapsed());
        assert!(response.errors.is_empty(), "{:?}", response.errors);
    }
    graphql.sort();
    with_auth.sort();
    (graphql, with_auth)
}

/// The first partner of `kind`.
async fn partner_of(conn: &sea_orm::DatabaseConnection, kind: PartnerKind) -> partner::Model {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    partner::Entity::find()
        .filter(partner::Column::Kind.eq(kind))
        .order_by_asc(partner::Column::Id)
        .one(conn)
        .await
        .expect("partners")
        .expect("a partner of the kind")
}

#[tokio::main]
async fn main() {
    let sizes: Vec<u32> = std::env::var("BENCH_PATIENTS")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_PATIENTS: comma-separated numbers"))
        .collect();
    let postgres = std::env::var("BENCH_DATABASE_URL").ok();
    println!("| patients | backend | generate s | store s | read s | build s | funnel ms | 2-dim count ms (enrolled) | 2-dim count ms (all referred) | cached count µs | cached GraphQL ms | same, authenticated ms | unauthenticated rate kept | all cohorts' statistics, cold s | cached OS by cohort µs | peak MiB |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for patients in sizes {
        let t = Instant::now();
        let consortium = demo::generate(&demo::DemoSpec { seed: 2021, patients }).expect("generate");
        let generate = t.elapsed().as_secs_f64();

        let dir = tempfile::tempdir().expect("temp dir");
        let url = SecretString::from(format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
        run_backend("SQLite", url, &consortium, patients, generate).await;

        if let Some(admin_url) = &postgres {
            let name = format!("bench_{patients}_{}", std::process::id());
            let admin = Database::connect(admin_url).await.expect("connect BENCH_DATABASE_URL");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create");
            let mut url = url::Url::parse(admin_url).expect("url");
            url.set_path(&name);
            run_backend("PostgreSQL", SecretString::from(url.to_string()), &consortium, patients, generate).await;
            admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("drop");
        }
    }
}
