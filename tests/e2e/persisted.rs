//! Persisted queries: a query asked by its hash alone once the replica knows it (the
//! Apollo protocol), and tokens limited to their registered operations.

use consortium_api::pipeline::admit::persisted;
use serde_json::{json, Value};

use crate::helpers::{error_codes, Backend, TestApp};

fn sha256(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Posts `body` as `token`: the status and the JSON body.
async fn post(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let response =
        app.client.post(format!("{}/graphql", app.address)).bearer_auth(token).json(body).send().await.expect("POST");
    (response.status().as_u16(), response.json().await.expect("a JSON body"))
}

const FUNNEL: &str = "{ funnel { steps { population patients { value } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_is_asked_by_its_hash_once_it_is_known() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let token = app.registry_token().await;
    let by_hash = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256(FUNNEL) } } });
    let (_, unknown) = post(&app, &token, &by_hash).await;
    assert_eq!(error_codes(&unknown), vec!["PERSISTED_QUERY_NOT_FOUND"], "{unknown}");
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    let with_query =
        json!({ "query": FUNNEL, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256(FUNNEL) } } });
    let (_, first) = post(&app, &token, &with_query).await;
    assert!(first.get("errors").is_none(), "{first}");
    let (_, again) = post(&app, &token, &by_hash).await;
    assert!(again.get("errors").is_none(), "{again}");
    assert_eq!(again["data"], first["data"]);
    // A query that is not what its hash says is refused.
    let lying = json!({ "query": "{ viewer { scopes } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256(FUNNEL) } } });
    assert_eq!(error_codes(&post(&app, &token, &lying).await.1), vec!["BAD_USER_INPUT"]);
    let malformed = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "abc" } } });
    assert_eq!(error_codes(&post(&app, &token, &malformed).await.1), vec!["BAD_USER_INPUT"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_an_allow_list_runs_only_its_operations() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let token = app.token_for("ROCHE", None).await;
    let prefix = &token[..12];
    let registered =
        persisted::allow(&app.db, prefix, &[("funnel.graphql".to_owned(), FUNNEL.to_owned())]).await.expect("allow");
    assert_eq!(registered, 1);
    // The registered operation, laid out differently, and by its persisted hash.
    let spaced = "# the dashboard's funnel\n{\n  funnel {\n    steps { population patients { value } }\n  }\n}";
    let (status, answered) = post(&app, &token, &json!({ "query": spaced })).await;
    assert_eq!(status, 200);
    assert!(answered.get("errors").is_none(), "{answered}");
    // Anything else is refused, and that is on record.
    let (status, refused) = post(&app, &token, &json!({ "query": "{ viewer { scopes } }" })).await;
    assert_eq!((status, error_codes(&refused)), (403, vec!["FORBIDDEN".to_owned()]), "{refused}");
    let on_record = app
        .sql_count(&format!("SELECT COUNT(*) FROM audit_record WHERE token_id = '{prefix}' AND outcome = 'FORBIDDEN'"))
        .await;
    assert_eq!(on_record, 1);
    // Another token of the same partner is not limited.
    let other = app.token_for("ROCHE", None).await;
    assert!(post(&app, &other, &json!({ "query": "{ viewer { scopes } }" })).await.1.get("errors").is_none());
    // Only GraphQL can be registered, and only for a live token.
    assert!(persisted::allow(&app.db, prefix, &[("bad.graphql".to_owned(), "{ funnel".to_owned())]).await.is_err());
    assert!(persisted::allow(&app.db, "cat_nothing0", &[("f".to_owned(), FUNNEL.to_owned())]).await.is_err());
}
