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

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_graphql::OutputType;
use consortium_analytics::stats::clopper_pearson;
use consortium_analytics::{PatientSet, Rate};
use consortium_disclosure::cellkey::PerturbationTable;
use consortium_disclosure::noise::Mechanism;
use consortium_disclosure::rules::reason;
use consortium_disclosure::{protect, Ledger, Outcome, Precision as Decided, RecordKeys, Requester};

use crate::error::ApiError;

pub use policy::{PartnerPolicy, PolicyOverrides};
pub use values::{Count, Measure, Precision, Proportion, Released};

/// A step of a survival curve with fewer than k patients at risk.
pub const FEW_AT_RISK: &str = "FEW_AT_RISK: fewer than k patients at risk";
/// A cell the plan did not see (fails closed).
pub const UNPLANNED: &str = "UNPLANNED: not seen when the response was planned";

enum Phase {
    Planning(HashSet<PatientSet>),
    Publishing { outcomes: HashMap<PatientSet, Outcome>, noisy: HashMap<PatientSet, u64> },
}

/// Whether a value that rests on a count without being one (a survival step's time,
/// a quantile) may be published: made only from counts, so a bare number never is.
#[derive(Debug, Clone, Copy)]
pub struct Gate(Outcome);

impl Gate {
    /// Why what it gates is withheld; `None` when it is published.
    pub fn withheld_by(&self) -> Option<&'static str> {
        self.0.rule().filter(|_| !self.0.is_released())
    }
}

