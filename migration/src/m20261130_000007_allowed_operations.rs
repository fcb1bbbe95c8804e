//! Allow-lists of tokens limited to registered operations.

use consortium_entity::access::allowed_operation;
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
                    .table(allowed_operation::Entity)
                    .col(text(allowed_operation::Column::TokenPrefix, 16))
                    .col(text(allowed_operation::Column::QueryHash, 64))
                    .col(text(allowed_operation::Column::Source, 200))
                    .primary_key(
                        Index::create()
                            .col(allowed_operation::Column::TokenPrefix)
                            .col(allowed_operation::Column::QueryHash),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(allowed_operation::Entity).to_owned()).await
    }
}
