//! The release step (*protect*): every number a partner receives is decided here.
//!
//! One [`Release`] serves one HTTP request, a batch included, and protects all of its
//! numbers together, in two phases:
//!
//! 1. **Plan.** The request's operations are executed once; every count they would
//!    publish is registered here with the set of patients behind it (resolvers get
//!    placeholders, and this response is thrown away).
//! 2. **Decide.** [`consortium_disclosure::protect`] runs over all registered cells at
//!    once, under the partner's policy and knowing who asks (a hospital's own
//!    patients, each patient's site) and what was released before on this data version
//!    (the differencing guard's ledger, [`crate::pipeline::decide::ledger`]), so that cells of different
//!    fields constrain each other: a total in one field and its groups in another are
//!    one table.
//! 3. **Publish.** The operations are executed again (their answers are cached) and
//!    every value is built from the decision about its cell.
//!
//! The GraphQL number types ([`Count`], [`Measure`], [`Proportion`]) can only be built
//! by the methods below, so no resolver can publish a number that skipped this step.

pub mod policy;
mod values;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use consortium_analytics::{PatientSet, Rate};
use consortium_disclosure::noise::Mechanism;
use consortium_disclosure::{protect, Ledger, Outcome, Precision as Decided, Requester};

use crate::error::ApiError;

pub use policy::{PartnerPolicy, PolicyOverrides};
pub use values::{Count, Measure, Precision, Proportion, Released};

/// A step of a survival curve with fewer than k patients at risk.
pub const FEW_AT_RISK: &str = "FEW_AT_RISK: fewer than k patients at risk";
/// A cell the plan did not see (fails closed).
pub const UNPLANNED: &str = "UNPLANNED: not seen when the response was planned";

enum Phase {
    Planning(HashMap<u64, PatientSet>),
    Publishing { outcomes: HashMap<u64, Outcome>, noisy: HashMap<u64, u64> },
}

/// The release step of one request.
pub struct Release {
    policy: PartnerPolicy,
    /// Counts asked for while planning, one per question (a set asked twice counts twice).
    asked: std::sync::atomic::AtomicUsize,
    /// The noisy tier's mechanism, when the policy has one.
    mechanism: Option<Mechanism>,
    phase: Mutex<Phase>,
}

/// What the release step decided for the cells of a request.
#[derive(Debug, Default)]
pub struct Decision {
    /// The patient sets of the cells published exact.
    pub exact: Vec<PatientSet>,
    /// The patient sets of the cells published with noise: their values are to be
    /// given by [`Release::publish_noisy`].
    pub noisy: Vec<PatientSet>,
}

impl std::fmt::Debug for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Release").field("policy", &self.policy).finish_non_exhaustive()
    }
}

fn fingerprint(set: &PatientSet) -> u64 {
    let mut hasher = DefaultHasher::new();
    set.hash(&mut hasher);
    hasher.finish()
}

/// Who asks, as the rules need it: the patients a hospital knows, each patient's site.
#[derive(Debug, Default)]
pub struct Asker {
    /// A hospital's own patients.
    pub own: Option<PatientSet>,
    /// `(patient, site)`, sorted by patient, for the dominance rule.
    pub sites: Option<Vec<(u32, i32)>>,
}

impl Release {
    /// A release under `policy`, planning.
    pub fn new(policy: PartnerPolicy) -> Self {
        // The ε of a policy was checked when the overrides were read.
        let mechanism = policy.policy.noise.and_then(|noise| noise.mechanism().ok());
        Self { policy, mechanism, asked: 0.into(), phase: Mutex::new(Phase::Planning(HashMap::new())) }
    }

    /// How many counts the plan asked for, one per question.
    pub fn asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The noisy tier's mechanism and budget, when the policy puts the partner on it.
    pub fn noise(&self) -> Option<(&Mechanism, f64)> {
        let budget = self.policy.policy.noise?.budget;
        Some((self.mechanism.as_ref()?, budget))
    }

    /// The version of the policy releases are made under.
    pub fn policy_version(&self) -> &str {
        &self.policy.version
    }

    /// Whether the partner is on the noisy tier.
    pub fn is_noisy(&self) -> bool {
        self.policy.policy.noise.is_some()
    }

    /// The smallest count the policy publishes.
    pub fn k(&self) -> u64 {
        u64::from(self.policy.policy.k)
    }

    /// The survival time bins of the policy, in months.
    pub fn survival_bin_months(&self) -> Option<f64> {
        self.policy.policy.survival_bin_months
    }

    /// Whether the request's operations run a second time, to publish what was
    /// decided (the one phase flag of a request).
    pub fn is_publishing(&self) -> bool {
        self.with_phase(|phase| matches!(phase, Phase::Publishing { .. }))
    }

    /// Whether the plan registered any cell (there is something to decide).
    pub fn has_cells(&self) -> bool {
        self.with_phase(|phase| matches!(phase, Phase::Planning(cells) if !cells.is_empty()))
    }