/// The release step of one request.
pub struct Release {
    policy: PartnerPolicy,
    /// Counts asked for while planning, one per question (a set asked twice counts twice).
    asked: AtomicUsize,
    /// The noisy tier's mechanism, when the policy has one.
    mechanism: Option<Mechanism>,
    /// The cell-key method's table, when the policy perturbs.
    perturbation: Option<PerturbationTable>,
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
        let perturbation = policy.policy.perturbation.map(|p| p.table());
        Self { policy, mechanism, perturbation, asked: 0.into(), phase: Mutex::new(Phase::Planning(HashSet::new())) }
    }

    /// How many counts the plan asked for, one per question, with every list at its most
    /// on the noisy tier (see [`Release::list`]).
    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::Relaxed)
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

    /// Whether counts are released perturbed (the cell-key method).
    pub fn is_perturbed(&self) -> bool {
        self.policy.policy.noise.is_none() && self.policy.policy.perturbation.is_some()
    }

    /// Whether a row of a list (a group, a curve, an adverse event, a variant) whose
    /// main count is `main` is listed: under the cell-key method a row whose main count
    /// is withheld is left out, as a row of nobody is, so that whether anyone is in it
    /// is not told either.
    pub fn lists(&self, main: &Count) -> bool {
        main.is_released() || !self.is_perturbed()
    }

    /// The rows of a list (`build` makes them, registering their counts), priced on the
    /// noisy tier from the question's shape rather than from the rows the data has: as
    /// `most_rows` rows (the domain of its grouping) of at most `counts_per_row` counts
    /// each, so that what a request may cost, and whether it is answered, tell nothing
    /// about which groups have anyone.
    pub fn list<T>(&self, most_rows: usize, counts_per_row: usize, build: impl FnOnce() -> Vec<T>) -> Vec<T> {
        if !self.is_noisy() || self.is_publishing() {
            return build();
        }
        // `build` runs without an await, so no other resolver of the request registers
        // counts meanwhile.
        let before = self.asked();
        let rows = build();
        let registered = self.asked().saturating_sub(before);
        self.asked.store(before + registered.max(most_rows.saturating_mul(counts_per_row)), Ordering::Relaxed);
        rows
    }

    /// Whether counts are released exact, so that the differencing guard's ledger
    /// applies (neither noisy nor perturbed).
    pub fn is_exact(&self) -> bool {
        self.policy.policy.noise.is_none() && self.policy.policy.perturbation.is_none()
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
    /// `released` before on this data version (the differencing guard, exact policies)
    /// and the patients' record `keys` (the cell-key method); from now on values are
    /// published. Returns the patient sets of the cells published exact and noisy.
    ///
    /// # Errors
    ///
    /// `QUERY_TOO_COMPLEX` when the request has too many cells to protect; `INTERNAL`
    /// when the policy's noise has no mechanism.
    pub fn decide(&self, asker: &Asker, released: Option<&Ledger>, keys: &RecordKeys) -> Result<Decision, ApiError> {
        if self.policy.policy.noise.is_some() && self.mechanism.is_none() {
            return Err(ApiError::Internal(format!("no noise mechanism for policy {}", self.policy.version)));
        }
        let site_of = |id: u32| {
            let sites = asker.sites.as_ref()?;
            sites.binary_search_by_key(&id, |(p, _)| *p).ok().map(|i| sites[i].1)
        };
        let requester = Requester { own: asker.own.as_ref(), site_of: Some(&site_of), released, keys: Some(keys) };
        self.with_phase(|phase| {
            let Phase::Planning(cells) = phase else { return Ok(Decision::default()) };
            // A fixed order (by size, then members) makes the same question get the same
            // answer however the operations' resolvers happened to interleave.
            let mut cells: Vec<PatientSet> = std::mem::take(cells).into_iter().collect();
            cells.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
            let outcomes = protect(&self.policy.policy, &requester, &cells).map_err(|too| {
                ApiError::TooComplex(format!(
                    "the answer has {} numbers over {} distinct groups of patients, more than disclosure control \
                     can check in one request; ask for fewer groups or a narrower filter",
                    too.cells, too.atoms
                ))
            })?;
            let mut decision = Decision::default();
            for (set, outcome) in cells.iter().zip(&outcomes) {
                match outcome.precision() {
                    Decided::Exact => decision.exact.push(set.clone()),
                    Decided::Noisy => decision.noisy.push(set.clone()),
                    Decided::Suppressed | Decided::Rounded | Decided::Perturbed => {}
                }
            }
            let outcomes = cells.into_iter().zip(outcomes).collect();
            *phase = Phase::Publishing { outcomes, noisy: HashMap::new() };
            Ok(decision)
        })
    }

    /// How many of the request's cells (distinct groups of patients) the decision
    /// published and withheld, for its audit record.
    pub fn tally(&self) -> (i64, i64) {
        self.with_phase(|phase| match phase {
            Phase::Planning(_) => (0, 0),
            Phase::Publishing { outcomes, .. } => {
                let published = outcomes.values().filter(|o| o.is_released()).count() as i64;
                (published, outcomes.len() as i64 - published)
            }
        })
    }

    /// Gives the noisy values of the cells decided noisy, by patient set; a noisy cell
    /// without one is withheld.
    pub fn publish_noisy(&self, values: impl IntoIterator<Item = (PatientSet, u64)>) {
        self.with_phase(|phase| {
            if let Phase::Publishing { noisy, .. } = phase {
                noisy.extend(values);
            }
        });
    }

    /// The outcome of `set`'s cell and, when noisy, its noisy value; `None` while
    /// planning (the cell is registered).
    fn outcome_of(&self, set: &PatientSet) -> Option<(Outcome, Option<u64>)> {
        self.with_phase(|phase| match phase {
            Phase::Planning(cells) => {
                self.asked.fetch_add(1, Ordering::Relaxed);
                if !cells.contains(set) {
                    cells.insert(set.clone());
                }
                None
            }
            Phase::Publishing { outcomes, noisy, .. } => {
                Some(outcomes.get(set).map_or((Outcome::withheld(UNPLANNED), None), |o| (*o, noisy.get(set).copied())))
            }
        })
    }

    /// The released count of `patients`.
    pub fn count(&self, patients: &PatientSet) -> Count {
        // While planning the value is a placeholder nobody sees.
        let Some((outcome, noisy)) = self.outcome_of(patients) else {
            return Count::decided(patients.count(), Outcome::withheld(UNPLANNED));
        };
        if let (Some(value), Some(table), Some(perturbation)) =
            (outcome.perturbed_value(), &self.perturbation, self.policy.policy.perturbation)
        {
            return Count::perturbed(value, perturbation.sd, table.bound(), table.margin95());
        }
        if outcome.precision() != Decided::Noisy {
            return Count::decided(patients.count(), outcome);
        }
        match (noisy, &self.mechanism) {
            (Some(value), Some(mechanism)) => Count::noisy(value, mechanism),
            // A noisy cell without its value fails closed.
            _ => Count::decided(patients.count(), Outcome::withheld(UNPLANNED)),
        }
    }

    /// Whether what rests on `basis` counts may be published exact: when all of them
    /// are exact (a value derived from a perturbed or noisy count is not, a value
    /// derived from nothing is not either).
    pub fn follows(&self, basis: &[&Count]) -> Gate {
        let withheld = basis.iter().map(|c| c.follower()).find(|o| !o.is_released());
        Gate(match (basis.is_empty(), withheld) {
            (true, _) => Outcome::withheld(UNPLANNED),
            // Under the cell-key method one reason, whether the counts are withheld or
            // perturbed: it depends on the policy, not on the data.
            (false, Some(_)) if self.is_perturbed() => Outcome::withheld(reason::PERTURBED_TIER),
            (false, Some(outcome)) => outcome,
            (false, None) => Outcome::EXACT,
        })
    }

    /// A value derived from `basis` counts: published when all of them are exact.
    pub fn derived(&self, value: f64, basis: &[&Count]) -> Measure {
        self.gated(value, self.follows(basis))
    }

    /// A count known only as a number, published under `gate` (a survival rule).
    pub fn gated_count(&self, value: u64, gate: Gate) -> Count {
        Count::decided(value, gate.0)
    }

    /// A value published only under `gate` (a survival rule).
    pub fn gated(&self, value: f64, gate: Gate) -> Measure {
        Measure::decided(value, gate.0)
    }

    /// A value that is not a number (a decision, an agreement) published under `gate`:
    /// `None` when withheld.
    pub fn gated_value<T>(&self, value: T, gate: Gate) -> Option<T> {
        gate.0.is_released().then_some(value)
    }

    /// A rate: numerator and denominator as counts, estimate and interval following them.
    pub fn rate(&self, rate: &Rate) -> Proportion {
        let numerator = self.count(&rate.numerator);
        let denominator = self.count(&rate.denominator);
        if let Some(perturbed) = self.perturbed_rate(&numerator, &denominator) {
            return perturbed;
        }
        let basis = [&numerator, &denominator];
        Proportion {
            estimate: self.derived(rate.estimate, &basis),
            lower95: self.derived(rate.lower, &basis),
            upper95: self.derived(rate.upper, &basis),
            numerator,
            denominator,
        }
    }

    /// A rate that may not exist (nobody to count): under the cell-key method a missing
    /// rate is given as withheld, so that "nobody" is not told apart from "a few".
    pub fn rate_of(&self, rate: Option<&Rate>) -> Option<Proportion> {
        match rate {
            Some(rate) => Some(self.rate(rate)),
            None if self.is_perturbed() => {
                let withheld = || Count::decided(0, Outcome::withheld(reason::WITHHELD));
                let gate = Outcome::withheld(reason::PERTURBED_TIER);
                Some(Proportion {
                    numerator: withheld(),
                    denominator: withheld(),
                    estimate: Measure::decided(0.0, gate),
                    lower95: Measure::decided(0.0, gate),
                    upper95: Measure::decided(0.0, gate),
                })
            }
            None => {
                // On the noisy tier a rate of nobody is priced as its two counts, so
                // that the price does not tell that nobody is there.
                if self.is_noisy() && !self.is_publishing() {
                    self.asked.fetch_add(2, Ordering::Relaxed);
                }
                None
            }
        }
    }

    /// A value computed from the published values of `basis` perturbed counts (a
    /// life-table survival, a withdrawal count, the time a row of them ends): published
    /// as perturbed when every one of them is, withheld otherwise (and from no basis).
    pub fn from_published<T: OutputType>(&self, value: T, basis: &[&Count]) -> Released<T> {
        let published = !basis.is_empty() && basis.iter().all(|c| c.perturbed_value().is_some());
        match published {
            true => Released::computed_from_perturbed(value),
            false => Released::decided(value, Outcome::withheld(reason::PERTURBED_TIER)),
        }
    }

    /// A rate computed from its published, perturbed counts (the numerator capped at
    /// the denominator); `None` unless both are perturbed and published.
    fn perturbed_rate(&self, numerator: &Count, denominator: &Count) -> Option<Proportion> {
        let (Some(&events), Some(&n)) = (numerator.perturbed_value(), denominator.perturbed_value()) else {
            return None;
        };
        let computed = clopper_pearson(events.min(n), n, 0.95).ok()?;
        Some(Proportion {
            estimate: Measure::computed_from_perturbed(computed.estimate),
            lower95: Measure::computed_from_perturbed(computed.lower),
            upper95: Measure::computed_from_perturbed(computed.upper),
            numerator: numerator.clone(),
            denominator: denominator.clone(),
        })
    }

    /// The gate of a survival step with `at_risk` patients at risk on a curve whose
    /// patient count is `curve`: both must be publishable.
    pub fn at_risk_gate(&self, curve: &Count, at_risk: u64) -> Gate {
        let follows = self.follows(&[curve]);
        if !follows.0.is_released() || at_risk >= self.k() {
            follows
        } else {
            Gate(Outcome::withheld(FEW_AT_RISK))
        }
    }
}
