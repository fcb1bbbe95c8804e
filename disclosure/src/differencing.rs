//! The differencing guard: memory across responses.
//!
//! Rules that judge one response at a time are beaten by asking twice: "all patients of
//! a region" and "the same, minus seven named cohorts" differ by the patients of the
//! eighth cohort, and so does everything published about the two groups. The guard
//! keeps every patient set released on one data version (to anyone: partners can pool
//! what they received) in a [`Ledger`], and withholds a cell whose set differs from an
//! earlier released one by 1..k−1 patients (symmetric difference): the two together
//! would single out fewer than k patients. Equal sets are no difference: the same
//! question asked again, or asked another way, is answered alike.
//!
//! Only sets whose sizes differ by less than k, and that share one of their k smallest
//! patients, can be that close: the ledger is indexed by both (see [`Ledger`]) and
//! compares compressed bitmaps (`roaring`) only of the few sets found.

use std::collections::{BTreeMap, HashMap};

use roaring::RoaringBitmap;

use crate::{PatientSet, Policy};

/// Sets are indexed under each of their this many smallest patients (with their size),
/// which finds every near set for any k up to this many (see [`Ledger::near`]).
pub const INDEXED: usize = 16;

/// The patient sets released on one data version, distinct.
///
/// **Index.** If two sets A and B differ by at most d patients, let x be the smallest
/// patient they share: every patient of A below x is in A only, and every patient of B
/// below x in B only, so x is among the d+1 smallest patients of both. Each set is
/// therefore indexed under (patient, size) for its [`INDEXED`] smallest patients, and a
/// query looks up only its own k smallest patients at the 2k−1 sizes within k−1 of its
/// own: a handful of hash lookups, then exact comparisons of the few sets found. Sets
/// that share no patient are near only when both are tiny (sizes adding up to less than
/// k); those are kept by size too.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// Each set with the k of the policy it was released under.
    sets: Vec<(RoaringBitmap, u64)>,
    index: HashMap<(u32, u64), Vec<u32>>,
    tiny: BTreeMap<u64, Vec<u32>>,
    /// The largest k any set was released under.
    max_k: u64,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct sets it holds.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether it holds no set.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Whether `set` is held already.
    pub fn contains(&self, set: &RoaringBitmap) -> bool {
        let Some(first) = set.min() else { return false };
        self.held(first, set.len()).any(|(held, _)| held == set)
    }

    /// Adds `set`, released under a policy of `k` (an empty set says nothing and is
    /// not kept); returns false if it was not added.
    pub fn insert(&mut self, set: RoaringBitmap, k: u64) -> bool {
        if set.is_empty() || self.contains(&set) {
            return false;
        }
        let Ok(position) = u32::try_from(self.sets.len()) else { return false };
        for patient in set.iter().take(INDEXED) {
            self.index.entry((patient, set.len())).or_default().push(position);
        }
        if set.len() < INDEXED as u64 {
            self.tiny.entry(set.len()).or_default().push(position);
        }
        self.sets.push((set, k));
        self.max_k = self.max_k.max(k);
        true
    }

    /// An earlier set that, with `set` released under a policy of `k`, singles out
    /// fewer patients than the larger of `k` and the k it was released under, if any
    /// (partners may pool what they received).
    pub fn near(&self, set: &RoaringBitmap, k: u64) -> Option<&RoaringBitmap> {
        let apart = |(held, held_k): &(RoaringBitmap, u64)| singles_out(set, held, k.max(*held_k));
        // Every set within reach of the strictest policy is looked at.
        let k = k.max(self.max_k);
        if k <= 1 || set.is_empty() {
            return None;
        }
        let n = set.len();
        if k as usize > INDEXED {
            // Beyond the index: every set.
            return self.sets.iter().find(|held| apart(held)).map(|(held, _)| held);
        }
        let sizes = n.saturating_sub(k - 1)..=n.saturating_add(k - 1);
        let sharing = set
            .iter()
            .take(k as usize)
            .flat_map(|patient| sizes.clone().flat_map(move |size| self.held(patient, size)));
        // Disjoint and near: both tiny.
        let disjoint = self
            .tiny
            .range(1..k.saturating_sub(n).max(1))
            .flat_map(|(_, held)| held)
            .filter_map(|&i| self.sets.get(i as usize));
        sharing.chain(disjoint).find(|held| apart(held)).map(|(held, _)| held)
    }

    /// The sets of `size` indexed under `patient`.
    fn held(&self, patient: u32, size: u64) -> impl Iterator<Item = &(RoaringBitmap, u64)> + '_ {
        self.index.get(&(patient, size)).into_iter().flatten().filter_map(|&i| self.sets.get(i as usize))
    }
}

