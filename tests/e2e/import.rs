//! Importing trial data: the round trip of the synthetic consortium's export, bad files
//! refused with their reports and nothing changed, the submitters' rights over HTTP
//! (GraphQL multipart requests), and a corrected row changing an aggregate.

use consortium_api::import::{run, Mode, Recorded};
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
use crate::small_trial::p;

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
    run(db, uploads, &Rights::operator(), Mode::default(), &Recorded::operator(), &|_| {})
        .await
        .expect("the database answers")
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
        refused(db, Domain::Rs, rs.replace(',', ";") + &format!("{};2024-03-28;OVRLRESP;CR;RECIST 1.1\n", p(1)), Code::WrongDelimiter).await;
        refused(db, Domain::Ae, [format!("USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\n{},Kvalme ", p(1)).as_bytes(), &b"\xE6,GI,1,2024-02-21,Y,N\n"[..]].concat(), Code::WrongEncoding).await;
        let trial = stored(db).await;
        let parquet = export(&trial, Format::Parquet).expect("export");
        let (_, _, whole) = parquet.iter().find(|(d, _, _)| *d == Domain::Rs).expect("rs");
        let truncated = Upload { domain: Domain::Rs, file: "rs.parquet".into(), bytes: whole[..whole.len() / 2].to_vec() };
        let report = import_as_operator(db, &[truncated]).await;
        assert_eq!(codes(&report), [Code::UnreadableFile], "{}", report.describe());
        refused(db, Domain::Rs, crate::small_trial::files()[4].1, Code::WrongDomain).await;
        refused(db, Domain::Rs, "USUBJID,RSDTC,RSORRES\nP1,2024-03-28,CR\n", Code::MissingColumn).await;
        refused(db, Domain::Dm, "USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC,NAME\nP13,F,1960,WEST,S1,2024-01-01,Kari Nordmann\n", Code::DirectIdentifier).await;
        let national = refused(db, Domain::Dm, "USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\n01016012345,F,1960,WEST,S1,2024-01-01\n", Code::DirectIdentifier).await;
        assert!(!national.describe().contains("01016012345"), "the identity number is masked in the report");

        // Rows: types, code lists, dates, references, duplicates; all reported together.
        let bad_rows = format!(
            "{rs}{p1},2024-03-28,OVRLRESP,XR,RECIST 1.1\n\
             {p1},2024-13-01,OVRLRESP,CR,RECIST 1.1\n\
             {p1},2099-01-01,OVRLRESP,CR,RECIST 1.1\n\
             {p1},2024-01-20,OVRLRESP,CR,RECIST 1.1\n\
             IMP-NOBODY0000,2024-03-28,OVRLRESP,CR,RECIST 1.1\n\
             {p10},2024-03-28,OVRLRESP,CR,RECIST 1.1\n\
             {p3},2024-07-01,OVRLRESP,CR,RECIST 1.1\n\
             {p3},2024-07-01,OVRLRESP,PR,RECIST 1.1\n",
            p1 = p(1),
            p3 = p(3),
            p10 = p(10),
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

        let ae = format!("USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\n{},Nausea,Gastrointestinal disorders,6,2024-02-21,Y,N\n", p(1));
        refused(db, Domain::Ae, ae, Code::UnknownCode).await;
        let profile = format!("USUBJID,SAMPLEID,PANEL,SEQSITE,SAMPLEDTC,ONCOTREE,ICD10,TMB,MSI\n{},S1,TSO500,S1,2024-01-05,NOTATUMOUR,C22,high,MSS\n", p(1));
        let report = refused(db, Domain::Profiles, profile, Code::UnknownCode).await;
        assert!(codes(&report).contains(&Code::InvalidValue), "TMB 'high' is no number");
        refused(db, Domain::Dm, "USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\nP13,F,1960,EAST,S1,2024-01-01\n", Code::UnknownCode).await;
        refused(db, Domain::Variants, "SAMPLEID,GENE,ALTCLASS,PCHANGE,ESCAT\nS1,BRAF,MUTATION,p.V600E,V\n", Code::UnknownCode).await;
        // P2 was assessed on 2024-03-28: a death before it is refused.
        refused(db, Domain::Ss, format!("USUBJID,SSSTRESC,SSDTC,DTHDTC,SSSRC\n{},DEAD,2024-03-01,2024-03-01,REGISTRY\n", p(2)), Code::DateOrder).await;
        refused(db, Domain::Ex, format!("USUBJID,COHORT,SITEID,ENRLDTC,STAGE,EXSTDTC,EXENDTC,EXENRSN\n{},K-NONE,S1,2024-02-01,STAGE_1,,,\n", p(11)), Code::UnknownReference).await;

        // Many bad rows: the first hundred listed, all counted.
        let many: String = (0..250).map(|i| format!("{},2024-03-{:02},OVRLRESP,??,RECIST 1.1\n", p(1), 1 + i % 28)).collect();
        let report = refused(db, Domain::Rs, format!("{rs}{many}"), Code::UnknownCode).await;
        assert_eq!((report.problems.listed.len(), report.problems.total), (100, 250));
    }
}

