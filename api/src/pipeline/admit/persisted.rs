//! Persisted queries, for dashboards and other programs that ask the same questions
//! again and again.
//!
//! **Automatic persisted queries** (the Apollo protocol): a request may name its query
//! by `extensions.persistedQuery.sha256Hash` (hex SHA-256 of the query text) and leave
//! `query` out. A hash this replica knows is run as its query; an unknown one gets
//! `PERSISTED_QUERY_NOT_FOUND`, and the client sends the query with its hash once,
//! which registers it. A query whose text does not hash to the hash sent is refused.
//! Known queries are kept in memory (10,000 per replica); each replica learns them on
//! its own, as Apollo clients expect.
//!
//! **Allow-lists.** A token may be limited to registered operations
//! (`consortium token allow <token id> <file.graphql>…`): a dashboard's token then runs
//! only its own questions. Operations are compared by the hash of their normalised
//! text (the audit record's `queryHash`), so layout and comments do not matter; a token
//! with an allow-list asking anything else is refused (`FORBIDDEN`), on record.

use std::sync::Arc;

use consortium_entity::access::{allowed_operation, api_token};
use moka::future::Cache;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::auth::error::AccessError;
use crate::auth::secret::sha256_hex;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::graphql::document::query_hash;

/// Queries known by their hash.
#[derive(Debug, Clone)]
pub struct PersistedQueries(Cache<String, Arc<str>>);

impl Default for PersistedQueries {
    fn default() -> Self {
        Self(Cache::new(10_000))
    }
}

impl PersistedQueries {
    /// Gives `request` its query from its persisted-query hash, or registers the query
    /// it brings under its hash.
    ///
    /// # Errors
    ///
    /// `PERSISTED_QUERY_NOT_FOUND` for an unknown hash without a query; `BAD_USER_INPUT`
    /// for a malformed extension or a query that does not match its hash.
    pub async fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), ApiError> {
        use async_graphql::Value;
        let Some(extension) = request.extensions.get("persistedQuery") else { return Ok(()) };
        let hash = match extension {
            Value::Object(fields) => match fields.get("sha256Hash") {
                Some(Value::String(hash)) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    hash.to_ascii_lowercase()
                }
                _ => return Err(ApiError::BadUserInput("persistedQuery.sha256Hash must be 64 hex digits".into())),
            },
            _ => return Err(ApiError::BadUserInput("persistedQuery must be an object with sha256Hash".into())),
        };
        if request.query.is_empty() {
            let query = self.0.get(&hash).await.ok_or(ApiError::PersistedQueryNotFound)?;
            request.query = query.to_string();
        } else if sha256_hex(request.query.as_bytes()) == hash {
            self.0.insert(hash, Arc::from(request.query.as_str())).await;
        } else {
            return Err(ApiError::BadUserInput("the query's SHA-256 is not persistedQuery.sha256Hash".into()));
        }
        Ok(())
    }
}

/// Refuses an operation the principal's allow-list does not hold; `query_hash` is the
/// hash of the operation's normalised text.
///
/// # Errors
///
/// `FORBIDDEN` when the principal has an allow-list without the operation.
pub fn allowed(principal: &Principal, query_hash: &str) -> Result<(), ApiError> {
    match &principal.allowed {
        Some(allowed) if !allowed.contains(query_hash) => Err(ApiError::Forbidden(
            "this token may run only the operations registered for it (consortium token allow)".into(),
        )),
        _ => Ok(()),
    }
}

/// Limits the active token with prefix `prefix` to the operations in `documents`
/// (name, GraphQL text), adding to those it may run already; announced to every
/// replica. Returns how many operations the token may run now.
pub async fn allow<C: ConnectionTrait>(
    db: &C,
    prefix: &str,
    documents: &[(String, String)],
) -> Result<usize, AccessError> {
    let token = api_token::Entity::find()
        .filter(api_token::Column::Prefix.eq(prefix))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AccessError::UnknownToken(prefix.to_owned()))?;
    for (source, text) in documents {
        async_graphql::parser::parse_query(text)
            .map_err(|e| AccessError::InvalidOperation(format!("{source}: {e}")))?;
        let row = allowed_operation::ActiveModel {
            token_prefix: Set(token.prefix.clone()),
            query_hash: Set(query_hash(text)),
            source: Set(source.chars().take(200).collect()),
        };
        allowed_operation::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([
                    allowed_operation::Column::TokenPrefix,
                    allowed_operation::Column::QueryHash,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    crate::auth::epoch::announce_access_change(db).await?;
    let count = allowed_operation::Entity::find()
        .filter(allowed_operation::Column::TokenPrefix.eq(token.prefix.as_str()))
        .count(db)
        .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}
