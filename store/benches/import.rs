//! Import throughput: 1,000,000 response rows (one `rs` file) into a trial of 50,000
//! treated patients, on SQLite and on PostgreSQL, with PostgreSQL's own `COPY` of the
//! same rows timed in the same run as the ceiling. Peak memory is the process's high
//! water mark (VmHWM) after each step.
//!
//! ```sh
//! cargo bench -p consortium-store --bench import                      # SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p consortium-store --bench import                  # and PostgreSQL
//! ```
//! `ROWS` changes the number of response rows (20 per patient).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use consortium_entity::*;
use consortium_migration::Migrator;
use consortium_store::import::{import, Options, Report, Rights, Upload, Witness};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr};
use sea_orm_migration::MigratorTrait;

const ASSESSMENTS_PER_PATIENT: usize = 20;

/// Nothing on record: the audit chain is the API's; its one row per import is no cost.
struct Unrecorded;

impl Witness for Unrecorded {
    async fn record(&self, _: &DatabaseTransaction, _: &Report) -> Result<(), DbErr> {
        Ok(())
    }
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 1, 3).unwrap()
}

/// A catalogue of one of each and `patients` treated patients.
fn trial(patients: usize) -> Trial {
    let d = start();
    let partner = |id, code: &str, kind| partner::Model {
        id,
        code: code.into(),
        name: code.into(),
        kind,
        org_number: format!("90000000{id}"),
        scopes: None,
    };
    Trial {
        partners: vec![partner(1, "H", PartnerKind::Hospital), partner(2, "C", PartnerKind::Industry)],
        sites: vec![site::Model {
            id: 1,
            code: "S".into(),
            name: "S".into(),
            region: HealthRegion::West,
            partner_id: 1,
            inpred_node: true,
        }],
        patients: (1..=patients as i32)
            .map(|id| patient::Model {
                id,
                pseudonym: format!("P{id}"),
                sex: Sex::Female,
                birth_year: 1960,
                region: HealthRegion::West,
                referring_site_id: 1,
                referral_date: d - TimeDelta::days(30),
            })
            .collect(),
        profiles: vec![],
        variants: vec![],
        reviews: vec![],
        drugs: vec![drug::Model { id: 1, code: "D".into(), name: "D".into(), mechanism: "M".into(), supplier_id: 2 }],
        cohorts: vec![cohort::Model {
            id: 1,
            code: "K".into(),
            name: "K".into(),
            oncotree_code: "CHOL".into(),
            gene: "BRAF".into(),
            alteration_class: AlterationClass::Mutation,
            drug_id: 1,
            design_r1: 1,
            design_n1: 8,
            design_r: 5,
            design_n: 24,
            status: CohortStatus::Stage1,
            opened_on: d - TimeDelta::days(60),
            closed_on: None,
        }],
        enrolments: (1..=patients as i32)
            .map(|id| enrolment::Model {
                id,
                patient_id: id,
                cohort_id: 1,
                site_id: 1,
                enrolled_on: d,
                cohort_stage: CohortStage::Stage1,
                treatment_start: Some(d),
                treatment_end: None,
                end_reason: None,
            })
            .collect(),
        assessments: vec![],
        adverse_events: vec![],
        followups: vec![],
    }
}

/// The response rows: (pseudonym, date, response).
fn responses(patients: usize) -> Vec<(String, NaiveDate, &'static str)> {
    let codes = ["SD", "PR", "SD", "CR", "SD", "PD"];
    (1..=patients)
        .flat_map(|p| {
            (1..=ASSESSMENTS_PER_PATIENT).map(move |k| {
                (format!("P{p}"), start() + TimeDelta::days(7 * k as i64 + (p % 3) as i64), codes[(p + k) % 6])
            })
        })
        .collect()
}

fn rs_csv(rows: &[(String, NaiveDate, &str)]) -> Vec<u8> {
    let mut out = String::from("USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n");
    for (who, date, response) in rows {
        out += &format!("{who},{date},OVRLRESP,{response},RECIST 1.1\n");
    }
    out.into_bytes()
}

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn fresh(url: &str, patients: usize) -> DatabaseConnection {
    let db = Database::connect(url).await.unwrap();
    Migrator::fresh(&db).await.unwrap();
    consortium_store::write_trial(&db, &trial(patients)).await.unwrap();
    db
}

async fn timed_import(label: &str, db: &DatabaseConnection, bytes: &[u8], rows: usize) -> f64 {
    let upload = Upload { domain: consortium_store::import::Domain::Rs, file: "rs.csv".into(), bytes: bytes.to_vec() };
    let quiet = |_: &str| {};
    let options = Options {
        dry_run: false,
        today: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
        progress: &quiet,
        scopes: &[],
        correction: false,
    };
    let started = Instant::now();
    let report = import(db, &[upload], &Rights::operator(), options, &Unrecorded).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert!(report.applied && report.totals().0 == rows as u64, "{}", report.describe());
    println!("{label:<28} {secs:>8.2} s  {:>10.0} rows/s  peak {:>6.0} MiB", rows as f64 / secs, peak_mib());
    secs
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let patients = rows.div_ceil(ASSESSMENTS_PER_PATIENT);
    let rows = patients * ASSESSMENTS_PER_PATIENT;
    let data = responses(patients);
    let bytes = rs_csv(&data);
    println!("{rows} response rows of {patients} patients, {} MiB of CSV", bytes.len() / (1 << 20));

    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    let db = fresh(&sqlite, patients).await;
    timed_import("import, SQLite", &db, &bytes, rows).await;

    let Ok(url) = std::env::var("BENCH_DATABASE_URL") else {
        println!("BENCH_DATABASE_URL is not set: no PostgreSQL run");
        return;
    };
    let db = fresh(&url, patients).await;
    // The ceiling: COPY of the same rows (ids as the import gives them, the study week
    // computed), through psql, then rolled back by truncation.
    let mut copy = String::new();
    let week = |date: NaiveDate| consortium_store::import::study_week(start(), date);
    for (i, (who, date, response)) in data.iter().enumerate() {
        let enrolment = &who[1..];
        copy += &format!("{},{enrolment},{date},{},RECIST_1_1,{response}\n", i + 1, week(*date));
    }
    let path = dir.path().join("copy.csv");
    std::fs::write(&path, copy).unwrap();
    let started = Instant::now();
    let status = std::process::Command::new("psql")
        .arg(&url)
        .arg("-q")
        .arg("-c")
        .arg(format!(
            "\\copy response_assessment (id, enrolment_id, assessment_date, study_week, criteria, response) FROM '{}' WITH (FORMAT csv)",
            path.display()
        ))
        .status()
        .unwrap();
    let copy_secs = started.elapsed().as_secs_f64();
    assert!(status.success(), "psql \\copy failed");
    println!("{:<28} {copy_secs:>8.2} s  {:>10.0} rows/s", "COPY, PostgreSQL", rows as f64 / copy_secs);
    db.execute_unprepared("TRUNCATE response_assessment").await.unwrap();
    let import_secs = timed_import("import, PostgreSQL", &db, &bytes, rows).await;
    println!("import / COPY speed on PostgreSQL: {:.2}", copy_secs / import_secs);
}
