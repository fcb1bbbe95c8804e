//! The set of patients behind a number: sorted, distinct patient ids. The measures
//! (`consortium-analytics`) produce them with every count; the release rules
//! (`consortium-disclosure`) reason about them (which patients two cells share, how many
//! of them a hospital knows), so both depend on this crate and neither on the other.
//!
//! Sorted vectors are compact for the sizes one response holds and make union,
//! intersection and difference linear merges; the ledger of the next layer can store
//! them as compressed bitmaps without changing this type's meaning.

#![warn(missing_docs)]

/// Distinct patient ids, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PatientSet(Vec<u32>);

impl PatientSet {
    /// The set of `ids`, in any order, duplicates allowed.
    pub fn new(mut ids: Vec<u32>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        Self(ids)
    }

    /// The empty set.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// How many patients.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// How many patients, as a count.
    pub fn count(&self) -> u64 {
        self.0.len() as u64
    }

    /// Whether there is no patient.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ids, ascending.
    pub fn ids(&self) -> &[u32] {
        &self.0
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// The patients of either set.
    pub fn union(&self, other: &PatientSet) -> PatientSet {
        let (a, b) = (&self.0, &other.0);
        let mut ids = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => {
                    ids.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    ids.push(b[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    ids.push(a[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        ids.extend_from_slice(&a[i..]);
        ids.extend_from_slice(&b[j..]);
        Self(ids)
    }

    /// How many patients are in this set but not in `other`.
    pub fn count_outside(&self, other: &PatientSet) -> usize {
        self.0.iter().filter(|id| !other.contains(**id)).count()
    }
}

impl FromIterator<u32> for PatientSet {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        Self::new(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_sorted_and_distinct() {
        let set = PatientSet::new(vec![5, 1, 5, 3]);
        assert_eq!(set.ids(), &[1, 3, 5]);
        assert!(set.contains(3) && !set.contains(2));
        assert_eq!(set.union(&PatientSet::new(vec![2, 3])).ids(), &[1, 2, 3, 5]);
        assert_eq!(set.count_outside(&PatientSet::new(vec![1, 9])), 2);
    }
}
