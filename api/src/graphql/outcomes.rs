//! Outcome questions: response with exact intervals, two-stage cohort monitoring, and
//! Kaplan–Meier survival.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use consortium_analytics::monitoring::{cohort_monitoring, CohortMonitoring as Monitoring};
use consortium_analytics::stats::Decision;
use consortium_analytics::survival::{survival, SurvivalCurve as Curve, SurvivalGrouping, TreatmentGroup as Group};
use consortium_analytics::{response_summary, Catalogue, Filter, ResponseGroup as Response};
use consortium_entity::OverallResponse as Bor;

use super::access::Ask;
use super::enums::{CohortStatus, Dimension, OverallResponse, SurvivalEndpoint, TreatmentGroup};
use super::inputs::PatientFilter;
use super::types::{Cohort, GroupKey};
use crate::auth::Scope;
use crate::error::ApiError;
use crate::pipeline::release::{Count, Measure, Proportion, Release};

/// Patients with one best overall response.
#[derive(SimpleObject, Debug, Clone)]
pub struct BestResponseCount {
    /// The response.
    pub response: OverallResponse,
    /// Evaluable patients whose best response it is.
    pub patients: Count,
}

/// Response of one group of treated patients.
#[derive(SimpleObject, Debug, Clone)]
pub struct ResponseGroup {
    /// The group's keys (empty for the overall row).
    pub keys: Vec<GroupKey>,
    /// Treated patients.
    pub treated: Count,
    /// Evaluable for the week-16 endpoint.
    pub evaluable: Count,
    /// Clinical benefit / disease control at week 16 among evaluable (null if none).
    pub clinical_benefit: Option<Proportion>,
    /// Objective response (CR or PR) among evaluable (null if none).
    pub objective_response: Option<Proportion>,
    /// Best overall response distribution among evaluable.
    pub best_response: Vec<BestResponseCount>,
}

impl ResponseGroup {
    fn new(
        group: &Response,
        dimensions: &[consortium_analytics::Dimension],
        catalogue: &Catalogue,
        release: &Release,
    ) -> Self {
        Self {
            keys: GroupKey::list(dimensions, &group.keys, catalogue),
            treated: release.count(&group.treated),
            evaluable: release.count(&group.evaluable),
            clinical_benefit: release.rate_of(group.benefit.as_ref()),
            objective_response: release.rate_of(group.objective_response.as_ref()),
            best_response: Bor::all()
                .into_iter()
                .zip(&group.best_response)
                .map(|(response, patients)| BestResponseCount {
                    response: response.into(),
                    patients: release.count(patients),
                })
                .collect(),
        }
    }
}

/// Response summary: per group and overall.
#[derive(SimpleObject, Debug, Clone)]
pub struct ResponseSummary {
    /// The grouping dimensions.
    pub group_by: Vec<Dimension>,
    /// Non-empty groups, sorted by key.
    pub groups: Vec<ResponseGroup>,
    /// All treated patients selected.
    pub overall: ResponseGroup,
}

/// Evaluable patients and benefits of one stage.
#[derive(SimpleObject, Debug, Clone)]
pub struct StageCounts {
    /// Evaluable patients in the stage.
    pub evaluable: Count,
    /// Of those, with clinical benefit.
    pub benefits: Count,
}

impl StageCounts {
    fn new(s: &consortium_analytics::monitoring::StageCounts, release: &Release) -> Self {
        Self { evaluable: release.count(&s.evaluable), benefits: release.count(&s.benefits) }
    }
}

/// Kind of two-stage decision.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// Stage 1 recruiting, undecided.
    RecruitingStage1,
    /// Stage 1 passed: open stage 2.
    ContinueToStage2,
    /// Close for futility after stage 1.
    ClosedForFutility,
    /// Stage 2 recruiting, undecided.
    RecruitingStage2,
    /// Positive: move to an expansion cohort.
    Positive,
    /// Negative: close after stage 2.
    Negative,
}

