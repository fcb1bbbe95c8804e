//! Two-stage designs: the operating characteristics of any Simon design.

use async_graphql::{InputObject, Object, Result, SimpleObject};
use consortium_analytics::stats::SimonDesign;

use crate::error::ApiError;

/// A Simon two-stage design; the trial's default is 1 of 8 → 5 of 24 (r1 0, n1 8, r 4, n 24).
#[derive(InputObject, Debug, Clone, Copy)]
pub struct TwoStageDesignInput {
    /// Stop after stage 1 if benefits ≤ r1.
    #[graphql(default = 0)]
    pub r1: u32,
    /// Stage-1 evaluable patients.
    #[graphql(default = 8)]
    pub n1: u32,
    /// Negative if total benefits ≤ r.
    #[graphql(default = 4)]
    pub r: u32,
    /// Total evaluable patients.
    #[graphql(default = 24)]
    pub n: u32,
}

impl Default for TwoStageDesignInput {
    fn default() -> Self {
        Self { r1: 0, n1: 8, r: 4, n: 24 }
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

/// Questions about trial designs (no patient data involved).
#[derive(Debug, Default, Clone, Copy)]
pub struct DesignQuery;

#[Object]
impl DesignQuery {
    /// Operating characteristics of a two-stage design at the given true benefit rates.
    async fn operating_characteristics(
        &self,
        #[graphql(default)] design: TwoStageDesignInput,
        #[graphql(validator(min_items = 1, max_items = 101))] benefit_rates: Vec<f64>,
    ) -> Result<Vec<OperatingCharacteristics>> {
        let design = design.design()?;
        let mut rows = Vec::with_capacity(benefit_rates.len());
        for p in benefit_rates {
            let oc = design.operating_characteristics(p).map_err(ApiError::from)?;
            rows.push(OperatingCharacteristics {
                benefit_rate: oc.p,
                probability_early_stop: oc.pet,
                probability_positive: oc.p_positive,
                expected_evaluable: oc.expected_n,
            });
        }
        Ok(rows)
    }
}
