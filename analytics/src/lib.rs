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
//! * [`funnel`] and [`counts`] are the first measures.
//! * `stats` holds the exact statistics (intervals, survival, two-stage rule).
#![warn(missing_docs)]

pub mod catalogue;
pub mod counts;
pub mod dimension;
pub mod endpoints;
pub mod error;
pub mod funnel;
pub mod selection;
pub mod snapshot;
pub mod stats;

pub use catalogue::Catalogue;
pub use counts::{count_patients, CountGroup, CountTable};
pub use dimension::{DateRange, Dimension, Filter, Population};
pub use error::AnalyticsError;
pub use funnel::{funnel, Funnel};
pub use snapshot::{Snapshot, TrialRows};
