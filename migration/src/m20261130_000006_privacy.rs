//! The noisy tier: kept noisy values, per-partner charges and budgets, and the ε of
//! each request on record.

use consortium_entity::access::{audit_record, noisy_count, privacy_budget, privacy_charge};
use sea_orm_migration::prelude::*;

use crate::columns::{bigint, text};

/// Creates `noisy_count`, `privacy_charge` and `privacy_budget`; adds
/// `audit_record.epsilon`.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn epsilon(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).double().not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(noisy_count::Entity)
                    .col(bigint(noisy_count::Column::DataVersion))
                    .col(text(noisy_count::Column::Cell, 64))
                    .col(bigint(noisy_count::Column::Value))
                    .primary_key(Index::create().col(noisy_count::Column::DataVersion).col(noisy_count::Column::Cell))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(privacy_charge::Entity)
                    .col(bigint(privacy_charge::Column::DataVersion))
                    .col(text(privacy_charge::Column::PartnerCode, 32))
                    .col(text(privacy_charge::Column::Cell, 64))
                    .col(epsilon(privacy_charge::Column::Epsilon))
                    .col(bigint(privacy_charge::Column::At))
                    .primary_key(
                        Index::create()
                            .col(privacy_charge::Column::DataVersion)
                            .col(privacy_charge::Column::PartnerCode)
                            .col(privacy_charge::Column::Cell),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(privacy_budget::Entity)
                    .col(text(privacy_budget::Column::PartnerCode, 32).primary_key())
                    .col(bigint(privacy_budget::Column::WindowStart))
                    .col(epsilon(privacy_budget::Column::Spent))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(audit_record::Entity)
                    .add_column(ColumnDef::new(audit_record::Column::Epsilon).double().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(audit_record::Entity).drop_column(audit_record::Column::Epsilon).to_owned(),
            )
            .await?;
        for table in [privacy_budget::Entity.into_table_ref(), privacy_charge::Entity.into_table_ref()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(noisy_count::Entity).to_owned()).await
    }
}
