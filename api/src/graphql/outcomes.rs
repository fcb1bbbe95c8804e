//! Outcome questions: response with exact intervals, two-stage cohort monitoring, and
//! survival (Kaplan–Meier, or a life table under the cell-key method: [`super::curves`],
//! [`super::life_table`]).

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use consortium_analytics::monitoring::{cohort_monitoring, CohortMonitoring as Monitoring};
use consortium_analytics::stats::Decision;
use consortium_analytics::survival::{survival, SurvivalGrouping, TreatmentGroup as Group};
use consortium_analytics::{response_summary, Catalogue, Filter, ResponseGroup as Response};
use consortium_entity::OverallResponse as Bor;

use super::access::Ask;
use super::curves::SurvivalCurve;
use super::enums::{CohortStatus, Dimension, OverallResponse, SurvivalEndpoint};
use super::inputs::PatientFilter;
use super::life_table;
use super::types::{Cohort, GroupKey};
use crate::auth::Scope;
use crate::error::ApiError;
use crate::pipeline::release::{Count, Proportion, Release};

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
    /// The counts of a group: treated, evaluable, two rates of two counts, the best
    /// responses.
    fn counts() -> usize {
        2 + 2 * 2 + Bor::all().len()
    }

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
        let (overall, groups) =
            rows.split_last().ok_or_else(|| ApiError::Internal("response summary without overall row".into()))?;
        let overall = ResponseGroup::new(overall, &dimensions, catalogue, release);
        // Under the cell-key method a group whose treated patients are withheld is left
        // out, as an empty one is (whether a group has anyone is not told either).
        // Without a grouping there are no groups, only the overall row.
        let most_groups = if dimensions.is_empty() { 0 } else { catalogue.groups(&dimensions) };
        let groups = release.list(most_groups, ResponseGroup::counts(), || {
            groups
                .iter()
                .map(|r| ResponseGroup::new(r, &dimensions, catalogue, release))
                .filter(|g| release.lists(&g.treated))
                .collect()
        });
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
        let most_curves = match grouping {
            Some(SurvivalGrouping::Dimension(d)) => ask.catalogue().domain(d),
            Some(SurvivalGrouping::TreatmentGroup) => Group::ALL.len(),
            None => 1,
        };
        // On the noisy tier a curve releases its patients and events only.
        Ok(release.list(most_curves, 2, || {
            curves
                .iter()
                .map(|c| {
                    let (group, treatment_group) = SurvivalCurve::keys(c, grouping, ask.catalogue());
                    match release.is_perturbed() {
                        true => life_table::perturbed(c, group, treatment_group, release),
                        false => SurvivalCurve::kaplan_meier(c, group, treatment_group, release),
                    }
                })
                .filter(|c| !by_dimension || release.lists(&c.patients))
                .collect()
        }))
    }
}
