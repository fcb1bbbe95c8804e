//! The request record, written by group commit: no answer leaves before its audit
//! record is durable, and concurrent requests share one transaction (one disk flush)
//! instead of taking turns for one each.
//!
//! Requests hand their record to [`Recorder::append`] and wait. One writer task per
//! process takes every record waiting at that moment (up to [`MAX_GROUP`]), reads the
//! chain's head, hashes the records in order on top of it, inserts them (one statement
//! on PostgreSQL; row by row on SQLite, which has no round trips to save) and commits;
//! then each waiting request learns its record's place and is answered. While a group
//! is being written the next one gathers, so the more requests arrive at once, the
//! fewer flushes each costs.
//!
//! **One chain across replicas.** On PostgreSQL the group's transaction first takes a
//! transaction-scoped advisory lock, so replicas append their groups one after the
//! other, each on the head the last one left: one chain, verified as one by
//! `consortium audit verify`. (One chain per replica would spare the lock, but make
//! the order of requests across replicas unprovable and every verification a merge;
//! the lock costs one statement per group, not per request.) The unique previous hash
//! stays as the backstop: should two writers ever read the same head (or, on SQLite,
//! another process write in between), the group is written again on the new head.
//!
//! A group that cannot be written fails every request in it (`UNAVAILABLE`, no
//! answer); nothing is half-written, because the group is one transaction.

use std::sync::Arc;

use consortium_entity::access::audit_record;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    NotSet, QueryOrder, RuntimeErr, Set, SqlErr, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use crate::audit::{hash, GENESIS};

/// Most records written in one transaction.
pub const MAX_GROUP: usize = 256;

/// Requests that may wait for the writer at once; more wait to hand their record over.
const QUEUE: usize = 4 * MAX_GROUP;

/// Attempts at a group whose head another writer took first.
const ATTEMPTS: usize = 20;

/// The advisory lock key under which PostgreSQL replicas take turns at the chain's head
/// (an arbitrary constant: "audit" in ASCII).
const CHAIN_LOCK: i64 = 0x61_7564_6974;

/// Why a record could not be written (shared by every request of the failed group).
pub type RecordError = Arc<DbErr>;

struct Waiting {
    record: audit_record::Model,
    written: oneshot::Sender<Result<audit_record::Model, RecordError>>,
}

/// The handle requests append through; the writer task runs while any handle lives.
#[derive(Debug, Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Waiting>,
}

impl Recorder {
    /// Starts the writer of the chain kept in `db`.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db, waiting));
        Self { queue }
    }

    /// Appends `record` (its id and hashes are set by the writer) and returns it as
    /// stored, once it is durable.
    pub async fn append(&self, record: audit_record::Model) -> Result<audit_record::Model, RecordError> {
        let (written, stored) = oneshot::channel();
        let stopped = || Arc::new(DbErr::Custom("the audit writer has stopped".into()));
        self.queue.send(Waiting { record, written }).await.map_err(|_| stopped())?;
        stored.await.map_err(|_| stopped())?
    }
}

/// The writer: takes whatever is waiting, writes it as one group, answers, repeats.
async fn write_groups(db: DatabaseConnection, mut waiting: mpsc::Receiver<Waiting>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let records: Vec<audit_record::Model> = group.iter().map(|w| w.record.clone()).collect();
        // A group is written on a task of its own, so that even a panic fails only the
        // group, not the writer.
        let written = match tokio::spawn(write_group(db.clone(), records)).await {
            Ok(written) => written,
            Err(join) => Err(DbErr::Custom(format!("writing the group failed: {join}"))),
        };
        match written {
            Ok(stored) => {
                for (one, row) in group.drain(..).zip(stored) {
                    // A request that gave up waiting (its deadline passed) is still on record.
                    let _ = one.written.send(Ok(row));
                }
            }
            Err(error) => {
                tracing::error!(cause = %error, records = group.len(), "cannot append to the audit trail");
                let error = Arc::new(error);
                for one in group.drain(..) {
                    let _ = one.written.send(Err(Arc::clone(&error)));
                }
            }
        }
    }
}

/// Writes `records` in order at the head of the chain, in one transaction; returns
/// them as stored, in the same order.
async fn write_group(
    db: DatabaseConnection,
    records: Vec<audit_record::Model>,
) -> Result<Vec<audit_record::Model>, DbErr> {
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5 * attempt as u64)).await;
        }
        match try_group(&db, &records).await {
            Ok(stored) => return Ok(stored),
            Err(error) if lost_the_head(&error) => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    let last = last.map(|e| e.to_string()).unwrap_or_default();
    Err(DbErr::Custom(format!("could not append to the audit chain in {ATTEMPTS} attempts: {last}")))
}

/// One attempt at a group: the head, the hashes, the rows, the commit.
async fn try_group(
    db: &DatabaseConnection,
    records: &[audit_record::Model],
) -> Result<Vec<audit_record::Model>, DbErr> {
    let transaction = db.begin().await?;
    let backend = transaction.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        transaction.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK})")).await?;
    }
    let head = audit_record::Entity::find().order_by_desc(audit_record::Column::Id).one(&transaction).await?;
    let mut prev_hash = head.map_or_else(|| GENESIS.to_owned(), |h| h.hash);
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        let mut row = record.clone().into_active_model();
        let own = hash(record, &prev_hash);
        row.id = NotSet;
        row.hash = Set(own.clone());
        row.prev_hash = Set(std::mem::replace(&mut prev_hash, own));
        rows.push(row);
    }
    let stored = if backend == DatabaseBackend::Postgres {
        // One statement for the group; rows come back in the order inserted.
        audit_record::Entity::insert_many(rows).exec_with_returning_many(&transaction).await?
    } else {
        // SQLite (in process: no round trips to save) inserts row by row.
        let mut stored = Vec::with_capacity(rows.len());
        for row in rows {
            stored.push(row.insert(&transaction).await?);
        }
        stored
    };
    transaction.commit().await?;
    if stored.len() != records.len() || stored.windows(2).any(|w| w[0].hash != w[1].prev_hash) {
        return Err(DbErr::Custom(format!("{} records written, {} returned in order", records.len(), stored.len())));
    }
    Ok(stored)
}

/// Whether another writer took the head first: the unique previous hash was taken, or
/// (SQLite, another process) the database was written since this transaction read it.
fn lost_the_head(error: &DbErr) -> bool {
    if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        return true;
    }
    let (DbErr::Exec(RuntimeErr::SqlxError(sea_orm::sqlx::Error::Database(cause)))
    | DbErr::Query(RuntimeErr::SqlxError(sea_orm::sqlx::Error::Database(cause)))
    | DbErr::Conn(RuntimeErr::SqlxError(sea_orm::sqlx::Error::Database(cause)))) = error
    else {
        return false;
    };
    // SQLITE_BUSY and SQLITE_BUSY_SNAPSHOT.
    matches!(cause.code().as_deref(), Some("5" | "517"))
}
