//! Importing trial data: the round trip of the synthetic consortium's export, bad files
//! refused with their reports and nothing changed, the submitters' rights over HTTP
//! (GraphQL multipart requests), and a corrected row changing an aggregate.

use consortium_api::import::{run, Recorded};
use consortium_entity::{
    adverse_event, cohort, data_version, drug, enrolment, followup, molecular_profile, mtb_review, partner, patient,
    response_assessment, site, variant, Trial,
};
use consortium_store::export::{export, Format};
use consortium_store::import::{Code, Domain, Report, Rights, Upload};
use consortium_synthetic as demo;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp, PATIENTS, SEED};

/// Every trial table, read back in id order.
async fn stored(db: &DatabaseConnection) -> Trial {
    macro_rules! all {
        ($module:ident) => {
            $module::Entity::find().order_by_asc($module::Column::Id).all(db).await.expect("read back")
        };
    }
    Trial {
        partners: all!(partner),
        sites: all!(site),
        patients: all!(patient),
        profiles: all!(molecular_profile),
        variants: all!(variant),
        reviews: all!(mtb_review),
        drugs: all!(drug),
        cohorts: all!(cohort),
        enrolments: all!(enrolment),
        assessments: all!(response_assessment),
        adverse_events: all!(adverse_event),
        followups: all!(followup),
    }
}

/// Asserts that two trials hold the same rows, naming the first row that differs.
fn same_rows(got: &Trial, expected: &Trial) {
    fn table<M: PartialEq + std::fmt::Debug>(name: &str, got: &[M], expected: &[M]) {
        assert_eq!(got.len(), expected.len(), "{name}: row counts");
        if let Some((g, e)) = got.iter().zip(expected).find(|(g, e)| g != e) {
            panic!("{name}: imported {g:?}, generated {e:?}");
        }
    }
    table("partners", &got.partners, &expected.partners);
    table("sites", &got.sites, &expected.sites);
    table("patients", &got.patients, &expected.patients);
    table("profiles", &got.profiles, &expected.profiles);
    table("variants", &got.variants, &expected.variants);
    table("reviews", &got.reviews, &expected.reviews);
    table("drugs", &got.drugs, &expected.drugs);
    table("cohorts", &got.cohorts, &expected.cohorts);
    table("enrolments", &got.enrolments, &expected.enrolments);
    table("assessments", &got.assessments, &expected.assessments);
    table("adverse events", &got.adverse_events, &expected.adverse_events);
    table("follow-ups", &got.followups, &expected.followups);
}

/// Rows over all trial tables and the data version: what must not move when an import
/// is refused.
async fn fingerprint(db: &DatabaseConnection) -> (u64, u64, u64, u64, i64) {
    (
        patient::Entity::find().count(db).await.expect("count"),
        response_assessment::Entity::find().count(db).await.expect("count"),
        followup::Entity::find().count(db).await.expect("count"),
        adverse_event::Entity::find().count(db).await.expect("count"),
        data_version::current(db).await.expect("version"),
    )
}

async fn import_as_operator(db: &DatabaseConnection, uploads: &[Upload]) -> Report {
    run(db, uploads, &Rights::operator(), false, &Recorded::operator(), &|_| {}).await.expect("the database answers")
}

fn upload(domain: Domain, bytes: impl Into<Vec<u8>>) -> Upload {
    Upload { domain, file: format!("{domain}.csv"), bytes: bytes.into() }
}

fn codes(report: &Report) -> Vec<Code> {
    report.problems.listed.iter().map(|p| p.code).collect()
}

const FUNNEL: &str = "{ funnel { steps { population patients { value } } } \
                       responses(groupBy: [COHORT]) { groups { keys { code } treated { value } evaluable { value } \
                         clinicalBenefit { numerator { value } } } } }";

crate::on_both_backends! {
    spawn = crate::helpers::TestApp::spawn;
    async fn the_export_imported_into_an_empty_database_is_the_same_trial(app: TestApp) {
        let trial = demo::generate(&demo::DemoSpec { seed: SEED, patients: PATIENTS }).expect("generate");
        let empty = TestApp::spawn_with(app.backend(), None).await.expect("a second app");
        // Half the domains as Parquet, half as CSV: both readers on one trial.
        let csv = export(&trial, Format::Csv).expect("export");
        let parquet = export(&trial, Format::Parquet).expect("export");
        let uploads: Vec<Upload> = csv
            .into_iter()
            .zip(parquet)
            .enumerate()
            .map(|(i, (csv, parquet))| {
                let (domain, file, bytes) = if i % 2 == 0 { csv } else { parquet };
                Upload { domain, file, bytes }
            })
            .collect();
        let report = import_as_operator(&empty.db, &uploads).await;
        assert!(report.applied, "{}", report.describe());
        assert_eq!(report.data_version, 1, "one import, one data version");
        same_rows(&stored(&empty.db).await, &trial);
        empty.state.refresh().await.expect("refresh");
        assert_eq!(empty.data(FUNNEL, json!({})).await, app.data(FUNNEL, json!({})).await);

        // The same files again: nothing changes, and the report says so.
        let again = import_as_operator(&empty.db, &uploads).await;
        assert!(!again.applied && again.problems.is_empty());
        assert_eq!(again.totals(), (0, 0, report.totals().0));
        assert_eq!(data_version::current(&empty.db).await.expect("version"), 1);
    }
}

