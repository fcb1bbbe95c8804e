//! The noisy tier, attacked through GraphQL as its partner (the early-look partner,
//! ε = 0.5 per value): the same question asked a hundred times, or asked in other words,
//! gets one noisy answer and one charge, so averaging removes no noise; values that are
//! not counts are withheld; a dry run costs nothing; requests over budget release
//! nothing; concurrent requests, through one process or two, cannot overspend.

use consortium_analytics::Dimension;
use consortium_entity::access::audit_record;
use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::{error_codes, missing, Backend, TestApp, PATIENTS, TRUSTED};
use crate::on_both_backends;
use crate::replica::Replica;

/// The partner on the noisy tier.
const EARLY: &str = "EARLYLOOK";

/// Overrides with the early-look partner's budget cut to four values.
fn small_budget() -> String {
    format!("{TRUSTED};{EARLY}:budget=2")
}

async fn spawn_small_budget(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_configured(backend, Some(PATIENTS), |args| {
        args.disclosure_overrides = small_budget().parse().expect("overrides");
    })
    .await
}

/// Posts `body` to `address` as `token`.
async fn post(app: &TestApp, address: &str, token: &str, body: &Value) -> Value {
    let response =
        app.client.post(format!("{address}/graphql")).bearer_auth(token).json(body).send().await.expect("POST");
    response.json().await.expect("a JSON body")
}

/// The enrolled patients by region, with every count's protection.
const BY_REGION: &str = "{ patientCounts(population: ENROLLED, groupBy: [REGION]) { \
    total { value precision rule margin95 } groups { keys { code } patients { value precision rule margin95 } } } }";

/// The ε spent so far by the early-look partner, as it sees it.
async fn spent(app: &TestApp, token: &str) -> f64 {
    let body = post(
        app,
        &app.address,
        token,
        &json!({ "query": "{ privacyBudget { epsilonSpent epsilonRemaining epsilonPerWindow } }" }),
    )
    .await;
    let budget = &body["data"]["privacyBudget"];
    let (spent, remaining, window) =
        (budget["epsilonSpent"].as_f64(), budget["epsilonRemaining"].as_f64(), budget["epsilonPerWindow"].as_f64());
    let (Some(spent), Some(remaining), Some(window)) = (spent, remaining, window) else { panic!("no budget: {body}") };
    assert!((spent + remaining - window).abs() < 1e-9, "{body}");
    spent
}

/// The ε on record for the partner's requests, request by request.
async fn epsilons_on_record(app: &TestApp) -> Vec<f64> {
    let records = audit_record::Entity::find()
        .filter(audit_record::Column::PartnerCode.eq(EARLY))
        .all(&app.db)
        .await
        .expect("audit records");
    records.iter().map(|r| r.epsilon.expect("every request of a noisy-tier partner has its ε on record")).collect()
}

/// The dry-run cost of `query` and whether the answer held no data.
async fn dry_run(app: &TestApp, token: &str, query: &str) -> f64 {
    let body = post(app, &app.address, token, &json!({ "query": query, "extensions": { "dryRun": true } })).await;
    assert_eq!(body["data"], Value::Null, "a dry run releases nothing: {body}");
    body["extensions"]["privacyCost"]["epsilon"].as_f64().unwrap_or_else(|| panic!("no cost: {body}"))
}

