//! The service as a whole: concurrent identical questions, the snapshot shared by
//! requests, and that no request can stall the others (deadlines, batch limits, heavy
//! work kept off the async workers).

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{error_codes, Backend, TestApp};
use crate::on_both_backends;

on_both_backends! {
    async fn concurrent_identical_questions_get_identical_answers(app: TestApp) {
        let query = "{ patientCounts(population: TREATED, groupBy: [COHORT, SEX]) { total { value } groups { patients { value } } } }";
        // Issue a token first, so the eight requests below really run at the same time.
        app.registry_token().await;
        let answers = join_all((0..8).map(|_| app.data(query, json!({})))).await;
        assert_eq!(answers.len(), 8);
        assert!(answers.windows(2).all(|w| w[0] == w[1]));
        assert!(answers[0]["patientCounts"]["total"]["value"].as_u64().unwrap_or(0) > 0);
    }
}

/// An operating-characteristics question as heavy as a design may be: every benefit
/// rate, the largest design.
fn heavy_query() -> String {
    let rates: Vec<String> = (0..=100).map(|i| format!("{:.2}", f64::from(i) / 100.0)).collect();
    format!(
        "{{ operatingCharacteristics(design: {{r1: 20, n1: 125, r: 60, n: 250}}, benefitRates: [{}]) {{ probabilityPositive }} }}",
        rates.join(", ")
    )
}

/// Posts a batch of `copies` heavy operations; returns the status and how long it took.
async fn heavy_batch(app: &TestApp, token: &str, copies: usize) -> (u16, Value, Duration) {
    let batch: Vec<Value> = (0..copies).map(|_| json!({ "query": heavy_query() })).collect();
    let started = Instant::now();
    let response =
        app.client.post(format!("{}/graphql", app.address)).bearer_auth(token).json(&batch).send().await.expect("POST");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON body");
    (status, body, started.elapsed())
}

/// Limits loose enough for a deliberately heavy request.
fn generous(args: &mut consortium_api::config::ServeArgs) {
    args.rate_limit_points = i64::MAX / 4;
    args.max_complexity = 100_000_000;
    args.max_batch = 100;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_requests_do_not_stall_health_checks_or_other_partners() {
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), generous).await.expect("app");
    let company = app.token_for("ROCHE", None).await;
    let hospital = app.token_for("OUS", None).await;
    let cheap = "{ funnel { steps { patients { value } } } }";
    app.graphql_as(&hospital, cheap, json!({})).await;

    // Four heavy batches at once: more CPU work than the server has cores.
    let heavy = join_all((0..4).map(|_| heavy_batch(&app, &company, 100)));
    let probes = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let health = app.client.get(format!("{}/healthz", app.address)).send().await.expect("GET /healthz");
        let health_took = started.elapsed();
        assert_eq!(health.status().as_u16(), 200);
        let started = Instant::now();
        let answer = app.graphql_as(&hospital, cheap, json!({})).await;
        assert!(answer.get("errors").is_none(), "{answer}");
        (health_took, started.elapsed())
    };
    let (batches, (health_took, cheap_took)) = tokio::join!(heavy, probes);
    let heavy_took = batches.iter().map(|(_, _, took)| *took).min().expect("four batches");
    for (status, body, _) in &batches {
        assert_eq!(*status, 200, "{body}");
    }
    assert!(heavy_took > Duration::from_millis(400), "the heavy requests must be heavy: {heavy_took:?}");
    assert!(health_took * 4 < heavy_took, "/healthz took {health_took:?} beside heavy requests of {heavy_took:?}");
    assert!(cheap_took * 4 < heavy_took, "a cheap query took {cheap_took:?} beside heavy requests of {heavy_took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_stopped_with_a_code_and_on_record() {
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), |args| {
        generous(args);
        args.request_timeout_secs = 1;
    })
    .await
    .expect("app");
    let token = app.token_for("ROCHE", None).await;
    // Four heavy batches at once: each would take longer than the one-second deadline.
    let batches = join_all((0..4).map(|_| heavy_batch(&app, &token, 100))).await;
    let timed_out: Vec<&(u16, Value, Duration)> = batches.iter().filter(|(status, _, _)| *status == 504).collect();
    assert!(!timed_out.is_empty(), "{:?}", batches.iter().map(|b| b.0).collect::<Vec<_>>());
    for (_, body, took) in &timed_out {
        assert_eq!(error_codes(body), vec!["TIMEOUT"]);
        assert!(*took < Duration::from_secs(3), "stopped at the deadline, not at the end of the work: {took:?}");
    }
    let outcome = app.sql_count("SELECT COUNT(*) FROM audit_record WHERE outcome = 'TIMEOUT'").await;
    assert_eq!(outcome, timed_out.len() as u64);
    let still = app.graphql_as(&token, "{ dataVersion { version } }", json!({})).await;
    assert!(still.get("errors").is_none(), "{still}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_limited_in_size_and_in_their_total_complexity() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let token = app.registry_token().await;
    let post = |batch: Vec<Value>| {
        let request = app.client.post(format!("{}/graphql", app.address)).bearer_auth(&token).json(&batch);
        async move {
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("a JSON body"))
        }
    };
    let small = json!({ "query": "{ dataVersion { version } }" });
    let (status, body) = post(vec![small.clone(); 1000]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_codes(&body), vec!["BAD_REQUEST"]);
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("at most 10")), "{body}");
    let (status, body) = post(vec![small; 10]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(10));

    // Each of these is within the complexity limit; ten of them together are not.
    let wide: Vec<String> = (0..600).map(|i| format!("v{i}: dataVersion {{ version builtAt }}")).collect();
    let wide = format!("{{ {} }}", wide.join(" "));
    let single = app.graphql(&wide, json!({})).await;
    assert!(single.get("errors").is_none(), "{single}");
    let (_, body) = post(vec![json!({ "query": wide }); 2]).await;
    let codes: Vec<String> = body.as_array().into_iter().flatten().flat_map(error_codes).collect();
    assert!(codes.iter().any(|c| c == "QUERY_TOO_COMPLEX"), "{body}");
}
