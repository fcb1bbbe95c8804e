//! The differencing guard's ledger of released patient sets.

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
                    .table(ReleasedCell::Table)
                    .col(ColumnDef::new(ReleasedCell::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(bigint(ReleasedCell::DataVersion))
                    .col(text(ReleasedCell::PartnerCode, 32))
                    .col(
                        ColumnDef::new(ReleasedCell::Patients)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(ReleasedCell::Patients).gt(0)),
                    )
                    .col(bigint(ReleasedCell::K))
                    .col(ColumnDef::new(ReleasedCell::Members).blob().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("released_cell_by_version")
                    .table(ReleasedCell::Table)
                    .col(ReleasedCell::DataVersion)
                    .col(ReleasedCell::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ReleasedCell::Table).to_owned()).await
    }
}

/// The `released_cell` table.
#[derive(DeriveIden)]
enum ReleasedCell {
    Table,
    Id,
    DataVersion,
    PartnerCode,
    Patients,
    K,
    Members,
}