/// A bad file's report names `code`, and the database is as it was.
async fn refused(db: &DatabaseConnection, domain: Domain, bytes: impl Into<Vec<u8>>, code: Code) -> Report {
    let before = fingerprint(db).await;
    let report = import_as_operator(db, &[upload(domain, bytes)]).await;
    assert!(!report.applied, "applied: {}", report.describe());
    assert!(codes(&report).contains(&code), "expected {code}, got: {}", report.describe());
    assert_eq!(fingerprint(db).await, before, "a refused import changed the database");
    report
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn bad_files_are_refused_with_a_report_and_change_nothing(app: TestApp) {
        let db = &app.db;
        let rs = "USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n";
        // Unreadable files.
        refused(db, Domain::Rs, "", Code::EmptyFile).await;
        refused(db, Domain::Rs, rs, Code::EmptyFile).await;
        refused(db, Domain::Rs, rs.replace(',', ";") + "P1;2024-03-28;OVRLRESP;CR;RECIST 1.1\n", Code::WrongDelimiter).await;
        refused(db, Domain::Ae, b"USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\nP1,Kvalme \xE6,GI,1,2024-02-21,Y,N\n".to_vec(), Code::WrongEncoding).await;
        let trial = stored(db).await;
        let parquet = export(&trial, Format::Parquet).expect("export");
        let (_, _, whole) = parquet.iter().find(|(d, _, _)| *d == Domain::Rs).expect("rs");
        refused(db, Domain::Rs, whole[..whole.len() / 2].to_vec(), Code::UnreadableFile).await;
        refused(db, Domain::Rs, crate::small_trial::files()[4].1, Code::WrongDomain).await;
        refused(db, Domain::Rs, "USUBJID,RSDTC,RSORRES\nP1,2024-03-28,CR\n", Code::MissingColumn).await;
        refused(db, Domain::Dm, "USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC,NAME\nP13,F,1960,WEST,S1,2024-01-01,Kari Nordmann\n", Code::DirectIdentifier).await;
        let national = refused(db, Domain::Dm, "USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\n01016012345,F,1960,WEST,S1,2024-01-01\n", Code::DirectIdentifier).await;
        assert!(!national.describe().contains("01016012345"), "the identity number is masked in the report");

        // Rows: types, code lists, dates, references, duplicates; all reported together.
        let bad_rows = format!(
            "{rs}P1,2024-03-28,OVRLRESP,XR,RECIST 1.1\n\
             P1,2024-13-01,OVRLRESP,CR,RECIST 1.1\n\
             P1,2099-01-01,OVRLRESP,CR,RECIST 1.1\n\
             P1,2024-01-20,OVRLRESP,CR,RECIST 1.1\n\
             P99,2024-03-28,OVRLRESP,CR,RECIST 1.1\n\
             P10,2024-03-28,OVRLRESP,CR,RECIST 1.1\n\
             P3,2024-07-01,OVRLRESP,CR,RECIST 1.1\n\
             P3,2024-07-01,OVRLRESP,PR,RECIST 1.1\n"
        );
        let report = refused(db, Domain::Rs, bad_rows, Code::UnknownCode).await;
        let found: Vec<(Option<usize>, Code)> = report.problems.listed.iter().map(|p| (p.line, p.code)).collect();
        assert_eq!(
            found,
            [
                (Some(2), Code::UnknownCode),
                (Some(3), Code::InvalidDate),
                (Some(4), Code::FutureDate),
                (Some(5), Code::DateOrder),
                (Some(6), Code::UnknownReference),
                (Some(7), Code::UnknownReference),
                (Some(9), Code::DuplicateKey),
            ],
            "{}",
            report.describe()
        );
        // Line 8 was good, yet nothing of the file was written (checked by `refused`).
        let problem = &report.problems.listed[0];
        assert_eq!((problem.column.as_deref(), problem.value.as_deref()), (Some("RSORRES"), Some("XR")));

        let ae = "USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\nP1,Nausea,Gastrointestinal disorders,6,2024-02-21,Y,N\n";
        refused(db, Domain::Ae, ae, Code::UnknownCode).await;
        let profile = "USUBJID,SAMPLEID,PANEL,SEQSITE,SAMPLEDTC,ONCOTREE,ICD10,TMB,MSI\nP1,S1,TSO500,S1,2024-01-05,NOTATUMOUR,C22,high,MSS\n";
        let report = refused(db, Domain::Profiles, profile, Code::UnknownCode).await;
        assert!(codes(&report).contains(&Code::InvalidValue), "TMB 'high' is no number");
        refused(db, Domain::Dm, "USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\nP13,F,1960,EAST,S1,2024-01-01\n", Code::UnknownCode).await;
        refused(db, Domain::Variants, "SAMPLEID,GENE,ALTCLASS,PCHANGE,ESCAT\nS1,BRAF,MUTATION,p.V600E,V\n", Code::UnknownCode).await;
        // P2 was assessed on 2024-03-28: a death before it is refused.
        refused(db, Domain::Ss, "USUBJID,SSSTRESC,SSDTC,DTHDTC,SSSRC\nP2,DEAD,2024-03-01,2024-03-01,REGISTRY\n", Code::DateOrder).await;
        refused(db, Domain::Ex, "USUBJID,COHORT,SITEID,ENRLDTC,STAGE,EXSTDTC,EXENDTC,EXENRSN\nP11,K-NONE,S1,2024-02-01,STAGE_1,,,\n", Code::UnknownReference).await;

        // Many bad rows: the first hundred listed, all counted.
        let many: String = (0..250).map(|i| format!("P1,2024-03-{:02},OVRLRESP,??,RECIST 1.1\n", 1 + i % 28)).collect();
        let report = refused(db, Domain::Rs, format!("{rs}{many}"), Code::UnknownCode).await;
        assert_eq!((report.problems.listed.len(), report.problems.total), (100, 250));
    }
}

