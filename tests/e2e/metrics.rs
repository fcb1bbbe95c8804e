//! `GET /metrics`: scraped after real requests, parsed as Prometheus text, and checked
//! against what happened (requests, cache hits, audit records, the data version);
//! only an administrator may read it.

use std::collections::BTreeMap;

use consortium_entity::access::audit_record;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the Prometheus text format strictly enough to fail on anything malformed.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut labels = BTreeMap::new();
                for pair in body.split(',').filter(|p| !p.is_empty()) {
                    let (key, quoted) = pair.split_once('=').unwrap_or_else(|| panic!("bad label: {line}"));
                    let value = quoted.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                    labels.insert(key.to_owned(), value.unwrap_or_else(|| panic!("unquoted: {line}")).to_owned());
                }
                (name, labels)
            }
        };
        let valid =
            name.chars().enumerate().all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()));
        assert!(valid && !name.is_empty(), "bad metric name: {line}");
        samples.push((name.to_owned(), labels, value));
    }
    samples
}

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let request = app.client.get(format!("{}/metrics", app.address));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.expect("GET /metrics")
}

fn sum(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> f64 {
    samples
        .iter()
        .filter(|(n, labels, _)| n == name && label.is_none_or(|(k, v)| labels.get(k).map(String::as_str) == Some(v)))
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_that_tells_what_happened_to_administrators_only() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let company = app.token_for("ROCHE", None).await;
    let query = "query Funnel { funnel { steps { patients { value } } } }";
    for _ in 0..3 {
        let body = json!({ "query": query, "operationName": "Funnel" });
        let sent = app.client.post(format!("{}/graphql", app.address)).bearer_auth(&company).json(&body).send().await;
        assert_eq!(sent.expect("POST /graphql").status().as_u16(), 200);
    }
    app.graphql_as("cat_AAAAAAAA.unknown", "{ dataVersion { version } }", json!({})).await;

    assert_eq!(scrape(&app, None).await.status().as_u16(), 401);
    assert_eq!(scrape(&app, Some(&company)).await.status().as_u16(), 403);
    use consortium_api::auth::grants::{set_grants, GrantChange};
    set_grants(&app.db, "OUS", GrantChange::Add("admin".parse().expect("scopes"))).await.expect("grant");
    let admin = app.token_for("OUS", None).await;
    let response = scrape(&app, Some(&admin)).await;
    assert_eq!(response.status().as_u16(), 200);
    let samples = parse(&response.text().await.expect("text"));

    let requests = "consortium_graphql_requests_total";
    assert_eq!(sum(&samples, requests, Some(("operation", "Funnel"))), 3.0);
    let company_ok = samples.iter().find(|(n, l, _)| {
        n == requests
            && l.get("partner").map(String::as_str) == Some("ROCHE")
            && l.get("outcome").map(String::as_str) == Some("OK")
    });
    assert_eq!(company_ok.map(|s| s.2), Some(3.0));
    assert_eq!(sum(&samples, requests, Some(("outcome", "UNAUTHENTICATED"))), 1.0);
    assert_eq!(sum(&samples, "consortium_released_answer_cache_hits_total", None), 2.0);
    assert_eq!(sum(&samples, "consortium_graphql_request_duration_seconds_count", None), 4.0);
    let records = audit_record::Entity::find().all(&app.db).await.expect("records").len() as f64;
    assert_eq!(sum(&samples, "consortium_audit_records_total", None), records);
    assert!(sum(&samples, "consortium_audit_groups_total", None) >= 1.0);
    assert_eq!(sum(&samples, "consortium_data_version", None), app.state.snapshot().version as f64);
    // Nothing about patients or tokens in any label.
    for (_, labels, _) in &samples {
        assert!(labels.keys().all(|k| ["partner", "operation", "outcome", "le"].contains(&k.as_str())), "{labels:?}");
        assert!(labels.values().all(|v| !v.starts_with("cat_")), "{labels:?}");
    }
}
