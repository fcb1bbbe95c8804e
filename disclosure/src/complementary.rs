//! Complementary (secondary) suppression: after the primary rules, withhold further
//! cells until no withheld cell can be recomputed from the published ones.
//!
//! **Model.** Every cell is a count of a set of patients. Split the patients of a
//! response into *atoms*: patients who belong to exactly the same cells. Each cell is
//! then the sum of its atoms, a 0/1 vector over atoms, and everything a reader can
//! derive linearly from published cells (totals minus subtotals, two groupings of the
//! same data, funnel steps, numerators behind rates) is a combination of their vectors.
//! A withheld cell is *pinned* exactly when its vector lies in the span of the published
//! cells' vectors (a rank test). The atoms come from the actual patient sets, so every
//! relation the data have is seen, coincidental ones included (which can only withhold
//! more, never less).
//!
//! **Method**, in the manner of Statistics Norway's GaussSuppression: one pass of
//! Gaussian elimination over the cells in order of preference (see [`complete`]),
//! publishing a cell only if it pins no withheld one. Arithmetic is exact, modulo the
//! prime 2⁶¹ − 1.

use std::collections::HashMap;

use crate::PatientSet;

const PRIME: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(PRIME)) as u64
}

fn sub(a: u64, b: u64) -> u64 {
    if a >= b {
        a - b
    } else {
        a + PRIME - b
    }
}

fn inverse(a: u64) -> u64 {
    // Fermat: a^(p−2).
    let (mut base, mut exponent, mut result) = (a, PRIME - 2, 1u64);
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exponent >>= 1;
    }
    result
}

/// A row-echelon basis of vectors over the atoms, each row normalised to 1 at its pivot.
#[derive(Default)]
struct Basis {
    rows: Vec<(usize, Vec<u64>)>,
}

impl Basis {
    /// `vector` minus its projection on the basis (all zero when the basis spans it).
    fn residue(&self, mut vector: Vec<u64>) -> Vec<u64> {
        for (pivot, row) in &self.rows {
            eliminate(&mut vector, *pivot, row);
        }
        vector
    }
}

/// Removes from `vector` its component along `row` (normalised to 1 at `pivot`).
fn eliminate(vector: &mut [u64], pivot: usize, row: &[u64]) {
    let factor = vector[pivot];
    if factor != 0 {
        for (v, r) in vector.iter_mut().zip(row) {
            if *r != 0 {
                *v = sub(*v, mul(factor, *r));
            }
        }
    }
}

/// `vector` scaled to 1 at its first non-zero entry, with that entry's index; `None`
/// for the zero vector.
fn normalised(mut vector: Vec<u64>) -> Option<(usize, Vec<u64>)> {
    let pivot = vector.iter().position(|v| *v != 0)?;
    let scale = inverse(vector[pivot]);
    for v in vector.iter_mut() {
        *v = mul(*v, scale);
    }
    Some((pivot, vector))
}

/// The cells as 0/1 vectors over the atoms of their patients.
///
/// A patient's atom is the set of cells it belongs to. Rather than building that set
/// per patient, each patient accumulates a 128-bit signature of its cells (one pass over
/// the cells, no allocation per patient); patients with equal signatures share an atom.
/// Two different sets of cells would need equal 128-bit signatures to be merged.
fn vectors(cells: &[PatientSet]) -> (Vec<Vec<u64>>, Vec<usize>) {
    let Some(largest) = cells.iter().filter_map(|c| c.ids().last()).max() else {
        return (vec![Vec::new(); cells.len()], Vec::new());
    };
    let mut signature = vec![0u128; *largest as usize + 1];
    for (index, cell) in cells.iter().enumerate() {
        let mark = cell_mark(index);
        for id in cell.ids() {
            let slot = &mut signature[*id as usize];
            *slot = slot.wrapping_add(mark);
        }
    }
    let mut atoms: HashMap<u128, usize> = HashMap::new();
    let mut sizes: Vec<usize> = Vec::new();
    for sig in signature.iter().filter(|s| **s != 0) {
        let next = atoms.len();
        let atom = *atoms.entry(*sig).or_insert(next);
        if atom == sizes.len() {
            sizes.push(0);
        }
        sizes[atom] += 1;
    }
    let mut vectors = vec![vec![0u64; atoms.len()]; cells.len()];
    for (index, cell) in cells.iter().enumerate() {
        for id in cell.ids() {
            if let Some(atom) = atoms.get(&signature[*id as usize]) {
                vectors[index][*atom] = 1;
            }
        }
    }
    (vectors, sizes)
}

/// A pseudo-random 128-bit mark of cell `index` (two rounds of SplitMix64): the sum of
/// the marks of a set of cells identifies the set.
fn cell_mark(index: usize) -> u128 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let low = mix(index as u64);
    let high = mix(low ^ 0xD1B5_4A32_D192_ED03);
    (u128::from(high) << 64) | u128::from(low)
}

