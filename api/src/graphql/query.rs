//! The query root.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, MergedObject, Object, Result};

use super::access::Ask;
use super::activity::ActivityQuery;
use super::design::DesignQuery;
use super::enums::{CohortStatus, Dimension, HealthRegion, PartnerKind, Population};
use super::genomics::GenomicsQuery;
use super::inputs::PatientFilter;
use super::outcomes::OutcomeQuery;
use super::pagination::page;
use super::safety::SafetyQuery;
use super::types::{Cohort, DataVersion, Drug, Funnel, FunnelStep, Partner, PatientCounts, Site};
use super::viewer::AccessQuery;
use crate::auth::Scope;
use consortium_analytics::error::echo;

use crate::error::ApiError;
use consortium_analytics::{count_patients, funnel};

/// A page of a reference list.
type Page<T> = Connection<usize, T, EmptyFields, EmptyFields>;

/// The query root: every area's fields, merged.
#[derive(MergedObject, Debug, Default, Clone, Copy)]
pub struct Query(
    EnrolmentQuery,
    OutcomeQuery,
    SafetyQuery,
    GenomicsQuery,
    ActivityQuery,
    ReferenceQuery,
    DesignQuery,
    AccessQuery,
);

/// Enrolment and screening questions.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnrolmentQuery;

#[Object]
impl EnrolmentQuery {
    /// The data version answers are computed on.
    async fn data_version(&self, ctx: &Context<'_>) -> Result<DataVersion> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        Ok(DataVersion { version: ask.snapshot().version, built_at: ask.snapshot().built_at })
    }

    /// The screening funnel: referred → profiled → actionable → matched → enrolled →
    /// treated → evaluable.
    async fn funnel(&self, ctx: &Context<'_>, filter: Option<PatientFilter>) -> Result<Funnel> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let funnel = ask.answer(ask.filter(filter)?, funnel).await?;
        let release = ask.release();
        let steps = funnel
            .steps
            .iter()
            .map(|(population, patients)| FunnelStep {
                population: (*population).into(),
                patients: release.count(patients),
            })
            .collect();
        Ok(Funnel { steps })
    }

    /// Patients of a funnel population, grouped by any combination of dimensions.
    async fn patient_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Population::Enrolled")] population: Population,
        #[graphql(default)] group_by: Vec<Dimension>,
        filter: Option<PatientFilter>,
    ) -> Result<PatientCounts> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let dimensions: Vec<consortium_analytics::Dimension> = group_by.into_iter().map(Into::into).collect();
        let question = (consortium_analytics::Population::from(population), dimensions, ask.filter(filter)?);
        let table = ask.answer(question, |s, (p, d, f)| count_patients(s, *p, d, f)).await?;
        Ok(PatientCounts::new(population, &table, ask.catalogue(), ask.release()))
    }
}

/// Reference data: partners, sites, drugs, cohorts.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReferenceQuery;

#[Object]
impl ReferenceQuery {
    /// Consortium partners, optionally of one kind.
    async fn partners(
        &self,
        ctx: &Context<'_>,
        kind: Option<PartnerKind>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Partner>> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let kind = kind.map(consortium_entity::PartnerKind::from);
        let items =
            ask.catalogue().partners.values().filter(|p| kind.is_none_or(|k| p.kind == k)).map(Partner::from).collect();
        Ok(page(items, after, first)?)
    }

    /// Hospital sites, optionally of one region.
    async fn sites(
        &self,
        ctx: &Context<'_>,
        region: Option<HealthRegion>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Site>> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let region = region.map(consortium_entity::HealthRegion::from);
        let catalogue = ask.catalogue();
        let items = catalogue
            .sites
            .values()
            .filter(|s| region.is_none_or(|r| s.region == r))
            .map(|s| Site::new(s, catalogue))
            .collect();
        Ok(page(items, after, first)?)
    }

    /// Study drugs.
    async fn drugs(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Page<Drug>> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let catalogue = ask.catalogue();
        let items = catalogue.drugs.values().map(|d| Drug::new(d, catalogue)).collect();
        Ok(page(items, after, first)?)
    }

    /// Cohorts, optionally with one recorded status.
    async fn cohorts(
        &self,
        ctx: &Context<'_>,
        status: Option<CohortStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Cohort>> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let status = status.map(consortium_entity::CohortStatus::from);
        let catalogue = ask.catalogue();
        let items = catalogue
            .cohorts
            .values()
            .filter(|c| status.is_none_or(|s| c.status == s))
            .map(|c| Cohort::new(c, catalogue))
            .collect();
        Ok(page(items, after, first)?)
    }

    /// One cohort by code.
    async fn cohort(&self, ctx: &Context<'_>, code: String) -> Result<Cohort> {
        let ask = Ask::new(ctx, Scope::EnrolmentRead).await?;
        let catalogue = ask.catalogue();
        let cohort = catalogue.cohorts.values().find(|c| c.code == code);
        cohort
            .map(|c| Cohort::new(c, catalogue))
            .ok_or_else(|| ApiError::NotFound(format!("no cohort '{}'", echo(&code))).into())
    }
}