/// Posts `bytes` as a GraphQL multipart request importing a file of `domain` with `token`.
async fn post_file(app: &TestApp, token: &str, domain: &str, bytes: Vec<u8>, dry_run: bool) -> Value {
    let query = "mutation($domain: ImportDomain!, $file: Upload!, $dry: Boolean) { \
                   importData(domain: $domain, file: $file, dryRun: $dry) { applied dryRun dataVersion \
                   files { domain sha256 rows inserted updated unchanged } \
                   problems { line column value code message } problemCount } }";
    let operations = json!({ "query": query, "variables": { "domain": domain, "file": null, "dry": dry_run } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.file"] }).to_string())
        .part("0", reqwest::multipart::Part::bytes(bytes).file_name(format!("{}.csv", domain.to_lowercase())));
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("POST /graphql");
    let body: Value = response.json().await.expect("a JSON body");
    crate::helpers::assert_every_error_has_a_code(&body);
    body
}

crate::on_both_backends! {
    async fn each_submitter_imports_only_what_is_its_own(app: TestApp) {
        use sea_orm::{ColumnTrait, QueryFilter};
        let db = &app.db;
        let hus = partner::Entity::find().filter(partner::Column::Code.eq("HUS")).one(db).await.unwrap().unwrap();
        let own = site::Entity::find().filter(site::Column::PartnerId.eq(hus.id)).one(db).await.unwrap().unwrap();
        let other = site::Entity::find().filter(site::Column::PartnerId.ne(hus.id)).one(db).await.unwrap().unwrap();
        let hospital = app.token_for("HUS", None).await;
        let dm = |pseudonym: &str, site: &str| {
            format!("USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\n{pseudonym},F,1961,WEST,{site},2026-02-01\n").into_bytes()
        };

        // A dry run reports and changes nothing.
        let before = fingerprint(db).await;
        let body = post_file(&app, &hospital, "DM", dm("IMPORT-1", &own.code), true).await;
        assert_eq!(body["data"]["importData"]["files"][0]["inserted"], 1, "{body}");
        assert_eq!(body["data"]["importData"]["applied"], false);
        assert_eq!(fingerprint(db).await, before);

        // The hospital's own patient: applied, one new data version, on record.
        let body = post_file(&app, &hospital, "DM", dm("IMPORT-1", &own.code), false).await;
        let report = &body["data"]["importData"];
        assert_eq!((report["applied"].clone(), report["files"][0]["inserted"].clone()), (json!(true), json!(1)), "{body}");
        assert_eq!(report["dataVersion"], before.4 + 1);
        let sha = report["files"][0]["sha256"].as_str().expect("hash").to_owned();
        let records = consortium_entity::access::audit_record::Entity::find().all(db).await.unwrap();
        let record = records.iter().find(|r| r.detail.as_deref().is_some_and(|d| d.contains(&sha))).expect("on record");
        assert_eq!((record.partner_code.as_deref(), record.outcome.as_str()), (Some("HUS"), "OK"));
        assert!(record.detail.as_deref().is_some_and(|d| d.contains("\"inserted\":1")));
        assert!(consortium_api::audit::verify(db).await.unwrap().broken.is_none(), "the chain verifies");

        // Another site's patient: refused, nothing changed.
        let before = fingerprint(db).await;
        let body = post_file(&app, &hospital, "DM", dm("IMPORT-2", &other.code), false).await;
        assert_eq!(body["data"]["importData"]["problems"][0]["code"], "NOT_OWN_SITE", "{body}");
        assert_eq!(fingerprint(db).await, before);

        // Responses for another site's patient and for a pseudonym nobody has read the
        // same: the report does not tell which pseudonyms exist elsewhere.
        let elsewhere = patient::Entity::find()
            .filter(patient::Column::ReferringSiteId.ne(own.id))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.referring_site_id != own.id)
            .expect("a patient of another site");
        let mut seen = Vec::new();
        for pseudonym in [elsewhere.pseudonym.as_str(), "NOBODY-1"] {
            let rs = format!("USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n{pseudonym},2026-03-01,OVRLRESP,CR,RECIST 1.1\n");
            let body = post_file(&app, &hospital, "RS", rs.into_bytes(), false).await;
            let problem = &body["data"]["importData"]["problems"][0];
            seen.push((problem["code"].clone(), problem["message"].clone()));
        }
        assert_eq!(seen[0], seen[1]);
        assert_eq!(seen[0].0, "NOT_OWN_SITE");
        assert_eq!(fingerprint(db).await, before);

        // The registry sends follow-up, not responses; a company nothing.
        let registry = app.token_for("CRN", None).await;
        let rs = b"USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\nIMPORT-1,2026-03-01,OVRLRESP,CR,RECIST 1.1\n".to_vec();
        let body = post_file(&app, &registry, "RS", rs.clone(), false).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
        let ss = b"USUBJID,SSSTRESC,SSDTC,DTHDTC,SSSRC\nIMPORT-1,ALIVE,2026-10-01,,REGISTRY\n".to_vec();
        let body = post_file(&app, &registry, "SS", ss, false).await;
        assert_eq!(body["data"]["importData"]["applied"], true, "{body}");
        let company = app.token_for("ROCHE", None).await;
        let body = post_file(&app, &company, "RS", rs, false).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");

        // A write is sent alone: not in a batch with a question.
        let batch = json!([
            { "query": "mutation { importData(domain: SS, file: null) { applied } }" },
            { "query": "{ funnel { steps { patients { value } } } }" },
        ]);
        let response =
            app.client.post(format!("{}/graphql", app.address)).bearer_auth(&hospital).json(&batch).send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&body), ["BAD_REQUEST"], "{body}");

        // A body claiming 2 GB is refused before it is read.
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&hospital)
            .header("content-type", "multipart/form-data; boundary=x")
            .header("content-length", "2000000000")
            .body("--x--")
            .send()
            .await;
        // The server may answer 413 or close the connection before the body is sent.
        if let Ok(response) = response {
            assert_eq!(response.status(), 413);
        }
        assert_eq!(fingerprint(db).await.4, before.4 + 1, "only the registry's follow-up moved the version");
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn a_corrected_response_changes_the_aggregate_once(app: TestApp) {
        let query = "{ responses { overall { clinicalBenefit { numerator { value } denominator { value } } } } }";
        let benefit = |data: &Value| data["responses"]["overall"]["clinicalBenefit"]["numerator"]["value"].clone();
        assert_eq!(benefit(&app.data(query, json!({})).await), 5);
        // P4's week-16 PD was a data-entry error: it was stable disease.
        let corrected = crate::small_trial::files()[9].1.replace("P4,2024-05-23,OVRLRESP,PD", "P4,2024-05-23,OVRLRESP,SD");
        let report = import_as_operator(&app.db, &[upload(Domain::Rs, corrected.clone())]).await;
        assert_eq!((report.applied, report.totals()), (true, (0, 1, 15)), "{}", report.describe());
        app.state.refresh().await.expect("refresh");
        assert_eq!(benefit(&app.data(query, json!({})).await), 6);
        let again = import_as_operator(&app.db, &[upload(Domain::Rs, corrected)]).await;
        assert_eq!((again.applied, again.data_version), (false, report.data_version));
    }
}