/// The decision a cohort's data support under its design. It is derived from the stage
/// counts, so it is published only where they are published exact: otherwise `kind`
/// and `isFinal` are null and `rule` says why.
#[derive(SimpleObject, Debug, Clone)]
pub struct TwoStageDecision {
    /// The decision; null when withheld.
    pub kind: Option<DecisionKind>,
    /// While recruiting: evaluable patients still needed to complete the stage
    /// (derived from the stage counts, and withheld with them).
    pub evaluable_needed: Option<Count>,
    /// While recruiting: further benefits needed to pass the stage (or to be positive).
    pub benefits_needed: Option<Count>,
    /// Whether no further patient can change the decision; null when withheld.
    pub is_final: Option<bool>,
    /// Why the decision is withheld (null when published).
    pub rule: Option<String>,
}

impl TwoStageDecision {
    fn new(d: Decision, basis: &[&Count], release: &Release) -> Self {
        let (kind, evaluable_needed, benefits_needed) = match d {
            Decision::RecruitingStage1 { evaluable_needed, benefits_needed_to_continue } => {
                (DecisionKind::RecruitingStage1, Some(evaluable_needed), Some(benefits_needed_to_continue))
            }
            Decision::ContinueToStage2 => (DecisionKind::ContinueToStage2, None, None),
            Decision::ClosedForFutility => (DecisionKind::ClosedForFutility, None, None),
            Decision::RecruitingStage2 { evaluable_needed, benefits_needed_for_positive } => {
                (DecisionKind::RecruitingStage2, Some(evaluable_needed), Some(benefits_needed_for_positive))
            }
            Decision::Positive => (DecisionKind::Positive, None, None),
            Decision::Negative => (DecisionKind::Negative, None, None),
        };
        let gate = release.follows(basis);
        // Whether the counts still needed exist at all tells the decision: withheld
        // with it, they are null.
        let needed = |n: Option<u64>| n.filter(|_| gate.withheld_by().is_none()).map(|n| release.gated_count(n, gate));
        Self {
            kind: release.gated_value(kind, gate),
            evaluable_needed: needed(evaluable_needed),
            benefits_needed: needed(benefits_needed),
            is_final: release.gated_value(d.is_final(), gate),
            rule: gate.withheld_by().map(str::to_owned),
        }
    }
}

/// One cohort's progress through its two-stage rule, next to its recorded status.
#[derive(SimpleObject, Debug, Clone)]
pub struct CohortMonitoring {
    /// The cohort (with its design and recorded status).
    pub cohort: Cohort,
    /// The decision the data support.
    pub decision: TwoStageDecision,
    /// Whether the recorded status agrees with the decision (false: a mismatch to
    /// review); null when the decision is withheld.
    pub status_agrees: Option<bool>,
    /// Recorded status (as on the cohort).
    pub recorded_status: CohortStatus,
    /// Enrolled patients.
    pub enrolled: Count,
    /// Treated patients.
    pub treated: Count,
    /// The first n1 evaluable patients.
    pub stage1: StageCounts,
    /// Evaluable patients n1+1 … n.
    pub stage2: StageCounts,
    /// Evaluable patients after the n-th (expansion).
    pub expansion: StageCounts,
    /// Clinical benefit over all evaluable patients, with its exact 95% interval.
    pub clinical_benefit: Option<Proportion>,
    /// In expansion: patients with benefit in the expansion stage (pay-for-performance basis).
    pub expansion_benefits: Option<Count>,
    /// Code of the company supplying the drug.
    pub supplier_code: Option<String>,
}

