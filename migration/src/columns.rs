//! Column builders shared by the migrations, so every table spells keys, codes and
//! enum checks the same way. Code columns take their allowed codes as literals from the
//! migration that creates them.

use sea_orm_migration::prelude::*;

/// An auto-increment integer primary key.
pub fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().auto_increment().primary_key().take()
}

/// A required integer column (used for foreign keys and small numbers).
pub fn int(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().take()
}

/// A required text column of bounded length.
pub fn text(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().take()
}

/// A required date column.
pub fn date(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).date().not_null().take()
}

/// A required boolean column.
pub fn boolean(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().take()
}

/// A required code column, with a CHECK that it holds one of `values`.
pub fn code(col: impl IntoIden, values: &[&str]) -> ColumnDef {
    enum_column(col, values).not_null().take()
}

/// An optional code column (NULL passes the CHECK).
pub fn optional_code(col: impl IntoIden, values: &[&str]) -> ColumnDef {
    enum_column(col, values).null().take()
}

/// A code column as wide as its longest code (at least 4), checked against `values`.
fn enum_column(col: impl IntoIden, values: &[&str]) -> ColumnDef {
    let col = col.into_iden();
    let width = values.iter().map(|v| v.len()).max().unwrap_or(1).max(4) as u32;
    let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    ColumnDef::new(col.clone()).string_len(width).check(Expr::col(col).is_in(values)).take()
}

/// A foreign key from `table.col` to `target.id`.
pub fn fk(
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
    target: impl IntoIden + 'static,
    target_id: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, col).to(target, target_id).on_delete(ForeignKeyAction::Restrict).take()
}

/// An optional text column of bounded length.
pub fn optional_text(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).null().take()
}

/// An optional unbounded text column (JSON documents).
pub fn optional_document(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().take()
}

/// A required 64-bit integer column (Unix times, counters).
pub fn bigint(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}

/// An optional 64-bit integer column.
pub fn optional_bigint(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().take()
}
