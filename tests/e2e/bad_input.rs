//! Bad input of every kind gets an error with a stable code, never a stack trace,
//! and the service keeps serving.

use serde_json::{json, Value};

use crate::helpers::{assert_every_error_has_a_code, error_codes, Backend, TestApp};

async fn post_raw(app: &TestApp, body: &'static str) -> (u16, Value) {
    let token = app.registry_token().await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON error body"))
}

async fn still_serving(app: &TestApp) {
    let ok = app.data("{ dataVersion { version } }", json!({})).await;
    assert!(ok["dataVersion"]["version"].as_i64().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_bad_request_with_a_code() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    for body in ["{not json", "[1, 2", "\"just a string\"", "{\"query\": 5}"] {
        let (status, error) = post_raw(&app, body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_codes(&error), ["BAD_REQUEST"], "{body}");
        assert_every_error_has_a_code(&error);
    }
    still_serving(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_that_do_not_parse_or_validate_are_refused_with_codes() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let cases = [
        ("{ funnel { steps ", "GRAPHQL_PARSE_FAILED"),
        ("{ funnel { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ patientCounts(groupBy: [NO_SUCH_DIMENSION]) { total { value } } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ patientCounts(population: 3) { total { value } } }", "GRAPHQL_VALIDATION_FAILED"),
    ];
    for (query, code) in cases {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_codes(&body), [code], "{query}: {body}");
        let text = body.to_string();
        assert!(!text.contains("panicked") && !text.contains("src/"), "no internals leak: {text}");
    }
    still_serving(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_arguments_are_bad_user_input() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let query =
        "query($f: PatientFilter, $by: [Dimension!]!) { patientCounts(groupBy: $by, filter: $f) { total { value } } }";
    // Values that do not fit their declared type are refused while validating the
    // variables; well-typed values that name nothing are the resolvers' to refuse.
    let (invalid, bad_input) = ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT");
    let cases = [
        (
            json!({ "by": ["SEX"], "f": { "cohorts": ["NO-SUCH-COHORT"] } }),
            bad_input,
            "unknown cohort code 'NO-SUCH-COHORT'",
        ),
        (json!({ "by": ["SEX"], "f": { "tumourTypes": ["XYZ"] } }), bad_input, "unknown tumour type code 'XYZ'"),
        (json!({ "by": ["SEX"], "f": { "enrolmentMonths": ["2024-13"] } }), bad_input, "unknown enrolment month code"),
        (
            json!({ "by": ["SEX"], "f": { "referredBetween": { "from": "2024-05-01", "to": "2024-01-01" } } }),
            bad_input,
            "after it ends",
        ),
        (json!({ "by": ["SEX", "SEX"] }), bad_input, "grouped by twice"),
        (
            json!({ "by": ["SEX"], "f": { "referredBetween": { "from": "2024-02-30" } } }),
            bad_input,
            "'2024-02-30' is not a date (YYYY-MM-DD)",
        ),
        (json!({ "by": ["NOT_A_DIMENSION"] }), invalid, "NOT_A_DIMENSION"),
        (json!({ "by": ["SEX"], "f": { "noSuchField": 1 } }), invalid, "noSuchField"),
    ];
    for (variables, code, message) in cases {
        let body = app.graphql(query, variables.clone()).await;
        assert_eq!(error_codes(&body), [code], "{variables}: {body}");
        let text = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{variables}: message {text:?} should mention {message:?}");
    }
    still_serving(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_value_is_not_echoed_back_whole() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let huge = "X".repeat(100_000);
    let query = "query($f: PatientFilter) { funnel(filter: $f) { steps { population } } }";
    for variables in [json!({ "f": { "genes": [huge] } }), json!({ "f": { "referredBetween": { "from": huge } } })] {
        let body = app.graphql(query, variables).await;
        assert_eq!(
            error_codes(&body),
            ["BAD_USER_INPUT"],
            "{}",
            body.to_string().chars().take(300).collect::<String>()
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.len() < 400, "a message of {} bytes", message.len());
        assert!(message.contains("XXXX…"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn designs_and_rate_lists_no_trial_could_have_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let cases = [
        ("{ operatingCharacteristics(design: {r1: 0, n1: 8, r: 4, n: 10000000}, benefitRates: [0.1]) { pet: probabilityEarlyStop } }", "n <= 250"),
        ("{ operatingCharacteristics(benefitRates: []) { probabilityEarlyStop } }", "1 to 101 benefit rates"),
        ("{ operatingCharacteristics(benefitRates: [1.5]) { probabilityEarlyStop } }", "1.5"),
    ];
    for (query, message) in cases {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{query}: {body}");
        let text = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{text:?} should mention {message:?}");
    }
    still_serving(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_over_the_depth_or_complexity_limits_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let nested = 14;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(nested),
        "} ".repeat(nested)
    );
    let body = app.graphql(&deep, json!({})).await;
    assert_eq!(error_codes(&body), ["QUERY_TOO_COMPLEX"], "{body}");

    let wide: String = (0..600).map(|i| format!("a{i}: funnel {{ steps {{ patients {{ value }} }} }} ")).collect();
    let body = app.graphql(&format!("{{ {wide} }}"), json!({})).await;
    assert_eq!(error_codes(&body), ["QUERY_TOO_COMPLEX"], "{body}");
    still_serving(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_and_health_endpoints_answer() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    // The root sends a browser on to the playground.
    let page = app.client.get(format!("{}/", app.address)).send().await.expect("GET /");
    assert_eq!(page.url().path(), "/graphql");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("html").contains("/assets/graphiql/graphiql.min.js"));
    for path in ["/dashboards", "/assets/graphiql/graphiql.min.js", "/assets/uplot/uPlot.iife.min.js"] {
        let got = app.client.get(format!("{}{path}", app.address)).send().await.expect("GET");
        assert_eq!(got.status().as_u16(), 200, "{path}");
    }
    let missing = app.client.get(format!("{}/assets/nothing.js", app.address)).send().await.expect("GET");
    assert_eq!(missing.status().as_u16(), 404);
    let health = app.client.get(format!("{}/healthz", app.address)).send().await.expect("GET /healthz");
    assert_eq!(health.status().as_u16(), 200);
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("GET /readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["dataVersion"], 1);
}

/// Posts `body` (JSON) with the registry's token; the status and the body.
async fn post_json(app: &TestApp, body: Value) -> (u16, Value) {
    let token = app.registry_token().await;
    let response =
        app.client.post(format!("{}/graphql", app.address)).bearer_auth(token).json(&body).send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_mistakes_get_client_codes_never_internal() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let version = "query A { dataVersion { version } }";
    let cases = [
        (json!({ "query": version, "operationName": "B" }), 400, "OPERATION_RESOLUTION_FAILURE", "no operation named"),
        (
            json!({ "query": format!("{version} query B {{ dataVersion {{ version }} }}") }),
            400,
            "OPERATION_RESOLUTION_FAILURE",
            "several operations",
        ),
        (json!({ "query": "subscription { dataVersions { version } }" }), 400, "BAD_REQUEST", "/graphql/ws"),
        (
            json!({ "query": "mutation($f: Upload!) { importData(domain: RS, file: $f) { applied } }", "variables": { "f": "a string" } }),
            400,
            "BAD_REQUEST",
            "multipart",
        ),
        (
            json!({ "query": "mutation($f: Upload!) { importData(domain: RS, file: $f) { applied } }", "variables": { "f": "#__graphql_file__:x" } }),
            400,
            "BAD_REQUEST",
            "multipart",
        ),
        (json!([]), 400, "BAD_REQUEST", "empty batch"),
    ];
    for (body, status, code, message) in cases {
        let (got, answer) = post_json(&app, body.clone()).await;
        assert_eq!((got, error_codes(&answer)), (status, vec![code.to_owned()]), "{body}: {answer}");
        let text = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{body}: {text:?} should mention {message:?}");
    }
    // A character outside the Basic Multilingual Plane as a surrogate pair, as JSON and
    // the GraphQL specification spell it: read as the character, not a parse failure.
    let body =
        app.graphql(r#"{ patientCounts(filter: { cohorts: ["\ud83d\udca5"] }) { total { value } } }"#, json!({})).await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains('💥'), "{body}");
    still_serving(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_in_a_url_is_answered_and_nothing_else() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let token = app.registry_token().await;
    let get = |query: &'static str| {
        app.client
            .get(format!("{}/graphql", app.address))
            .query(&[("query", query)])
            .bearer_auth(&token)
            .header("accept", "application/graphql-response+json, application/json")
            .send()
    };
    let answered = get("{ dataVersion { version } }").await.expect("GET");
    assert_eq!(answered.status().as_u16(), 200);
    let body: Value = answered.json().await.expect("JSON");
    assert_eq!(body["data"]["dataVersion"]["version"], 1, "{body}");
    let mutation = get("mutation { importData(domain: RS, file: null) { applied } }").await.expect("GET");
    assert_eq!(mutation.status().as_u16(), 405);
    assert_eq!(mutation.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    // Without a question it is the playground, for a browser and anyone else.
    let page = app.client.get(format!("{}/graphql", app.address)).send().await.expect("GET");
    assert!(page.text().await.expect("html").contains("<html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_what_their_protocols_ask_for() {
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), |args| {
        args.rate_limit_points = 50;
    })
    .await
    .expect("app");
    // A spent rate limit: 429, and an error with no place in the document.
    let token = app.registry_token().await;
    let heavy = "{ patientCounts(groupBy: [COHORT, SEX]) { groups { patients { value } } } }";
    let mut throttled = None;
    for _ in 0..20 {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&json!({ "query": heavy }))
            .send()
            .await
            .expect("POST");
        if response.status().as_u16() == 429 {
            throttled = Some(response.json::<Value>().await.expect("JSON"));
            break;
        }
    }
    let throttled = throttled.expect("the budget runs out");
    assert_eq!(error_codes(&throttled), ["THROTTLED"]);
    assert!(throttled["errors"][0].get("locations").is_none(), "{throttled}");

    // /metrics without a token: 401 with a challenge.
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.expect("GET /metrics");
    assert_eq!(metrics.status().as_u16(), 401);
    assert!(metrics.headers().get("www-authenticate").is_some_and(|v| v.to_str().unwrap_or("").starts_with("Bearer")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_the_server_cannot_read_gets_a_coded_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.expect("connect");
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000000000000000\r\n\r\n")
        .await
        .expect("send");
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).expect("a JSON body");
    assert_eq!(error_codes(&body), ["BAD_REQUEST"], "{body}");
    still_serving(&app).await;
}
