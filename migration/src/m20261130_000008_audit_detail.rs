//! An audit record of a write says what it changed (an import: domain, file hash, rows).

use crate::columns::optional_text;
use consortium_entity::access::audit_record;
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
                    .table(audit_record::Entity)
                    .add_column(optional_text(audit_record::Column::Detail, 4000))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(audit_record::Entity).drop_column(audit_record::Column::Detail).to_owned(),
            )
            .await
    }
}