/// Whether `a` and `b` released together single out 1..k−1 patients (their symmetric
/// difference).
pub fn singles_out(a: &RoaringBitmap, b: &RoaringBitmap, k: u64) -> bool {
    if a.len().abs_diff(b.len()) >= k {
        return false;
    }
    let difference = a.len() + b.len() - 2 * a.intersection_len(b);
    (1..k).contains(&difference)
}

/// The bitmap of a patient set.
pub fn bitmap(set: &PatientSet) -> RoaringBitmap {
    // The ids are sorted and distinct by construction.
    RoaringBitmap::from_sorted_iter(set.ids().iter().copied()).unwrap_or_else(|_| set.ids().iter().copied().collect())
}

/// The guard as a rule: `cell` is withheld when it and a set in `released` together
/// single out 1..k−1 patients.
pub fn differencing(policy: &Policy, released: Option<&Ledger>, cell: &PatientSet) -> Option<&'static str> {
    let released = released?;
    if cell.is_empty() || released.is_empty() {
        return None;
    }
    released.near(&bitmap(cell), u64::from(policy.k)).map(|_| crate::rules::reason::DIFFERENCING)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: impl IntoIterator<Item = u32>) -> PatientSet {
        PatientSet::new(ids.into_iter().collect())
    }

    #[test]
    fn a_set_a_few_patients_from_a_released_one_is_near_and_others_are_not() {
        let mut ledger = Ledger::new();
        ledger.insert(bitmap(&set(0..100)), 5);
        // Two patients fewer: those two would be singled out.
        assert!(ledger.near(&bitmap(&set(2..100)), 5).is_some());
        // Two patients swapped for two others: four in the difference.
        assert!(ledger.near(&bitmap(&set(2..102)), 5).is_some());
        // The same set: no difference.
        assert!(ledger.near(&bitmap(&set(0..100)), 5).is_none());
        // Five fewer: at least k apart.
        assert!(ledger.near(&bitmap(&set(5..100)), 5).is_none());
        // Same size, disjoint.
        assert!(ledger.near(&bitmap(&set(1000..1100)), 5).is_none());
        // A requester whose policy has k = 1 is held to the k of the earlier release
        // (partners may pool what they received)...
        assert!(ledger.near(&bitmap(&set(1..100)), 1).is_some());
        // ...and where every release had k = 1, nothing is checked.
        let mut open = Ledger::new();
        open.insert(bitmap(&set(0..100)), 1);
        assert!(open.near(&bitmap(&set(1..100)), 1).is_none());
    }

    #[test]
    fn the_index_finds_what_a_scan_of_every_set_finds() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut ledger = Ledger::new();
        let mut all = Vec::new();
        for _ in 0..300 {
            let size = rng.gen_range(1..40);
            let set = bitmap(&set((0..size).map(|_| rng.gen_range(0..60))));
            let k = [1, 3, 5][rng.gen_range(0..3)];
            if ledger.insert(set.clone(), k) {
                all.push((set, k));
            }
        }
        for k in [1, 2, 3, 5, 10] {
            for _ in 0..300 {
                let size = rng.gen_range(1..40);
                let query = bitmap(&set((0..size).map(|_| rng.gen_range(0..60))));
                let scanned = all.iter().any(|(held, held_k)| singles_out(&query, held, k.max(*held_k)));
                assert_eq!(ledger.near(&query, k).is_some(), scanned, "k = {k}, {query:?}");
            }
        }
    }

    #[test]
    fn the_same_set_is_held_once() {
        let mut ledger = Ledger::new();
        assert!(ledger.insert(bitmap(&set([1, 2, 3])), 5));
        assert!(!ledger.insert(bitmap(&set([3, 2, 1])), 5));
        assert_eq!(ledger.len(), 1);
        assert!(ledger.contains(&bitmap(&set([1, 2, 3]))));
    }

    #[test]
    fn the_rule_names_the_guard_and_needs_a_ledger() {
        let policy = Policy::INDUSTRY;
        let mut ledger = Ledger::new();
        ledger.insert(bitmap(&set(0..50)), 5);
        assert_eq!(differencing(&policy, Some(&ledger), &set(1..50)), Some(crate::rules::reason::DIFFERENCING));
        assert_eq!(differencing(&policy, None, &set(1..50)), None);
        assert_eq!(differencing(&policy, Some(&ledger), &set(0..50)), None);
    }
}