impl CohortMonitoring {
    fn new(m: &Monitoring, catalogue: &Catalogue, release: &Release) -> Option<Self> {
        let cohort = catalogue.cohorts.get(&m.cohort_id)?;
        let (stage1, stage2) = (StageCounts::new(&m.stage1, release), StageCounts::new(&m.stage2, release));
        let basis = [&stage1.evaluable, &stage1.benefits, &stage2.evaluable, &stage2.benefits];
        Some(Self {
            cohort: Cohort::new(cohort, catalogue),
            decision: TwoStageDecision::new(m.decision, &basis, release),
            status_agrees: release.gated_value(m.status_agrees, release.follows(&basis)),
            recorded_status: m.status.into(),
            enrolled: release.count(&m.enrolled),
            treated: release.count(&m.treated),
            expansion: StageCounts::new(&m.expansion, release),
            stage1,
            stage2,
            clinical_benefit: release.rate_of(m.benefit_rate.as_ref()),
            expansion_benefits: m.expansion_benefits.as_ref().map(|b| release.count(b)),
            supplier_code: m.supplier_id.and_then(|id| catalogue.partners.get(&id)).map(|p| p.code.clone()),
        })
    }
}

/// One step of a Kaplan–Meier table; published only while at least k patients are at
/// risk (and with times coarsened to the policy's bins).
#[derive(SimpleObject, Debug, Clone)]
pub struct SurvivalStep {
    /// Months since the origin.
    pub months: Measure,
    /// Patients at risk just before this time.
    pub at_risk: Count,
    /// Events at this time.
    pub events: Count,
    /// Censored at this time.
    pub censored: Count,
    /// Survival from this time until the next step.
    pub survival: Measure,
    /// Lower bound of the 95% band (Greenwood, log(−log)).
    pub lower95: Measure,
    /// Upper bound of the 95% band.
    pub upper95: Measure,
}

/// Median survival with its 95% interval: null where not reached, withheld where the
/// curve is withheld.
#[derive(SimpleObject, Debug, Clone)]
pub struct MedianSurvival {
    /// Median, months.
    pub months: Option<Measure>,
    /// Lower bound of its 95% interval.
    pub lower95: Option<Measure>,
    /// Upper bound of its 95% interval.
    pub upper95: Option<Measure>,
}

/// Survival at a landmark time (null where follow-up does not reach it).
#[derive(SimpleObject, Debug, Clone)]
pub struct Landmark {
    /// The landmark, months.
    pub months: f64,
    /// Survival.
    pub survival: Option<Measure>,
    /// Lower bound of the 95% band.
    pub lower95: Option<Measure>,
    /// Upper bound of the 95% band.
    pub upper95: Option<Measure>,
}

/// Patients at risk at a time.
#[derive(SimpleObject, Debug, Clone)]
pub struct AtRisk {
    /// Months.
    pub months: u32,
    /// Patients at risk.
    pub patients: Count,
}

/// One Kaplan–Meier curve.
#[derive(SimpleObject, Debug, Clone)]
pub struct SurvivalCurve {
    /// The group when grouped by a dimension.
    pub group: Option<GroupKey>,
    /// The group when compared by treatment group.
    pub treatment_group: Option<TreatmentGroup>,
    /// Patients in the curve.
    pub patients: Count,
    /// Events.
    pub events: Count,
    /// The step table.
    pub steps: Vec<SurvivalStep>,
    /// Median with interval.
    pub median: MedianSurvival,
    /// Survival at 6 and 12 months.
    pub landmarks: Vec<Landmark>,
    /// Numbers at risk at 0, 3, 6, 9, 12, 18, 24 months.
    pub at_risk: Vec<AtRisk>,
}

