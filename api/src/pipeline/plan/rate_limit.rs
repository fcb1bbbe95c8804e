//! Rate limits: each token spends query-complexity points from a budget per fixed
//! window, held in the database so that it holds across replicas, without a database
//! write (and a row lock) per request.
//!
//! **Leases.** A replica takes points from a token's budget in the database in chunks
//! (a lease of [`LEASE_FRACTION`] of the budget, or exactly the cost when less is left),
//! with one conditional update that never lets the leased total pass the budget; it
//! then spends them in memory. So across every replica a token never spends more than
//! its budget, and a request costs a database write only when its replica's lease runs
//! out. The tolerance is on the other side: a token may be refused while other
//! replicas still hold unspent leases, at most one lease each (a twentieth of the
//! budget per replica), until the window ends. A replica that stops loses its unspent
//! lease for the rest of the window.
//!
//! The charge happens after validation, when async-graphql knows the query's
//! complexity, in the [`RateLimit`](super::charge::RateLimit) extension; every
//! operation of a batch is charged.
//! A query over budget is refused as `THROTTLED` with `retryAfter`, which the HTTP
//! layer turns into `429` and `Retry-After`. The charge is then readable in the
//! response as `rateLimit`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use consortium_entity::access::rate_window;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::error::ApiError;
use crate::pipeline::context::RateStatus;

/// A lease is this fraction of the budget (1/20).
pub const LEASE_FRACTION: i64 = 20;

/// This replica's lease of one token's budget.
#[derive(Debug, Clone, Copy)]
struct Lease {
    window: i64,
    /// Leased and not yet spent.
    available: i64,
    /// Points of the window nobody had leased at this replica's last lease.
    unleased: i64,
}

/// The budgets.
#[derive(Debug)]
pub struct RateLimiter {
    db: DatabaseConnection,
    points: i64,
    window_secs: i64,
    /// Each token's lease, behind a lock of its own: a token's charges on this replica
    /// take turns (a lease is asked for once, not by every concurrent request).
    leases: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Lease>>>>,
}

impl RateLimiter {
    /// `points` per `window_secs` for every token.
    pub fn new(db: DatabaseConnection, points: i64, window_secs: i64) -> Self {
        Self { db, points, window_secs: window_secs.max(1), leases: Mutex::new(HashMap::new()) }
    }

    /// Spends `cost` points of `subject`'s budget, or refuses if that would overdraw it
    /// (a refused query costs nothing).
    pub async fn charge(&self, subject: &str, cost: i64) -> Result<RateStatus, ApiError> {
        let lease = self.lease_of(subject, self.window_of(Utc::now().timestamp()));
        let mut lease = lease.lock().await;
        // The window is read after waiting for the lease, and never goes back: a
        // request that waited past a window's end is charged to the new window.
        let now = Utc::now().timestamp();
        let window = self.window_of(now).max(lease.window);
        let reset_at = window + self.window_secs;
        if lease.window != window {
            *lease = Lease { window, available: 0, unleased: self.points };
        }
        if lease.available < cost {
            let Some((granted, leased)) = self.lease(subject, window, cost).await? else {
                return Err(ApiError::Throttled { retry_after_secs: (reset_at - now).max(1) });
            };
            lease.available += granted;
            lease.unleased = self.points - leased;
        }
        lease.available -= cost;
        Ok(RateStatus { limit: self.points, remaining: lease.unleased + lease.available, reset_at, cost })
    }

    fn window_of(&self, at: i64) -> i64 {
        at - at.rem_euclid(self.window_secs)
    }

    /// The lease of `subject` (new ones start empty); leases of past windows are
    /// dropped as the map grows.
    fn lease_of(&self, subject: &str, window: i64) -> Arc<tokio::sync::Mutex<Lease>> {
        let mut leases = match self.leases.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(lease) = leases.get(subject) {
            return Arc::clone(lease);
        }
        if leases.len() >= 10_000 {
            leases.retain(|_, lease| lease.try_lock().map_or(true, |l| l.window >= window));
        }
        let lease = Arc::new(tokio::sync::Mutex::new(Lease { window, available: 0, unleased: self.points }));
        leases.insert(subject.to_owned(), Arc::clone(&lease));
        lease
    }

    /// Leases points of `subject`'s budget in `window` for a query costing `cost`: a
    /// full lease (or `cost`, if more) if that much is left, else exactly `cost`, else
    /// none. Returns the points granted and the window's leased total after the grant.
    async fn lease(&self, subject: &str, window: i64, cost: i64) -> Result<Option<(i64, i64)>, ApiError> {
        use rate_window::Column;
        let backend = self.db.get_database_backend();
        let open = Query::insert()
            .into_table(rate_window::Entity)
            .columns([Column::Subject, Column::WindowStart, Column::Spent])
            .values_panic([subject.into(), window.into(), 0i64.into()])
            .on_conflict(OnConflict::columns([Column::Subject, Column::WindowStart]).do_nothing().to_owned())
            .to_owned();
        if self.db.execute(backend.build(&open)).await?.rows_affected() == 1 {
            // The first lease of a new window: forget the token's older windows.
            rate_window::Entity::delete_many()
                .filter(Column::Subject.eq(subject))
                .filter(Column::WindowStart.lt(window))
                .exec(&self.db)
                .await?;
        }
        let full = cost.max(self.points / LEASE_FRACTION);
        for amount in [full, cost] {
            // One statement: the leased total can never pass the budget, whatever
            // other replicas do at the same time.
            let take = Query::update()
                .table(rate_window::Entity)
                .value(Column::Spent, Expr::col(Column::Spent).add(amount))
                .and_where(Column::Subject.eq(subject))
                .and_where(Column::WindowStart.eq(window))
                .and_where(Expr::col(Column::Spent).add(amount).lte(self.points))
                .returning_col(Column::Spent)
                .to_owned();
            if let Some(row) = self.db.query_one(backend.build(&take)).await? {
                return Ok(Some((amount, row.try_get_by_index(0)?)));
            }
        }
        Ok(None)
    }
}
