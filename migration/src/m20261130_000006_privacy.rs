//! The noisy tier: kept noisy values, per-partner charges and budgets, and the ε of
//! each request on record.

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
                    .table(NoisyCount::Table)
                    .col(bigint(NoisyCount::DataVersion))
                    .col(text(NoisyCount::Cell, 64))
                    .col(bigint(NoisyCount::Value))
                    .primary_key(Index::create().col(NoisyCount::DataVersion).col(NoisyCount::Cell))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PrivacyCharge::Table)
                    .col(bigint(PrivacyCharge::DataVersion))
                    .col(text(PrivacyCharge::PartnerCode, 32))
                    .col(text(PrivacyCharge::Cell, 64))
                    .col(epsilon(PrivacyCharge::Epsilon))
                    .col(bigint(PrivacyCharge::At))
                    .primary_key(
                        Index::create()
                            .col(PrivacyCharge::DataVersion)
                            .col(PrivacyCharge::PartnerCode)
                            .col(PrivacyCharge::Cell),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PrivacyBudget::Table)
                    .col(text(PrivacyBudget::PartnerCode, 32).primary_key())
                    .col(bigint(PrivacyBudget::WindowStart))
                    .col(epsilon(PrivacyBudget::Spent))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecord::Table)
                    .add_column(ColumnDef::new(AuditRecord::Epsilon).double().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(AuditRecord::Table).drop_column(AuditRecord::Epsilon).to_owned())
            .await?;
        for table in [PrivacyBudget::Table.into_table_ref(), PrivacyCharge::Table.into_table_ref()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(NoisyCount::Table).to_owned()).await
    }
}

/// The `noisy_count` table.
#[derive(DeriveIden)]
enum NoisyCount {
    Table,
    DataVersion,
    Cell,
    Value,
}

/// The `privacy_charge` table.
#[derive(DeriveIden)]
enum PrivacyCharge {
    Table,
    DataVersion,
    PartnerCode,
    Cell,
    Epsilon,
    At,
}

/// The `privacy_budget` table.
#[derive(DeriveIden)]
enum PrivacyBudget {
    Table,
    PartnerCode,
    WindowStart,
    Spent,
}

/// The `audit_record` table, for the column this migration adds.
#[derive(DeriveIden)]
enum AuditRecord {
    Table,
    Epsilon,
}
