//! Analytics: the trial as a columnar, read-only [`Snapshot`] and the measures computed
//! on it with polars.
//!
//! The crate takes data and returns typed results; it knows nothing of HTTP or GraphQL.
//!
//! * [`rows`] are one data version's rows as plain values (the store reads them), and
//!   [`snapshot`] builds them into polars frames: one row per patient carrying every
//!   dimension and funnel flag, plus the event tables. No I/O happens here.
//! * [`endpoints`] derives the trial endpoints (week-16 assessment, evaluable,
//!   clinical benefit) exactly as `docs/domain.md` defines them.
//! * [`dimension`] is the shared vocabulary of grouping and filtering.
//! * [`cells`]: every count keeps the patients behind it, for the release step.
//! * [`funnel`] and [`counts`] are the first measures.
//! * [`scope`] restricts a snapshot to the rows a partner may aggregate over.
//! * `stats` holds the exact statistics (intervals, survival, two-stage rule).
#![warn(missing_docs)]

pub mod catalogue;
pub mod cells;
pub mod counts;
pub mod dimension;
pub mod endpoints;
pub mod error;
pub mod funnel;
pub mod genomics;
pub mod monitoring;
pub mod response;
pub mod rows;
pub mod safety;
pub mod scope;
pub mod selection;
pub mod snapshot;
pub mod stats;
pub mod survival;
pub mod timeseries;

#[cfg(test)]
mod fixture;

pub use catalogue::Catalogue;
pub use cells::{PatientSet, Rate};
pub use counts::{count_patients, CountGroup, CountTable};
pub use dimension::{DateRange, Dimension, Filter, Interval, Population};
pub use error::AnalyticsError;
pub use funnel::{funnel, Funnel};
pub use genomics::{
    actionability, alteration_frequencies, tmb_distribution, ActionabilityGroup, AlterationFrequency, TmbGroup,
    TmbSummary,
};
pub use monitoring::{
    cohort_monitoring, status_agrees, CohortMonitoring, Decision, OperatingCharacteristics, Proportion, SimonDesign,
    StageCounts,
};
pub use response::{response_summary, ResponseGroup};
pub use rows::TrialRows;
pub use safety::{adverse_event_summary, AdverseEventLevel, AdverseEventRow, SafetyGrouping};
pub use scope::RowScope;
pub use snapshot::Snapshot;
pub use survival::{
    survival, AtRisk, Endpoint, KaplanMeierRow, Landmark, MedianSurvival, SurvivalAt, SurvivalCurve, SurvivalGrouping,
    TreatmentGroup,
};
pub use timeseries::{activity, Activity, PeriodActivity};
