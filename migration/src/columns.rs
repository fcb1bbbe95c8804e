//! Column builders shared by the migrations, so every table spells keys, codes and
//! enum checks the same way.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ActiveEnum, Iterable};

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

/// A required code column for enum `E`, with a CHECK that it holds one of `E`'s codes.
pub fn code<E>(col: impl IntoIden + Copy + 'static) -> ColumnDef
where
    E: ActiveEnum<Value = String> + Iterable,
{
    enum_column::<E>(col).not_null().take()
}

/// An optional code column for enum `E` (NULL passes the CHECK).
pub fn optional_code<E>(col: impl IntoIden + Copy + 'static) -> ColumnDef
where
    E: ActiveEnum<Value = String> + Iterable,
{
    enum_column::<E>(col).null().take()
}

fn enum_column<E>(col: impl IntoIden + Copy + 'static) -> ColumnDef
where
    E: ActiveEnum<Value = String> + Iterable,
{
    let values: Vec<String> = E::iter().map(|v| v.to_value()).collect();
    let width = values.iter().map(String::len).max().unwrap_or(1).max(4) as u32;
    ColumnDef::new(col).string_len(width).check(Expr::col(col).is_in(values)).take()
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
