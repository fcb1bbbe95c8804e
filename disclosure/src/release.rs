//! The release step for one response: every cell perturbed by the cell-key method, or
//! through the exact rules and complementary suppression across them all.

use crate::cellkey::PerturbationTable;
use crate::differencing;
use crate::rules::{self, reason};
use crate::{complementary, PatientSet, Policy, Requester};

/// How a released number was protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Published as computed.
    Exact,
    /// Withheld.
    Suppressed,
    /// Published rounded.
    Rounded,
    /// Published with calibrated noise.
    Noisy,
    /// Published with the cell-key method's consistent perturbation.
    Perturbed,
}

/// What the release step decided for one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    precision: Precision,
    rule: Option<&'static str>,
    /// The value to publish, when it is not the computed one (perturbed).
    value: Option<u64>,
}

impl Outcome {
    /// Published as computed.
    pub const EXACT: Outcome = Outcome { precision: Precision::Exact, rule: None, value: None };

    /// Published with noise (the noisy tier).
    pub const NOISY: Outcome = Outcome { precision: Precision::Noisy, rule: Some(reason::NOISE), value: None };

    /// Withheld by `rule`.
    pub fn withheld(rule: &'static str) -> Outcome {
        Outcome { precision: Precision::Suppressed, rule: Some(rule), value: None }
    }

    /// Published as `value`, the count perturbed by the cell-key method.
    fn perturbed(value: u64) -> Outcome {
        Outcome { precision: Precision::Perturbed, rule: Some(reason::PERTURBED), value: Some(value) }
    }

    /// How the value is protected.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The rule that withheld or altered it.
    pub fn rule(&self) -> Option<&'static str> {
        self.rule
    }

    /// The perturbed value to publish in place of the count.
    pub fn perturbed_value(&self) -> Option<u64> {
        self.value
    }

    /// Whether the value may be shown.
    pub fn is_released(&self) -> bool {
        self.precision != Precision::Suppressed
    }
}

/// Decides every cell of one response.
///
/// **Under the cell-key method** (the default of every kind, see [`crate::cellkey`]) a
/// cell is published perturbed when it rests on at least k patients, passes the insider
/// and dominance rules, and its perturbed value is at least k; otherwise it is withheld
/// under one reason, [`reason::WITHHELD`], whichever rule withheld it, so that no
/// withheld value carries a bound (a withheld cell may rest on none, few or many
/// patients). Nothing depends on earlier answers.
///
/// **Exact** (a policy with the perturbation off): the single-cell rules first (primary,
/// insider, dominance, and the differencing guard against what was released before),
/// then complementary suppression over all cells together, so that neither a withheld
/// cell nor a small group singled out by the cells can be recomputed from anything else
/// the response publishes. This protects each answer, not combinations of answers.
///
/// Under a policy with noise every cell is published noisy instead (see
/// [`crate::noise`]): differential privacy protects small cells and differences
/// between answers, so none is withheld.
///
/// # Errors
///
/// [`complementary::TooLarge`] when an exact response has too many cells to protect.
pub fn protect(
    policy: &Policy,
    requester: &Requester<'_>,
    cells: &[PatientSet],
) -> Result<Vec<Outcome>, complementary::TooLarge> {
    if policy.noise.is_some() {
        return Ok(vec![Outcome::NOISY; cells.len()]);
    }
    if let Some(perturbation) = policy.perturbation {
        let table = perturbation.table();
        return Ok(cells.iter().map(|cell| perturb(policy, requester, &table, cell)).collect());
    }
    let mut outcomes: Vec<Outcome> = cells
        .iter()
        .map(|cell| {
            rules::primary(policy, cell)
                .or_else(|| rules::insider(policy, requester, cell))
                .or_else(|| rules::dominance(policy, requester, cell))
                .or_else(|| differencing::differencing(policy, requester.released, cell))
                .map_or(Outcome::EXACT, Outcome::withheld)
        })
        .collect();
    let mut withheld: Vec<bool> = outcomes.iter().map(|o| !o.is_released()).collect();
    for index in complementary::complete(cells, &mut withheld, policy.k as usize)? {
        outcomes[index] = Outcome::withheld(reason::COMPLEMENTARY);
    }
    Ok(outcomes)
}

/// One cell under the cell-key method; without record keys every cell is withheld.
fn perturb(policy: &Policy, requester: &Requester<'_>, table: &PerturbationTable, cell: &PatientSet) -> Outcome {
    let withheld = Outcome::withheld(reason::WITHHELD);
    let k = i64::from(policy.k.max(1));
    let Some(keys) = requester.keys else { return withheld };
    let ruled = (cell.len() as i64) < k
        || rules::insider(policy, requester, cell).is_some()
        || rules::dominance(policy, requester, cell).is_some();
    if ruled {
        return withheld;
    }
    let value = cell.len() as i64 + table.perturbation(keys.cell_key(cell));
    if value < k {
        withheld
    } else {
        Outcome::perturbed(value as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Noise;

    #[test]
    fn under_noise_every_cell_is_noisy_and_none_is_withheld() {
        let cells = [PatientSet::new(vec![7]), PatientSet::new((0..40).collect()), PatientSet::new((1..40).collect())];
        let exact = Policy { perturbation: None, ..Policy::INDUSTRY };
        let exact = protect(&exact, &Requester::ANYONE, &cells).expect("protect");
        assert!(!exact[0].is_released(), "a cell of one patient is withheld without noise");
        let noisy = Policy { noise: Some(Noise { epsilon: 0.5, budget: 10.0 }), ..Policy::INDUSTRY };
        let outcomes = protect(&noisy, &Requester::ANYONE, &cells).expect("protect");
        assert_eq!(outcomes, vec![Outcome::NOISY; 3]);
    }

    #[test]
    fn under_the_cell_key_method_small_cells_and_zeros_share_one_reason_and_counts_are_perturbed() {
        let keys = crate::cellkey::RecordKeys::new(b"a secret of the deployment, 32 bytes or more");
        let requester = Requester { keys: Some(&keys), ..Requester::ANYONE };
        let cells: Vec<PatientSet> = vec![PatientSet::empty(), PatientSet::new(vec![7, 8])]
            .into_iter()
            .chain((0..200).map(|i| PatientSet::new((i..i + 40).collect())))
            .collect();
        let outcomes = protect(&Policy::INDUSTRY, &requester, &cells).expect("protect");
        assert_eq!(outcomes[0], Outcome::withheld(reason::WITHHELD));
        assert_eq!(outcomes[1], Outcome::withheld(reason::WITHHELD));
        let values: Vec<i64> = outcomes[2..].iter().filter_map(|o| o.perturbed_value()).map(|v| v as i64).collect();
        assert_eq!(values.len(), 200, "40 patients are far above k and the bound");
        assert!(values.iter().all(|v| (v - 40).abs() <= 12), "{values:?}");
        assert!(values.iter().any(|v| *v != 40), "counts are perturbed");
        // Asked again, in another order: the same values.
        let again = protect(&Policy::INDUSTRY, &requester, &cells[2..]).expect("protect");
        assert_eq!(again, outcomes[2..].to_vec());
        // No record keys: fails closed.
        let without = protect(&Policy::INDUSTRY, &Requester::ANYONE, &cells[2..4]).expect("protect");
        assert_eq!(without, vec![Outcome::withheld(reason::WITHHELD); 2]);
    }
}
