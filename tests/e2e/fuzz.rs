//! Generated queries against the real schema: random root fields, arguments (valid,
//! wrong-typed, extreme, malformed) and selections built from introspection, plus the
//! same queries cut and corrupted as text, and the mistakes a client makes with the
//! request around them (operation names, subscriptions and files over HTTP, batches). Whatever arrives, the service answers with
//! a coded error or data, never a server error, and stays healthy.
//!
//! The cases are drawn from a fixed seed (`FUZZ_SEED` picks another, `FUZZ_CASES` how
//! many), so a failure names its query and can be replayed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::helpers::{assert_every_error_has_a_code, error_codes, Backend, TestApp};
use crate::schema_walk::SchemaDoc;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The query text, sometimes cut short or with a character replaced.
fn corrupted(query: String, rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..10) {
        0 => query.chars().take(rng.gen_range(0..query.chars().count().max(1))).collect(),
        1 => {
            let mut chars: Vec<char> = query.chars().collect();
            let at = rng.gen_range(0..chars.len());
            chars[at] = ['{', '}', '(', ')', '"', '$', '@', '#', '\u{0}', 'é'][rng.gen_range(0..10)];
            chars.into_iter().collect()
        }
        _ => query,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_queries_get_data_or_coded_errors_and_never_break_the_service() {
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), |args| {
        args.rate_limit_points = i64::MAX / 4;
    })
    .await
    .expect("app");
    let schema = SchemaDoc::of(&app).await;
    let token = app.token_for("ROCHE", None).await;
    let seed = setting("FUZZ_SEED", 2026);
    let cases = setting("FUZZ_CASES", 300);
    // Mistakes a client makes that no generated query does: all client errors.
    let upload = "mutation($f: Upload!) { importData(domain: RS, file: $f) { applied } }";
    let mistakes = [
        json!({ "query": "query A { dataVersion { version } }", "operationName": "B" }),
        json!({ "query": "query A { dataVersion { version } } query B { dataVersion { version } }" }),
        json!({ "query": "subscription { dataVersions { version } }" }),
        json!({ "query": upload, "variables": { "f": "a string" } }),
        json!({ "query": upload, "variables": { "f": "#__graphql_file__:not-a-number" } }),
        json!({ "query": "{ dataVersion { version } }", "operationName": 5 }),
        json!([]),
        json!({ "query": "{ patientCounts(filter: { cohorts: [\"\\ud83d\\udca5\"] }) { total { value } } }" }),
        json!({ "query": "{ patientCounts(filter: { cohorts: [\"\\ud83d\"] }) { total { value } } }" }),
    ];
    for body in mistakes {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status < 500, "{body} got HTTP {status}: {answer}");
        assert_every_error_has_a_code(&answer);
        assert!(!error_codes(&answer).iter().any(|c| c == "INTERNAL"), "{body} hit a bug: {answer}");
        assert!(!error_codes(&answer).is_empty(), "{body} was answered: {answer}");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut answered = 0;
    let mut executed = 0;
    let mut refusals: std::collections::BTreeMap<String, u64> = Default::default();
    for case in 0..cases {
        let query = corrupted(schema.random_query(&mut rng), &mut rng);
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("POST /graphql");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status < 500, "case {case} (seed {seed}) got HTTP {status}: {query}\n{body}");
        assert!(body.is_object(), "case {case}: not a GraphQL response: {query}");
        assert_every_error_has_a_code(&body);
        let codes = error_codes(&body);
        assert!(!codes.iter().any(|c| c == "INTERNAL"), "case {case} (seed {seed}) hit a bug: {query}\n{body}");
        if codes.is_empty() {
            answered += 1;
        }
        if !codes.iter().any(|c| c == "GRAPHQL_PARSE_FAILED" || c == "GRAPHQL_VALIDATION_FAILED") {
            executed += 1;
        }
        for code in codes {
            *refusals.entry(code).or_default() += 1;
        }
    }
    // The generator must reach the resolvers, not only the parser and the validator.
    assert!(
        executed * 3 > cases && answered * 10 > cases,
        "{executed} of {cases} generated queries were executed, {answered} answered; refusals: {refusals:?}"
    );
    let health = app.client.get(format!("{}/healthz", app.address)).send().await.expect("GET /healthz");
    assert_eq!(health.status().as_u16(), 200);
    let still = app.graphql_as(&token, "{ funnel { steps { population } } }", json!({})).await;
    assert!(still.get("errors").is_none(), "{still}");
}
