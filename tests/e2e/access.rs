//! Who may see what: tokens, scopes, partner isolation, our OAuth2 server with a real
//! client, rate limits and the audit trail.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use consortium_api::pipeline::record::audit;
use consortium_entity::access::{audit_record, signing_key};
use consortium_entity::PartnerKind;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope as OAuthScope, TokenResponse, TokenUrl};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryOrder, Set};
use serde_json::{json, Value};

use crate::helpers::{error_codes, Backend, TestApp};
use crate::on_both_backends;
use crate::schema_walk::SchemaDoc;

const COHORTS: &str = "{ cohorts { edges { node { code } } } }";

/// Posts `{ dataVersion }` with a raw `Authorization` header.
async fn with_header(app: &TestApp, authorization: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request =
        app.client.post(format!("{}/graphql", app.address)).json(&json!({ "query": "{ dataVersion { version } }" }));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("POST /graphql");
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, challenge, response.json().await.expect("JSON"))
}

/// An Ed25519 key pair: its PKCS#8 document and public JWK.
fn ed25519(kid: &str) -> (Vec<u8>, Value) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    (pkcs8.as_ref().to_vec(), json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": kid, "x": x }))
}

fn sign(pkcs8: &[u8], kid: Option<&str>, typ: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(typ.to_owned());
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &EncodingKey::from_ed_der(pkcs8)).expect("sign")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_token_is_refused_with_a_challenge_and_no_schema() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let (status, challenge, body) = with_header(&app, None).await;
    assert_eq!(status, 401);
    assert!(challenge.is_some_and(|c| c.starts_with("Bearer")));
    assert_eq!(error_codes(&body), vec!["UNAUTHENTICATED"]);
    let introspection = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ __schema { types { name } } }" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(introspection.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tokens_are_refused_with_the_right_reason() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let issuer = app.address.clone();
    // Our own current key, read from the database: tokens signed with it but with a
    // wrong claim must still be refused for that claim.
    let key = signing_key::Entity::find()
        .order_by_desc(signing_key::Column::Id)
        .one(&app.db)
        .await
        .expect("keys")
        .expect("a key");
    let ours = base64::engine::general_purpose::STANDARD.decode(&key.private_pkcs8).expect("pkcs8");
    let claims = |patch: Value| {
        let mut claims = json!({ "iss": issuer, "sub": "c", "aud": "consortium-analytics", "exp": now() + 300,
                                 "iat": now(), "nbf": now(), "jti": "j", "client_id": "c", "scope": "enrolment:read" });
        for (k, v) in patch.as_object().expect("object") {
            claims[k] = v.clone();
        }
        claims
    };
    let (unknown_pkcs8, _) = ed25519("stranger");
    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(key.kid.clone());
        encode(&header, &claims(json!({})), &EncodingKey::from_secret(key.public_x.as_bytes())).expect("sign")
    };
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "at+jwt" }).to_string()),
        URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
    );
    let revoked = app.token_for("OUS", Some("enrolment:read")).await;
    consortium_api::auth::api_token::revoke(&app.db, &revoked[..12]).await.expect("revoke");
    let cases: Vec<(&str, String, &str)> = vec![
        ("expired", sign(&ours, Some(&key.kid), "at+jwt", &claims(json!({ "exp": now() - 120 }))), "expired"),
        (
            "not yet valid",
            sign(&ours, Some(&key.kid), "at+jwt", &claims(json!({ "nbf": now() + 600 }))),
            "not valid yet",
        ),
        (
            "wrong issuer",
            sign(&ours, Some(&key.kid), "at+jwt", &claims(json!({ "iss": "https://evil.example" }))),
            "wrong issuer",
        ),
        (
            "wrong audience",
            sign(&ours, Some(&key.kid), "at+jwt", &claims(json!({ "aud": "someone-else" }))),
            "wrong audience",
        ),
        ("wrong typ", sign(&ours, Some(&key.kid), "JWT", &claims(json!({}))), "wrong token type"),
        ("alg none", none, "unsupported signing algorithm"),
        ("HS256 with the public key", hs256_with_public_key, "unsupported signing algorithm"),
        ("unknown key id", sign(&unknown_pkcs8, Some("stranger"), "at+jwt", &claims(json!({}))), "unknown signing key"),
        ("valid but never issued", sign(&ours, Some(&key.kid), "at+jwt", &claims(json!({}))), "unknown token"),
        ("revoked API token", revoked, "revoked"),
        ("unknown API token", "cat_AAAAAAAA.bogus".to_owned(), "unknown token"),
        ("garbage", "not-a-token".to_owned(), "malformed token"),
        ("100 KB", "a".repeat(100 * 1024), "too large"),
    ];
    for (case, token, reason) in cases {
        let (status, challenge, body) = with_header(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(error_codes(&body), vec!["UNAUTHENTICATED"], "{case}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{case}: '{message}' should say '{reason}'");
        assert!(challenge.is_some_and(|c| c.contains("invalid_token")), "{case}");
    }
    let (status, _, _) = with_header(&app, Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(status, 401, "a non-bearer scheme");
    assert!(
        app.data("{ dataVersion { version } }", json!({})).await["dataVersion"]["version"].is_i64(),
        "still serving"
    );
}

on_both_backends! {
    async fn an_industry_token_cannot_see_another_companys_cohorts(app: TestApp) {
        let snapshot = app.state.snapshot();
        let catalogue = &snapshot.catalogue;
        let supplier_of = |cohort: &consortium_entity::cohort::Model| catalogue.drugs[&cohort.drug_id].supplier_id;
        let company = catalogue
            .partners
            .values()
            .find(|p| p.kind == PartnerKind::Industry && catalogue.cohorts.values().any(|c| supplier_of(c) == p.id))
            .expect("a company with cohorts");
        let own: std::collections::BTreeSet<String> =
            catalogue.cohorts.values().filter(|c| supplier_of(c) == company.id).map(|c| c.code.clone()).collect();
        let theirs = catalogue.cohorts.values().find(|c| supplier_of(c) != company.id).expect("a competitor's cohort");
        let token = app.token_for(&company.code, None).await;

        let listed = app.graphql_as(&token, COHORTS, json!({})).await;
        let listed: std::collections::BTreeSet<String> = listed["data"]["cohorts"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["code"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(listed, own);

        let own_list = own.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(",");
        let enrolled = app
            .sql_count(&format!(
                "SELECT COUNT(*) FROM enrolment e JOIN cohort c ON c.id = e.cohort_id WHERE c.code IN ({own_list})"
            ))
            .await;
        let totals = app
            .graphql_as(&token, "{ funnel { steps { population patients { value } } } \
                                   patientCounts(groupBy: [COHORT]) { total { value } groups { keys { code } } } }", json!({}))
            .await;
        assert_eq!(totals["data"]["funnel"]["steps"][0]["patients"]["value"], enrolled, "{totals}");
        assert_eq!(totals["data"]["patientCounts"]["total"]["value"], enrolled);
        for group in totals["data"]["patientCounts"]["groups"].as_array().expect("groups") {
            assert!(own.contains(group["keys"][0]["code"].as_str().unwrap_or_default()), "{group}");
        }

        // A competitor's cohort is exactly as unknown as one that does not exist.
        let query = "query($c: [String!]) { patientCounts(filter: { cohorts: $c }) { total { value } } }";
        let real = app.graphql_as(&token, query, json!({ "c": [theirs.code] })).await;
        let fake = app.graphql_as(&token, query, json!({ "c": ["NO-SUCH-COHORT"] })).await;
        assert_eq!(error_codes(&real), error_codes(&fake));
        let message = |body: &Value, code: &str| body["errors"][0]["message"].as_str().unwrap_or_default().replace(code, "X");
        assert_eq!(message(&real, &theirs.code), message(&fake, "NO-SUCH-COHORT"));
        let single = app.graphql_as(&token, "query($c: String!) { cohort(code: $c) { code } }", json!({ "c": theirs.code })).await;
        assert_eq!(error_codes(&single), vec!["NOT_FOUND"]);

        // The time series is over the same patients: its running total ends at them (the
        // months themselves are mostly too small to be released to a company).
        let activity = app.graphql_as(&token, "{ monthlyActivity { cumulativeEnrolments { value } } }", json!({})).await;
        let months = activity["data"]["monthlyActivity"].as_array().cloned().unwrap_or_default();
        let last = months.last().map(|m| m["cumulativeEnrolments"]["value"].clone());
        assert_eq!(last, Some(json!(enrolled)), "{activity}");
    }
}

on_both_backends! {
    async fn a_hospital_sees_national_totals_but_drills_down_only_into_its_own_sites(app: TestApp) {
        let snapshot = app.state.snapshot();
        let catalogue = &snapshot.catalogue;
        let hospital = catalogue.partners.values().find(|p| p.kind == PartnerKind::Hospital).expect("a hospital");
        let own: Vec<String> = catalogue.sites.values().filter(|s| s.partner_id == hospital.id).map(|s| s.code.clone()).collect();
        let other = catalogue.sites.values().find(|s| s.partner_id != hospital.id).expect("another site");
        let token = app.token_for(&hospital.code, None).await;
        let query = "{ patientCounts(population: REFERRED, groupBy: [SITE]) { total { value } groups { keys { code } } } }";
        let national = app.data(query, json!({})).await;
        let mine = app.graphql_as(&token, query, json!({})).await;
        assert_eq!(mine["data"]["patientCounts"]["total"], national["patientCounts"]["total"]);
        for group in mine["data"]["patientCounts"]["groups"].as_array().expect("groups") {
            let code = &group["keys"][0]["code"];
            assert!(code.is_null() || own.iter().any(|c| code == c), "{group}");
        }
        let filtered = app
            .graphql_as(&token, "query($s: [String!]) { patientCounts(filter: { sites: $s }) { total { value } } }", json!({ "s": [other.code] }))
            .await;
        assert_eq!(error_codes(&filtered), vec!["FORBIDDEN"]);
    }
}

/// Root fields that read no trial data and need no scope.
const OPEN_FIELDS: [&str; 4] = ["viewer", "rateLimit", "privacyBudget", "operatingCharacteristics"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_needs_its_scope() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let schema = SchemaDoc::of(&app).await;
    // A hospital token holding only a write scope: no field that reads data may answer.
    let writer = app.token_for("OUS", Some("data:write")).await;
    let fields = schema.root_fields();
    assert!(fields.len() > 15, "the walk sees every root field");
    for field in &fields {
        let name = field["name"].as_str().expect("a field name");
        let query = schema.minimal_query(field);
        // The query is valid and answered with every scope ...
        let full = app.graphql(&query, json!({})).await;
        let codes = error_codes(&full);
        assert!(codes.iter().all(|c| c != "GRAPHQL_VALIDATION_FAILED" && c != "FORBIDDEN"), "{query}: {full}");
        // ... and refused without the field's scope, unless it reads no data at all.
        let refused = app.graphql_as(&writer, &query, json!({})).await;
        if OPEN_FIELDS.contains(&name) {
            assert!(refused.get("errors").is_none(), "{query}: {refused}");
        } else {
            assert_eq!(error_codes(&refused), vec!["FORBIDDEN"], "{query}: {refused}");
            assert!(refused["data"].is_null(), "{query}: {refused}");
        }
    }
    let only_enrolment = app.token_for("OUS", Some("enrolment:read")).await;
    let allowed =
        app.graphql_as(&only_enrolment, "{ funnel { steps { population } } viewer { scopes } }", json!({})).await;
    assert!(allowed.get("errors").is_none(), "{allowed}");
    assert_eq!(allowed["data"]["viewer"]["scopes"], json!(["enrolment:read"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_an_earlier_demo_start_are_revoked_by_label() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    use consortium_api::auth::api_token;
    let scopes = "enrolment:read".parse().expect("scopes");
    let earlier = api_token::issue(&app.db, "OUS", scopes, "demo", 3600).await.expect("token").token;
    let other = api_token::issue(&app.db, "OUS", scopes, "dashboard", 3600).await.expect("token").token;
    let query = "{ dataVersion { version } }";
    assert!(app.graphql_as(&earlier, query, json!({})).await.get("errors").is_none());
    assert_eq!(api_token::revoke_labelled(&app.db, "demo").await.expect("revoke"), 1);
    let refused = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&earlier)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status().as_u16(), 401);
    assert!(app.graphql_as(&other, query, json!({})).await.get("errors").is_none(), "other labels stay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_client_gets_tokens_with_a_secret_and_with_a_signed_assertion() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let token_url = TokenUrl::new(format!("{}/oauth/token", app.address)).expect("url");

    // client_secret_basic
    let secret = app.client_with_secret("OUS", "ous-dashboard", "enrolment:read response:read").await;
    let client = BasicClient::new(ClientId::new("ous-dashboard".into()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_token_uri(token_url.clone());
    let token = client
        .exchange_client_credentials()
        .add_scope(OAuthScope::new("enrolment:read".into()))
        .request_async(&http)
        .await
        .expect("a token for the secret");
    let access = token.access_token().secret().clone();
    let viewer = app.graphql_as(&access, "{ viewer { scopes partner { code } } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["scopes"], json!(["enrolment:read"]), "{viewer}");
    let wrong = BasicClient::new(ClientId::new("ous-dashboard".into()))
        .set_client_secret(ClientSecret::new("wrong".into()))
        .set_token_uri(token_url.clone());
    assert!(wrong.exchange_client_credentials().request_async(&http).await.is_err());

    // Introspection, then revocation: the token stops working at once.
    let introspect = |token: String| {
        let (http, address, secret) = (http.clone(), app.address.clone(), secret.clone());
        async move {
            let response = http
                .post(format!("{address}/oauth/introspect"))
                .basic_auth("ous-dashboard", Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .expect("introspect");
            response.json::<Value>().await.expect("JSON")
        }
    };
    let active = introspect(access.clone()).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], "ous-dashboard");
    let revoked = http
        .post(format!("{}/oauth/revoke", app.address))
        .basic_auth("ous-dashboard", Some(secret.clone()))
        .form(&[("token", access.clone())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status().as_u16(), 200);
    assert_eq!(introspect(access.clone()).await["active"], false);
    let (status, _, _) = with_header(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!(status, 401);

    // private_key_jwt
    let (pkcs8, jwk) = ed25519("k1");
    consortium_api::auth::clients::register(
        &app.db,
        "OUS",
        Some("ous-machine".into()),
        "enrolment:read".parse().expect("scopes"),
        false,
        Some(json!({ "keys": [jwk] }).to_string()),
    )
    .await
    .expect("register");
    let assertion = |jti: &str, lifetime: i64| {
        sign(
            &pkcs8,
            Some("k1"),
            "JWT",
            &json!({ "iss": "ous-machine", "sub": "ous-machine",
            "aud": format!("{}/oauth/token", app.address), "iat": now(), "exp": now() + lifetime, "jti": jti }),
        )
    };
    let machine = BasicClient::new(ClientId::new("ous-machine".into()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url.clone());
    let exchange = |assertion: String| {
        machine
            .exchange_client_credentials()
            .add_extra_param("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            .add_extra_param("client_assertion", assertion)
            .request_async(&http)
    };
    let token = exchange(assertion("once", 30)).await.expect("a token for the assertion");
    let viewer = app.graphql_as(token.access_token().secret(), "{ viewer { partner { code } } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["partner"]["code"], "OUS");
    assert!(exchange(assertion("once", 30)).await.is_err(), "a reused jti is refused");
    assert!(exchange(assertion("long", 600)).await.is_err(), "an assertion living over 60 s is refused");

    let jwks: Value = http
        .get(format!("{}/.well-known/jwks.json", app.address))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JSON");
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    let metadata: Value = http
        .get(format!("{}/.well-known/oauth-authorization-server", app.address))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("JSON");
    assert_eq!(metadata["issuer"], app.address);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_on_record_and_an_edit_breaks_the_chain() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let token = app.token_for("OUS", None).await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&token)
        .json(
            &json!({ "query": "query Funnel { funnel { steps { patients { value } } } }", "operationName": "Funnel" }),
        )
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200);
    with_header(&app, Some("Bearer cat_AAAAAAAA.forged")).await;
    let records =
        audit_record::Entity::find().order_by_asc(audit_record::Column::Id).all(&app.db).await.expect("records");
    assert!(records
        .iter()
        .any(|r| r.operation.as_deref() == Some("Funnel") && r.outcome == "OK" && r.released + r.withheld == 7));
    assert!(records.iter().any(|r| r.outcome == "UNAUTHENTICATED"));
    assert!(records.iter().all(|r| !r.token_id.clone().unwrap_or_default().contains(&token)));
    assert_eq!(audit::verify(&app.db).await.expect("verify").broken, None);

    let own =
        app.graphql_as(&token, "{ auditTrail(first: 50) { edges { node { partner outcome } } } }", json!({})).await;
    let edges = own["data"]["auditTrail"]["edges"].as_array().expect("edges");
    assert!(!edges.is_empty() && edges.iter().all(|e| e["node"]["partner"] == "OUS"), "{own}");

    let mut edited = records[0].clone().into_active_model();
    edited.released = Set(records[0].released + 1);
    edited.update(&app.db).await.expect("edit");
    assert_eq!(audit::verify(&app.db).await.expect("verify").broken.map(|b| b.0), Some(records[0].id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_is_throttled_with_retry_after() {
    let app =
        TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), |args| args.rate_limit_points = 40)
            .await
            .expect("app");
    let token = app.token_for("OUS", None).await;
    let first = app.graphql_as(&token, "{ rateLimit { limit remaining cost } }", json!({})).await;
    assert_eq!(first["data"]["rateLimit"]["limit"], 40, "{first}");
    let cost = first["data"]["rateLimit"]["cost"].as_i64().expect("cost");
    assert_eq!(first["data"]["rateLimit"]["remaining"], 40 - cost);
    let mut throttled = None;
    for _ in 0..40 {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&json!({ "query": "{ funnel { steps { patients { value } } } }" }))
            .send()
            .await
            .expect("POST");
        if response.status().as_u16() == 429 {
            throttled = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(error_codes(&body), vec!["THROTTLED"]);
            break;
        }
    }
    assert!(throttled.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))));
    // Another token has its own budget.
    let other = app.token_for("OUS", None).await;
    assert!(app.graphql_as(&other, "{ dataVersion { version } }", json!({})).await.get("errors").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_issuers_token_acts_for_the_partner_of_its_organisation_number() {
    let dir = tempfile::tempdir().expect("dir");
    let (pkcs8, jwk) = ed25519("helse-1");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({ "keys": [jwk] }).to_string()).expect("write jwks");
    let config = dir.path().join("issuers.json");
    let claim = "helseid://claims/client/claims/orgnr_parent";
    std::fs::write(
        &config,
        json!([{ "issuer": "https://helseid.example", "audience": "consortium", "jwks_file": jwks,
                 "organisation_claim": claim }])
        .to_string(),
    )
    .expect("write config");
    let path = config.clone();
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), move |args| {
        args.trusted_issuers = Some(path)
    })
    .await
    .expect("app");
    let snapshot = app.state.snapshot();
    let hospital = snapshot.catalogue.partners.values().find(|p| p.kind == PartnerKind::Hospital).expect("hospital");
    let token = |aud: &str| {
        sign(
            &pkcs8,
            Some("helse-1"),
            "at+jwt",
            &json!({ "iss": "https://helseid.example", "aud": aud, "sub": "x",
            "iat": now(), "exp": now() + 120, "jti": uuid::Uuid::new_v4().to_string(), claim: hospital.org_number,
            "scope": "enrolment:read genomics:read" }),
        )
    };
    let viewer = app.graphql_as(&token("consortium"), "{ viewer { partner { code } scopes } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["partner"]["code"], hospital.code.as_str(), "{viewer}");
    assert_eq!(viewer["data"]["viewer"]["scopes"], json!(["enrolment:read", "genomics:read"]));
    let (status, _, body) = with_header(&app, Some(&format!("Bearer {}", token("someone-else")))).await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_keeps_verifying_the_tokens_it_signed_while_new_ones_use_the_new_key() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let secret = app.client_with_secret("OUS", "ous-rotation", "enrolment:read").await;
    let grant = || app.client_credentials("ous-rotation", &secret);
    let kid = |token: &str| {
        let header = token.split('.').next().expect("header");
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64")).expect("JSON");
        header["kid"].as_str().expect("kid").to_owned()
    };
    let before = grant().await;
    let fresh = consortium_api::auth::keys::rotate(&app.db).await.expect("rotate");
    let after = grant().await;
    assert_ne!(kid(&before), kid(&after));
    assert_eq!(kid(&after), fresh.kid);
    for token in [&before, &after] {
        let viewer = app.graphql_as(token, "{ viewer { partner { code } } }", json!({})).await;
        assert_eq!(viewer["data"]["viewer"]["partner"]["code"], "OUS", "{viewer}");
    }
    let jwks: Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.address))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JSON");
    let kids: Vec<&str> = jwks["keys"].as_array().expect("keys").iter().filter_map(|k| k["kid"].as_str()).collect();
    assert!(kids.contains(&kid(&before).as_str()) && kids.contains(&fresh.kid.as_str()), "{jwks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_granted_admin_reads_every_partners_audit_records_and_others_only_their_own() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let company = app.token_for("ROCHE", None).await;
    app.graphql_as(&company, COHORTS, json!({})).await;
    let query = "{ auditTrail(first: 100) { edges { node { partner } } } }";
    let partners = |body: &Value| -> std::collections::BTreeSet<String> {
        body["data"]["auditTrail"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .filter_map(|e| e["node"]["partner"].as_str().map(str::to_owned))
            .collect()
    };
    let hospital = app.token_for("OUS", None).await;
    // A request is on record once it has been answered: make one before reading.
    app.graphql_as(&hospital, COHORTS, json!({})).await;
    let before = app.graphql_as(&hospital, query, json!({})).await;
    assert_eq!(partners(&before), ["OUS".to_owned()].into());
    use consortium_api::auth::grants::{set_grants, GrantChange};
    let (before, held) =
        set_grants(&app.db, "OUS", GrantChange::Add("admin".parse().expect("scopes"))).await.expect("grant");
    assert!(!before.to_string().contains("admin"), "{before}");
    assert_eq!(held.to_string(), format!("{before} admin"), "adding keeps what the partner held");
    let admin = app.graphql_as(&app.token_for("OUS", None).await, query, json!({})).await;
    assert!(partners(&admin).contains("ROCHE"), "{admin}");
    let (_, narrowed) = set_grants(&app.db, "OUS", GrantChange::Exactly("audit:read admin".parse().expect("scopes")))
        .await
        .expect("grant");
    assert_eq!(narrowed.to_string(), "audit:read admin");
    let refused = app.graphql_as(&app.token_for("OUS", None).await, COHORTS, json!({})).await;
    assert_eq!(error_codes(&refused), vec!["FORBIDDEN"], "grants narrowed to audit and admin");
}

on_both_backends! {
    async fn a_token_is_answered_under_its_partners_new_grants_the_next_time_it_asks(app: TestApp) {
        use consortium_api::auth::grants::{set_grants, GrantChange};
        // The server runs in a process of its own: the grants change from another, as
        // from the command line, so its cache of the token does not hear of it.
        let replica = crate::replica::Replica::start(&app.database_url(), i64::MAX / 4);
        let token = app.token_for("ROCHE", None).await;
        let ask = |query: &'static str| {
            let request = app.client.post(format!("{}/graphql", replica.address)).bearer_auth(&token);
            async move {
                let response = request.json(&json!({ "query": query })).send().await.expect("POST");
                (response.status().as_u16(), response.json::<Value>().await.expect("JSON"))
            }
        };
        let version = "{ dataVersion { version } }";
        let responses = "{ responses { overall { treated { value } } } }";
        assert_eq!(ask(version).await.0, 200);
        assert_eq!(ask(responses).await.0, 200);
        set_grants(&app.db, "ROCHE", GrantChange::Exactly("enrolment:read".parse().expect("scopes"))).await.expect("grant");
        for _ in 0..4 {
            let (status, body) = ask(version).await;
            assert_eq!(status, 200, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
            let (status, body) = ask(responses).await;
            assert_eq!((status, error_codes(&body)), (200, vec!["FORBIDDEN".to_owned()]), "{body}");
        }
    }
}
