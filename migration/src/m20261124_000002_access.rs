//! Access control and accountability: per-partner scope overrides, API tokens, OAuth
//! clients, signing keys, issued access tokens, spent client assertions, rate-limit
//! windows and the hash-chained audit trail.

use crate::columns::{bigint, fk, id, int, optional_bigint, optional_document, optional_text, text};
use sea_orm_migration::prelude::*;

/// Creates the access-control tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Partner::Table).add_column(optional_text(Partner::Scopes, 400)).to_owned(),
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
        manager.alter_table(Table::alter().table(Partner::Table).drop_column(Partner::Scopes).to_owned()).await
    }
}

fn tables() -> Vec<TableCreateStatement> {
    vec![api_token(), oauth_client(), signing_key(), issued_token(), used_assertion(), rate_window(), audit_record()]
}

fn api_token() -> TableCreateStatement {
    Table::create()
        .table(ApiToken::Table)
        .col(id(ApiToken::Id))
        .col(text(ApiToken::Prefix, 16).unique_key())
        .col(text(ApiToken::SecretHash, 64).unique_key())
        .col(int(ApiToken::PartnerId))
        .col(text(ApiToken::Scopes, 400))
        .col(text(ApiToken::Label, 200))
        .col(bigint(ApiToken::CreatedAt))
        .col(bigint(ApiToken::ExpiresAt))
        .col(optional_bigint(ApiToken::RevokedAt))
        .col(optional_bigint(ApiToken::LastUsedAt))
        .foreign_key(&mut fk(ApiToken::Table, ApiToken::PartnerId, Partner::Table, Partner::Id))
        .to_owned()
}

fn oauth_client() -> TableCreateStatement {
    Table::create()
        .table(OauthClient::Table)
        .col(id(OauthClient::Id))
        .col(text(OauthClient::ClientId, 64).unique_key())
        .col(int(OauthClient::PartnerId))
        .col(optional_text(OauthClient::SecretHash, 64))
        .col(optional_document(OauthClient::Jwks))
        .col(text(OauthClient::Scopes, 400))
        .col(bigint(OauthClient::CreatedAt))
        .col(optional_bigint(OauthClient::RevokedAt))
        .foreign_key(&mut fk(OauthClient::Table, OauthClient::PartnerId, Partner::Table, Partner::Id))
        .to_owned()
}

fn signing_key() -> TableCreateStatement {
    Table::create()
        .table(SigningKey::Table)
        .col(id(SigningKey::Id))
        .col(text(SigningKey::Kid, 64).unique_key())
        .col(text(SigningKey::PrivatePkcs8, 200))
        .col(text(SigningKey::PublicX, 64))
        .col(bigint(SigningKey::CreatedAt))
        .col(optional_bigint(SigningKey::RetiredAt))
        .to_owned()
}

fn issued_token() -> TableCreateStatement {
    Table::create()
        .table(IssuedToken::Table)
        .col(text(IssuedToken::Jti, 64).primary_key())
        .col(text(IssuedToken::ClientId, 64))
        .col(int(IssuedToken::PartnerId))
        .col(text(IssuedToken::Scopes, 400))
        .col(bigint(IssuedToken::IssuedAt))
        .col(bigint(IssuedToken::ExpiresAt))
        .col(optional_bigint(IssuedToken::RevokedAt))
        .foreign_key(&mut fk(IssuedToken::Table, IssuedToken::PartnerId, Partner::Table, Partner::Id))
        .to_owned()
}

fn used_assertion() -> TableCreateStatement {
    Table::create()
        .table(UsedAssertion::Table)
        .col(id(UsedAssertion::Id))
        .col(text(UsedAssertion::ClientId, 64))
        .col(text(UsedAssertion::Jti, 200))
        .col(bigint(UsedAssertion::ExpiresAt))
        .to_owned()
}

fn rate_window() -> TableCreateStatement {
    Table::create()
        .table(RateWindow::Table)
        .col(text(RateWindow::Subject, 80))
        .col(bigint(RateWindow::WindowStart))
        .col(bigint(RateWindow::Spent))
        .primary_key(Index::create().col(RateWindow::Subject).col(RateWindow::WindowStart))
        .to_owned()
}

fn audit_record() -> TableCreateStatement {
    Table::create()
        .table(AuditRecord::Table)
        .col(id(AuditRecord::Id))
        .col(bigint(AuditRecord::AtMs))
        .col(optional_text(AuditRecord::PartnerCode, 32))
        .col(optional_text(AuditRecord::TokenId, 80))
        .col(optional_text(AuditRecord::Operation, 200))
        .col(text(AuditRecord::QueryHash, 64))
        .col(text(AuditRecord::VariablesHash, 64))
        .col(bigint(AuditRecord::DataVersion))
        .col(text(AuditRecord::Outcome, 32))
        .col(bigint(AuditRecord::DurationMs))
        .col(bigint(AuditRecord::Released))
        .col(bigint(AuditRecord::Withheld))
        .col(text(AuditRecord::PrevHash, 64).unique_key())
        .col(text(AuditRecord::Hash, 64))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("ux_used_assertion_client_jti")
            .table(UsedAssertion::Table)
            .col(UsedAssertion::ClientId)
            .col(UsedAssertion::Jti)
            .unique()
            .to_owned(),
        Index::create()
            .name("ix_audit_record_partner")
            .table(AuditRecord::Table)
            .col(AuditRecord::PartnerCode)
            .to_owned(),
    ]
}

/// The `partner` table (created by the trial's initial schema).
#[derive(DeriveIden)]
enum Partner {
    Table,
    Id,
    Scopes,
}

/// The `api_token` table.
#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    Prefix,
    SecretHash,
    PartnerId,
    Scopes,
    Label,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

/// The `oauth_client` table.
#[derive(DeriveIden)]
enum OauthClient {
    Table,
    Id,
    ClientId,
    PartnerId,
    SecretHash,
    Jwks,
    Scopes,
    CreatedAt,
    RevokedAt,
}

/// The `signing_key` table.
#[derive(DeriveIden)]
enum SigningKey {
    Table,
    Id,
    Kid,
    PrivatePkcs8,
    PublicX,
    CreatedAt,
    RetiredAt,
}

/// The `issued_token` table.
#[derive(DeriveIden)]
enum IssuedToken {
    Table,
    Jti,
    ClientId,
    PartnerId,
    Scopes,
    IssuedAt,
    ExpiresAt,
    RevokedAt,
}

/// The `used_assertion` table.
#[derive(DeriveIden)]
enum UsedAssertion {
    Table,
    Id,
    ClientId,
    Jti,
    ExpiresAt,
}

/// The `rate_window` table.
#[derive(DeriveIden)]
enum RateWindow {
    Table,
    Subject,
    WindowStart,
    Spent,
}

/// The `audit_record` table as this migration creates it.
#[derive(DeriveIden)]
enum AuditRecord {
    Table,
    Id,
    AtMs,
    PartnerCode,
    TokenId,
    Operation,
    QueryHash,
    VariablesHash,
    DataVersion,
    Outcome,
    DurationMs,
    Released,
    Withheld,
    PrevHash,
    Hash,
}
