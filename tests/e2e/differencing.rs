//! The differencing guard, attacked through GraphQL: two questions whose answers differ
//! by a few patients, asked one after the other (by one partner, across server
//! processes), must not both be answered; the same question asked again, however it
//! is spelled, is answered alike; two requests racing past the guard cannot both be
//! answered; a full ledger refuses, never forgets. Each partner has its own ledger: no
//! partner's questions withhold another's answers or fill another's ledger.

use consortium_api::pipeline::decide::ledger::NewSets;
use consortium_api::pipeline::decide::memory::Memory;
use consortium_api::pipeline::record::recorder::CONFLICT;
use consortium_disclosure::differencing::bitmap;
use consortium_disclosure::PatientSet;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::helpers::{error_codes, missing, Backend, TestApp};
use crate::on_both_backends;
use crate::replica::Replica;

const DIFFERENCING: &str = "DIFFERENCING";

/// The enrolled-patient count over `filter`, as the caller of `token` at `address`.
async fn enrolled(app: &TestApp, address: &str, token: &str, filter: &Value) -> Value {
    let query = "query($f: PatientFilter) { patientCounts(population: ENROLLED, filter: $f) { total { value precision rule } } }";
    let body: Value = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": { "f": filter } }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("a JSON body");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["patientCounts"]["total"].clone()
}

/// Rows of a raw SQL query, as text.
async fn rows(app: &TestApp, sql: &str) -> Vec<Vec<String>> {
    let backend = app.db.get_database_backend();
    let found = app.db.query_all(Statement::from_string(backend, sql.to_owned())).await.expect("SQL");
    found
        .iter()
        .map(|row| {
            (0..3)
                .map_while(|i| {
                    row.try_get_by_index::<String>(i)
                        .ok()
                        .or_else(|| row.try_get_by_index::<i64>(i).ok().map(|n| n.to_string()))
                })
                .collect()
        })
        .collect()
}

/// A company and its cohorts' codes, one of which enrols 1..4 patients while the
/// company's cohorts together enrol at least ten: (company, every cohort, the small one).
async fn company_with_a_small_cohort(app: &TestApp) -> (String, Vec<String>, String) {
    let counts = rows(
        app,
        "SELECT p.code, c.code, COUNT(*) FROM enrolment e JOIN cohort c ON c.id = e.cohort_id \
         JOIN drug d ON d.id = c.drug_id JOIN partner p ON p.id = d.supplier_id GROUP BY p.code, c.code",
    )
    .await;
    let of = |company: String| counts.iter().filter(move |r| r[0] == company);
    let found = counts.iter().find(|r| {
        let n: i64 = r[2].parse().unwrap_or(0);
        let all: i64 = of(r[0].clone()).map(|r| r[2].parse::<i64>().unwrap_or(0)).sum();
        (1..5).contains(&n) && all >= 10
    });
    let small = found.expect("the test consortium has a company with a cohort of 1..4 enrolled patients");
    (small[0].clone(), of(small[0].clone()).map(|r| r[1].clone()).collect(), small[1].clone())
}

on_both_backends! {
    async fn all_and_all_but_one_small_cohort_are_not_both_answered(app: TestApp) {
        let (company, cohorts, small) = company_with_a_small_cohort(&app).await;
        let token = app.token_for(&company, None).await;
        let all = enrolled(&app, &app.address, &token, &json!({ "cohorts": cohorts })).await;
        assert!(all["value"].as_u64().is_some_and(|n| n >= 10), "{all}");
        // The same question spelled another way is the same patients: answered alike.
        let mut reversed = cohorts.clone();
        reversed.reverse();
        assert_eq!(enrolled(&app, &app.address, &token, &json!({ "cohorts": reversed })).await, all);
        // All but the small cohort: with the first answer it would single that cohort out.
        let rest: Vec<&String> = cohorts.iter().filter(|c| **c != small).collect();
        let but_one = enrolled(&app, &app.address, &token, &json!({ "cohorts": rest })).await;
        assert_eq!(but_one["value"], Value::Null, "{but_one}");
        assert_eq!(but_one["precision"], "SUPPRESSED");
        assert!(but_one["rule"].as_str().is_some_and(|r| r.starts_with(DIFFERENCING)), "{but_one}");
        // Another partner's answers are its own ledger's business: the company's questions
        // withhold nothing of the registry's (the guard is no weapon).
        let registry = app.registry_token().await;
        let other = enrolled(&app, &app.address, &registry, &json!({ "cohorts": rest })).await;
        assert!(other["value"].as_u64().is_some(), "{other}");
    }
}

