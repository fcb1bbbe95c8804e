//! Scoped API tokens for industry partners and dashboards.
//!
//! A token is `cat_` + 8 random characters (the public prefix, shown in lists, logs and
//! audit records) + `.` + 43 random characters. It is printed once when issued; only
//! its SHA-256 is stored, so a database leak reveals no usable token. A revocation is
//! announced to every replica (see [`super::cache`], which also says what bounds it
//! when an announcement cannot arrive).

use chrono::Utc;
use consortium_entity::access::{allowed_operation, api_token};
use consortium_entity::partner;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::error::{AccessError, AuthError};
use super::grants::{find_partner, granted};
use super::principal::Principal;
use super::scope::ScopeSet;
use super::secret::{random, sha256_hex};

/// What every API token starts with.
pub const PREFIX: &str = "cat_";

/// Length of the public prefix (`cat_` and 8 characters).
const PREFIX_LEN: usize = 12;

/// A newly issued token: the only time its secret exists outside the caller's hands.
#[derive(Debug)]
pub struct IssuedToken {
    /// The whole token, to be handed to the partner.
    pub token: String,
    /// The stored row.
    pub row: api_token::Model,
}

/// Issues a token for partner `partner_code` with `scopes` (which must be within the
/// partner's grants), valid for `lifetime_secs`.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    partner_code: &str,
    scopes: ScopeSet,
    label: &str,
    lifetime_secs: i64,
) -> Result<IssuedToken, AccessError> {
    let partner = find_partner(db, partner_code).await?;
    let grants = granted(&partner);
    if !grants.covers(scopes) || scopes.is_empty() {
        return Err(AccessError::ScopesNotGranted { requested: scopes.to_string(), granted: grants.to_string() });
    }
    let token = format!("{PREFIX}{}.{}", random(6)?, random(32)?);
    let now = Utc::now().timestamp();
    let row = api_token::ActiveModel {
        prefix: Set(token[..PREFIX_LEN].to_owned()),
        secret_hash: Set(sha256_hex(token.as_bytes())),
        partner_id: Set(partner.id),
        scopes: Set(scopes.to_string()),
        label: Set(label.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + lifetime_secs),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(IssuedToken { token, row })
}

/// Every token (of one partner, if given), newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    partner_code: Option<&str>,
) -> Result<Vec<(api_token::Model, String)>, AccessError> {
    let mut query = api_token::Entity::find().find_also_related(partner::Entity).order_by_desc(api_token::Column::Id);
    if let Some(code) = partner_code {
        query = query.filter(api_token::Column::PartnerId.eq(find_partner(db, code).await?.id));
    }
    let rows = query.all(db).await?;
    Ok(rows.into_iter().map(|(row, partner)| (row, partner.map(|p| p.code).unwrap_or_default())).collect())
}

/// Revokes the token with public `prefix`; false if there is none.
pub async fn revoke<C: ConnectionTrait>(db: &C, prefix: &str) -> Result<bool, AccessError> {
    Ok(revoke_where(db, api_token::Column::Prefix.eq(prefix)).await? > 0)
}

/// Revokes every active token labelled `label`; returns how many.
pub async fn revoke_labelled<C: ConnectionTrait>(db: &C, label: &str) -> Result<u64, AccessError> {
    revoke_where(db, api_token::Column::Label.eq(label)).await
}

async fn revoke_where<C: ConnectionTrait>(db: &C, which: sea_orm::sea_query::SimpleExpr) -> Result<u64, AccessError> {
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, sea_orm::sea_query::Expr::value(Utc::now().timestamp()))
        .filter(which)
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if result.rows_affected > 0 {
        super::epoch::announce_access_change(db).await?;
    }
    Ok(result.rows_affected)
}

/// The principal a presented API token stands for.
pub async fn authenticate<C: ConnectionTrait>(db: &C, token: &str) -> Result<Principal, AuthError> {
    let (row, partner) = api_token::Entity::find()
        .find_also_related(partner::Entity)
        .filter(api_token::Column::SecretHash.eq(sha256_hex(token.as_bytes())))
        .one(db)
        .await?
        .ok_or(AuthError::Invalid("unknown token"))?;
    let partner = partner.ok_or(AuthError::Invalid("unknown token"))?;
    let now = Utc::now().timestamp();
    if row.revoked_at.is_some() {
        return Err(AuthError::Invalid("the token was revoked"));
    }
    if row.expires_at <= now {
        return Err(AuthError::Invalid("the token has expired"));
    }
    if row.last_used_at.is_none_or(|at| now - at >= 60) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(api_token::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    let scopes = row.scopes.parse::<ScopeSet>().unwrap_or_default().intersection(granted(&partner));
    let allowed: Vec<String> = allowed_operation::Entity::find()
        .select_only()
        .column(allowed_operation::Column::QueryHash)
        .filter(allowed_operation::Column::TokenPrefix.eq(row.prefix.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let allowed = (!allowed.is_empty()).then(|| std::sync::Arc::new(allowed.into_iter().collect()));
    Ok(Principal { partner, scopes, token_id: row.prefix, expires_at: row.expires_at, allowed })
}
