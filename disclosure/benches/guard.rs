//! Benchmark of the differencing guard: checking a response's cells against a ledger
//! of sets released earlier on the same data version.
//!
//! `cargo bench -p consortium-disclosure --bench guard` (ledger sizes: `BENCH_LEDGER`,
//! comma-separated, default `1000,10000,100000`). Sets are random subsets of 100,000
//! patients with sizes spread evenly on a log scale from 5 to 5,000 (a ledger of tables
//! of all kinds); a response is 1,000 such cells, and as many again that are an earlier
//! set with two patients removed (the attack, each found). Medians of 5 runs.

// Benchmarks may panic on a broken expectation: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use consortium_disclosure::differencing::bitmap;
use consortium_disclosure::{Ledger, PatientSet};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

const PATIENTS: u32 = 100_000;

fn random_set(rng: &mut ChaCha8Rng) -> RoaringBitmap {
    let size = (5f64.ln() + rng.gen::<f64>() * (5000f64.ln() - 5f64.ln())).exp() as usize;
    bitmap(&PatientSet::new((0..size).map(|_| rng.gen_range(0..PATIENTS)).collect()))
}

fn median_ms(runs: usize, mut work: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_LEDGER")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_LEDGER: comma-separated numbers"))
        .collect();
    println!("| ledger sets | ledger MiB | insert µs per set | 1,000 new cells ms | 1,000 attacks ms | per cell µs |");
    println!("|---|---|---|---|---|---|");
    for size in sizes {
        let mut rng = ChaCha8Rng::seed_from_u64(2021);
        let sets: Vec<RoaringBitmap> = (0..size).map(|_| random_set(&mut rng)).collect();
        let bytes: usize = sets.iter().map(RoaringBitmap::serialized_size).sum();
        let mut ledger = Ledger::new();
        let started = Instant::now();
        for set in &sets {
            ledger.insert(set.clone(), 5);
        }
        let insert_us = started.elapsed().as_secs_f64() * 1e6 / size as f64;
        let fresh: Vec<RoaringBitmap> = (0..1000).map(|_| random_set(&mut rng)).collect();
        let attacks: Vec<RoaringBitmap> = (0..1000)
            .map(|i| {
                let mut near = sets[(i * 7919) % size].clone();
                let drop: Vec<u32> = near.iter().take(2).collect();
                drop.iter().for_each(|id| {
                    near.remove(*id);
                });
                near
            })
            .collect();
        let mut found = 0;
        let new_cells = median_ms(5, || {
            found = fresh.iter().filter(|c| ledger.near(c, 5).is_some()).count();
        });
        let mut caught = 0;
        let attacked = median_ms(5, || {
            caught = attacks.iter().filter(|c| ledger.near(c, 5).is_some()).count();
        });
        assert_eq!(caught, 1000, "every attack is caught");
        assert!(found < 10, "random sets are rarely near: {found}");
        println!(
            "| {size} | {:.1} | {insert_us:.2} | {new_cells:.2} | {attacked:.2} | {:.2} |",
            bytes as f64 / 1048576.0,
            new_cells * 1000.0 / 1000.0
        );
    }
}
