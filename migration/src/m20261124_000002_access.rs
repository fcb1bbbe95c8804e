//! Access control and accountability: per-partner scope overrides, API tokens, OAuth
//! clients, signing keys, issued access tokens, spent client assertions, rate-limit
//! windows and the hash-chained audit trail.

use crate::columns::{bigint, fk, id, int, optional_bigint, optional_document, optional_text, text};
use consortium_entity::access::*;
use consortium_entity::partner;
use sea_orm_migration::prelude::*;

/// Creates the access-control tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(partner::Entity)
                    .add_column(optional_text(partner::Column::Scopes, 400))
                    .to_owned(),
            )
            .await?;
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().into_iter().rev() {
            if let Some(name) = table.get_table_name().cloned() {
                manager.drop_table(Table::drop().table(name).to_owned()).await?;
            }
        }
        manager.alter_table(Table::alter().table(partner::Entity).drop_column(partner::Column::Scopes).to_owned()).await
    }
}

fn tables() -> Vec<TableCreateStatement> {
    use api_token as at;
    use audit_record as ar;
    use issued_token as it;
    use oauth_client as oc;
    vec![
        Table::create()
            .table(at::Entity)
            .col(id(at::Column::Id))
            .col(text(at::Column::Prefix, 16).unique_key())
            .col(text(at::Column::SecretHash, 64).unique_key())
            .col(int(at::Column::PartnerId))
            .col(text(at::Column::Scopes, 400))
            .col(text(at::Column::Label, 200))
            .col(bigint(at::Column::CreatedAt))
            .col(bigint(at::Column::ExpiresAt))
            .col(optional_bigint(at::Column::RevokedAt))
            .col(optional_bigint(at::Column::LastUsedAt))
            .foreign_key(&mut fk(at::Entity, at::Column::PartnerId, partner::Entity, partner::Column::Id))
            .to_owned(),
        Table::create()
            .table(oc::Entity)
            .col(id(oc::Column::Id))
            .col(text(oc::Column::ClientId, 64).unique_key())
            .col(int(oc::Column::PartnerId))
            .col(optional_text(oc::Column::SecretHash, 64))
            .col(optional_document(oc::Column::Jwks))
            .col(text(oc::Column::Scopes, 400))
            .col(bigint(oc::Column::CreatedAt))
            .col(optional_bigint(oc::Column::RevokedAt))
            .foreign_key(&mut fk(oc::Entity, oc::Column::PartnerId, partner::Entity, partner::Column::Id))
            .to_owned(),
        Table::create()
            .table(signing_key::Entity)
            .col(id(signing_key::Column::Id))
            .col(text(signing_key::Column::Kid, 64).unique_key())
            .col(text(signing_key::Column::PrivatePkcs8, 200))
            .col(text(signing_key::Column::PublicX, 64))
            .col(bigint(signing_key::Column::CreatedAt))
            .col(optional_bigint(signing_key::Column::RetiredAt))
            .to_owned(),
        Table::create()
            .table(it::Entity)
            .col(text(it::Column::Jti, 64).primary_key())
            .col(text(it::Column::ClientId, 64))
            .col(int(it::Column::PartnerId))
            .col(text(it::Column::Scopes, 400))
            .col(bigint(it::Column::IssuedAt))
            .col(bigint(it::Column::ExpiresAt))
            .col(optional_bigint(it::Column::RevokedAt))
            .foreign_key(&mut fk(it::Entity, it::Column::PartnerId, partner::Entity, partner::Column::Id))
            .to_owned(),
        Table::create()
            .table(used_assertion::Entity)
            .col(id(used_assertion::Column::Id))
            .col(text(used_assertion::Column::ClientId, 64))
            .col(text(used_assertion::Column::Jti, 200))
            .col(bigint(used_assertion::Column::ExpiresAt))
            .to_owned(),
        Table::create()
            .table(rate_window::Entity)
            .col(text(rate_window::Column::Subject, 80))
            .col(bigint(rate_window::Column::WindowStart))
            .col(bigint(rate_window::Column::Spent))
            .primary_key(Index::create().col(rate_window::Column::Subject).col(rate_window::Column::WindowStart))
            .to_owned(),
        Table::create()
            .table(ar::Entity)
            .col(id(ar::Column::Id))
            .col(bigint(ar::Column::AtMs))
            .col(optional_text(ar::Column::PartnerCode, 32))
            .col(optional_text(ar::Column::TokenId, 80))
            .col(optional_text(ar::Column::Operation, 200))
            .col(text(ar::Column::QueryHash, 64))
            .col(text(ar::Column::VariablesHash, 64))
            .col(bigint(ar::Column::DataVersion))
            .col(text(ar::Column::Outcome, 32))
            .col(bigint(ar::Column::DurationMs))
            .col(bigint(ar::Column::Released))
            .col(bigint(ar::Column::Withheld))
            .col(text(ar::Column::PrevHash, 64).unique_key())
            .col(text(ar::Column::Hash, 64))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("ux_used_assertion_client_jti")
            .table(used_assertion::Entity)
            .col(used_assertion::Column::ClientId)
            .col(used_assertion::Column::Jti)
            .unique()
            .to_owned(),
        Index::create()
            .name("ix_audit_record_partner")
            .table(audit_record::Entity)
            .col(audit_record::Column::PartnerCode)
            .to_owned(),
    ]
}
