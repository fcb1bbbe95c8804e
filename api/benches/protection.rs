//! Benchmark of the release step's cost: a grouped count of about a thousand cells and
//! a full Kaplan–Meier curve, computed (the patient sets included) and then protected
//! under the industry policy — its default, the cell-key method (record keys computed
//! the first time, then kept), and its exact tier (complementary suppression) — at each
//! size.
//!
//! `cargo bench -p consortium-api --bench protection` (sizes: `BENCH_PATIENTS`,
//! comma-separated, default `100000,1000000`). The table goes to standard output;
//! BENCHMARKS.md keeps the numbers measured on the reference machine.

// Benchmarks may panic on a broken expectation: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::{median, ms};

use consortium_analytics::endpoints::EndpointRules;
use consortium_analytics::survival::{survival, Endpoint};
use consortium_analytics::{count_patients, Dimension, Filter, PatientSet, Population, Snapshot};
use consortium_api::db;
use consortium_disclosure::{protect, Outcome, Policy, RecordKeys, Requester};
use consortium_synthetic as demo;
use secrecy::SecretString;

#[tokio::main]
async fn main() {
    let sizes: Vec<u32> = std::env::var("BENCH_PATIENTS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_PATIENTS: comma-separated numbers"))
        .collect();
    println!(
        "| patients | cells | count ms | cell-key first ms | cell-key ms | overhead | exact tier ms | overhead | \
         KM curve ms | KM steps | protect curve ms | overhead | withheld cells (cell-key, exact) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for patients in sizes {
        let consortium = demo::generate(&demo::DemoSpec { seed: 2021, patients }).expect("generate");
        let dir = tempfile::tempdir().expect("temp dir");
        let url = SecretString::from(format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
        let conn = db::connect(&url).await.expect("connect");
        db::migrate(&conn).await.expect("migrate");
        consortium_store::write_trial(&conn, &consortium).await.expect("store");
        let snapshot =
            Snapshot::build(consortium_store::snapshot::read(&conn).await.expect("read"), EndpointRules::default())
                .expect("build");

        // Sites × months: about a thousand cells, plus the total.
        let dims = [Dimension::Site, Dimension::EnrolmentMonth];
        let all = Filter::default();
        let count = median(5, || {
            count_patients(&snapshot, Population::Enrolled, &dims, &all).expect("count");
        });
        let table = count_patients(&snapshot, Population::Enrolled, &dims, &all).expect("count");
        let mut cells: Vec<PatientSet> = table.groups.iter().map(|g| g.patients.clone()).collect();
        cells.push(table.total.clone());
        let policy = Policy::INDUSTRY;
        let keys = RecordKeys::new(b"the benchmark's secret, 32 bytes or more");
        let keyed = Requester { keys: Some(&keys), ..Requester::ANYONE };
        let withheld = |outcomes: Vec<Outcome>| outcomes.iter().filter(|o| !o.is_released()).count();
        let started = Instant::now();
        let perturbed = withheld(protect(&policy, &keyed, &cells).expect("cell-key"));
        let first = started.elapsed();
        let protection = median(5, || {
            protect(&policy, &keyed, &cells).expect("cell-key");
        });
        let exact_policy = Policy { perturbation: None, ..policy };
        let mut exact_withheld = 0;
        let exact = median(5, || {
            exact_withheld = withheld(protect(&exact_policy, &Requester::ANYONE, &cells).expect("within the limit"));
        });

        // One curve over every treated patient, coarsened as industry sees it.
        let curve = median(5, || {
            survival(&snapshot, Endpoint::Os, None, &all, None).expect("curve");
        });
        let binned = survival(&snapshot, Endpoint::Os, None, &all, policy.survival_bin_months).expect("curve");
        let curve_cells = [binned[0].patients.clone(), binned[0].events.clone()];
        let protect_curve = median(5, || {
            protect(&policy, &keyed, &curve_cells).expect("two cells");
        });
        let share = |d: std::time::Duration| d.as_secs_f64() / count.as_secs_f64() * 100.0;
        println!(
            "| {patients} | {} | {} | {} | {} | {:.1}% | {} | {:.0}% | {} | {} | {} | {:.1}% | {perturbed}, {exact_withheld} |",
            cells.len(),
            ms(count),
            ms(first),
            ms(protection),
            share(protection),
            ms(exact),
            share(exact),
            ms(curve),
            binned[0].table.len(),
            ms(protect_curve),
            protect_curve.as_secs_f64() / curve.as_secs_f64() * 100.0,
        );
        conn.close().await.expect("close");
    }
}
