//! Signing in to GraphiQL with a real OpenID Connect provider (node-oidc-provider,
//! installed by `.ci/run` under `tests/idp`): authorization code with PKCE, the token
//! checked as a federated one, the playground opened with it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use consortium_entity::PartnerKind;
use consortium_synthetic as demo;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

const AUDIENCE: &str = "https://consortium.example/api";
const ORGANISATION_CLAIM: &str = "helseid://claims/client/claims/orgnr_parent";

/// The identity provider's process, stopped when dropped.
struct IdentityProvider {
    child: Child,
    issuer: String,
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// Starts the provider for `redirect_uri`, its users belonging to `organisation`;
/// `None` (with a note) when its packages are not installed.
async fn identity_provider(redirect_uri: &str, organisation: &str) -> Option<IdentityProvider> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("idp");
    if !dir.join("node_modules/oidc-provider").exists() {
        crate::helpers::missing("tests/idp is not installed (npm ci --prefix tests/idp): the sign-in test");
        return None;
    }
    let port = free_port();
    let child = Command::new("node")
        .arg("server.js")
        .args([&port.to_string(), redirect_uri, organisation, AUDIENCE])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let provider = IdentityProvider { child, issuer: format!("http://127.0.0.1:{port}") };
    let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
    for _ in 0..100 {
        if reqwest::get(&discovery).await.is_ok_and(|r| r.status().is_success()) {
            return Some(provider);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the identity provider did not start");
}

/// Where a redirect response leads, resolved against the URL that gave it.
fn location(from: &str, response: &reqwest::Response) -> String {
    let target = response.headers()["location"].to_str().expect("location");
    url::Url::parse(from).and_then(|base| base.join(target)).expect("a URL").to_string()
}

/// Follows redirects by hand until one leads to `prefix`; returns that location.
async fn follow_until(browser: &reqwest::Client, mut url: String, prefix: &str) -> String {
    for _ in 0..10 {
        if url.starts_with(prefix) {
            return url;
        }
        let response = browser.get(&url).send().await.expect("GET");
        if response.status().is_redirection() {
            url = location(&url, &response);
            continue;
        }
        // The provider's login form: any name will do.
        let form_action = url.clone();
        let response = browser
            .post(&form_action)
            .form(&[("prompt", "login"), ("login", "researcher"), ("password", "x")])
            .send()
            .await
            .expect("POST login");
        assert!(response.status().is_redirection(), "the login form redirects");
        url = location(&form_action, &response);
    }
    panic!("no redirect to {prefix}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_researcher_signs_in_to_the_playground_with_pkce_and_acts_for_their_hospital() {
    let port = free_port();
    let callback = format!("http://127.0.0.1:{port}/auth/callback");
    // The test consortium's first hospital (the generator is deterministic, and the
    // provider must know the organisation number before the service starts).
    let consortium = demo::generate(&demo::DemoSpec { seed: crate::helpers::SEED, patients: crate::helpers::PATIENTS })
        .expect("generate");
    let first = consortium.partners.iter().find(|p| p.kind == PartnerKind::Hospital).expect("a hospital");
    let (hospital, organisation) = (first.code.clone(), first.org_number.clone());
    let Some(provider) = identity_provider(&callback, &organisation).await else { return };
    let dir = tempfile::tempdir().expect("dir");
    let issuers = dir.path().join("issuers.json");
    let trusted = json!([{ "issuer": provider.issuer, "audience": AUDIENCE, "jwks_uri": format!("{}/jwks", provider.issuer),
                           "organisation_claim": ORGANISATION_CLAIM }]);
    std::fs::write(&issuers, trusted.to_string()).expect("write");
    let issuer = provider.issuer.clone();
    let app = TestApp::spawn_configured(Backend::Sqlite, Some(crate::helpers::PATIENTS), move |args| {
        args.bind = format!("127.0.0.1:{port}").parse().expect("address");
        args.trusted_issuers = Some(issuers);
        args.sign_in_issuer = Some(issuer);
        args.sign_in_scopes = "openid enrolment:read genomics:read".into();
    })
    .await
    .expect("app");

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let login = browser.get(format!("{}/auth/login", app.address)).send().await.expect("login");
    assert_eq!(login.status().as_u16(), 303);
    let authorize = login.headers()["location"].to_str().expect("location").to_owned();
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256") && authorize.contains("state="), "{authorize}");

    let back = follow_until(&browser, authorize, &callback).await;
    let page = browser.get(&back).send().await.expect("callback");
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let html = page.text().await.expect("the playground");
    let token = html
        .split("\"token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the token in the playground's configuration")
        .to_owned();

    let viewer = app.graphql_as(&token, "{ viewer { partner { code } scopes } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["partner"]["code"], hospital.as_str(), "{viewer}");
    assert_eq!(viewer["data"]["viewer"]["scopes"], json!(["enrolment:read", "genomics:read"]));

    // A callback is single use, and a made-up one is refused.
    let replay = browser.get(&back).send().await.expect("replayed callback");
    assert_eq!(replay.status().as_u16(), 400);
    let forged =
        browser.get(format!("{}/auth/callback?code=x&state=forged", app.address)).send().await.expect("forged");
    assert_eq!(forged.status().as_u16(), 400);
}
