//! The released values of the schema: every number derived from patients reaches a
//! partner as one of these, and they can only be made here, by [`super::Release`].
//!
//! Their fields are private and they have no conversion from a bare number, so a
//! resolver cannot publish a count or a rate without asking the release step for it.

use async_graphql::{Enum, OutputType, SimpleObject};
use consortium_disclosure::noise::Mechanism;
use consortium_disclosure::rules::reason;
use consortium_disclosure::{Outcome, Precision as Decided};

/// How a released number was protected.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Published as computed.
    Exact,
    /// Withheld: the value is null and `rule` says why.
    Suppressed,
    /// Published rounded.
    Rounded,
    /// Published with calibrated noise.
    Noisy,
    /// Published with the cell-key method's consistent perturbation (a count within
    /// the bound its `rule` names of the count computed; a rate computed from such
    /// counts).
    Perturbed,
}

impl From<Decided> for Precision {
    fn from(p: Decided) -> Self {
        match p {
            Decided::Exact => Precision::Exact,
            Decided::Suppressed => Precision::Suppressed,
            Decided::Rounded => Precision::Rounded,
            Decided::Noisy => Precision::Noisy,
            Decided::Perturbed => Precision::Perturbed,
        }
    }
}

/// A number released to a partner: a count of patients (`Count`) or a value derived
/// from patients, such as a rate, a bound, a survival probability, a time or a quantile
/// (`Measure`). `value` is null when withheld; `precision` says how the number was
/// protected, and `rule` which rule withheld or altered it. A noisy count (the noisy
/// tier) names its mechanism and ε in `rule` and its 95% error bound in `margin95`; a
/// perturbed count names σ and the bound of its perturbation in `rule` and its 95%
/// bound in `margin95`.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(concrete(name = "Count", params(u64)), concrete(name = "Measure", params(f64)))]
pub struct Released<T: OutputType> {
    /// The number; null when withheld.
    value: Option<T>,
    /// How it was protected.
    precision: Precision,
    /// The rule that withheld or altered it (null when exact).
    rule: Option<String>,
    /// With noise or perturbation: it is within ± this with probability 95% (null
    /// otherwise).
    margin95: Option<T>,
}

/// A released number of patients.
pub type Count = Released<u64>;

/// A released value derived from patients.
pub type Measure = Released<f64>;

/// A proportion with its exact (Clopper–Pearson) two-sided 95% interval. Under the
/// cell-key method the estimate and interval are computed from the published
/// (perturbed) numerator and denominator.
#[derive(SimpleObject, Debug, Clone)]
pub struct Proportion {
    /// Patients with the outcome.
    pub(super) numerator: Count,
    /// Patients counted.
    pub(super) denominator: Count,
    /// `numerator / denominator`.
    pub(super) estimate: Measure,
    /// Lower bound of the 95% interval.
    pub(super) lower95: Measure,
    /// Upper bound of the 95% interval.
    pub(super) upper95: Measure,
}

impl Proportion {
    /// Patients with the outcome.
    pub fn numerator_count(&self) -> &Count {
        &self.numerator
    }

    /// Patients counted.
    pub fn denominator_count(&self) -> &Count {
        &self.denominator
    }
}

impl<T: OutputType> Released<T> {
    pub(super) fn decided(value: T, outcome: Outcome) -> Self {
        Self {
            value: outcome.is_released().then_some(value),
            precision: outcome.precision().into(),
            rule: outcome.rule().map(str::to_owned),
            margin95: None,
        }
    }

    /// Whether the value is published.
    pub fn is_released(&self) -> bool {
        self.value.is_some()
    }

    /// The published value.
    pub fn published(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The outcome of what rests on this value: exact on an exact value; withheld on a
    /// withheld one, and on a noisy one (the noisy tier releases counts only).
    pub(super) fn follower(&self) -> Outcome {
        match self.precision {
            Precision::Exact => Outcome::EXACT,
            Precision::Noisy => Outcome::withheld(reason::NOISY_TIER),
            Precision::Perturbed => Outcome::withheld(reason::PERTURBED_TIER),
            Precision::Suppressed | Precision::Rounded => Outcome::withheld(reason::DERIVED),
        }
    }

    /// A value computed from published perturbed counts (a rate and its interval, a
    /// life table).
    pub(super) fn computed_from_perturbed(value: T) -> Self {
        Self {
            value: Some(value),
            precision: Precision::Perturbed,
            rule: Some(format!("{}: computed from published perturbed counts", reason::PERTURBED)),
            margin95: None,
        }
    }
}

impl Count {
    /// The published value of a perturbed count.
    pub(super) fn perturbed_value(&self) -> Option<&u64> {
        self.value.as_ref().filter(|_| self.precision == Precision::Perturbed)
    }

    /// A count perturbed by the cell-key method, published as `value`, within ±`bound`
    /// of the count (±`margin95` with probability 95%).
    pub(super) fn perturbed(value: u64, sd: f64, bound: i64, margin95: u64) -> Self {
        Self {
            value: Some(value),
            precision: Precision::Perturbed,
            rule: Some(format!("{}, σ = {sd}, within ±{bound}", reason::PERTURBED)),
            margin95: Some(margin95),
        }
    }

    /// A count published with noise by `mechanism`.
    pub(super) fn noisy(value: u64, mechanism: &Mechanism) -> Self {
        Self {
            value: Some(value),
            precision: Precision::Noisy,
            rule: Some(format!("{}, ε = {}", reason::NOISE, mechanism.epsilon())),
            margin95: Some(mechanism.margin95()),
        }
    }
}
