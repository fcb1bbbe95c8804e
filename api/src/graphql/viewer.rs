//! The caller's own side of access: who they are (`viewer`), what their budgets are
//! (`rateLimit`, and `privacyBudget` on the noisy tier) and what is on record about
//! their requests (`auditTrail`).

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use consortium_entity::access::audit_record;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::access::{principal, request, require, state};
use super::pagination::MAX_PAGE;
use super::types::Partner;
use crate::auth::Scope;
use consortium_analytics::error::echo;

use crate::error::ApiError;

/// Who is asking.
#[derive(SimpleObject, Debug)]
pub struct Viewer {
    /// The partner the request acts for.
    pub partner: Partner,
    /// The scopes of this request.
    pub scopes: Vec<String>,
    /// How the token is named in audit records (never the token itself).
    pub token_id: String,
    /// When the token expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The caller's query-complexity budget after this request.
#[derive(SimpleObject, Debug)]
pub struct RateLimit {
    /// Points per window.
    pub limit: i64,
    /// Points left in the window.
    pub remaining: i64,
    /// When the window ends.
    pub reset_at: Option<DateTime<Utc>>,
    /// Points this request cost.
    pub cost: i64,
}

/// The caller's privacy budget on the noisy tier, before this request's charge (its
/// cost is in the response's `disclosure` extension).
#[derive(SimpleObject, Debug)]
pub struct PrivacyBudget {
    /// ε each noisy value costs the first time it is received.
    pub epsilon_per_value: f64,
    /// ε per window.
    pub epsilon_per_window: f64,
    /// ε spent in the current window.
    pub epsilon_spent: f64,
    /// ε left in it.
    pub epsilon_remaining: f64,
    /// When the window ends and the budget is whole again.
    pub resets_at: Option<DateTime<Utc>>,
}

/// One request on record.
#[derive(SimpleObject, Debug)]
pub struct AuditRecord {
    /// Position in the chain.
    pub id: i32,
    /// When the request arrived.
    pub at: Option<DateTime<Utc>>,
    /// The partner, if authenticated.
    pub partner: Option<String>,
    /// The token's id.
    pub token_id: Option<String>,
    /// The operation name.
    pub operation: Option<String>,
    /// Hash of the normalised query.
    pub query_hash: String,
    /// Hash of the variables.
    pub variables_hash: String,
    /// Data version answered from.
    pub data_version: i64,
    /// `OK` or the error code.
    pub outcome: String,
    /// Milliseconds to answer.
    pub duration_ms: i64,
    /// Values released.
    pub released: i64,
    /// Values withheld; null in a partner's own records under the cell-key method,
    /// which leaves withheld groups out of its answers as it leaves out empty ones (how
    /// many were withheld would tell how many groups are small but not empty).
    pub withheld: Option<i64>,
    /// The disclosure policy the values were released under.
    pub policy_version: Option<String>,
    /// The privacy loss the request spent (the noisy tier).
    pub epsilon: Option<f64>,
    /// This record's hash.
    pub hash: String,
}

impl From<audit_record::Model> for AuditRecord {
    fn from(r: audit_record::Model) -> Self {
        Self {
            id: r.id,
            at: DateTime::from_timestamp_millis(r.at_ms),
            partner: r.partner_code,
            token_id: r.token_id,
            operation: r.operation,
            query_hash: r.query_hash,
            variables_hash: r.variables_hash,
            data_version: r.data_version,
            outcome: r.outcome,
            duration_ms: r.duration_ms,
            released: r.released,
            withheld: Some(r.withheld),
            policy_version: r.policy_version,
            epsilon: r.epsilon,
            hash: r.hash,
        }
    }
}

/// Access questions.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// The caller.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let principal = principal(ctx)?;
        request(ctx)?.mark_personal();
        Ok(Viewer {
            partner: Partner::from(&principal.partner),
            scopes: principal.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            token_id: principal.token_id.clone(),
            expires_at: DateTime::from_timestamp(principal.expires_at, 0),
        })
    }

    /// The caller's rate-limit budget, after this request's charge.
    async fn rate_limit(&self, ctx: &Context<'_>) -> Result<Option<RateLimit>> {
        principal(ctx)?;
        let request = request(ctx)?;
        request.mark_personal();
        let status = request.rate();
        Ok(status.map(|s| RateLimit {
            limit: s.limit,
            remaining: s.remaining,
            reset_at: DateTime::from_timestamp(s.reset_at, 0),
            cost: s.cost,
        }))
    }

    /// The caller's privacy budget, when its partner is on the noisy tier (null
    /// otherwise).
    async fn privacy_budget(&self, ctx: &Context<'_>) -> Result<Option<PrivacyBudget>> {
        let principal = principal(ctx)?;
        let request = request(ctx)?;
        request.mark_personal();
        let Some((mechanism, budget)) = request.release().noise() else { return Ok(None) };
        let status = state(ctx)?.privacy.status(&principal.partner.code, budget, Utc::now().timestamp()).await?;
        Ok(Some(PrivacyBudget {
            epsilon_per_value: mechanism.epsilon(),
            epsilon_per_window: budget,
            epsilon_spent: status.spent,
            epsilon_remaining: status.remaining,
            resets_at: DateTime::from_timestamp(status.resets_at, 0),
        }))
    }

    /// Audit records, newest first: the caller's partner's own, or everyone's with
    /// `admin`. `after` is the id of the last record of the previous page.
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<usize, AuditRecord, EmptyFields, EmptyFields>> {
        let principal = require(ctx, Scope::AuditRead)?;
        request(ctx)?.mark_personal();
        let first = match first {
            None => MAX_PAGE,
            Some(n) if (0..=MAX_PAGE as i32).contains(&n) => n as usize,
            Some(n) => {
                return Err(ApiError::BadUserInput(format!("first must be between 0 and {MAX_PAGE}, got {n}")).into())
            }
        };
        let mut query = audit_record::Entity::find().order_by_desc(audit_record::Column::Id);
        if !principal.has(Scope::Admin) {
            query = query.filter(audit_record::Column::PartnerCode.eq(principal.partner.code.as_str()));
        }
        if let Some(cursor) = &after {
            let id = cursor
                .parse::<i32>()
                .map_err(|_| ApiError::BadUserInput(format!("invalid cursor '{}'", echo(cursor))))?;
            query = query.filter(audit_record::Column::Id.lt(id));
        }
        let rows = query.limit(first as u64 + 1).all(&state(ctx)?.db).await.map_err(ApiError::from)?;
        let more = rows.len() > first;
        let hide_withheld = !principal.has(Scope::Admin) && request(ctx)?.release().is_perturbed();
        let mut connection = Connection::new(after.is_some(), more);
        connection.edges.extend(rows.into_iter().take(first).map(|r| {
            let mut record = AuditRecord::from(r);
            record.withheld = record.withheld.filter(|_| !hide_withheld);
            Edge::new(record.id as usize, record)
        }));
        Ok(connection)
    }
}