/// Posts `bytes` as a GraphQL multipart request importing a file of `domain` with `token`.
pub(crate) async fn post_file(app: &TestApp, token: &str, domain: &str, bytes: Vec<u8>, dry_run: bool) -> Value {
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
        assert!(consortium_api::pipeline::record::audit::verify(db).await.unwrap().broken.is_none(), "the chain verifies");

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
        let (pd, sd) = (format!("{},2024-05-23,OVRLRESP,PD", p(4)), format!("{},2024-05-23,OVRLRESP,SD", p(4)));
        let corrected = crate::small_trial::files()[9].1.replace(&pd, &sd);
        let report = import_as_operator(&app.db, &[upload(Domain::Rs, corrected.clone())]).await;
        assert_eq!((report.applied, report.totals()), (true, (0, 1, 15)), "{}", report.describe());
        app.state.refresh().await.expect("refresh");
        assert_eq!(benefit(&app.data(query, json!({})).await), 6);
        let again = import_as_operator(&app.db, &[upload(Domain::Rs, corrected)]).await;
        assert_eq!((again.applied, again.data_version), (false, report.data_version));
    }
}

/// A patient of `db` referred by a site that is not one of `own`, with `enrolled` saying
/// whether it must have an enrolment (and then a profile and follow-up too).
async fn foreign_patient(db: &DatabaseConnection, own: &[i32], enrolled: bool) -> patient::Model {
    let patients = patient::Entity::find().all(db).await.unwrap();
    let enrolments = enrolment::Entity::find().all(db).await.unwrap();
    let profiles = molecular_profile::Entity::find().all(db).await.unwrap();
    let followups = followup::Entity::find().all(db).await.unwrap();
    patients
        .into_iter()
        .find(|p| {
            let enrolment = enrolments.iter().find(|e| e.patient_id == p.id);
            !own.contains(&p.referring_site_id)
                && enrolment.is_none_or(|e| !own.contains(&e.site_id))
                && enrolment.is_some() == enrolled
                && profiles.iter().any(|m| m.patient_id == p.id)
                && followups.iter().any(|f| f.patient_id == p.id)
        })
        .expect("such a patient")
}

/// A report's problems without the values found (a pseudonym is shown back as sent).
fn problems_without_values(body: &Value) -> Vec<Value> {
    let problems = body["data"]["importData"]["problems"].as_array().cloned().unwrap_or_default();
    problems
        .into_iter()
        .map(|mut p| {
            p["value"] = Value::Null;
            p
        })
        .collect()
}

