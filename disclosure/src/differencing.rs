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
//! Only sets whose sizes differ by less than k can be that close, so the ledger is
//! indexed by size and compares compressed bitmaps (`roaring`) only within that band.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use crate::{PatientSet, Policy};

/// The patient sets released on one data version, distinct, by size.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    by_size: BTreeMap<u64, Vec<RoaringBitmap>>,
    sets: usize,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct sets it holds.
    pub fn len(&self) -> usize {
        self.sets
    }

    /// Whether it holds no set.
    pub fn is_empty(&self) -> bool {
        self.sets == 0
    }

    /// Whether `set` is held already.
    pub fn contains(&self, set: &RoaringBitmap) -> bool {
        self.by_size.get(&set.len()).is_some_and(|held| held.contains(set))
    }

    /// Adds `set` (released); returns false if it was held already.
    pub fn insert(&mut self, set: RoaringBitmap) -> bool {
        if self.contains(&set) {
            return false;
        }
        self.by_size.entry(set.len()).or_default().push(set);
        self.sets += 1;
        true
    }

    /// An earlier set that differs from `set` by 1..k−1 patients, if any.
    pub fn near(&self, set: &RoaringBitmap, k: u64) -> Option<&RoaringBitmap> {
        if k <= 1 {
            return None;
        }
        let n = set.len();
        let band = n.saturating_sub(k - 1)..=n.saturating_add(k - 1);
        self.by_size.range(band).flat_map(|(_, held)| held).find(|held| singles_out(set, held, k))
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
        ledger.insert(bitmap(&set(0..100)));
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
        // k = 1 checks nothing.
        assert!(ledger.near(&bitmap(&set(1..100)), 1).is_none());
    }

    #[test]
    fn the_same_set_is_held_once() {
        let mut ledger = Ledger::new();
        assert!(ledger.insert(bitmap(&set([1, 2, 3]))));
        assert!(!ledger.insert(bitmap(&set([3, 2, 1]))));
        assert_eq!(ledger.len(), 1);
        assert!(ledger.contains(&bitmap(&set([1, 2, 3]))));
    }

    #[test]
    fn the_rule_names_the_guard_and_needs_a_ledger() {
        let policy = Policy::INDUSTRY;
        let mut ledger = Ledger::new();
        ledger.insert(bitmap(&set(0..50)));
        assert_eq!(differencing(&policy, Some(&ledger), &set(1..50)), Some(crate::rules::reason::DIFFERENCING));
        assert_eq!(differencing(&policy, None, &set(1..50)), None);
        assert_eq!(differencing(&policy, Some(&ledger), &set(0..50)), None);
    }
}
