//! Rate limits: each token spends query-complexity points from a budget per fixed
//! window. Budgets live in the database (one upsert per query), so they hold across
//! replicas.
//!
//! The charge happens after validation, when async-graphql knows the query's
//! complexity, in the [`RateLimit`] extension; a query over budget is refused as
//! `THROTTLED` with `retryAfter`, which the HTTP layer turns into `429` and
//! `Retry-After`. The charge is then readable in the response as `rateLimit`.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};
use chrono::Utc;
use consortium_entity::access::rate_window;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::Principal;
use crate::error::ApiError;

/// A token's budget after a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    /// Points per window.
    pub limit: i64,
    /// Points left in this window.
    pub remaining: i64,
    /// When the window ends (Unix seconds).
    pub reset_at: i64,
    /// What this query cost.
    pub cost: i64,
}

/// Where the extension leaves a request's charge for the `rateLimit` field.
#[derive(Debug, Default)]
pub struct RateSlot(Mutex<Option<RateStatus>>);

impl RateSlot {
    /// The charge of this request, once validated.
    pub fn get(&self) -> Option<RateStatus> {
        match self.0.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    fn set(&self, status: RateStatus) {
        match self.0.lock() {
            Ok(mut guard) => *guard = Some(status),
            Err(poisoned) => *poisoned.into_inner() = Some(status),
        }
    }
}

/// The budgets.
#[derive(Debug)]
pub struct RateLimiter {
    db: DatabaseConnection,
    points: i64,
    window_secs: i64,
}

impl RateLimiter {
    /// `points` per `window_secs` for every token.
    pub fn new(db: DatabaseConnection, points: i64, window_secs: i64) -> Self {
        Self { db, points, window_secs: window_secs.max(1) }
    }

    /// Spends `cost` points of `subject`'s budget, or refuses if that would overdraw it
    /// (a refused query costs nothing).
    pub async fn charge(&self, subject: &str, cost: i64) -> Result<RateStatus, ApiError> {
        let now = Utc::now().timestamp();
        let window_start = now - now.rem_euclid(self.window_secs);
        let reset_at = window_start + self.window_secs;
        use rate_window::Column;
        // One statement per query: add the cost and read the new total back.
        let add = OnConflict::columns([Column::Subject, Column::WindowStart])
            .value(Column::Spent, Expr::col((rate_window::Entity, Column::Spent)).add(cost))
            .to_owned();
        let upsert = Query::insert()
            .into_table(rate_window::Entity)
            .columns([Column::Subject, Column::WindowStart, Column::Spent])
            .values_panic([subject.into(), window_start.into(), cost.into()])
            .on_conflict(add)
            .returning_col(Column::Spent)
            .to_owned();
        let backend = self.db.get_database_backend();
        let spent: i64 = match self.db.query_one(backend.build(&upsert)).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => cost,
        };
        if spent == cost {
            // The first charge of a new window: forget the caller's older windows.
            rate_window::Entity::delete_many()
                .filter(Column::Subject.eq(subject))
                .filter(Column::WindowStart.lt(window_start))
                .exec(&self.db)
                .await?;
        }
        if spent > self.points {
            rate_window::Entity::update_many()
                .col_expr(Column::Spent, Expr::col(Column::Spent).sub(cost))
                .filter(Column::Subject.eq(subject))
                .filter(Column::WindowStart.eq(window_start))
                .exec(&self.db)
                .await?;
            return Err(ApiError::Throttled { retry_after_secs: (reset_at - now).max(1) });
        }
        Ok(RateStatus { limit: self.points, remaining: self.points - spent, reset_at, cost })
    }
}

/// The extension charging each validated query to its principal's token.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit;

impl ExtensionFactory for RateLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RateLimitExtension)
    }
}

struct RateLimitExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for RateLimitExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let (Some(limiter), Some(principal)) = (ctx.data_opt::<Arc<RateLimiter>>(), ctx.data_opt::<Principal>()) else {
            return Ok(result);
        };
        // Every query costs at least one point, so even trivial ones are counted.
        let cost = result.complexity.max(1) as i64;
        match limiter.charge(&principal.token_id, cost).await {
            Ok(status) => {
                if let Some(slot) = ctx.data_opt::<Arc<RateSlot>>() {
                    slot.set(status);
                }
                Ok(result)
            }
            Err(error) => Err(vec![error.into_field_error().into_server_error(async_graphql::Pos::default())]),
        }
    }
}