on_both_backends! {
    async fn the_same_noisy_question_asked_a_hundred_times_is_one_answer_charged_once(app: TestApp) {
        let token = app.token_for(EARLY, None).await;
        let cost = dry_run(&app, &token, BY_REGION).await;
        assert!(cost > 0.0, "the first time costs");
        assert_eq!(spent(&app, &token).await, 0.0, "a dry run spends nothing");
        assert_eq!(app.sql_count("SELECT COUNT(*) FROM noisy_count").await, 0, "a dry run draws and keeps no value");
        let first = post(&app, &app.address, &token, &json!({ "query": BY_REGION })).await;
        assert!(first.get("errors").is_none(), "{first}");
        let charged = first["extensions"]["disclosure"]["epsilon"].as_f64().expect("ε on record");
        assert!(charged > 0.0 && charged <= cost + 1e-9, "charged {charged}, the dry run said at most {cost}");
        let counts = &first["data"]["patientCounts"];
        let mut cells = vec![counts["total"].clone()];
        cells.extend(counts["groups"].as_array().expect("groups").iter().map(|g| g["patients"].clone()));
        for cell in &cells {
            assert_eq!(cell["precision"], "NOISY", "{cell}");
            assert!(cell["rule"].as_str().is_some_and(|r| r.starts_with("NOISE") && r.contains("ε = 0.5")), "{cell}");
            assert!(cell["margin95"].as_u64().is_some_and(|m| m > 0), "{cell}");
            assert!(cell["value"].as_u64().is_some(), "{cell}");
        }
        assert!((charged - 0.5 * cells.len() as f64).abs() < 1e-9, "ε 0.5 for each of {} values, not {charged}", cells.len());
        // The registry sees the exact numbers: the noise changed at least one of them.
        let exact = app.data(BY_REGION, json!({})).await;
        assert_ne!(exact["patientCounts"]["total"]["value"], Value::Null);
        let values = |counts: &Value| -> Vec<Value> {
            let mut v = vec![counts["total"]["value"].clone()];
            v.extend(counts["groups"].as_array().into_iter().flatten().map(|g| g["patients"]["value"].clone()));
            v
        };
        assert_ne!(values(counts), values(&exact["patientCounts"]), "noise was added");
        for _ in 0..99 {
            let again = post(&app, &app.address, &token, &json!({ "query": BY_REGION })).await;
            assert_eq!(again["data"], first["data"]);
            assert_eq!(again["extensions"]["disclosure"]["epsilon"].as_f64(), Some(0.0), "{again}");
        }
        assert!((spent(&app, &token).await - charged).abs() < 1e-9, "charged once");
        let on_record = epsilons_on_record(&app).await;
        assert!((on_record.iter().sum::<f64>() - charged).abs() < 1e-9, "{on_record:?}");
        assert_eq!(on_record.iter().filter(|e| **e > 0.0).count(), 1, "{on_record:?}");
    }
}

on_both_backends! {
    async fn the_same_question_in_other_words_gets_the_same_noise(app: TestApp) {
        let token = app.token_for(EARLY, None).await;
        let total = |body: &Value, path: &[&str]| path.iter().fold(body.clone(), |v, p| v[*p].clone());
        let first = post(&app, &app.address, &token, &json!({ "query": "{ patientCounts(population: ENROLLED) { total { value } } }" })).await;
        let value = total(&first, &["data", "patientCounts", "total", "value"]);
        assert!(value.as_u64().is_some(), "{first}");
        let spent_once = spent(&app, &token).await;
        // Fifty spellings of one question: aliases, variables, an operation name, and a
        // filter that selects every health region (the same patients).
        let regions: Vec<String> = app
            .data("{ __type(name: \"HealthRegion\") { enumValues { name } } }", json!({}))
            .await["__type"]["enumValues"]
            .as_array()
            .expect("regions")
            .iter()
            .map(|v| v["name"].as_str().expect("name").to_owned())
            .collect();
        let mut answers = Vec::new();
        for i in 0..50 {
            let body = match i % 3 {
                0 => json!({ "query": format!("query Q{i}($p: Population!) {{ a{i}: patientCounts(population: $p) {{ total {{ value }} }} }}"), "variables": { "p": "ENROLLED" } }),
                1 => json!({ "query": format!("{{ b{i}: patientCounts(population: ENROLLED, filter: {{ regions: [{}] }}) {{ total {{ value }} }} }}", regions.join(", ")) }),
                _ => json!({ "query": format!("{{ c{i}: patientCounts(filter: {{}}, population: ENROLLED) {{ total {{ value }} }} }}") }),
            };
            let answer = post(&app, &app.address, &token, &body).await;
            assert!(answer.get("errors").is_none(), "{answer}");
            let data = answer["data"].as_object().expect("data");
            answers.push(data.values().next().expect("one field")["total"]["value"].clone());
        }
        assert!(answers.iter().all(|a| *a == value), "{value} vs {answers:?}");
        assert!((spent(&app, &token).await - spent_once).abs() < 1e-9, "no spelling was charged again");
    }
}

