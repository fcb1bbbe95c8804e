//! The access epoch: how many changes of access (a revocation, a partner's grants) the
//! database has seen, and how a change is announced to every token cache.
//!
//! Whatever changes access calls [`announce_access_change`] in its own transaction: the
//! database's epoch moves (so an answer whose credentials were checked before it is
//! checked again before it leaves, see [`super::cache`]), this process's caches forget
//! their principals, and on PostgreSQL a `NOTIFY` tells every replica's.

use std::sync::atomic::{AtomicU64, Ordering};

use consortium_entity::access::access_epoch;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter};

/// The PostgreSQL channel access changes are announced on.
pub const CHANNEL: &str = "consortium_access";

/// Access changes announced in this process (by any connection).
static ANNOUNCED: AtomicU64 = AtomicU64::new(0);

/// How many access changes this process announced.
pub fn announced() -> u64 {
    ANNOUNCED.load(Ordering::SeqCst)
}

/// The access epoch: how many access changes the database has seen.
pub async fn current_epoch<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let row = access_epoch::Entity::find_by_id(access_epoch::SINGLE).one(db).await?;
    Ok(row.map_or(0, |r| r.epoch))
}

/// Tells the database (the access epoch moves), every cache of this process, and on
/// PostgreSQL every replica, that access changed.
pub async fn announce_access_change<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    access_epoch::Entity::update_many()
        .col_expr(access_epoch::Column::Epoch, Expr::col(access_epoch::Column::Epoch).add(1))
        .filter(access_epoch::Column::Id.eq(access_epoch::SINGLE))
        .exec(db)
        .await?;
    ANNOUNCED.fetch_add(1, Ordering::SeqCst);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}
