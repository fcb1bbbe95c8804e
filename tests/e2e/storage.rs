//! Storage: both backends migrate the same way and hold every entity; a database that
//! cannot be reached is named (password masked) in a one-line error.

use consortium_api::db;
use sea_orm::EntityTrait;
use secrecy::SecretString;

use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::on_both_backends;

on_both_backends! {
    async fn every_entity_reads_back_from_a_migrated_database(app: TestApp) {
        use consortium_entity::*;
        let db = &app.db;
        assert_eq!(partner::Entity::find().all(db).await.expect("partners").len(), 30);
        assert!(!site::Entity::find().all(db).await.expect("sites").is_empty());
        assert!(!patient::Entity::find().all(db).await.expect("patients").is_empty());
        assert!(!molecular_profile::Entity::find().all(db).await.expect("profiles").is_empty());
        assert!(!variant::Entity::find().all(db).await.expect("variants").is_empty());
        assert!(!mtb_review::Entity::find().all(db).await.expect("reviews").is_empty());
        assert!(!drug::Entity::find().all(db).await.expect("drugs").is_empty());
        assert!(!cohort::Entity::find().all(db).await.expect("cohorts").is_empty());
        assert!(!enrolment::Entity::find().all(db).await.expect("enrolments").is_empty());
        assert!(!response_assessment::Entity::find().all(db).await.expect("assessments").is_empty());
        assert!(!adverse_event::Entity::find().all(db).await.expect("adverse events").is_empty());
        assert!(!followup::Entity::find().all(db).await.expect("follow-up").is_empty());
        assert_eq!(data_version::current(db).await.expect("version"), 1);
    }
}

on_both_backends! {
    async fn the_schema_refuses_rows_that_break_its_rules(app: TestApp) {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = app.db.get_database_backend();
        let taken = consortium_entity::patient::Entity::find().one(&app.db).await.expect("a patient").expect("one");
        let refused = [
            "INSERT INTO patient (pseudonym, sex, birth_year, region, referring_site_id, referral_date) \
             VALUES ('X1', 'UNKNOWN', 1960, 'WEST', 1, '2024-01-01')".to_owned(),
            "INSERT INTO patient (pseudonym, sex, birth_year, region, referring_site_id, referral_date) \
             VALUES ('X2', 'MALE', 1960, 'WEST', 99999, '2024-01-01')".to_owned(),
            format!(
                "INSERT INTO patient (pseudonym, sex, birth_year, region, referring_site_id, referral_date) \
                 VALUES ('{}', 'MALE', 1960, 'WEST', 1, '2024-01-01')",
                taken.pseudonym
            ),
            "UPDATE adverse_event SET grade = 6 WHERE id = 1".to_owned(),
            "UPDATE followup SET vital_status = 'DEAD', death_date = NULL WHERE id = 1".to_owned(),
        ];
        for sql in refused {
            let result = app.db.execute(Statement::from_string(backend, sql.clone())).await;
            assert!(result.is_err(), "the schema accepted: {sql}");
        }
    }
}

on_both_backends! {
    async fn foreign_keys_hold_on_every_connection_of_the_pool(app: TestApp) {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = app.db.get_database_backend();
        // Many at once, so that several pooled connections run one each.
        let attempts = (0..32).map(|i| {
            let sql = format!(
                "INSERT INTO patient (pseudonym, sex, birth_year, region, referring_site_id, referral_date) \
                 VALUES ('FK{i}', 'MALE', 1960, 'WEST', 99999, '2024-01-01')"
            );
            app.db.execute(Statement::from_string(backend, sql))
        });
        let results = futures::future::join_all(attempts).await;
        assert!(results.iter().all(Result::is_err), "a connection accepted a patient of a site that does not exist");
    }
}

#[tokio::test]
async fn an_unreachable_database_is_named_with_its_password_masked() {
    let url = SecretString::from("postgres://analyst:pa55word@127.0.0.1:1/trial");
    let error = db::connect(&url).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(error.contains("postgres://analyst:***@127.0.0.1:1/trial"), "{error}");
    assert!(!error.contains("pa55word"), "{error}");
    assert!(!error.contains('\n'), "one line: {error}");
}

#[tokio::test]
async fn serving_an_unmigrated_database_is_refused_with_advice() {
    let database = TestDatabase::create(Backend::Sqlite).await.expect("database");
    let conn = db::connect(&database.url).await.expect("connect");
    let error = db::ensure_migrated(&conn, &database.url).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(error.contains("consortium migrate"), "{error}");
}

#[tokio::test]
async fn an_empty_consortium_is_served_with_zero_counts() {
    let app = TestApp::spawn_with(Backend::Sqlite, None).await.expect("app");
    let data = app.data("{ funnel { steps { patients { value } } } }", serde_json::json!({})).await;
    let steps = data["funnel"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 7);
    assert!(steps.iter().all(|s| s["patients"]["value"] == 0));
}