crate::on_both_backends! {
    async fn a_hospital_learns_nothing_about_another_hospitals_patients_and_cannot_take_them_over(app: TestApp) {
        use sea_orm::{ColumnTrait, QueryFilter};
        let db = &app.db;
        let hus = partner::Entity::find().filter(partner::Column::Code.eq("HUS")).one(db).await.unwrap().unwrap();
        let own_sites = site::Entity::find().filter(site::Column::PartnerId.eq(hus.id)).all(db).await.unwrap();
        let own: Vec<i32> = own_sites.iter().map(|s| s.id).collect();
        let own_site = &own_sites[0].code;
        let lab = site::Entity::find().filter(site::Column::InpredNode.eq(true)).one(db).await.unwrap().unwrap().code;
        let cohort = cohort::Entity::find().one(db).await.unwrap().unwrap().code;
        let foreign = foreign_patient(db, &own, true).await;
        let sample = molecular_profile::Entity::find()
            .filter(molecular_profile::Column::PatientId.eq(foreign.id))
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .sample_id;
        let hospital = app.token_for("HUS", None).await;
        let nobody = "IMP-NOBODY0000";
        // One row per domain about a patient, each with an impossible date, so that any
        // check on stored data would have something to say.
        let files: Vec<(&str, String, String)> = vec![
            ("PROFILES", "USUBJID,SAMPLEID,PANEL,SEQSITE,SAMPLEDTC,ONCOTREE,ICD10,TMB,MSI".into(), format!("{{p}},SMP-NEW0000001,TSO500,{lab},1901-01-01,COADREAD,C18,5,MSS")),
            ("VARIANTS", "SAMPLEID,GENE,ALTCLASS,PCHANGE,ESCAT".into(), "{s},BRAF,MUTATION,p.V600E,I-A".into()),
            ("DS", "USUBJID,DSSTDTC,DSDECOD,COHORT,ESCAT".into(), "{p},1901-01-01,NO_MATCH,,".into()),
            ("EX", "USUBJID,COHORT,SITEID,ENRLDTC,STAGE,EXSTDTC,EXENDTC,EXENRSN".into(), format!("{{p}},{cohort},{own_site},1901-01-01,STAGE_1,,,")),
            ("RS", "USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT".into(), "{p},1901-01-01,OVRLRESP,PR,RECIST 1.1".into()),
            ("AE", "USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER".into(), "{p},Nausea,Gastrointestinal disorders,2,1901-01-01,Y,N".into()),
            ("SS", "USUBJID,SSSTRESC,SSDTC,DTHDTC,SSSRC".into(), "{p},DEAD,1901-01-02,1901-01-01,SITE".into()),
        ];
        let before = fingerprint(db).await;
        for (domain, header, row) in &files {
            for dry_run in [true, false] {
                let about = |p: &str, s: &str| format!("{header}\n{}\n", row.replace("{p}", p).replace("{s}", s)).into_bytes();
                let theirs = post_file(&app, &hospital, domain, about(&foreign.pseudonym, &sample), dry_run).await;
                let nobodys = post_file(&app, &hospital, domain, about(nobody, "SMP-NOBODY0000"), dry_run).await;
                let codes: Vec<Value> = problems_without_values(&theirs).iter().map(|p| p["code"].clone()).collect();
                assert_eq!(codes, ["NOT_OWN_SITE"], "{domain}: {theirs}");
                assert_eq!(problems_without_values(&theirs), problems_without_values(&nobodys), "{domain} tells the two apart");
            }
        }
        assert_eq!(fingerprint(db).await, before, "nothing changed");

        // The take-over: a patient of another hospital, not enrolled yet, enrolled at the
        // hospital's own site. Refused; it stays unenrolled.
        let free = foreign_patient(db, &own, false).await;
        let ex = format!("USUBJID,COHORT,SITEID,ENRLDTC,STAGE,EXSTDTC,EXENDTC,EXENRSN\n{},{cohort},{own_site},2026-02-01,STAGE_1,,,\n", free.pseudonym);
        let body = post_file(&app, &hospital, "EX", ex.into_bytes(), false).await;
        assert_eq!(body["data"]["importData"]["problems"][0]["code"], "NOT_OWN_SITE", "{body}");
        assert_eq!(body["data"]["importData"]["applied"], false);
        let enrolled = enrolment::Entity::find().filter(enrolment::Column::PatientId.eq(free.id)).one(db).await.unwrap();
        assert!(enrolled.is_none(), "another hospital's patient was enrolled");
        assert_eq!(fingerprint(db).await, before);
    }
}

