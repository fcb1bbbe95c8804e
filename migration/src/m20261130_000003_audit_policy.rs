//! The audit record names the disclosure policy its values were released under.

use crate::columns::optional_text;
use consortium_entity::access::audit_record;
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
                    .table(audit_record::Entity)
                    .add_column(optional_text(audit_record::Column::PolicyVersion, 40))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(audit_record::Entity).drop_column(audit_record::Column::PolicyVersion).to_owned(),
            )
            .await
    }
}
