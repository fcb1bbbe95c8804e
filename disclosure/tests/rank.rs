//! Property test of the release step: random patients, random groupings of them (with
//! totals and subtotals) in one response. After protection no published cell rests on
//! 1..k−1 patients, and solving the linear system of the published cells never pins a
//! withheld one, nor a group of 1..k−1 patients the cells single out (checked here independently: floating-point elimination over
//! per-patient indicator vectors, not the crate's exact elimination over atoms).

use consortium_disclosure::{protect, PatientSet, Policy, Requester};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rank of `rows` (floating point, partial pivoting).
fn rank(mut rows: Vec<Vec<f64>>) -> usize {
    let columns = rows.first().map_or(0, Vec::len);
    let mut rank = 0;
    for column in 0..columns {
        let Some(pivot) = (rank..rows.len()).max_by(|&a, &b| rows[a][column].abs().total_cmp(&rows[b][column].abs()))
        else {
            break;
        };
        if rows[pivot][column].abs() < 1e-9 {
            continue;
        }
        rows.swap(rank, pivot);
        for row in 0..rows.len() {
            if row != rank {
                let factor = rows[row][column] / rows[rank][column];
                if factor != 0.0 {
                    let pivot_row = rows[rank].clone();
                    for (value, p) in rows[row].iter_mut().zip(&pivot_row).skip(column) {
                        *value -= factor * p;
                    }
                }
            }
        }
        rank += 1;
    }
    rank
}

fn indicator(cell: &PatientSet, patients: usize) -> Vec<f64> {
    (0..patients as u32).map(|id| if cell.contains(id) { 1.0 } else { 0.0 }).collect()
}

/// Cells of a random response: the total, and groupings by random subsets of three
/// attributes, each with all its groups (empty ones included).
fn random_response(rng: &mut ChaCha8Rng) -> (usize, Vec<PatientSet>) {
    let patients = rng.gen_range(15..120);
    let levels = [rng.gen_range(2..4), rng.gen_range(2..5), rng.gen_range(2..3)];
    let attributes: Vec<[u32; 3]> = (0..patients)
        .map(|_| [rng.gen_range(0..levels[0]), rng.gen_range(0..levels[1]), rng.gen_range(0..levels[2])])
        .collect();
    let mut cells = vec![(0..patients as u32).collect::<PatientSet>()];
    let groupings: [&[usize]; 6] = [&[0], &[1], &[2], &[0, 1], &[0, 2], &[1, 2]];
    for grouping in groupings {
        if !rng.gen_bool(0.5) {
            continue;
        }
        let mut groups: std::collections::BTreeMap<Vec<u32>, Vec<u32>> = Default::default();
        for (id, a) in attributes.iter().enumerate() {
            groups.entry(grouping.iter().map(|&d| a[d]).collect()).or_default().push(id as u32);
        }
        cells.extend(groups.into_values().map(PatientSet::new));
    }
    (patients, cells)
}

#[test]
fn protected_responses_publish_no_small_cell_and_pin_no_withheld_one() {
    let policy = Policy::INDUSTRY;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut withheld_seen = 0;
    for case in 0..300 {
        let (patients, cells) = random_response(&mut rng);
        let outcomes = protect(&policy, &Requester::ANYONE, &cells).expect("small enough");
        let published: Vec<Vec<f64>> =
            cells.iter().zip(&outcomes).filter(|(_, o)| o.is_released()).map(|(c, _)| indicator(c, patients)).collect();
        let base = rank(published.clone());
        // Groups of patients the cells single out (the same cells, and no others): none
        // of 1..k−1 patients may be pinned either.
        let mut atoms: std::collections::BTreeMap<Vec<usize>, Vec<u32>> = Default::default();
        for id in 0..patients as u32 {
            let signature: Vec<usize> = (0..cells.len()).filter(|&c| cells[c].contains(id)).collect();
            atoms.entry(signature).or_default().push(id);
        }
        for members in atoms.values().filter(|m| (1..policy.k as usize).contains(&m.len())) {
            let mut with = published.clone();
            with.push(indicator(&PatientSet::new(members.clone()), patients));
            assert_eq!(rank(with), base + 1, "case {case}: a group of {} patients is pinned", members.len());
        }
        for (cell, outcome) in cells.iter().zip(&outcomes) {
            if outcome.is_released() {
                assert!(cell.is_empty() || cell.len() >= policy.k as usize, "case {case}: {} published", cell.len());
            } else if !cell.is_empty() {
                withheld_seen += 1;
                let mut with = published.clone();
                with.push(indicator(cell, patients));
                assert_eq!(rank(with), base + 1, "case {case}: a withheld cell of {} is pinned", cell.len());
            }
        }
    }
    assert!(withheld_seen > 100, "the cases exercise suppression: {withheld_seen}");
}