crate::on_both_backends! {
    async fn moving_a_patient_to_another_site_is_an_admin_import_and_on_record(app: TestApp) {
        use sea_orm::{ColumnTrait, QueryFilter};
        let db = &app.db;
        let hus = partner::Entity::find().filter(partner::Column::Code.eq("HUS")).one(db).await.unwrap().unwrap();
        let own: Vec<i32> = site::Entity::find().filter(site::Column::PartnerId.eq(hus.id)).all(db).await.unwrap().iter().map(|s| s.id).collect();
        let other = site::Entity::find().filter(site::Column::PartnerId.ne(hus.id)).one(db).await.unwrap().unwrap();
        let enrolments = enrolment::Entity::find().all(db).await.unwrap();
        let patients = patient::Entity::find().all(db).await.unwrap();
        let mine = patients
            .iter()
            .find(|p| own.contains(&p.referring_site_id) && enrolments.iter().any(|e| e.patient_id == p.id && own.contains(&e.site_id)))
            .expect("a patient referred and treated by the hospital");
        let enrolment = enrolments.iter().find(|e| e.patient_id == mine.id).unwrap();
        let cohort = cohort::Entity::find_by_id(enrolment.cohort_id).one(db).await.unwrap().unwrap().code;
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let ex = format!(
            "USUBJID,COHORT,SITEID,ENRLDTC,STAGE,EXSTDTC,EXENDTC,EXENRSN\n{},{cohort},{},{},{},{},{},{}\n",
            mine.pseudonym,
            other.code,
            enrolment.enrolled_on,
            enrolment.cohort_stage.code(),
            date(enrolment.treatment_start),
            date(enrolment.treatment_end),
            enrolment.end_reason.map(|r| r.code()).unwrap_or_default(),
        );
        let hospital = app.token_for("HUS", None).await;
        let body = post_file(&app, &hospital, "EX", ex.clone().into_bytes(), false).await;
        assert_eq!(body["data"]["importData"]["problems"][0]["code"], "REHOMING", "{body}");
        let dm = format!(
            "USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\n{},{},{},{},{},{}\n",
            mine.pseudonym, mine.sex.code(), mine.birth_year, mine.region.code(), other.code, mine.referral_date
        );
        let body = post_file(&app, &hospital, "DM", dm.into_bytes(), false).await;
        assert_eq!(body["data"]["importData"]["problems"][0]["code"], "REHOMING", "{body}");

        // The operator may: the report and the audit record count the move.
        let report = import_as_operator(db, &[upload(Domain::Ex, ex)]).await;
        assert!(report.applied && report.rehomed == 1, "{}", report.describe());
        let records = consortium_entity::access::audit_record::Entity::find().all(db).await.unwrap();
        let record = records.last().expect("the import's record");
        assert!(record.detail.as_deref().is_some_and(|d| d.contains("\"rehomed\":1")), "{record:?}");
    }
}

/// The small trial's objective responses among evaluable patients.
const OBJECTIVE: &str = "{ responses { overall { objectiveResponse { numerator { value } } } } }";

async fn objective_responses(app: &TestApp) -> Value {
    app.state.refresh().await.expect("refresh");
    app.data(OBJECTIVE, json!({})).await["responses"]["overall"]["objectiveResponse"]["numerator"]["value"].clone()
}