on_both_backends! {
    async fn a_date_range_and_the_same_range_one_day_shorter_are_not_both_answered(app: TestApp) {
        let (company, _, _) = company_with_a_small_cohort(&app).await;
        // The company's enrolment days with 1..4 enrolments, after at least ten others.
        let days = rows(
            &app,
            &format!(
                "SELECT CAST(e.enrolled_on AS TEXT), COUNT(*) FROM enrolment e JOIN cohort c ON c.id = e.cohort_id \
                 JOIN drug d ON d.id = c.drug_id JOIN partner p ON p.id = d.supplier_id WHERE p.code = '{company}' \
                 GROUP BY e.enrolled_on ORDER BY e.enrolled_on"
            ),
        )
        .await;
        let first = days[0][0].clone();
        let mut before = 0i64;
        let mut chosen = None;
        for (i, day) in days.iter().enumerate() {
            let n: i64 = day[1].parse().expect("a count");
            if i > 0 && before >= 10 && (1..5).contains(&n) {
                chosen = Some((days[i - 1][0].clone(), day[0].clone()));
                break;
            }
            before += n;
        }
        let (previous, day) = chosen.expect("an enrolment day of 1..4 patients after ten others");
        let token = app.token_for(&company, None).await;
        let through_day = enrolled(&app, &app.address, &token, &json!({ "enrolledBetween": { "from": first, "to": day } })).await;
        assert!(through_day["value"].as_u64().is_some(), "{through_day}");
        // One day shorter (to the enrolment day before: the same patients as ending the day before).
        let shorter = enrolled(&app, &app.address, &token, &json!({ "enrolledBetween": { "from": first, "to": previous } })).await;
        assert_eq!(shorter["value"], Value::Null, "{shorter}");
        assert!(shorter["rule"].as_str().is_some_and(|r| r.starts_with(DIFFERENCING)), "{shorter}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_holds_across_two_server_processes() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        missing("replicas on PostgreSQL (TEST_DATABASE_URL)");
        return;
    };
    let url = app.database_url();
    let (a, b) = (Replica::start(&url, i64::MAX / 4), Replica::start(&url, i64::MAX / 4));
    let (company, cohorts, small) = company_with_a_small_cohort(&app).await;
    let token = app.token_for(&company, None).await;
    let all = enrolled(&app, &a.address, &token, &json!({ "cohorts": cohorts })).await;
    assert!(all["value"].as_u64().is_some(), "{all}");
    let rest: Vec<&String> = cohorts.iter().filter(|c| **c != small).collect();
    let but_one = enrolled(&app, &b.address, &token, &json!({ "cohorts": rest })).await;
    assert_eq!(but_one["value"], Value::Null, "the other process answered the difference: {but_one}");
    // And another token, through the first process, is refused too.
    let other = app.token_for(&company, None).await;
    assert_eq!(enrolled(&app, &a.address, &other, &json!({ "cohorts": rest })).await["value"], Value::Null);
}

on_both_backends! {
    async fn of_two_records_racing_past_the_guard_the_later_releases_nothing(app: TestApp) {
        let entry = crate::helpers::answered_record;
        // Both decided on an empty ledger (seen through row 0).
        let sets = |ids: std::ops::Range<u32>| NewSets {
            data_version: 1,
            k: 5,
            seen_through: 0,
            sets: vec![bitmap(&PatientSet::new(ids.collect()))],
        };
        let first = app.state.audit.append(entry("ROCHE"), Memory { sets: Some(sets(0..40)), charge: None }, None).await.expect("record");
        let second = app.state.audit.append(entry("ROCHE"), Memory { sets: Some(sets(2..40)), charge: None }, None).await.expect("record");
        let unrelated = app.state.audit.append(entry("ROCHE"), Memory { sets: Some(sets(100..140)), charge: None }, None).await.expect("record");
        // Another partner's ledger is its own: the same difference is no race there.
        let other = app.state.audit.append(entry("NOVARTIS"), Memory { sets: Some(sets(2..40)), charge: None }, None).await.expect("record");
        assert_eq!(first.outcome, "OK");
        assert_eq!((second.outcome.as_str(), second.released), (CONFLICT, 0));
        assert_eq!(unrelated.outcome, "OK");
        assert_eq!(other.outcome, "OK");
        let ledger = app.state.ledger.synced(1).await.expect("ledger");
        assert_eq!(ledger.sets("ROCHE").len(), 2, "the conflicting set was not written");
        assert_eq!(ledger.sets("NOVARTIS").len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_that_fills_its_ledger_fills_no_one_elses() {
    // Room for a few answers' sets per partner.
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), |args| {
        args.ledger_max_bytes = 1_000;
    })
    .await
    .expect("app");
    let token = app.token_for("OUS", None).await;
    let question = |month: u32| {
        let filter =
            json!({ "enrolledBetween": { "from": format!("{}-{:02}-01", 2021 + month / 12, 1 + month % 12) } });
        json!({ "query": "query($f: PatientFilter) { patientCounts(population: ENROLLED, groupBy: [REGION], filter: $f) { total { value } } }", "variables": { "f": filter } })
    };
    let mut full = false;
    for month in 0..36 {
        let body: Value = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&question(month))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("json");
        if error_codes(&body) == ["DISCLOSURE_LEDGER_FULL"] {
            full = true;
            break;
        }
    }
    assert!(full, "the hospital filled its ledger");
    let other = app.token_for("ROCHE", None).await;
    let answered = app.graphql_as(&other, "{ funnel { steps { patients { value } } } }", json!({})).await;
    assert!(answered.get("errors").is_none(), "another partner's ledger has room: {answered}");
    let again = app.graphql_as(&token, "{ funnel { steps { patients { value } } } }", json!({})).await;
    assert_eq!(error_codes(&again), ["DISCLOSURE_LEDGER_FULL"], "the hospital's stays full: {again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_ledger_refuses_new_numbers_and_forgets_nothing() {
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), |args| {
        args.ledger_max_bytes = 1;
    })
    .await
    .expect("app");
    let token = app.token_for("OUS", None).await;
    let refused = app.graphql_as(&token, "{ funnel { steps { patients { value } } } }", json!({})).await;
    assert_eq!(error_codes(&refused), vec!["DISCLOSURE_LEDGER_FULL"], "{refused}");
    // Nothing about patients: nothing to keep, answered.
    let version = app.graphql_as(&token, "{ dataVersion { version } }", json!({})).await;
    assert!(version.get("errors").is_none(), "{version}");
}
