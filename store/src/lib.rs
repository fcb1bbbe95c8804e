//! Trial data in and out of the database: the one place that reads and writes trial
//! tables.
//!
//! * [`import`]: files from the sites, InPreD, the tumour board, the registry and the
//!   consortium's administration, validated, then applied all or nothing with one
//!   data-version bump, idempotently by natural key, and on record.
//! * [`export`]: a [`Trial`] as import files, one per domain.
//! * [`format`]: CSV and Parquet, and text cells safe in a spreadsheet.
//! * [`batch`]: a whole [`Trial`] written to an empty database at once (benchmarks and
//!   tests at scale).
//! * [`snapshot`]: one data version's rows for the analytics snapshot, read
//!   concurrently and consistently.

#![warn(missing_docs)]

pub mod batch;
pub mod export;
pub mod format;
pub mod import;
pub mod snapshot;
mod sqlite_file;

pub use batch::{is_empty, write_trial, StoreReport};
pub use consortium_entity::Trial;
