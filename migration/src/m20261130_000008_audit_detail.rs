//! An audit record of a write says what it changed (an import: domain, file hash, rows).

use crate::columns::optional_text;
use sea_orm_migration::prelude::*;

/// Adds `audit_record.detail`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecord::Table)
                    .add_column(optional_text(AuditRecord::Detail, 4000))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(AuditRecord::Table).drop_column(AuditRecord::Detail).to_owned()).await
    }
}

/// The `audit_record` table, for the column this migration adds.
#[derive(DeriveIden)]
enum AuditRecord {
    Table,
    Detail,
}
