//! Reading the trial's big tables straight from an SQLite file, for the snapshot.
//!
//! The database driver behind sea-orm hands SQLite rows over one at a time from a
//! worker thread, which made reading a million-patient trial take over 20 s. Here each
//! table is read by a plain `rusqlite` statement on a connection of its own, on a
//! blocking thread, with the same columns (the SQL is built from the same entity
//! columns by sea-query) and decoded into the same tuples as the driver would. Only
//! files are read this way; PostgreSQL and in-memory SQLite go through sea-orm.

use std::path::Path;

use chrono::NaiveDate;
use consortium_entity::*;
use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, Row};
use sea_orm::ActiveEnum;

/// A value of one column.
pub(crate) trait Cell: Sized {
    /// Reads column `index` of `row`.
    fn cell(row: &Row<'_>, index: usize) -> rusqlite::Result<Self>;
}

macro_rules! plain_cells {
    ($($ty:ty),+) => {
        $(impl Cell for $ty {
            fn cell(row: &Row<'_>, index: usize) -> rusqlite::Result<Self> {
                row.get(index)
            }
        })+
    };
}
plain_cells!(i32, f64, bool, String, NaiveDate, Option<NaiveDate>);

macro_rules! code_cells {
    ($($ty:ty),+) => {
        $(impl Cell for $ty {
            fn cell(row: &Row<'_>, index: usize) -> rusqlite::Result<Self> {
                let code: String = row.get(index)?;
                <$ty as ActiveEnum>::try_from_value(&code)
                    .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, e.to_string().into()))
            }
        })+
    };
}
code_cells!(Sex, HealthRegion, MsiStatus, AlterationClass, EscatTier, MtbOutcome, CohortStage, OverallResponse);

/// A row as a tuple of cells, in column order.
pub(crate) trait Tuple: Sized {
    /// Reads `row`.
    fn tuple(row: &Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuples {
    ($(($($name:ident $index:tt),+)),+) => {
        $(impl<$($name: Cell),+> Tuple for ($($name,)+) {
            fn tuple(row: &Row<'_>) -> rusqlite::Result<Self> {
                Ok(($($name::cell(row, $index)?,)+))
            }
        })+
    };
}
tuples!(
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
);

/// Every row `sql` selects from the database file at `path`.
pub(crate) fn read_all<T: Tuple>(path: &Path, sql: &str) -> rusqlite::Result<Vec<T>> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    let mut statement = connection.prepare(sql)?;
    let rows = statement.query_map([], T::tuple)?;
    rows.collect()
}
