//! Two-stage designs: the operating characteristics of any Simon design.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use consortium_analytics::stats::{SimonDesign, StatsError};

use super::access::{principal, state};
use crate::error::ApiError;

/// A Simon two-stage design; the trial's default is 1 of 8 → 5 of 24 (r1 0, n1 8, r 4, n 24).
#[derive(InputObject, Debug, Clone, Copy)]
pub struct TwoStageDesignInput {
    /// Stop after stage 1 if benefits ≤ r1.
    #[graphql(default_with = "TRIAL.r1")]
    pub r1: u32,
    /// Stage-1 evaluable patients.
    #[graphql(default_with = "TRIAL.n1")]
    pub n1: u32,
    /// Negative if total benefits ≤ r.
    #[graphql(default_with = "TRIAL.r")]
    pub r: u32,
    /// Total evaluable patients.
    #[graphql(default_with = "TRIAL.n")]
    pub n: u32,
}

/// The protocol's rule, as the input's defaults.
const TRIAL: TwoStageDesignInput = {
    let rule = consortium_entity::protocol::TWO_STAGE;
    TwoStageDesignInput { r1: rule.r1 as u32, n1: rule.n1 as u32, r: rule.r as u32, n: rule.n as u32 }
};

impl Default for TwoStageDesignInput {
    fn default() -> Self {
        TRIAL
    }
}

impl TwoStageDesignInput {
    /// The validated design.
    pub fn design(&self) -> Result<SimonDesign, ApiError> {
        Ok(SimonDesign::new(self.r1.into(), self.n1.into(), self.r.into(), self.n.into())?)
    }
}

/// What a design does at an assumed true benefit rate.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct OperatingCharacteristics {
    /// Assumed true benefit rate.
    pub benefit_rate: f64,
    /// Probability of early termination after stage 1.
    pub probability_early_stop: f64,
    /// Probability the cohort is declared positive.
    pub probability_positive: f64,
    /// Expected number of evaluable patients.
    pub expected_evaluable: f64,
}

/// Sets its flag when dropped: tells blocking work that nobody waits for it any more.
struct StopWhenDropped(Arc<AtomicBool>);

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Most benefit rates one question may ask about.
const MAX_RATES: usize = 101;

/// Questions about trial designs (no patient data involved).
#[derive(Debug, Default, Clone, Copy)]
pub struct DesignQuery;

/// The complexity of an operating-characteristics question: its cost grows with the
/// rates asked about and with stage 1 × stage 2 of the design (binomial terms summed).
/// A design over the size limit is refused by the resolver, with a message saying so.
fn cost(design: &TwoStageDesignInput, rates: usize) -> usize {
    let limit = SimonDesign::MAX_N as usize;
    let (n1, n) = ((design.n1 as usize).min(limit), (design.n as usize).min(limit));
    let terms = n1.saturating_mul(n.saturating_sub(n1)) / 100;
    rates.saturating_mul(1 + terms)
}

#[Object]
impl DesignQuery {
    /// Operating characteristics of a two-stage design (n at most 250) at up to 101
    /// assumed true benefit rates.
    #[graphql(complexity = "cost(&design, benefit_rates.len()) + child_complexity")]
    async fn operating_characteristics(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] design: TwoStageDesignInput,
        benefit_rates: Vec<f64>,
    ) -> Result<Vec<OperatingCharacteristics>> {
        if benefit_rates.is_empty() || benefit_rates.len() > MAX_RATES {
            let count = benefit_rates.len();
            return Err(ApiError::BadUserInput(format!("give 1 to {MAX_RATES} benefit rates, not {count}")).into());
        }
        let design = design.design()?;
        // Sums of binomial terms: CPU work, kept off the async workers. If the request is
        // dropped (its deadline passed), the guard stops the loop at the next rate.
        let stopped = Arc::new(AtomicBool::new(false));
        let _stop_when_dropped = StopWhenDropped(Arc::clone(&stopped));
        let state = state(ctx)?;
        let lane = state.lane(&principal(ctx)?.partner.code);
        let computed = state
            .compute(&lane, move || {
                let mut rows = Vec::with_capacity(benefit_rates.len());
                for p in benefit_rates {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    rows.push(design.operating_characteristics(p)?);
                }
                Ok::<_, StatsError>(rows)
            })
            .await?;
        Ok(computed
            .map_err(ApiError::from)?
            .into_iter()
            .map(|oc| OperatingCharacteristics {
                benefit_rate: oc.p,
                probability_early_stop: oc.pet,
                probability_positive: oc.p_positive,
                expected_evaluable: oc.expected_n,
            })
            .collect())
    }
}
