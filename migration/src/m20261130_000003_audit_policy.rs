//! The audit record names the disclosure policy its values were released under.

use crate::columns::optional_text;
use sea_orm_migration::prelude::*;

/// Adds `audit_record.policy_version`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecord::Table)
                    .add_column(optional_text(AuditRecord::PolicyVersion, 40))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(AuditRecord::Table).drop_column(AuditRecord::PolicyVersion).to_owned())
            .await
    }
}

/// The `audit_record` table, for the column this migration adds.
#[derive(DeriveIden)]
enum AuditRecord {
    Table,
    PolicyVersion,
}