async fn import_with(db: &DatabaseConnection, uploads: &[Upload], correction: bool) -> Report {
    let mode = Mode { dry_run: false, correction };
    run(db, uploads, &Rights::operator(), mode, &Recorded::operator(), &|_| {}).await.expect("the database answers")
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn a_patients_dates_hold_across_imports_whatever_their_order(app: TestApp) {
        let db = &app.db;
        let rs = "USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n";
        let ss = "USUBJID,SSSTRESC,SSDTC,DTHDTC,SSSRC\n";
        assert_eq!(objective_responses(&app).await, 2);

        // P6 died on 2024-03-22 (on record): a response, an adverse event and a treatment
        // end after that are refused, each naming the death.
        let late = refused(db, Domain::Rs, format!("{rs}{},2024-06-20,OVRLRESP,PR,RECIST 1.1\n", p(6)), Code::DateOrder).await;
        assert!(late.problems.listed[0].message.contains("death on record (2024-03-22)"), "{}", late.describe());
        let ae = format!("USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\n{},Nausea,Gastrointestinal disorders,2,2024-05-01,Y,N\n", p(6));
        refused(db, Domain::Ae, ae, Code::DateOrder).await;
        let ex = format!("USUBJID,COHORT,SITEID,ENRLDTC,STAGE,EXSTDTC,EXENDTC,EXENRSN\n{},K-BRAF,S1,2024-02-01,STAGE_1,2024-02-01,2024-05-01,PROGRESSION\n", p(6));
        refused(db, Domain::Ex, ex, Code::DateOrder).await;

        // P8's death on 2024-06-01 and a PR three months later: follow-up first, responses
        // first, or both at once, never both.
        let death = upload(Domain::Ss, format!("{ss}{},DEAD,2024-06-01,2024-06-01,REGISTRY\n", p(8)));
        let response = upload(Domain::Rs, format!("{rs}{},2024-09-01,OVRLRESP,PR,RECIST 1.1\n", p(8)));
        // (P8 was on record alive on 2026-10-01: the registry's death is a correction.)
        let together = import_with(db, &[death.clone(), response.clone()], true).await;
        assert!(!together.applied && codes(&together).contains(&Code::DateOrder), "{}", together.describe());
        assert!(import_with(db, std::slice::from_ref(&death), true).await.applied);
        let after = import_as_operator(db, std::slice::from_ref(&response)).await;
        assert!(!after.applied && codes(&after) == [Code::DateOrder], "{}", after.describe());
        assert_eq!(objective_responses(&app).await, 2, "a response after death counted");

        let other = TestApp::spawn_with(app.backend(), None).await.expect("a second app");
        crate::small_trial::seed(&other.db).await;
        assert!(import_as_operator(&other.db, std::slice::from_ref(&response)).await.applied);
        let death_after = import_with(&other.db, std::slice::from_ref(&death), true).await;
        assert!(!death_after.applied && codes(&death_after) == [Code::DateOrder], "{}", death_after.describe());
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn follow_up_takes_back_a_vital_status_only_as_a_correction_on_record(app: TestApp) {
        let db = &app.db;
        let ss = "USUBJID,SSSTRESC,SSDTC,DTHDTC,SSSRC\n";
        // P6 is dead on record: alive again only as a correction.
        let alive = upload(Domain::Ss, format!("{ss}{},ALIVE,2026-10-01,,REGISTRY\n", p(6)));
        let refused_report = refused(db, Domain::Ss, alive.bytes.clone(), Code::CorrectionRequired).await;
        assert!(refused_report.problems.listed[0].message.contains("2024-03-22"), "{}", refused_report.describe());
        // P1 was alive on 2026-10-01: an earlier last date known alive, or a death before
        // it, takes that back.
        refused(db, Domain::Ss, format!("{ss}{},ALIVE,2025-01-01,,REGISTRY\n", p(1)), Code::CorrectionRequired).await;
        refused(db, Domain::Ss, format!("{ss}{},DEAD,2025-01-01,2025-01-01,REGISTRY\n", p(1)), Code::CorrectionRequired).await;

        let corrected = import_with(db, std::slice::from_ref(&alive), true).await;
        assert!(corrected.applied && corrected.corrected == 1, "{}", corrected.describe());
        let records = consortium_entity::access::audit_record::Entity::find().all(db).await.unwrap();
        let detail = records.last().and_then(|r| r.detail.clone()).expect("the import's record");
        assert!(detail.contains("\"correction\":true") && detail.contains("\"corrected\":1"), "{detail}");
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn free_text_is_bounded_printable_and_never_a_formula(app: TestApp) {
        let db = &app.db;
        let ae = |term: &str, organ: &str| {
            format!("USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\n{},\"{term}\",{organ},2,2024-03-01,Y,N\n", p(1))
        };
        let gi = "Gastrointestinal disorders";
        let huge = "x".repeat(10 * 1024 * 1024);
        for term in [huge.as_str(), "Nausea\u{0}", "=HYPERLINK(\"http://evil\",\"click\")", "@SUM(A1)", "Line\nbreak"] {
            let report = refused(db, Domain::Ae, ae(term, gi), Code::InvalidValue).await;
            assert!(report.describe().len() < 10_000, "the report echoes at most a little of the value");
        }
        refused(db, Domain::Ae, ae("Nausea", "Stomach things"), Code::UnknownCode).await;
        // Organ classes in MedDRA's spelling, any case.
        let fine = import_as_operator(db, &[upload(Domain::Ae, ae("Nausea", "GASTROINTESTINAL DISORDERS"))]).await;
        assert!(fine.applied, "{}", fine.describe());

        // A CSV file named .parquet is refused as what it is; a ragged row names its line.
        let csv = format!("USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n{},2024-03-28,OVRLRESP,SD,RECIST 1.1\n", p(1));
        let named = Upload { domain: Domain::Rs, file: "rs.parquet".into(), bytes: csv.into_bytes() };
        let report = import_as_operator(db, &[named]).await;
        assert_eq!(codes(&report), [Code::WrongFormat], "{}", report.describe());
        let ragged = format!("USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n{p1},2024-03-28,OVRLRESP,SD,RECIST 1.1\n{p1},2024-05-23,OVRLRESP\n", p1 = p(1));
        let report = refused(db, Domain::Rs, ragged, Code::UnreadableFile).await;
        assert_eq!(report.problems.listed[0].line, Some(3), "{}", report.describe());
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn two_imports_at_once_take_turns(app: TestApp) {
        let ae = |day: u32| {
            upload(Domain::Ae, format!("USUBJID,AETERM,AESOC,AETOXGR,AESTDTC,AEREL,AESER\n{},Nausea,Gastrointestinal disorders,1,2024-03-{day:02},N,N\n", p(1)))
        };
        let (one, two) = ([ae(3)], [ae(4)]);
        let (first, second) = tokio::join!(import_as_operator(&app.db, &one), import_as_operator(&app.db, &two));
        assert!(first.applied && second.applied, "{}\n{}", first.describe(), second.describe());
        assert_eq!(first.data_version.abs_diff(second.data_version), 1, "one after the other");
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn a_file_over_the_size_limit_is_too_large_and_on_record(app: TestApp) {
        let small = TestApp::spawn_configured(app.backend(), None, |args| args.max_upload_bytes = 64 * 1024)
            .await
            .expect("an app with a small upload limit");
        crate::small_trial::seed(&small.db).await;
        let admin = small.registry_token().await;
        let big = format!("USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n{}", format!("{},2024-03-28,OVRLRESP,SD,RECIST 1.1\n", p(1)).repeat(4000));
        let query = "mutation($file: Upload!) { importData(domain: RS, file: $file) { applied } }";
        let form = reqwest::multipart::Form::new()
            .text("operations", json!({ "query": query, "variables": { "file": null } }).to_string())
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part("0", reqwest::multipart::Part::bytes(big.into_bytes()).file_name("rs.csv"));
        let response = small.client.post(format!("{}/graphql", small.address)).bearer_auth(&admin).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), 413);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&body), ["TOO_LARGE"], "{body}");
        let records = consortium_entity::access::audit_record::Entity::find().all(&small.db).await.unwrap();
        assert_eq!(records.last().map(|r| r.outcome.as_str()), Some("TOO_LARGE"));
    }
}