on_both_backends! {
    async fn only_counts_are_released_on_the_noisy_tier(app: TestApp) {
        let token = app.token_for(EARLY, None).await;
        let query = "{ responses { overall { evaluable { value precision } objectiveResponse { numerator { value precision } estimate { value precision rule } upper95 { value } } } } }";
        let body = post(&app, &app.address, &token, &json!({ "query": query })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let overall = &body["data"]["responses"]["overall"];
        assert_eq!(overall["evaluable"]["precision"], "NOISY", "{overall}");
        let rate = &overall["objectiveResponse"];
        assert_eq!(rate["numerator"]["precision"], "NOISY", "{rate}");
        assert_eq!(rate["estimate"]["value"], Value::Null, "{rate}");
        assert_eq!(rate["estimate"]["precision"], "SUPPRESSED");
        assert!(rate["estimate"]["rule"].as_str().is_some_and(|r| r.starts_with("NOISY_TIER")), "{rate}");
        assert_eq!(rate["upper95"]["value"], Value::Null);
        // The exact tier is untouched: the registry gets the estimate.
        let exact = app.data(query, json!({})).await;
        assert!(exact["responses"]["overall"]["objectiveResponse"]["estimate"]["value"].as_f64().is_some(), "{exact}");
        // What rests on exact counts without being a number is not answered either:
        // two-stage decisions, and a survival curve's steps (one per event time).
        let monitoring = post(&app, &app.address, &token, &json!({ "query": "{ cohortMonitoring { statusAgrees } }" })).await;
        assert_eq!(error_codes(&monitoring), vec!["FORBIDDEN"], "{monitoring}");
        let academic = app.token_for("TRIALSTAT", None).await;
        let noisy_survival = TestApp::spawn_configured(Backend::Sqlite, Some(PATIENTS), |args| {
            args.disclosure_overrides = format!("{TRUSTED};TRIALSTAT:noise=0.5").parse().expect("overrides");
        })
        .await
        .expect("app");
        let academic_there = noisy_survival.token_for("TRIALSTAT", None).await;
        let curve = post(&noisy_survival, &noisy_survival.address, &academic_there, &json!({ "query": "{ survival(endpoint: OS) { patients { precision } steps { months { value } } } }" })).await;
        assert_eq!(curve["data"]["survival"][0]["patients"]["precision"], "NOISY", "{curve}");
        assert_eq!(curve["data"]["survival"][0]["steps"], json!([]), "{curve}");
        // Adverse-event terms are no closed list to price a question by: refused on the
        // noisy tier; organ classes are one (priced, in a dry run).
        let by = |category: &str| {
            let query = format!("{{ adverseEvents(category: {category}) {{ category }} }}");
            json!({ "query": query, "extensions": { "dryRun": true } })
        };
        let terms = post(&noisy_survival, &noisy_survival.address, &academic_there, &by("TERM")).await;
        assert_eq!(error_codes(&terms), ["FORBIDDEN"], "{terms}");
        let classes = post(&noisy_survival, &noisy_survival.address, &academic_there, &by("ORGAN_CLASS")).await;
        assert!(classes.get("errors").is_none(), "{classes}");
        assert!(classes["extensions"]["privacyCost"]["epsilon"].as_f64().is_some_and(|e| e > 0.0), "{classes}");
        let exact_curve = app.graphql_as(&academic, "{ survival(endpoint: OS) { steps { months { value } } } }", json!({})).await;
        assert!(exact_curve["data"]["survival"][0]["steps"].as_array().is_some_and(|s| !s.is_empty()), "{exact_curve}");
    }
}

/// Enrolled patients up to the first of each of `months` months from January 2022:
/// questions about growing, mostly different sets of patients.
fn growing_questions(months: usize) -> Vec<Value> {
    (0..months)
        .map(|i| {
            let to = format!("{}-{:02}-01", 2022 + i / 12, 1 + i % 12);
            json!({
                "query": "query($f: PatientFilter) { patientCounts(population: ENROLLED, filter: $f) { total { value } } }",
                "variables": { "f": { "enrolledBetween": { "from": "2021-01-01", "to": to } } },
            })
        })
        .collect()
}

/// Sends `questions` at once, spread over `addresses`; checks that the partner spent at
/// most its budget of 2, exactly what its records say, and that every request was either
/// answered or refused with `BUDGET_EXHAUSTED` and no data; returns how many were refused.
async fn overspend_attempt(app: &TestApp, addresses: &[&str], questions: &[Value]) -> usize {
    let token = app.token_for(EARLY, None).await;
    let sent = questions.iter().enumerate().map(|(i, q)| post(app, addresses[i % addresses.len()], &token, q));
    let answers = join_all(sent).await;
    let mut refused = 0;
    for answer in &answers {
        if answer.get("errors").is_some() {
            assert_eq!(error_codes(answer), vec!["BUDGET_EXHAUSTED"], "{answer}");
            assert!(answer["data"].is_null() || answer["data"]["patientCounts"].is_null(), "{answer}");
            refused += 1;
        } else {
            assert!(answer["data"]["patientCounts"]["total"]["value"].as_u64().is_some(), "{answer}");
        }
    }
    let spent = spent(app, &token).await;
    assert!(spent <= 2.0 + 1e-9, "spent {spent} of a budget of 2");
    let on_record: f64 = epsilons_on_record(app).await.iter().sum();
    assert!((on_record - spent).abs() < 1e-9, "records say {on_record}, the budget {spent}");
    assert!(refused < answers.len(), "the budget allows some of them");
    refused
}

on_both_backends! {
    spawn = spawn_small_budget;
    async fn concurrent_requests_cannot_overspend_a_budget(app: TestApp) {
        let refused = overspend_attempt(&app, &[&app.address], &growing_questions(30)).await;
        assert!(refused > 0, "thirty different questions do not fit a budget of four values");
        // Over budget, a dry run still answers, and says so.
        let token = app.token_for(EARLY, None).await;
        let body = post(&app, &app.address, &token, &json!({ "query": "{ funnel { steps { patients { value } } } }", "extensions": { "dryRun": true } })).await;
        assert_eq!(body["extensions"]["privacyCost"]["affordable"], false, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_noisy_tier_holds_across_two_server_processes() {
    let Some(app) = spawn_small_budget(Backend::Postgres).await else {
        missing("replicas on PostgreSQL (TEST_DATABASE_URL)");
        return;
    };
    let url = app.database_url();
    let overrides = small_budget();
    let (a, b) =
        (Replica::start_with(&url, i64::MAX / 4, &overrides), Replica::start_with(&url, i64::MAX / 4, &overrides));
    let token = app.token_for(EARLY, None).await;
    let question = json!({ "query": "{ patientCounts(population: TREATED) { total { value } } }" });
    let through_a = post(&app, &a.address, &token, &question).await;
    let through_b = post(&app, &b.address, &token, &question).await;
    assert!(through_a.get("errors").is_none(), "{through_a}");
    assert_eq!(through_a["data"], through_b["data"], "one noisy value across processes");
    assert_eq!(through_b["extensions"]["disclosure"]["epsilon"].as_f64(), Some(0.0), "charged once across processes");
    let refused = overspend_attempt(&app, &[&a.address, &b.address], &growing_questions(30)).await;
    assert!(refused > 0);
}

crate::on_both_backends! {
    spawn = spawn_small_budget;
    async fn a_request_over_a_fresh_budget_is_told_what_it_costs_and_what_is_left(app: TestApp) {
        let token = app.token_for(EARLY, None).await;
        // Every region and the total at 0.5 each: more than the budget of 2 on its own.
        let body = post(&app, &app.address, &token, &json!({ "query": BY_REGION })).await;
        assert_eq!(error_codes(&body), ["BUDGET_EXHAUSTED"], "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("it may cost ε = ") && message.contains("2.000 of 2.000 is left"), "{message}");
        assert!(message.contains("more than the whole budget"), "{message}");
        assert!(!message.contains("meanwhile"), "{message}");
        assert_eq!(spent(&app, &token).await, 0.0);
        assert_eq!(app.sql_count("SELECT COUNT(*) FROM noisy_count").await, 0, "a refusal draws and keeps no value");
    }
}

/// The patients referred on one day.
const ONE_DAY: &str = ", filter: { referredBetween: { from: \"2022-03-01\", to: \"2022-03-01\" } }";

/// A question of each listed shape the early-look partner may ask, with a filter put in
/// at `{filter}`.
const SHAPES: [&str; 4] = [
    "{ patientCounts(population: REFERRED, groupBy: [TUMOUR_TYPE, SEX]{filter}) { total { value } groups { patients { value } } } }",
    "{ responses(groupBy: [COHORT]{filter}) { overall { treated { value } } groups { treated { value } clinicalBenefit { estimate { value } } } } }",
    "{ monthlyActivity(split: REGION{filter}) { period enrolments { value } } }",
    "{ monthlyActivity(interval: YEAR{filter}) { period referrals { value } } }",
];

on_both_backends! {
    async fn a_dry_run_prices_the_question_not_the_data(app: TestApp) {
        let token = app.token_for(EARLY, None).await;
        let catalogue = &app.state.snapshot().catalogue;
        for shape in SHAPES {
            // Everyone; nobody (a day before the trial); the few referred on one day.
            let filters = ["", ", filter: { referredBetween: { to: \"1990-01-01\" } }", ONE_DAY];
            let questions = filters.map(|filter| shape.replace("{filter}", filter));
            let prices = join_all(questions.iter().map(|question| dry_run(&app, &token, question))).await;
            assert!(prices[0] > 0.0 && prices.iter().all(|p| *p == prices[0]), "{shape}: {prices:?}");
        }
        // The price is the shape's: the total and every tumour type × sex, "none" included.
        let groups = catalogue.groups(&[Dimension::TumourType, Dimension::Sex]);
        let price = dry_run(&app, &token, &SHAPES[0].replace("{filter}", "")).await;
        assert!((price - 0.5 * (1 + groups) as f64).abs() < 1e-9, "{price} for {groups} groups");
        assert_eq!(spent(&app, &token).await, 0.0, "dry runs cost nothing");
        assert_eq!(app.sql_count("SELECT COUNT(*) FROM noisy_count").await, 0, "and draw nothing");
    }
}
