//! The secret of the cell-key method's record keys.

use sea_orm_migration::prelude::*;

use crate::columns::{bigint, int, text};

/// Creates `record_key_secret`, which holds one row once the service has started: the
/// secret every replica derives the patients' record keys from.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RecordKeySecret::Table)
                    .col(int(RecordKeySecret::Id).primary_key())
                    .col(text(RecordKeySecret::Secret, 128))
                    .col(bigint(RecordKeySecret::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RecordKeySecret::Table).to_owned()).await
    }
}

/// The `record_key_secret` table.
#[derive(DeriveIden)]
enum RecordKeySecret {
    Table,
    Id,
    Secret,
    CreatedAt,
}
