//! **Decide**: the release step's decision over every cell the plan registered, all
//! together, under the partner's policy, knowing who asks (a hospital's own patients,
//! each patient's site) and what was released before on this data version (the
//! differencing guard's [`ledger`], read up to date first, for exact releases; the
//! cell-key method's [`record_keys`] for perturbed ones). On the noisy tier the noisy
//! values are read (or drawn once) and their charge reckoned against the partner's
//! budget ([`privacy`]): a request the budget does not allow is refused here, and a dry
//! run is told its cost and stops. What the answer adds to the service's memory (new
//! sets, a charge) goes to its record.

pub mod ledger;
pub mod memory;
pub mod privacy;
pub mod record_keys;

use std::sync::Arc;

use chrono::Utc;
use consortium_disclosure::PatientSet;
use consortium_entity::PartnerKind;
use serde_json::json;

use super::context::RequestContext;
use super::release::Asker;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use ledger::NewSets;
use memory::Memory;
use privacy::{Charge, Reckoning};

/// What was decided.
#[derive(Debug)]
pub enum Decided {
    /// Publish; the answer adds `Memory`.
    Publish(Memory),
    /// A dry run: what the request may cost (`extensions.privacyCost`); nothing else.
    Cost(serde_json::Value),
    /// Refused (the ledger is full, the budget does not allow it, the database is down).
    Refused(ApiError),
}

/// Decides the cells `context`'s plan registered, asked by `principal` (see the module
/// documentation).
pub async fn run(
    state: &Arc<AppState>,
    context: &Arc<RequestContext>,
    principal: &Principal,
    dry_run: bool,
) -> Decided {
    let decided = match asker(state, context, principal).await {
        Ok(asker) => decide(state, context, asker, &principal.partner.code).await,
        Err(error) => Err(error),
    };
    let (memory, noisy) = match decided {
        Ok(decided) => decided,
        Err(error) => return Decided::Refused(error),
    };
    let reckoning = match &memory.charge {
        Some(charge) => match state.privacy.reckon(charge).await {
            Ok(reckoning) => Some((reckoning, charge.budget)),
            Err(error) => return Decided::Refused(error),
        },
        None => None,
    };
    if dry_run {
        return Decided::Cost(cost(reckoning.as_ref()));
    }
    if let Some((reckoning, budget)) = reckoning.filter(|(r, budget)| !r.affordable(*budget)) {
        return Decided::Refused(ApiError::BudgetExhausted(reckoning.refusal(budget, state.privacy.window_secs)));
    }
    // Only an answer that is published draws (and keeps) its noisy values.
    let release = context.release();
    if let (Some((mechanism, _)), false) = (release.noise(), noisy.is_empty()) {
        match state.privacy.values(context.snapshot().version, mechanism, noisy).await {
            Ok(values) => release.publish_noisy(values),
            Err(error) => return Decided::Refused(error),
        }
    }
    Decided::Publish(memory)
}

/// The release step's decision over the planned cells, against the ledger of what was
/// released before (read up to date first, for exact releases, when there is anything
/// to decide); returns what the answer adds to memory — the sets it releases exact for
/// the first time and, on the noisy tier, the charge of its noisy values — and the
/// patient sets, with their cells, whose noisy values are to be drawn if it is
/// published.
async fn decide(
    state: &Arc<AppState>,
    context: &Arc<RequestContext>,
    asker: Arc<Asker>,
    partner: &str,
) -> Result<(Memory, Vec<(PatientSet, String)>), ApiError> {
    let release = context.release();
    let version = context.snapshot().version;
    let (k, max_bytes) = (release.k(), state.ledger.max_bytes);
    let no_new_sets = || NewSets { data_version: version, k, seen_through: 0, sets: Vec::new() };
    // The decision runs through the compute queue, off the async workers: one partner's
    // heavy question waits there instead of stalling another's cached answer. A request
    // with nothing to decide does not queue.
    let (shared, request, lane) = (Arc::clone(state), Arc::clone(context), state.lane(partner));
    let (decision, sets) = if !release.has_cells() {
        (release.decide(&asker, None, &state.record_keys)?, no_new_sets())
    } else if release.is_exact() {
        // The differencing guard's ledger serves exact releases only: the cell-key
        // method and the noisy tier need no memory of earlier answers.
        let ledger = state.ledger.synced(version).await?;
        let partner = partner.to_owned();
        state
            .compute(&lane, move || {
                // One read of the partner's ledger for the decision and for what it saw.
                let sets = ledger.sets(&partner);
                let decision = request.release().decide(&asker, Some(&sets), &shared.record_keys)?;
                let new = sets.new_sets(&decision.exact, k, max_bytes)?;
                Ok::<_, ApiError>((decision, new))
            })
            .await??
    } else {
        let decision =
            state.compute(&lane, move || request.release().decide(&asker, None, &shared.record_keys)).await??;
        (decision, no_new_sets())
    };
    let (charge, noisy) = match release.noise() {
        // A request is charged (and priced) by its shape even when it has no noisy
        // value: a question over nobody costs what it costs over everyone.
        Some((mechanism, budget)) if release.asked() > 0 => {
            let noisy: Vec<(PatientSet, String)> = decision
                .noisy
                .into_iter()
                .map(|set| {
                    let cell = privacy::cell(&set, mechanism.epsilon());
                    (set, cell)
                })
                .collect();
            let mut cells: Vec<String> = noisy.iter().map(|(_, cell)| cell.clone()).collect();
            cells.sort_unstable();
            cells.dedup();
            let charge = Charge {
                partner: partner.to_owned(),
                data_version: version,
                epsilon: mechanism.epsilon(),
                budget,
                window_secs: state.privacy.window_secs,
                at: Utc::now().timestamp(),
                cells,
                asked: release.asked(),
            };
            (Some(charge), noisy)
        }
        _ => (None, Vec::new()),
    };
    Ok((Memory { sets: Some(sets), charge }, noisy))
}

/// What a dry run may cost at most from the partner's privacy budget (every value asked
/// for at full price; nothing for a partner not on the noisy tier).
fn cost(reckoning: Option<&(Reckoning, f64)>) -> serde_json::Value {
    match reckoning {
        Some((reckoning, budget)) => json!({
            "epsilon": reckoning.most,
            "epsilonRemaining": (budget - reckoning.spent).max(0.0),
            "affordable": reckoning.affordable(*budget),
        }),
        None => json!({ "epsilon": 0.0, "epsilonRemaining": null, "affordable": true }),
    }
}

/// Who asks, as the release step needs it: a hospital's own patients, each patient's
/// site (for industry's dominance rule), from the principal's view of the snapshot;
/// computed once per data version, row scope and kind of partner.
async fn asker(state: &AppState, context: &RequestContext, principal: &Principal) -> Result<Arc<Asker>, ApiError> {
    let view = state
        .view(Arc::clone(context.snapshot()), &principal.partner.code, |catalogue| principal.row_scope(catalogue))
        .await?;
    let kind = principal.partner.kind;
    state
        .answer(&view, kind, |snapshot, kind| {
            Ok(match kind {
                PartnerKind::Hospital => {
                    Asker { own: Some(snapshot.patient_sites()?.iter().map(|(p, _)| *p).collect()), sites: None }
                }
                PartnerKind::Industry => Asker { own: None, sites: Some(snapshot.patient_sites()?) },
                PartnerKind::Registry | PartnerKind::Academic => Asker::default(),
            })
        })
        .await
}
