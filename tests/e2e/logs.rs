//! Logs never hold a secret, a token or anything patient-level, even at the most
//! verbose level.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use consortium_entity::patient;
use sea_orm::{EntityTrait, QuerySelect};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

/// Everything logged by this test binary, at every level, from the first use on.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&log);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || Capture(Arc::clone(&writer)))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the first subscriber of this binary");
        log
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_secret_or_patient_value_reaches_the_logs() {
    let log = captured();
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let token = app.token_for("OUS", None).await;
    let secret = app.client_with_secret("OUS", "ous-logs", "enrolment:read").await;
    let access = app.client_credentials("ous-logs", &secret).await;
    let forged = "cat_FORGED00.this-is-not-a-real-token-but-must-not-be-logged";
    app.graphql_as(&token, "{ funnel { steps { patients { value } } } }", json!({})).await;
    app.graphql_as(&access, "{ patientCounts(groupBy: [SITE]) { total { value } } }", json!({})).await;
    app.graphql_as(forged, "{ dataVersion { version } }", json!({})).await;
    app.client
        .post(format!("{}/oauth/token", app.address))
        .basic_auth("ous-logs", Some("wrong-secret-must-not-be-logged"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("refused token request");

    let pseudonyms: Vec<String> = patient::Entity::find()
        .select_only()
        .column(patient::Column::Pseudonym)
        .limit(50)
        .into_tuple()
        .all(&app.db)
        .await
        .expect("pseudonyms");
    let text = String::from_utf8_lossy(&log.lock().expect("log buffer")).into_owned();
    assert!(text.contains("graphql request"), "requests are logged at all");
    for (what, secret) in [
        ("API token", token.as_str()),
        ("client secret", secret.as_str()),
        ("access token", access.as_str()),
        ("forged token", forged),
        ("wrong secret", "wrong-secret-must-not-be-logged"),
    ] {
        assert!(!text.contains(secret), "the {what} was logged");
    }
    for pseudonym in &pseudonyms {
        assert!(!text.contains(pseudonym.as_str()), "a patient pseudonym was logged");
    }
}
