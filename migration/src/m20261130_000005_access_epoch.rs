//! The access epoch, moved by every change of access.

use consortium_entity::access::access_epoch;
use sea_orm_migration::prelude::*;

use crate::columns::{bigint, int};

/// Creates `access_epoch` with its one row at 0.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(access_epoch::Entity)
                    .col(int(access_epoch::Column::Id).primary_key())
                    .col(bigint(access_epoch::Column::Epoch))
                    .to_owned(),
            )
            .await?;
        let first = Query::insert()
            .into_table(access_epoch::Entity)
            .columns([access_epoch::Column::Id, access_epoch::Column::Epoch])
            .values_panic([access_epoch::SINGLE.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(first).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(access_epoch::Entity).to_owned()).await
    }
}
