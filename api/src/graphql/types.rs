//! GraphQL output types. They are defined here, once, and built from domain and
//! analytics values, so a column rename cannot silently change the public schema.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use consortium_analytics::{Catalogue, CountTable};
use consortium_entity::{cohort, drug, partner, site};

use super::date::Date;
use crate::pipeline::release::{Count, Release};

use super::enums::{AlterationClass, CohortStatus, Dimension, HealthRegion, PartnerKind, Population};

/// The data version answers are computed on.
#[derive(SimpleObject, Debug, Clone)]
pub struct DataVersion {
    /// Monotonic version number, bumped by every write.
    pub version: i64,
    /// When the snapshot of this version was built.
    pub built_at: DateTime<Utc>,
}

/// One step of the screening funnel.
#[derive(SimpleObject, Debug, Clone)]
pub struct FunnelStep {
    /// The step.
    pub population: Population,
    /// Patients who reached it.
    pub patients: Count,
}

/// The screening funnel, each step a subset of the one before.
#[derive(SimpleObject, Debug, Clone)]
pub struct Funnel {
    /// Steps in order: referred, profiled, actionable, matched, enrolled, treated, evaluable.
    pub steps: Vec<FunnelStep>,
}

/// The value of one grouping dimension for a group.
#[derive(SimpleObject, Debug, Clone)]
pub struct GroupKey {
    /// The dimension.
    pub dimension: Dimension,
    /// Stable code (usable in filters); null when the dimension does not apply.
    pub code: Option<String>,
    /// Human-readable label; null when the dimension does not apply.
    pub label: Option<String>,
}

/// One group of a grouped count.
#[derive(SimpleObject, Debug, Clone)]
pub struct CountGroup {
    /// One key per grouping dimension, in the order asked.
    pub keys: Vec<GroupKey>,
    /// Patients in the group.
    pub patients: Count,
}

/// Patients grouped by dimensions.
#[derive(SimpleObject, Debug, Clone)]
pub struct PatientCounts {
    /// The population counted.
    pub population: Population,
    /// The grouping dimensions.
    pub group_by: Vec<Dimension>,
    /// Non-empty groups, sorted by key; under the cell-key method only the groups
    /// published (a group left out may hold no patient or a few).
    pub groups: Vec<CountGroup>,
    /// All patients counted (the groups add up to it).
    pub total: Count,
}

impl GroupKey {
    /// The key of one dimension, labelled from the catalogue.
    pub fn new(dimension: consortium_analytics::Dimension, key: Option<i32>, catalogue: &Catalogue) -> Self {
        GroupKey {
            dimension: dimension.into(),
            code: key.and_then(|k| catalogue.code(dimension, k)),
            label: key.and_then(|k| catalogue.label(dimension, k)),
        }
    }

    /// The keys of a group, one per grouping dimension.
    pub fn list(
        dimensions: &[consortium_analytics::Dimension],
        keys: &[Option<i32>],
        catalogue: &Catalogue,
    ) -> Vec<Self> {
        dimensions.iter().zip(keys).map(|(dimension, key)| GroupKey::new(*dimension, *key, catalogue)).collect()
    }
}

impl PatientCounts {
    /// Labels a count table with codes and names from the catalogue, its counts released.
    /// Under the cell-key method a withheld group is left out, as an empty one is, so
    /// that whether a group has any patient at all is not told either.
    pub fn new(population: Population, table: &CountTable, catalogue: &Catalogue, release: &Release) -> Self {
        let groups = release.list(catalogue.groups(&table.dimensions), 1, || {
            table
                .groups
                .iter()
                .map(|group| CountGroup {
                    keys: GroupKey::list(&table.dimensions, &group.keys, catalogue),
                    patients: release.count(&group.patients),
                })
                .filter(|group| release.lists(&group.patients))
                .collect()
        });
        Self {
            population,
            group_by: table.dimensions.iter().map(|d| (*d).into()).collect(),
            groups,
            total: release.count(&table.total),
        }
    }
}

/// A member organisation of the consortium.
#[derive(SimpleObject, Debug, Clone)]
pub struct Partner {
    /// Stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind of partner.
    pub kind: PartnerKind,
    /// Norwegian organisation number.
    pub org_number: String,
}

impl From<&partner::Model> for Partner {
    fn from(p: &partner::Model) -> Self {
        Self { code: p.code.clone(), name: p.name.clone(), kind: p.kind.into(), org_number: p.org_number.clone() }
    }
}

/// A hospital site.
#[derive(SimpleObject, Debug, Clone)]
pub struct Site {
    /// Stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Regional health authority.
    pub region: HealthRegion,
    /// Whether it runs InPreD molecular profiling.
    pub inpred_node: bool,
    /// Code of the hospital partner running it.
    pub partner_code: Option<String>,
}

impl Site {
    /// A site with its partner's code from the catalogue.
    pub fn new(s: &site::Model, catalogue: &Catalogue) -> Self {
        Self {
            code: s.code.clone(),
            name: s.name.clone(),
            region: s.region.into(),
            inpred_node: s.inpred_node,
            partner_code: catalogue.partners.get(&s.partner_id).map(|p| p.code.clone()),
        }
    }
}

/// A study drug.
#[derive(SimpleObject, Debug, Clone)]
pub struct Drug {
    /// Stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Mechanism of action.
    pub mechanism: String,
    /// Code of the supplying partner.
    pub supplier_code: Option<String>,
}

impl Drug {
    /// A drug with its supplier's code from the catalogue.
    pub fn new(d: &drug::Model, catalogue: &Catalogue) -> Self {
        Self {
            code: d.code.clone(),
            name: d.name.clone(),
            mechanism: d.mechanism.clone(),
            supplier_code: catalogue.partners.get(&d.supplier_id).map(|p| p.code.clone()),
        }
    }
}

/// A Simon two-stage design: stop after stage 1 if benefits ≤ r1 of n1; positive if
/// benefits > r of n.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct TwoStageDesign {
    /// Stage-1 futility bound.
    pub r1: i32,
    /// Stage-1 evaluable patients.
    pub n1: i32,
    /// Final bound.
    pub r: i32,
    /// Total evaluable patients.
    pub n: i32,
}

/// A cohort: tumour type × alteration × drug.
#[derive(SimpleObject, Debug, Clone)]
pub struct Cohort {
    /// Stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Tumour type (OncoTree code, `SOLID` for tumour-agnostic).
    pub tumour_type: String,
    /// Target gene.
    pub gene: String,
    /// Target alteration class.
    pub alteration_class: AlterationClass,
    /// Study drug code.
    pub drug_code: Option<String>,
    /// Two-stage design.
    pub design: TwoStageDesign,
    /// Recorded status.
    pub status: CohortStatus,
    /// Opening date.
    pub opened_on: Date,
    /// Closing date.
    pub closed_on: Option<Date>,
}

impl Cohort {
    /// A cohort with its drug's code from the catalogue.
    pub fn new(c: &cohort::Model, catalogue: &Catalogue) -> Self {
        Self {
            code: c.code.clone(),
            name: c.name.clone(),
            tumour_type: c.oncotree_code.clone(),
            gene: c.gene.clone(),
            alteration_class: c.alteration_class.into(),
            drug_code: catalogue.drugs.get(&c.drug_id).map(|d| d.code.clone()),
            design: TwoStageDesign { r1: c.design_r1, n1: c.design_n1, r: c.design_r, n: c.design_n },
            status: c.status.into(),
            opened_on: c.opened_on.into(),
            closed_on: c.closed_on.map(Date),
        }
    }
}
