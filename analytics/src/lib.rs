//! Analytics: the trial as a columnar, read-only [`Snapshot`] and the measures computed
//! on it with polars.
//!
//! The crate takes data and returns typed results; it knows nothing of HTTP or GraphQL.
//!
//! * [`snapshot`] loads one data version from the database into polars frames: one row
//!   per patient carrying every dimension and funnel flag, plus the event tables.
//! * [`endpoints`] derives the trial endpoints (week-16 assessment, evaluable,
//!   clinical benefit) exactly as `domain.md` defines them.
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
pub mod safety;
pub mod scope;
pub mod selection;
pub mod snapshot;
mod sqlite_file;
pub mod stats;
pub mod survival;
pub mod timeseries;

pub use catalogue::Catalogue;
pub use cells::{PatientSet, Rate};
pub use counts::{count_patients, CountGroup, CountTable};
pub use dimension::{DateRange, Dimension, Filter, Population};
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
pub use safety::{adverse_event_summary, AdverseEventLevel, AdverseEventRow, SafetyGrouping};
pub use scope::RowScope;
pub use snapshot::{Snapshot, TrialRows};
pub use survival::{
    survival, AtRisk, Endpoint, KaplanMeierRow, Landmark, MedianSurvival, SurvivalAt, SurvivalCurve, SurvivalGrouping,
    TreatmentGroup,
};
pub use timeseries::{monthly_activity, Activity, MonthlyActivity};