impl SurvivalCurve {
    fn new(curve: &Curve, grouping: Option<SurvivalGrouping>, catalogue: &Catalogue, release: &Release) -> Self {
        let (group, treatment_group) = match grouping {
            Some(SurvivalGrouping::Dimension(d)) => (Some(GroupKey::new(d, curve.key, catalogue)), None),
            Some(SurvivalGrouping::TreatmentGroup) => (None, curve.key.and_then(Group::of_key).map(Into::into)),
            None => (None, None),
        };
        if release.is_perturbed() {
            return Self::perturbed(curve, group, treatment_group, release);
        }
        let patients = release.count(&curve.patients);
        // Patients at risk at `months`: those whose time is at or after it.
        let at_risk_at = |months: f64| curve.table.iter().find(|r| r.time >= months).map_or(0, |r| r.at_risk);
        let gate_at = |months: f64| release.at_risk_gate(&patients, at_risk_at(months));
        let value_at = |months: Option<f64>| months.map(|m| release.gated(m, gate_at(m)));
        Self {
            group,
            treatment_group,
            events: release.count(&curve.events),
            // On the noisy tier even the number of steps (distinct event times) is exact.
            steps: curve
                .table
                .iter()
                .filter(|_| !release.is_noisy())
                .map(|r| {
                    let gate = release.at_risk_gate(&patients, r.at_risk);
                    SurvivalStep {
                        months: release.gated(r.time, gate),
                        at_risk: release.gated_count(r.at_risk, gate),
                        events: release.gated_count(r.events, gate),
                        censored: release.gated_count(r.censored, gate),
                        survival: release.gated(r.survival, gate),
                        lower95: release.gated(r.lower, gate),
                        upper95: release.gated(r.upper, gate),
                    }
                })
                .collect(),
            median: MedianSurvival {
                months: value_at(curve.median.median),
                lower95: value_at(curve.median.lower),
                upper95: value_at(curve.median.upper),
            },
            landmarks: curve
                .landmarks
                .iter()
                .map(|l| {
                    let gate = gate_at(l.months);
                    Landmark {
                        months: l.months,
                        survival: l.survival.map(|s| release.gated(s.survival, gate)),
                        lower95: l.survival.map(|s| release.gated(s.lower, gate)),
                        upper95: l.survival.map(|s| release.gated(s.upper, gate)),
                    }
                })
                .collect(),
            at_risk: curve
                .at_risk
                .iter()
                .map(|a| AtRisk {
                    months: a.months,
                    patients: release.gated_count(a.patients, release.at_risk_gate(&patients, a.patients)),
                })
                .collect(),
            patients,
        }
    }
}

impl SurvivalCurve {
    /// The curve under the cell-key method: its patients and events as perturbed counts;
    /// its steps, median, landmarks and numbers at risk withheld (`PERTURBED_TIER`),
    /// because each would have to be keyed by the patients it counts (at risk at a time,
    /// with an event in a step) to be consistent, and the number of steps and their
    /// times rest on exact event counts.
    fn perturbed(
        curve: &Curve,
        group: Option<GroupKey>,
        treatment_group: Option<TreatmentGroup>,
        release: &Release,
    ) -> Self {
        let patients = release.count(&curve.patients);
        let gate = release.follows(&[&patients]);
        let withheld = || Some(release.gated(0.0, gate));
        Self {
            group,
            treatment_group,
            events: release.count(&curve.events),
            steps: Vec::new(),
            median: MedianSurvival { months: withheld(), lower95: withheld(), upper95: withheld() },
            landmarks: curve
                .landmarks
                .iter()
                .map(|l| Landmark { months: l.months, survival: withheld(), lower95: withheld(), upper95: withheld() })
                .collect(),
            at_risk: curve
                .at_risk
                .iter()
                .map(|a| AtRisk { months: a.months, patients: release.gated_count(0, gate) })
                .collect(),
            patients,
        }
    }
}

/// Outcome questions.
#[derive(Debug, Default, Clone, Copy)]
pub struct OutcomeQuery;

