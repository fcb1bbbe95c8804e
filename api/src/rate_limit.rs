//! Rate limits: each token spends query-complexity points from a budget per fixed
//! window. Budgets live in the database (one upsert per query), so they hold across
//! replicas.
//!
//! The charge happens after validation, when async-graphql knows the query's
//! complexity, in the [`RateLimit`] extension (a batch is charged as one request: see
//! [`crate::request`]); a query over budget is refused as
//! `THROTTLED` with `retryAfter`, which the HTTP layer turns into `429` and
//! `Retry-After`. The charge is then readable in the response as `rateLimit`.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};
use chrono::Utc;
use consortium_entity::access::rate_window;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::request::RequestContext;

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

    /// Adds `points` already granted in memory (a batch's later operations) to
    /// `subject`'s spending in this window, without a check.
    pub async fn record(&self, subject: &str, points: i64) -> Result<(), ApiError> {
        if points > 0 {
            self.add(subject, points).await?;
        }
        Ok(())
    }

    /// Spends `cost` points of `subject`'s budget, or refuses if that would overdraw it
    /// (a refused query costs nothing).
    pub async fn charge(&self, subject: &str, cost: i64) -> Result<RateStatus, ApiError> {
        let (spent, window) = self.add(subject, cost).await?;
        let reset_at = window + self.window_secs;
        if spent > self.points {
            use rate_window::Column;
            rate_window::Entity::update_many()
                .col_expr(Column::Spent, Expr::col(Column::Spent).sub(cost))
                .filter(Column::Subject.eq(subject))
                .filter(Column::WindowStart.eq(window))
                .exec(&self.db)
                .await?;
            return Err(ApiError::Throttled { retry_after_secs: (reset_at - Utc::now().timestamp()).max(1) });
        }
        Ok(RateStatus { limit: self.points, remaining: self.points - spent, reset_at, cost })
    }

    /// Adds `points` to `subject`'s spending in the current window (one statement that
    /// also reads the new total back); returns the total and the window's start.
    async fn add(&self, subject: &str, points: i64) -> Result<(i64, i64), ApiError> {
        let now = Utc::now().timestamp();
        let window = now - now.rem_euclid(self.window_secs);
        use rate_window::Column;
        let add = OnConflict::columns([Column::Subject, Column::WindowStart])
            .value(Column::Spent, Expr::col((rate_window::Entity, Column::Spent)).add(points))
            .to_owned();
        let upsert = Query::insert()
            .into_table(rate_window::Entity)
            .columns([Column::Subject, Column::WindowStart, Column::Spent])
            .values_panic([subject.into(), window.into(), points.into()])
            .on_conflict(add)
            .returning_col(Column::Spent)
            .to_owned();
        let backend = self.db.get_database_backend();
        let spent: i64 = match self.db.query_one(backend.build(&upsert)).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => points,
        };
        if spent == points {
            // The first charge of a new window: forget the caller's older windows.
            rate_window::Entity::delete_many()
                .filter(Column::Subject.eq(subject))
                .filter(Column::WindowStart.lt(window))
                .exec(&self.db)
                .await?;
        }
        Ok((spent, window))
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
        let request = ctx.data_opt::<Arc<RequestContext>>();
        // Publishing runs the operations a second time; they were charged when planned.
        if request.is_some_and(|r| r.is_publishing()) {
            return Ok(result);
        }
        // A later operation of a batch spends what the batch's first charge left.
        if let Some((request, charged)) = request.and_then(|r| r.rate().map(|status| (r, status))) {
            if cost > charged.remaining {
                let retry_after_secs = (charged.reset_at - Utc::now().timestamp()).max(1);
                return Err(vec![ApiError::Throttled { retry_after_secs }.into_server_error()]);
            }
            request.add_unsaved_charge(cost);
            request.set_rate(RateStatus { remaining: charged.remaining - cost, cost, ..charged });
            return Ok(result);
        }
        match limiter.charge(&principal.token_id, cost).await {
            Ok(status) => {
                if let Some(request) = request {
                    request.set_rate(status);
                }
                Ok(result)
            }
            Err(error) => Err(vec![error.into_server_error()]),
        }
    }
}
