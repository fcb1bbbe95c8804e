//! The request record under load: every answered request is on one unbroken chain
//! (group commit), budgets hold across replicas (leases), revocations reach every
//! replica at once (cached principals), a server killed mid-load loses no answered
//! request's record, and a repeated question is answered from the released-answer
//! cache exactly as the first time.

use std::collections::BTreeSet;
use std::sync::Arc;

use consortium_api::pipeline::decide::memory::Memory;
use consortium_api::pipeline::record::audit;
use consortium_entity::access::{audit_record, rate_window};
use futures::future::join_all;
use futures::stream::{self, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::{error_codes, missing, Backend, TestApp};
use crate::on_both_backends;
use crate::replica::Replica;

const COUNT: &str = "{ patientCounts(groupBy: [REGION]) { total { value } groups { patients { value } } } }";

/// Posts `query` with `token` to the server at `address`; the status and the body.
async fn post(client: &reqwest::Client, address: &str, token: &str, query: &str) -> (u16, Value) {
    let response = client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// Revokes `token` through the server at `address`, as OUS's client `ous-revoker`.
async fn revoke(client: &reqwest::Client, address: &str, secret: &str, token: &str) {
    let revoked = client
        .post(format!("{address}/oauth/revoke"))
        .basic_auth("ous-revoker", Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .expect("POST /oauth/revoke");
    assert_eq!(revoked.status().as_u16(), 200);
}

fn audit_record_of(body: &Value) -> Option<i64> {
    body["extensions"]["disclosure"]["auditRecord"].as_i64()
}

/// A service whose budgets no test load can spend.
async fn spawn_unlimited(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_configured(backend, Some(crate::helpers::PATIENTS), |args| args.rate_limit_points = i64::MAX / 4)
        .await
}

on_both_backends! {
    spawn = crate::record::spawn_unlimited;
    async fn a_thousand_requests_from_fifty_clients_leave_one_unbroken_chain(app: TestApp) {
        let token = app.token_for("OUS", None).await;
        let before = audit_record::Entity::find().all(&app.db).await.expect("records").len();
        // Repeated questions (served from the released-answer cache) and distinct ones.
        let answers: Vec<(u16, Value)> = stream::iter(0..1000)
            .map(|i| {
                let (app, token) = (&app, token.clone());
                async move {
                    let query = if i % 2 == 0 { COUNT.to_owned() } else { format!("{{ d{i}: dataVersion {{ version }} }}") };
                    post(&app.client, &app.address, &token, &query).await
                }
            })
            .buffer_unordered(50)
            .collect()
            .await;
        let failed = answers.iter().find(|(status, body)| *status != 200 || body.get("errors").is_some());
        assert!(failed.is_none(), "every request is answered: {failed:?}");
        let ids: BTreeSet<i64> = answers.iter().filter_map(|(_, body)| audit_record_of(body)).collect();
        assert_eq!(ids.len(), 1000, "every answer names a record of its own");
        let after = audit_record::Entity::find().all(&app.db).await.expect("records").len();
        assert_eq!(after - before, 1000);
        let verification = audit::verify(&app.db).await.expect("verify");
        assert_eq!(verification.broken, None);
    }
}

on_both_backends! {
    async fn a_repeated_question_gets_the_same_bytes_and_its_own_record(app: TestApp) {
        let company = app.token_for("ROCHE", None).await;
        let query = "{ patientCounts(population: ENROLLED, groupBy: [COHORT]) { total { value precision } groups { patients { value precision rule } } } }";
        let (_, first) = post(&app.client, &app.address, &company, query).await;
        let (_, second) = post(&app.client, &app.address, &company, query).await;
        assert!(first.get("errors").is_none(), "{first}");
        assert_eq!(first["data"], second["data"], "the same released values, withheld cells included");
        let (one, two) = (audit_record_of(&first).expect("a record"), audit_record_of(&second).expect("a record"));
        assert!(two > one, "the repeat is on record too");
        let records = audit_record::Entity::find()
            .filter(audit_record::Column::Id.is_in([one as i32, two as i32]))
            .all(&app.db)
            .await
            .expect("records");
        assert_eq!(records.len(), 2);
        assert_eq!((records[0].released, records[0].withheld), (records[1].released, records[1].withheld));
        assert!(records[0].withheld > 0, "the company's answer withholds small cells");
        // Another partner asking the same gets its own protection, not the company's answer.
        let registry = app.graphql(query, json!({})).await;
        assert_ne!(registry["data"], first["data"]);
        // Whatever depends on the caller is never replayed.
        let budget = "{ rateLimit { remaining } }";
        let (_, a) = post(&app.client, &app.address, &company, budget).await;
        let (_, b) = post(&app.client, &app.address, &company, budget).await;
        assert!(a["data"]["rateLimit"]["remaining"].as_i64() > b["data"]["rateLimit"]["remaining"].as_i64());
    }
}

/// Two replicas on one database; `None` (skipped, or failed under CI) without PostgreSQL.
async fn two_replicas(points: i64) -> Option<(TestApp, Replica, Replica)> {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        missing("replicas on PostgreSQL (TEST_DATABASE_URL)");
        return None;
    };
    let url = app.database_url();
    let (a, b) = (Replica::start(&url, points), Replica::start(&url, points));
    Some((app, a, b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holds_across_two_server_processes() {
    const POINTS: i64 = 400;
    let Some((app, a, b)) = two_replicas(POINTS).await else { return };
    let token = app.token_for("OUS", None).await;
    let query = "{ dataVersion { version } rateLimit { cost } }";
    let addresses = [a.address.clone(), b.address.clone()];
    let answers: Vec<(u16, Value)> = stream::iter(0..600)
        .map(|i| {
            let (client, token, address) = (app.client.clone(), token.clone(), addresses[i % 2].clone());
            async move { post(&client, &address, &token, query).await }
        })
        .buffer_unordered(24)
        .collect()
        .await;
    let admitted: Vec<i64> =
        answers.iter().filter_map(|(_, body)| body["data"]["rateLimit"]["cost"].as_i64()).collect();
    let throttled =
        answers.iter().filter(|(status, body)| *status == 429 && error_codes(body) == ["THROTTLED"]).count();
    assert_eq!(admitted.len() + throttled, answers.len(), "every request was either admitted or throttled");
    let spent: i64 = admitted.iter().sum();
    let cost = admitted.iter().copied().max().expect("some requests were admitted");
    assert!(spent <= POINTS, "two replicas admitted {spent} points of a budget of {POINTS}");
    // The documented tolerance: each replica may hold one unspent lease.
    let lease = POINTS / consortium_api::pipeline::plan::rate_limit::LEASE_FRACTION;
    assert!(spent >= POINTS - 2 * lease - cost, "only {spent} of {POINTS} points were admitted");
    let leased: i64 = rate_window::Entity::find().all(&app.db).await.expect("windows").iter().map(|w| w.spent).sum();
    assert!(leased <= POINTS, "{leased} points leased");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_through_one_process_is_refused_by_another() {
    let Some((app, a, b)) = two_replicas(i64::MAX / 4).await else { return };
    let secret = app.client_with_secret("OUS", "ous-revoker", "enrolment:read").await;
    let token = app.token_for("OUS", Some("enrolment:read")).await;
    let query = "{ dataVersion { version } }";
    // Both replicas have seen (and cached) the token.
    for replica in [&a, &b] {
        let (status, body) = post(&app.client, &replica.address, &token, query).await;
        assert_eq!(status, 200, "{body}");
    }
    revoke(&app.client, &a.address, &secret, &token).await;
    for replica in [&b, &a] {
        let (status, body) = post(&app.client, &replica.address, &token, query).await;
        assert_eq!(status, 401, "the next request to {} after the revocation: {body}", replica.address);
        assert_eq!(error_codes(&body), ["UNAUTHENTICATED"]);
    }
}

on_both_backends! {
    async fn a_revocation_takes_effect_at_once_for_a_token_in_use(app: TestApp) {
        let secret = app.client_with_secret("OUS", "ous-revoker", "enrolment:read").await;
        let token = app.token_for("OUS", Some("enrolment:read")).await;
        let (status, _) = post(&app.client, &app.address, &token, "{ dataVersion { version } }").await;
        assert_eq!(status, 200);
        revoke(&app.client, &app.address, &secret, &token).await;
        let (status, body) = post(&app.client, &app.address, &token, "{ dataVersion { version } }").await;
        assert_eq!((status, error_codes(&body)), (401, vec!["UNAUTHENTICATED".to_owned()]));
    }
}

on_both_backends! {
    async fn an_answer_checked_before_access_changed_is_not_recorded_until_checked_again(app: TestApp) {
        use consortium_api::auth::epoch::{announce_access_change, current_epoch};
        use consortium_api::pipeline::record::recorder::RecordError;
        let record = crate::helpers::answered_record("OUS");
        let before = current_epoch(&app.db).await.expect("epoch");
        announce_access_change(&app.db).await.expect("announce");
        assert_eq!(current_epoch(&app.db).await.expect("epoch"), before + 1);
        let stale = app.state.audit.append(record.clone(), Memory::default(), Some(before)).await;
        assert!(matches!(stale, Err(RecordError::StaleCredentials)), "{stale:?}");
        let fresh = app.state.audit.append(record, Memory::default(), Some(before + 1)).await.expect("written");
        assert_eq!(fresh.outcome, "OK");
        assert_eq!(audit_record::Entity::find().all(&app.db).await.expect("records").len(), 1, "only the fresh one");
    }
}

on_both_backends! {
    async fn a_server_killed_mid_load_loses_no_answered_request_s_record(app: TestApp) {
        let token = app.token_for("OUS", None).await;
        let mut replica = Replica::start(&app.database_url(), i64::MAX / 4);
        let address = replica.address.clone();
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let load = join_all((0..20).map(|client| {
            let (http, token, address, received) = (app.client.clone(), token.clone(), address.clone(), Arc::clone(&received));
            async move {
                for i in 0.. {
                    let query = format!("{{ c{client}x{i}: dataVersion {{ version }} }}");
                    let sent = http.post(format!("{address}/graphql")).bearer_auth(&token).json(&json!({ "query": query })).send().await;
                    let Ok(response) = sent else { break };
                    let Ok(body) = response.json::<Value>().await else { break };
                    if let Some(id) = audit_record_of(&body) {
                        received.lock().expect("lock").push(id);
                    }
                }
            }
        }));
        let kill = async {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            replica.kill();
        };
        tokio::join!(load, kill);
        let received = received.lock().expect("lock").clone();
        assert!(received.len() > 20, "the load ran: {} answers", received.len());
        let stored: BTreeSet<i64> =
            audit_record::Entity::find().all(&app.db).await.expect("records").iter().map(|r| i64::from(r.id)).collect();
        let lost: Vec<&i64> = received.iter().filter(|id| !stored.contains(id)).collect();
        assert!(lost.is_empty(), "answered requests without a record after the kill: {lost:?}");
        assert_eq!(audit::verify(&app.db).await.expect("verify").broken, None);
    }
}
