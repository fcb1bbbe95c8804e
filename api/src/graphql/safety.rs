//! Safety: patients with adverse events per CTCAE term or organ class, by grade band,
//! relatedness and seriousness, as proportions of treated patients.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use consortium_analytics::{adverse_event_summary, AdverseEventLevel, AdverseEventRow, Dimension as Dim, Filter};
use consortium_entity::vocabulary::MEDDRA_SOC;

use super::access::Ask;
use super::inputs::PatientFilter;
use super::types::GroupKey;
use crate::auth::Scope;
use crate::error::ApiError;
use crate::pipeline::release::{Count, Proportion, Release};

/// What adverse events are tallied by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_analytics::AdverseEventLevel")]
pub enum AdverseEventCategory {
    /// CTCAE v5 term.
    Term,
    /// System organ class.
    OrganClass,
}

/// How the treated patients are split.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consortium_analytics::SafetyGrouping")]
pub enum SafetySplit {
    /// All treated patients together.
    None,
    /// Per study drug.
    Drug,
    /// Per cohort.
    Cohort,
}

/// Patients with at least one adverse event of a category, among treated patients.
#[derive(SimpleObject, Debug, Clone)]
pub struct AdverseEventSummary {
    /// The drug or cohort, when split.
    pub split: Option<GroupKey>,
    /// CTCAE term or organ class; null for "any adverse event".
    pub category: Option<String>,
    /// Treated patients (the denominator).
    pub treated: Count,
    /// Any grade.
    pub any_grade: Proportion,
    /// Grade 3 or higher.
    pub grade3_plus: Proportion,
    /// Treatment-related, any grade.
    pub related: Proportion,
    /// Treatment-related, grade 3 or higher (the same event).
    pub related_grade3_plus: Proportion,
    /// Serious.
    pub serious: Proportion,
}

impl AdverseEventSummary {
    /// The counts of a row: the treated, and five rates of two counts.
    const COUNTS: usize = 1 + 5 * 2;

    fn new(
        row: &AdverseEventRow,
        split: Option<Dim>,
        catalogue: &consortium_analytics::Catalogue,
        release: &Release,
    ) -> Self {
        Self {
            split: split.map(|d| GroupKey::new(d, row.split, catalogue)),
            category: row.category.clone(),
            treated: release.count(&row.treated),
            any_grade: release.rate(&row.any_grade),
            grade3_plus: release.rate(&row.grade_3_plus),
            related: release.rate(&row.related),
            related_grade3_plus: release.rate(&row.related_grade_3_plus),
            serious: release.rate(&row.serious),
        }
    }
}

/// Safety questions.
#[derive(Debug, Default, Clone, Copy)]
pub struct SafetyQuery;

#[Object]
impl SafetyQuery {
    /// Patients with ≥ 1 adverse event per category (any grade, grade ≥ 3, related,
    /// serious), as counts and proportions of treated patients with exact 95% intervals;
    /// the first row of each split is "any adverse event".
    async fn adverse_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "AdverseEventCategory::Term")] category: AdverseEventCategory,
        #[graphql(default_with = "SafetySplit::None")] split: SafetySplit,
        filter: Option<PatientFilter>,
    ) -> Result<Vec<AdverseEventSummary>> {
        let ask = Ask::new(ctx, Scope::SafetyRead).await?;
        let release = ask.release();
        let (level, grouping) = (AdverseEventLevel::from(category), consortium_analytics::SafetyGrouping::from(split));
        // The rows' most: every organ class and the "any" row, per split. Terms are not
        // a closed list, so the noisy tier, which prices a question by its shape, cannot
        // price them.
        let categories = match level {
            AdverseEventLevel::OrganClass => MEDDRA_SOC.len() + 1,
            AdverseEventLevel::Term if release.is_noisy() => {
                return Err(ApiError::Forbidden(
                    "adverse events by term are not available on the noisy tier (terms are not a closed list to \
                     price a question by); ask by ORGAN_CLASS"
                        .into(),
                )
                .into())
            }
            AdverseEventLevel::Term => 0,
        };
        let splits = grouping.dimension().map_or(1, |d| ask.catalogue().domain(d));
        let question = (level, grouping, ask.filter(filter)?);
        let rows = ask.answer(question, |s, (l, g, f): &(_, _, Filter)| adverse_event_summary(s, *l, *g, f)).await?;
        // A term's or class's row is listed as a group is (see `Release::lists`).
        Ok(release.list(categories.saturating_mul(splits), AdverseEventSummary::COUNTS, || {
            rows.iter()
                .map(|r| AdverseEventSummary::new(r, grouping.dimension(), ask.catalogue(), release))
                .filter(|row| release.lists(row.any_grade.numerator_count()))
                .collect()
        }))
    }
}