    fn with_phase<T>(&self, f: impl FnOnce(&mut Phase) -> T) -> T {
        match self.phase.lock() {
            Ok(mut guard) => f(&mut guard),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Decides every cell registered while planning, for `asker`, knowing the sets
    /// `released` before on this data version (the differencing guard); from now on
    /// values are published. Returns the patient sets of the cells published, exact and
    /// noisy.
    ///
    /// # Errors
    ///
    /// `QUERY_TOO_COMPLEX` when the request has too many cells to protect; `INTERNAL`
    /// when the policy's noise has no mechanism.
    pub fn decide(&self, asker: &Asker, released: Option<&Ledger>) -> Result<Decision, ApiError> {
        if self.policy.policy.noise.is_some() && self.mechanism.is_none() {
            return Err(ApiError::Internal(format!("no noise mechanism for policy {}", self.policy.version)));
        }
        let site_of = |id: u32| {
            let sites = asker.sites.as_ref()?;
            sites.binary_search_by_key(&id, |(p, _)| *p).ok().map(|i| sites[i].1)
        };
        let requester = Requester { own: asker.own.as_ref(), site_of: Some(&site_of), released };
        self.with_phase(|phase| {
            let Phase::Planning(cells) = phase else { return Ok(Decision::default()) };
            // A fixed order (by size, then members) makes the same question get the same
            // answer however the operations' resolvers happened to interleave.
            let mut cells: Vec<(u64, PatientSet)> = std::mem::take(cells).into_iter().collect();
            cells.sort_by(|a, b| (a.1.len(), &a.1).cmp(&(b.1.len(), &b.1)));
            let sets: Vec<PatientSet> = cells.iter().map(|(_, s)| s.clone()).collect();
            let outcomes = protect(&self.policy.policy, &requester, &sets).map_err(|too| {
                ApiError::TooComplex(format!(
                    "the answer has {} numbers over {} distinct groups of patients, more than disclosure control \
                     can check in one request; ask for fewer groups or a narrower filter",
                    too.cells, too.atoms
                ))
            })?;
            let mut decision = Decision::default();
            for ((_, set), outcome) in cells.iter().zip(&outcomes) {
                match outcome.precision {
                    Decided::Exact => decision.exact.push(set.clone()),
                    Decided::Noisy => decision.noisy.push(set.clone()),
                    Decided::Suppressed | Decided::Rounded => {}
                }
            }
            let outcomes = cells.into_iter().map(|(f, _)| f).zip(outcomes).collect();
            *phase = Phase::Publishing { outcomes, noisy: HashMap::new() };
            Ok(decision)
        })
    }

    /// Gives the noisy values of the cells decided noisy, by patient set; a noisy cell
    /// without one is withheld.
    pub fn publish_noisy(&self, values: impl IntoIterator<Item = (PatientSet, u64)>) {
        self.with_phase(|phase| {
            if let Phase::Publishing { noisy, .. } = phase {
                noisy.extend(values.into_iter().map(|(set, value)| (fingerprint(&set), value)));
            }
        });
    }

    /// The outcome of `set`'s cell and, when noisy, its noisy value; `None` while
    /// planning (the cell is registered).
    fn outcome_of(&self, set: &PatientSet) -> Option<(Outcome, Option<u64>)> {
        let key = fingerprint(set);
        self.with_phase(|phase| match phase {
            Phase::Planning(cells) => {
                self.asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                cells.entry(key).or_insert_with(|| set.clone());
                None
            }
            Phase::Publishing { outcomes, noisy } => Some(
                outcomes.get(&key).map_or((Outcome::withheld(UNPLANNED), None), |o| (*o, noisy.get(&key).copied())),
            ),
        })
    }

    /// The released count of `patients`.
    pub fn count(&self, patients: &PatientSet) -> Count {
        // While planning the value is a placeholder nobody sees.
        let Some((outcome, noisy)) = self.outcome_of(patients) else {
            return Count::decided(patients.count(), Outcome::withheld(UNPLANNED));
        };
        if outcome.precision != Decided::Noisy {
            return Count::decided(patients.count(), outcome);
        }
        match (noisy, &self.mechanism) {
            (Some(value), Some(mechanism)) => Count::noisy(value, mechanism),
            // A noisy cell without its value fails closed.
            _ => Count::decided(patients.count(), Outcome::withheld(UNPLANNED)),
        }
    }

    /// A value derived from `basis` counts: published when all of them are.
    pub fn derived(&self, value: f64, basis: &[&Count]) -> Measure {
        let outcome = basis.iter().map(|c| c.follower()).find(|o| !o.is_released()).unwrap_or(Outcome::EXACT);
        Measure::decided(value, outcome)
    }

    /// A whole number derived from `basis` counts (patients still needed by a
    /// two-stage rule): published when all of them are.
    pub fn derived_count(&self, value: u64, basis: &[&Count]) -> Count {
        let outcome = basis.iter().map(|c| c.follower()).find(|o| !o.is_released()).unwrap_or(Outcome::EXACT);
        Count::decided(value, outcome)
    }

    /// A count known only as a number, published under `gate` (a survival rule).
    pub fn gated_count(&self, value: u64, gate: Outcome) -> Count {
        Count::decided(value, gate)
    }

    /// A value published only under `gate` (a survival rule).
    pub fn gated(&self, value: f64, gate: Outcome) -> Measure {
        Measure::decided(value, gate)
    }

    /// A rate: numerator and denominator as counts, estimate and interval following them.
    pub fn rate(&self, rate: &Rate) -> Proportion {
        let numerator = self.count(&rate.numerator);
        let denominator = self.count(&rate.denominator);
        let basis = [&numerator, &denominator];
        Proportion {
            estimate: self.derived(rate.estimate, &basis),
            lower95: self.derived(rate.lower, &basis),
            upper95: self.derived(rate.upper, &basis),
            numerator,
            denominator,
        }
    }

    /// The gate of a survival step with `at_risk` patients at risk on a curve whose
    /// patient count is `curve`: both must be publishable.
    pub fn at_risk_gate(&self, curve: &Count, at_risk: u64) -> Outcome {
        let follows = curve.follower();
        if !follows.is_released() {
            follows
        } else if at_risk >= self.k() {
            Outcome::EXACT
        } else {
            Outcome::withheld(FEW_AT_RISK)
        }
    }
}
