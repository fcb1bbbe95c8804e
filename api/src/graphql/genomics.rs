//! Genomics (InPreD): alteration frequencies, TMB and MSI, and how often profiling finds
//! an actionable alteration.

use async_graphql::{Context, Object, Result, SimpleObject};
use consortium_analytics::{actionability, alteration_frequencies, tmb_distribution, Dimension as Dim, Filter};

use super::access::Ask;
use super::enums::{AlterationClass, Dimension};
use super::inputs::PatientFilter;
use super::types::GroupKey;
use crate::auth::Scope;
use crate::pipeline::release::{Count, Measure, Proportion, Release};

/// How often an alteration was found among profiled patients.
#[derive(SimpleObject, Debug, Clone)]
pub struct AlterationFrequency {
    /// Tumour type (OncoTree code) when split by tumour type.
    pub tumour_type: Option<String>,
    /// Gene.
    pub gene: Option<String>,
    /// Alteration class.
    pub alteration_class: AlterationClass,
    /// Carriers among the profiled patients.
    pub carriers: Proportion,
}

/// TMB quantiles (mutations per megabase).
///
/// Each value is published only when the profiles it is over are (at least k, not
/// withheld): no quantile or extreme of a handful of patients is one patient's value.
#[derive(SimpleObject, Debug, Clone)]
pub struct TmbQuantiles {
    /// Profiles with a TMB value.
    pub measured: Count,
    /// Minimum.
    pub min: Measure,
    /// 10th percentile.
    pub p10: Measure,
    /// 25th percentile.
    pub p25: Measure,
    /// Median.
    pub median: Measure,
    /// 75th percentile.
    pub p75: Measure,
    /// 90th percentile.
    pub p90: Measure,
    /// Maximum.
    pub max: Measure,
    /// Mean.
    pub mean: Measure,
}

impl TmbQuantiles {
    fn new(t: &consortium_analytics::TmbSummary, release: &Release) -> Self {
        let measured = release.count(&t.measured);
        let value = |v: f64| release.derived(v, &[&measured]);
        Self {
            min: value(t.min),
            p10: value(t.p10),
            p25: value(t.p25),
            median: value(t.median),
            p75: value(t.p75),
            p90: value(t.p90),
            max: value(t.max),
            mean: value(t.mean),
            measured,
        }
    }
}

/// TMB and MSI of one group of profiled patients.
#[derive(SimpleObject, Debug, Clone)]
pub struct TmbGroup {
    /// The group's keys.
    pub keys: Vec<GroupKey>,
    /// Profiled patients.
    pub profiled: Count,
    /// TMB distribution (null when no profile has a TMB value).
    pub tmb: Option<TmbQuantiles>,
    /// MSI-high share.
    pub msi_high: Proportion,
}

/// How often profiling found an actionable alteration in a group.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActionabilityGroup {
    /// The group's keys.
    pub keys: Vec<GroupKey>,
    /// Actionable among profiled.
    pub actionable: Proportion,
}

/// Genomics questions.
#[derive(Debug, Default, Clone, Copy)]
pub struct GenomicsQuery;

fn dims(group_by: &[Dimension]) -> Vec<Dim> {
    group_by.iter().map(|d| (*d).into()).collect()
}

#[Object]
impl GenomicsQuery {
    /// Alteration frequencies per gene and class among profiled patients, optionally per
    /// tumour type.
    async fn alteration_frequencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] by_tumour_type: bool,
        filter: Option<PatientFilter>,
    ) -> Result<Vec<AlterationFrequency>> {
        let ask = Ask::new(ctx, Scope::GenomicsRead).await?;
        let question = (by_tumour_type, ask.filter(filter)?);
        let rows = ask.answer(question, |s, (by, f): &(bool, Filter)| alteration_frequencies(s, *by, f)).await?;
        let (catalogue, release) = (ask.catalogue(), ask.release());
        let mut dimensions = vec![Dim::Gene, Dim::AlterationClass];
        dimensions.extend(by_tumour_type.then_some(Dim::TumourType));
        // A rate of two counts per gene, class (and tumour type).
        Ok(release.list(catalogue.groups(&dimensions), 2, || {
            rows.iter()
                .map(|r| AlterationFrequency {
                    tumour_type: r.tumour_type.and_then(|k| catalogue.code(Dim::TumourType, k)),
                    gene: r.gene.and_then(|k| catalogue.code(Dim::Gene, k)),
                    alteration_class: r.alteration_class.into(),
                    carriers: release.rate(&r.carriers),
                })
                .filter(|row| release.lists(row.carriers.numerator_count()))
                .collect()
        }))
    }

    /// TMB distribution and MSI-high share of profiled patients, per group.
    async fn tmb(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] group_by: Vec<Dimension>,
        filter: Option<PatientFilter>,
    ) -> Result<Vec<TmbGroup>> {
        let ask = Ask::new(ctx, Scope::GenomicsRead).await?;
        let dimensions = dims(&group_by);
        let question = (dimensions.clone(), ask.filter(filter)?);
        let rows = ask.answer(question, |s, (d, f): &(Vec<Dim>, Filter)| tmb_distribution(s, d, f)).await?;
        let release = ask.release();
        // The profiled, the measured, and a rate of two counts, per group.
        Ok(release.list(ask.catalogue().groups(&dimensions), 4, || {
            rows.iter()
                .map(|r| TmbGroup {
                    keys: GroupKey::list(&dimensions, &r.keys, ask.catalogue()),
                    profiled: release.count(&r.profiled),
                    // Under the cell-key method quantiles are withheld anyway, and whether
                    // there are any would tell a group of nobody measured from a few.
                    tmb: r.tmb.as_ref().filter(|_| !release.is_perturbed()).map(|t| TmbQuantiles::new(t, release)),
                    msi_high: release.rate(&r.msi_high),
                })
                .filter(|group| release.lists(&group.profiled))
                .collect()
        }))
    }

    /// How often profiling found an actionable alteration (ESCAT I–III), per group.
    async fn actionability(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] group_by: Vec<Dimension>,
        filter: Option<PatientFilter>,
    ) -> Result<Vec<ActionabilityGroup>> {
        let ask = Ask::new(ctx, Scope::GenomicsRead).await?;
        let dimensions = dims(&group_by);
        let question = (dimensions.clone(), ask.filter(filter)?);
        let rows = ask.answer(question, |s, (d, f): &(Vec<Dim>, Filter)| actionability(s, d, f)).await?;
        let release = ask.release();
        // A rate of two counts per group.
        Ok(release.list(ask.catalogue().groups(&dimensions), 2, || {
            rows.iter()
                .map(|r| ActionabilityGroup {
                    keys: GroupKey::list(&dimensions, &r.keys, ask.catalogue()),
                    actionable: release.rate(&r.actionable),
                })
                .filter(|group| release.lists(group.actionable.denominator_count()))
                .collect()
        }))
    }
}