/// The most work one response may ask of [`complete`]: cells × atoms, the size of the
/// elimination. A response over it is refused rather than protected slowly.
pub const MAX_WORK: usize = 4_000_000;

/// A response too large to protect: its cells × atoms exceed [`MAX_WORK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// Cells in the response.
    pub cells: usize,
    /// Atoms they split the patients into.
    pub atoms: usize,
}

/// Withholds further cells (setting `withheld[i]`) so that no withheld cell, and no
/// group of 1..k−1 patients singled out by the cells (an *atom*: the patients of one
/// published cell minus another, say), can be recomputed from the published ones;
/// returns the cells it withheld.
///
/// Greedy, in one pass: the cells not yet withheld are offered for publication from the
/// largest to the smallest (a large cell, a total, is worth more to the reader; a small
/// one costs little to withhold). Each offered cell is reduced against the basis of
/// the cells published so far; it is published unless that would bring the residue of
/// some withheld cell to zero (pin it), in which case it is withheld too and its own
/// residue joins the ones to protect. The invariant "no withheld cell lies in the span
/// of the published ones" holds after every step, so it holds at the end. A withheld
/// cell with no patients is never protected: a zero tells nothing the policy did not
/// already allow to be told.
pub fn complete(cells: &[PatientSet], withheld: &mut [bool], k: usize) -> Result<Vec<usize>, TooLarge> {
    let (vectors, sizes) = vectors(cells);
    if cells.len().saturating_mul(sizes.len()) > MAX_WORK {
        return Err(TooLarge { cells: cells.len(), atoms: sizes.len() });
    }
    let mut basis = Basis::default();
    let mut protected: Vec<Vec<u64>> =
        (0..cells.len()).filter(|&i| withheld[i] && !cells[i].is_empty()).map(|i| vectors[i].clone()).collect();
    // Small atoms: a difference of published cells must not single them out.
    protected.extend(sizes.iter().enumerate().filter(|(_, n)| (1..k).contains(*n)).map(|(atom, _)| {
        let mut unit = vec![0u64; sizes.len()];
        unit[atom] = 1;
        unit
    }));
    let mut offered: Vec<usize> = (0..cells.len()).filter(|&i| !withheld[i]).collect();
    offered.sort_by(|&a, &b| cells[b].len().cmp(&cells[a].len()).then_with(|| cells[a].cmp(&cells[b])));
    let mut added = Vec::new();
    for index in offered {
        let Some((pivot, row)) = normalised(basis.residue(vectors[index].clone())) else {
            // Already implied by what is published: publishing it reveals nothing new.
            continue;
        };
        // Eliminating `row` zeroes a residue exactly when the residue is a multiple of it.
        let pins = protected.iter().any(|residue| {
            let factor = residue[pivot];
            factor != 0 && residue.iter().zip(&row).all(|(v, r)| *v == mul(factor, *r))
        });
        if pins {
            withheld[index] = true;
            added.push(index);
            protected.push(basis.residue(vectors[index].clone()));
        } else {
            for residue in protected.iter_mut() {
                eliminate(residue, pivot, &row);
            }
            basis.rows.push((pivot, row));
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(ids: std::ops::Range<u32>) -> PatientSet {
        ids.collect()
    }

    #[test]
    fn a_total_beside_one_withheld_group_withholds_another_group() {
        // Groups of 3, 10 and 20 patients and their total of 33.
        let cells = [cell(0..3), cell(3..13), cell(13..33), cell(0..33)];
        let mut withheld = [true, false, false, false];
        let added = complete(&cells, &mut withheld, 5).expect("small");
        // The smallest other group goes: the total is kept, and 3 + 10 stays unknown.
        assert_eq!(added, vec![1]);
        assert_eq!(withheld, [true, true, false, false]);
    }

    #[test]
    fn two_groupings_of_the_same_patients_cannot_pin_a_hidden_cell() {
        // By sex (F 0..20, M 20..40) and by sex × region (F-N 0..2, F-S 2..20, M-N 20..30,
        // M-S 30..40): F-N is withheld; F minus F-S would give it back.
        let cells = [cell(0..20), cell(20..40), cell(0..2), cell(2..20), cell(20..30), cell(30..40)];
        let mut withheld = [false, false, true, false, false, false];
        complete(&cells, &mut withheld, 5).expect("small");
        assert!(withheld[0] || withheld[3], "{withheld:?}");
    }

    #[test]
    fn all_and_all_but_a_small_group_are_not_both_published() {
        // 35 patients, and the same minus a cohort of 3: the difference is 3 patients.
        let cells = [cell(0..35), cell(3..35)];
        let mut withheld = [false, false];
        assert_eq!(complete(&cells, &mut withheld, 5).expect("small"), vec![1]);
    }

    #[test]
    fn nothing_more_is_withheld_when_nothing_can_be_recomputed() {
        let cells = [cell(0..3), cell(3..13), cell(13..33)];
        let mut withheld = [true, false, false];
        assert!(complete(&cells, &mut withheld, 5).expect("small").is_empty());
    }
}