crate::on_both_backends! {
    async fn an_export_imported_again_keeps_grants_given_since_and_says_what_it_changes(app: TestApp) {
        use consortium_api::auth::grants::{set_grants, GrantChange};
        let db = &app.db;
        set_grants(db, "ROCHE", GrantChange::Add("genomics:read".parse().unwrap())).await.expect("a grant by hand");
        let granted = || async { partner::Entity::find().all(db).await.unwrap().into_iter().find(|p| p.code == "ROCHE").unwrap().scopes };
        let by_hand = granted().await;
        assert!(by_hand.as_deref().is_some_and(|s| s.contains("genomics:read")));

        // The consortium's export (made before the grant): ROCHE's SCOPES are empty.
        let trial = demo::generate(&demo::DemoSpec { seed: SEED, patients: PATIENTS }).expect("generate");
        let (_, _, partners) = export(&trial, Format::Csv).expect("export").into_iter().find(|(d, _, _)| *d == Domain::Partners).expect("partners");
        let again = import_as_operator(db, &[upload(Domain::Partners, partners.clone())]).await;
        assert!(again.grants.is_empty() && !again.applied, "{}", again.describe());
        assert_eq!(granted().await, by_hand, "an empty SCOPES column reset a grant");

        // DEFAULT sets the partner back to its kind's grants, and the report says so.
        let text = String::from_utf8(partners).unwrap();
        // SCOPES is the last column, empty for ROCHE.
        let reset: String = text
            .lines()
            .map(|line| match line.starts_with("ROCHE,") {
                true => format!("{line}DEFAULT\n"),
                false => format!("{line}\n"),
            })
            .collect();
        let report = import_as_operator(db, &[upload(Domain::Partners, reset)]).await;
        assert!(report.applied, "{}", report.describe());
        assert_eq!(report.grants.len(), 1, "{}", report.describe());
        assert!(report.describe().contains("grants of ROCHE"), "{}", report.describe());
        assert_eq!(granted().await, None);
    }
}
