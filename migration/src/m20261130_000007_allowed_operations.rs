//! Allow-lists of tokens limited to registered operations.

use sea_orm_migration::prelude::*;

use crate::columns::text;

/// Creates `allowed_operation`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AllowedOperation::Table)
                    .col(text(AllowedOperation::TokenPrefix, 16))
                    .col(text(AllowedOperation::QueryHash, 64))
                    .col(text(AllowedOperation::Source, 200))
                    .primary_key(Index::create().col(AllowedOperation::TokenPrefix).col(AllowedOperation::QueryHash))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AllowedOperation::Table).to_owned()).await
    }
}

/// The `allowed_operation` table.
#[derive(DeriveIden)]
enum AllowedOperation {
    Table,
    TokenPrefix,
    QueryHash,
    Source,
}
