//! Consistent perturbation: the cell-key method.
//!
//! The method of the Australian Bureau of Statistics' TableBuilder (Thompson, Broadfoot
//! and Elazar 2013), as extended by Giessing and Tent (Destatis 2019) and the R packages
//! `cellKey` and `ptable` of sdcTools:
//!
//! * every patient has a secret **record key**, a keyed hash (HMAC-SHA-256 under the
//!   deployment's secret, [`RecordKeys`]) of their stable id;
//! * a cell's **cell key** is the sum of its patients' record keys (modulo 2⁶⁴), read as
//!   a number uniform on [0, 1);
//! * the cell key selects the cell's **perturbation** from a fixed table
//!   ([`Perturbation`]): a symmetric distribution on the integers −D..=D with variance
//!   σ², of maximum entropy (p(d) ∝ exp(−d²/2σ²), the `ptable` construction).
//!
//! The same patients get the same perturbation however they are asked — through any
//! filter, grouping, measure, request or data version — so asking again teaches nothing,
//! and the difference of two overlapping answers carries the noise of both. Nothing is
//! remembered, nothing is budgeted, and one partner's questions cannot change another
//! partner's answers.
//!
//! A cell is published perturbed only when it rests on at least k patients *and* its
//! perturbed value is at least k (see [`crate::release`]): a withheld cell may rest on
//! any number of patients, so withholding is no bound a partner can use, while every
//! published count still rests on k or more.

use std::sync::RwLock;

use ring::hmac;

use crate::PatientSet;

/// The perturbation of a policy: its standard deviation σ, in patients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Perturbation {
    /// σ of the perturbation.
    pub sd: f64,
}

impl Perturbation {
    /// The largest perturbation, D = ⌈6σ⌉ (p(D)/p(0) = e⁻¹⁸): published, so that
    /// partners know how far a value may be from its count.
    pub fn bound(&self) -> i64 {
        (6.0 * self.sd).ceil().max(1.0) as i64
    }

    /// The table: each perturbation −D..=D with its cumulative probability.
    pub fn table(&self) -> PerturbationTable {
        let bound = self.bound();
        let weights: Vec<f64> = (-bound..=bound).map(|d| (-(d * d) as f64 / (2.0 * self.sd * self.sd)).exp()).collect();
        let total: f64 = weights.iter().sum();
        let mut cumulative = 0.0;
        let cdf = weights
            .iter()
            .map(|w| {
                cumulative += w / total;
                cumulative
            })
            .collect();
        PerturbationTable { bound, cdf }
    }
}

/// A perturbation table: the cumulative distribution of the perturbations −D..=D.
#[derive(Debug, Clone, PartialEq)]
pub struct PerturbationTable {
    bound: i64,
    cdf: Vec<f64>,
}

impl PerturbationTable {
    /// The perturbation a cell key selects.
    pub fn perturbation(&self, cell_key: u64) -> i64 {
        // The cell key's top 53 bits as a number uniform on [0, 1).
        let u = (cell_key >> 11) as f64 / (1u64 << 53) as f64;
        let index = self.cdf.partition_point(|&c| c <= u).min(self.cdf.len() - 1);
        index as i64 - self.bound
    }

    /// The largest perturbation, D.
    pub fn bound(&self) -> i64 {
        self.bound
    }

    /// The perturbation is within ± this with probability at least 95%.
    pub fn margin95(&self) -> u64 {
        let centre = self.bound as usize;
        (0..=self.bound as usize)
            .find(|&m| {
                let below = if centre > m { self.cdf[centre - m - 1] } else { 0.0 };
                self.cdf[centre + m] - below >= 0.95
            })
            .unwrap_or(self.bound as usize) as u64
    }
}

/// The patients' record keys under the deployment's secret, computed once per patient
/// and kept (8 bytes a patient).
pub struct RecordKeys {
    key: hmac::Key,
    /// Record keys by patient id; 0 is not computed yet.
    known: RwLock<Vec<u64>>,
}

impl std::fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordKeys").finish_non_exhaustive()
    }
}

impl RecordKeys {
    /// The record keys under `secret` (at least 32 random bytes, kept by the deployment).
    pub fn new(secret: &[u8]) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, secret), known: RwLock::new(Vec::new()) }
    }

    fn record_key(&self, id: u32) -> u64 {
        let tag = hmac::sign(&self.key, &id.to_le_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&tag.as_ref()[..8]);
        u64::from_le_bytes(bytes)
    }

    /// The cell key of `cell`: the sum of its patients' record keys, modulo 2⁶⁴.
    pub fn cell_key(&self, cell: &PatientSet) -> u64 {
        let ids = cell.ids();
        let Some(&largest) = ids.last() else { return 0 };
        let kept = {
            let known = self.known.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            ids.iter().try_fold(0u64, |sum, &id| {
                known.get(id as usize).filter(|key| **key != 0).map(|key| sum.wrapping_add(*key))
            })
        };
        if let Some(sum) = kept {
            return sum;
        }
        let mut known = self.known.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.len() <= largest as usize {
            known.resize(largest as usize + 1, 0);
        }
        ids.iter().fold(0u64, |sum, &id| {
            if known[id as usize] == 0 {
                known[id as usize] = self.record_key(id);
            }
            sum.wrapping_add(known[id as usize])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_symmetric_bounded_and_has_the_asked_variance() {
        let table = Perturbation { sd: 2.0 }.table();
        assert_eq!(table.bound(), 12);
        let probability = |i: usize| table.cdf[i] - if i == 0 { 0.0 } else { table.cdf[i - 1] };
        let variance: f64 = (0..table.cdf.len()).map(|i| probability(i) * ((i as i64 - 12) as f64).powi(2)).sum();
        assert!((variance - 4.0).abs() < 0.01, "variance {variance}");
        for i in 0..12 {
            assert!((probability(i) - probability(24 - i)).abs() < 1e-12);
        }
        assert_eq!(table.margin95(), 4);
        assert_eq!(table.perturbation(0), -12);
        assert_eq!(table.perturbation(u64::MAX), 12);
    }

    #[test]
    fn the_same_patients_get_the_same_perturbation_however_asked() {
        let keys = RecordKeys::new(b"a secret of the deployment, 32 bytes or more");
        let a = PatientSet::new(vec![3, 9, 27, 81]);
        let b = PatientSet::new(vec![81, 27, 9, 3]);
        assert_eq!(keys.cell_key(&a), keys.cell_key(&b));
        let other = RecordKeys::new(b"another deployment's secret, 32 bytes or more");
        assert_ne!(keys.cell_key(&a), other.cell_key(&a));
        assert_ne!(keys.cell_key(&a), keys.cell_key(&PatientSet::new(vec![3, 9, 27])));
    }

    #[test]
    fn perturbations_of_many_cells_follow_the_table() {
        let keys = RecordKeys::new(b"a secret of the deployment, 32 bytes or more");
        let table = Perturbation { sd: 2.0 }.table();
        let draws: Vec<i64> =
            (0..20_000u32).map(|i| table.perturbation(keys.cell_key(&PatientSet::new(vec![i, i + 20_000])))).collect();
        let mean = draws.iter().sum::<i64>() as f64 / draws.len() as f64;
        let variance = draws.iter().map(|d| (*d as f64 - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert!((variance - 4.0).abs() < 0.3, "variance {variance}");
    }
}
