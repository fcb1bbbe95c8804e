//! The access epoch, moved by every change of access.

use sea_orm_migration::prelude::*;

use crate::columns::{bigint, int};

/// Creates `access_epoch` with its one row at 0.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The id of the counter's one row.
const SINGLE: i32 = 1;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessEpoch::Table)
                    .col(int(AccessEpoch::Id).primary_key())
                    .col(bigint(AccessEpoch::Epoch))
                    .to_owned(),
            )
            .await?;
        let first = Query::insert()
            .into_table(AccessEpoch::Table)
            .columns([AccessEpoch::Id, AccessEpoch::Epoch])
            .values_panic([SINGLE.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(first).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AccessEpoch::Table).to_owned()).await
    }
}

/// The `access_epoch` table.
#[derive(DeriveIden)]
enum AccessEpoch {
    Table,
    Id,
    Epoch,
}
