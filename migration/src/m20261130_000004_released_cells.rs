//! The differencing guard's ledger of released patient sets.

use consortium_entity::access::released_cell;
use sea_orm_migration::prelude::*;

use crate::columns::{bigint, text};

/// Creates `released_cell`, read per data version in id order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(released_cell::Entity)
                    .col(
                        ColumnDef::new(released_cell::Column::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(bigint(released_cell::Column::DataVersion))
                    .col(text(released_cell::Column::PartnerCode, 32))
                    .col(
                        ColumnDef::new(released_cell::Column::Patients)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(released_cell::Column::Patients).gt(0)),
                    )
                    .col(bigint(released_cell::Column::K))
                    .col(ColumnDef::new(released_cell::Column::Members).blob().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("released_cell_by_version")
                    .table(released_cell::Entity)
                    .col(released_cell::Column::DataVersion)
                    .col(released_cell::Column::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(released_cell::Entity).to_owned()).await
    }
}