#[Object]
impl OutcomeQuery {
    /// Response of treated patients: best overall response, objective response and
    /// clinical benefit at week 16 with exact 95% intervals, overall and per group.
    async fn responses(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] group_by: Vec<Dimension>,
        filter: Option<PatientFilter>,
    ) -> Result<ResponseSummary> {
        let ask = Ask::new(ctx, Scope::ResponseRead).await?;
        let dimensions: Vec<consortium_analytics::Dimension> = group_by.iter().map(|d| (*d).into()).collect();
        let question = (dimensions.clone(), ask.filter(filter)?);
        let rows = ask.answer(question, |s, (dims, f): &(Vec<_>, Filter)| response_summary(s, dims, f)).await?;
        let (catalogue, release) = (ask.catalogue(), ask.release());
        let mut groups: Vec<ResponseGroup> =
            rows.iter().map(|r| ResponseGroup::new(r, &dimensions, catalogue, release)).collect();
        let overall = groups.pop().ok_or_else(|| ApiError::Internal("response summary without overall row".into()))?;
        // Under the cell-key method a group whose treated patients are withheld is left
        // out, as an empty one is (whether a group has anyone is not told either).
        groups.retain(|g| release.lists(&g.treated));
        Ok(ResponseSummary { group_by, groups, overall })
    }

    /// Every cohort's two-stage monitoring: evaluable patients and benefits per stage,
    /// the decision the data support, and whether the recorded status agrees. Evaluable
    /// patients enter the rule in order of evaluation: the date of the week-16
    /// assessment, or of progression or death before week 14; patients evaluated on the
    /// same day in the order they were registered (their first import), so which of
    /// them ends stage 1 never depends on how rows happen to be stored.
    async fn cohort_monitoring(
        &self,
        ctx: &Context<'_>,
        status: Option<CohortStatus>,
    ) -> Result<Vec<CohortMonitoring>> {
        let ask = Ask::new(ctx, Scope::ResponseRead).await?;
        if ask.release().is_noisy() {
            // Decisions and status checks are functions of exact stage counts.
            return Err(ApiError::Forbidden(
                "cohort monitoring rests on exact counts and is not available on the noisy tier".into(),
            )
            .into());
        }
        let rows = ask.answer((), |s, _: &()| cohort_monitoring(s)).await?;
        let status = status.map(consortium_entity::CohortStatus::from);
        Ok(rows
            .iter()
            .filter(|m| status.is_none_or(|s| m.status == s))
            .filter_map(|m| CohortMonitoring::new(m, ask.catalogue(), ask.release()))
            .collect())
    }

    /// Kaplan–Meier survival (PFS or OS) with Greenwood log(−log) 95% bands, median and
    /// its interval, landmarks and numbers at risk; grouped by a dimension, or compared
    /// across treatment groups (treated / matched but not treated / not matched; OS only).
    async fn survival(
        &self,
        ctx: &Context<'_>,
        endpoint: SurvivalEndpoint,
        group_by: Option<Dimension>,
        #[graphql(default)] by_treatment_group: bool,
        filter: Option<PatientFilter>,
    ) -> Result<Vec<SurvivalCurve>> {
        let ask = Ask::new(ctx, Scope::OutcomeRead).await?;
        let grouping = match (group_by, by_treatment_group) {
            (Some(_), true) => {
                return Err(ApiError::BadUserInput("give groupBy or byTreatmentGroup, not both".into()).into())
            }
            (Some(d), false) => Some(SurvivalGrouping::Dimension(d.into())),
            (None, true) => Some(SurvivalGrouping::TreatmentGroup),
            (None, false) => None,
        };
        let release = ask.release();
        // The bin is part of the question: coarsened curves are other answers.
        let bin = release.survival_bin_months();
        let question = (consortium_analytics::survival::Endpoint::from(endpoint), grouping, ask.filter(filter)?, bin);
        let curves = ask.answer(question, |s, (e, g, f, bin)| survival(s, *e, *g, f, *bin)).await?;
        // Curves by a dimension are listed as groups are (see `Release::lists`); the
        // overall curve and the treatment groups are always there.
        let by_dimension = matches!(grouping, Some(SurvivalGrouping::Dimension(_)));
        Ok(curves
            .iter()
            .map(|c| SurvivalCurve::new(c, grouping, ask.catalogue(), release))
            .filter(|c| !by_dimension || release.lists(&c.patients))
            .collect())
    }
}
