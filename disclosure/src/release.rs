//! The release step for one response: every cell through the rules, then complementary
//! suppression across them all.

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
}

/// What the release step decided for one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Exact, noisy or withheld.
    pub precision: Precision,
    /// The rule that withheld it.
    pub rule: Option<&'static str>,
}

impl Outcome {
    /// Published as computed.
    pub const EXACT: Outcome = Outcome { precision: Precision::Exact, rule: None };

    /// Published with noise (the noisy tier).
    pub const NOISY: Outcome = Outcome { precision: Precision::Noisy, rule: Some(reason::NOISE) };

    /// Withheld by `rule`.
    pub fn withheld(rule: &'static str) -> Outcome {
        Outcome { precision: Precision::Suppressed, rule: Some(rule) }
    }

    /// Whether the value may be shown.
    pub fn is_released(&self) -> bool {
        self.precision != Precision::Suppressed
    }
}

/// Decides every cell of one response: the single-cell rules first (primary, insider,
/// dominance, and the differencing guard against what was released before), then
/// complementary suppression over all cells together, so that neither
/// a withheld cell nor a small group singled out by the cells can be recomputed from
/// anything else the response publishes.
///
/// Under a policy with noise every cell is published noisy instead (see
/// [`crate::noise`]): differential privacy protects small cells and differences
/// between answers, so none is withheld.
///
/// # Errors
///
/// [`complementary::TooLarge`] when the response has too many cells to protect.
pub fn protect(
    policy: &Policy,
    requester: &Requester<'_>,
    cells: &[PatientSet],
) -> Result<Vec<Outcome>, complementary::TooLarge> {
    if policy.noise.is_some() {
        return Ok(vec![Outcome::NOISY; cells.len()]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Noise;

    #[test]
    fn under_noise_every_cell_is_noisy_and_none_is_withheld() {
        let cells = [PatientSet::new(vec![7]), PatientSet::new((0..40).collect()), PatientSet::new((1..40).collect())];
        let exact = protect(&Policy::INDUSTRY, &Requester::ANYONE, &cells).expect("protect");
        assert!(!exact[0].is_released(), "a cell of one patient is withheld without noise");
        let noisy = Policy { noise: Some(Noise { epsilon: 0.5, budget: 10.0 }), ..Policy::INDUSTRY };
        let outcomes = protect(&noisy, &Requester::ANYONE, &cells).expect("protect");
        assert_eq!(outcomes, vec![Outcome::NOISY; 3]);
    }
}
