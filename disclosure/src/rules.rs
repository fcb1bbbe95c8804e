//! The rules that judge one cell on its own. Each returns the reason to withhold, or
//! `None` when the cell may be published as far as that rule goes.

use std::collections::HashMap;

use crate::{PatientSet, Policy, Requester};

/// Why a cell is withheld: stable texts, sent to partners as the value's `rule`.
pub mod reason {
    /// Withheld under the cell-key method: the one reason of every withheld count, so
    /// that it tells nothing about how many patients the cell holds.
    pub const WITHHELD: &str = "WITHHELD: not published under this policy (few patients, or to protect others)";
    /// A count perturbed by the cell-key method (σ and the bound follow in the rule).
    pub const PERTURBED: &str = "PERTURBED: cell-key method";
    /// Not a count or a rate: under the cell-key method only counts and values
    /// computed from the perturbed counts are released.
    pub const PERTURBED_TIER: &str =
        "PERTURBED_TIER: only counts, and values computed from the published counts, are released under this policy";
    /// Fewer than k patients.
    pub const SMALL_CELL: &str = "SMALL_CELL: fewer than k patients";
    /// A zero under a policy where zeros are disclosive.
    pub const ZERO: &str = "ZERO: zeros are withheld under this policy";
    /// Fewer than k patients from outside the requester's own.
    pub const INSIDER: &str = "INSIDER: fewer than k patients outside the requester's own";
    /// One site holds too large a share of the cell.
    pub const DOMINANCE: &str = "DOMINANCE: one site holds too large a share";
    /// Withheld so that another withheld value cannot be recomputed.
    pub const COMPLEMENTARY: &str = "COMPLEMENTARY: would let a withheld value be recomputed";
    /// Differs from a set released earlier by fewer than k patients.
    pub const DIFFERENCING: &str =
        "DIFFERENCING: with an earlier released value it would single out fewer than k patients";
    /// Derived from a withheld count.
    pub const DERIVED: &str = "DERIVED: rests on a withheld count";
    /// A count with noise from the noisy tier's mechanism (its ε follows in the value's rule).
    pub const NOISE: &str = "NOISE: discrete Laplace mechanism (OpenDP)";
    /// Not a count: the noisy tier releases counts only.
    pub const NOISY_TIER: &str = "NOISY_TIER: only counts are released, with noise, in this tier";
}

/// Primary suppression: 1..k−1 patients, or a zero where zeros are disclosive.
pub fn primary(policy: &Policy, cell: &PatientSet) -> Option<&'static str> {
    let n = cell.len();
    if n == 0 {
        return policy.zeros_disclosive.then_some(reason::ZERO);
    }
    (n < policy.k as usize).then_some(reason::SMALL_CELL)
}

/// The insider rule: a requester who knows its own patients learns about the others
/// from the difference, so the others must be at least k.
pub fn insider(policy: &Policy, requester: &Requester<'_>, cell: &PatientSet) -> Option<&'static str> {
    let own = requester.own.filter(|_| policy.insider)?;
    let others = cell.count_outside(own);
    (!cell.is_empty() && others < policy.k as usize).then_some(reason::INSIDER)
}

/// Site dominance: no site may hold more than the policy's share of a cell.
pub fn dominance(policy: &Policy, requester: &Requester<'_>, cell: &PatientSet) -> Option<&'static str> {
    let (share, site_of) = (policy.dominance?, requester.site_of?);
    if cell.is_empty() {
        return None;
    }
    let mut per_site: HashMap<i32, usize> = HashMap::new();
    for id in cell.ids() {
        if let Some(site) = site_of(*id) {
            *per_site.entry(site).or_default() += 1;
        }
    }
    let largest = per_site.values().copied().max().unwrap_or(0);
    (largest as f64 > share * cell.len() as f64).then_some(reason::DOMINANCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: u32) -> PatientSet {
        (0..n).collect()
    }

    #[test]
    fn small_cells_are_withheld_and_zeros_only_when_disclosive() {
        let policy = Policy::INDUSTRY;
        assert_eq!(primary(&policy, &set(4)), Some(reason::SMALL_CELL));
        assert_eq!(primary(&policy, &set(5)), None);
        assert_eq!(primary(&policy, &set(0)), None);
        let strict = Policy { zeros_disclosive: true, ..policy };
        assert_eq!(primary(&strict, &set(0)), Some(reason::ZERO));
    }

    #[test]
    fn a_hospital_needs_k_patients_from_other_sites() {
        let own = set(8);
        let requester = Requester { own: Some(&own), ..Requester::ANYONE };
        // 12 patients, 8 of them the hospital's own: 4 others.
        assert_eq!(insider(&Policy::HOSPITAL, &requester, &set(12)), Some(reason::INSIDER));
        assert_eq!(insider(&Policy::HOSPITAL, &requester, &set(13)), None);
        assert_eq!(insider(&Policy::INDUSTRY, &requester, &set(12)), None);
    }

    #[test]
    fn one_site_may_not_dominate_an_industry_cell() {
        let site_of = |id: u32| Some(if id < 9 { 1 } else { 2 });
        let requester = Requester { site_of: Some(&site_of), ..Requester::ANYONE };
        assert_eq!(dominance(&Policy::INDUSTRY, &requester, &set(10)), Some(reason::DOMINANCE));
        assert_eq!(dominance(&Policy::INDUSTRY, &requester, &set(12)), None);
    }
}
