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
    /// Exact or withheld (rounding and noise are later tiers).
    pub precision: Precision,
    /// The rule that withheld it.
    pub rule: Option<&'static str>,
}

impl Outcome {
    /// Published as computed.
    pub const EXACT: Outcome = Outcome { precision: Precision::Exact, rule: None };

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
/// dominance, and the differencing guard against what was released before), then complementary suppression over all cells together, so that neither
/// a withheld cell nor a small group singled out by the cells can be recomputed from
/// anything else the response publishes.
///
/// # Errors
///
/// [`complementary::TooLarge`] when the response has too many cells to protect.
pub fn protect(
    policy: &Policy,
    requester: &Requester<'_>,
    cells: &[PatientSet],
) -> Result<Vec<Outcome>, complementary::TooLarge> {
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
