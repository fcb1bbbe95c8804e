//! The request record, written by group commit: no answer leaves before its audit
//! record is durable, and concurrent requests share one transaction (one disk flush)
//! instead of taking turns for one each.
//!
//! Requests hand their record to [`Recorder::append`] and wait. One writer task per
//! process takes every record waiting at that moment (up to [`MAX_GROUP`]), reads the
//! chain's head, hashes the records in order on top of it, inserts them in one statement
//! and commits;
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
//! **The ledger with the record.** A request that releases patient sets for the first
//! time hands them over with its record; they are written in the same transaction, so
//! no answer leaves with its protection state unrecorded. Under the chain's lock they
//! are checked once more against sets written to the same partner's ledger since the
//! request's decision saw it (by other requests, on any replica, and earlier in the
//! same group): a set
//! that would single out fewer than k patients together with one of them means the two
//! requests raced past the differencing guard, and the later one is not answered. Its
//! record is written with the outcome `CONFLICT` and nothing released; asked again,
//! the question meets the guard with the other's sets in the ledger.
//!
//! **Privacy charges with the record.** A request releasing noisy values (the noisy
//! tier, [`crate::pipeline::decide::privacy`]) hands over their charge too. It is reckoned against the
//! partner's budget in the group's transaction, after the charges of earlier records
//! (of this group and, under the lock, of every replica): made and noted in the record
//! (`epsilon`) when the budget allows it; otherwise the record's outcome is
//! `BUDGET_EXHAUSTED`, nothing is charged, and the answer is not sent.
//!
//! A group that cannot be written fails every request in it (`UNAVAILABLE`, no
//! answer); nothing is half-written, because the group is one transaction, committed
//! only after every row came back as written.

use std::sync::Arc;

use consortium_disclosure::differencing::singles_out;
use consortium_entity::access::{audit_record, released_cell};
use roaring::RoaringBitmap;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, NotSet, QueryFilter, QueryOrder, RuntimeErr, Set, SqlErr, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use super::audit::{hash, GENESIS};
use crate::auth::epoch::current_epoch;
use crate::metrics::Metrics;
use crate::pipeline::decide::ledger::NewSets;
use crate::pipeline::decide::memory::Memory;
use crate::pipeline::decide::privacy::{Charge, BUDGET_EXHAUSTED};

/// The outcome on record of a request whose new sets lost a race past the differencing
/// guard (see the module documentation).
pub const CONFLICT: &str = "CONFLICT";

/// Most records written in one transaction.
pub const MAX_GROUP: usize = 256;

/// Requests that may wait for the writer at once; more wait to hand their record over.
const QUEUE: usize = 4 * MAX_GROUP;

/// Ledger rows per insert statement.
const LEDGER_ROWS_PER_STATEMENT: usize = 1000;

/// Attempts at a group whose head another writer took first.
const ATTEMPTS: usize = 20;

/// The advisory lock key under which PostgreSQL replicas take turns at the chain's head
/// (an arbitrary constant: "audit" in ASCII).
const CHAIN_LOCK: i64 = 0x61_7564_6974;

/// Why a record was not written.
#[derive(Debug, Clone)]
pub enum RecordError {
    /// The group could not be written (shared by every request of the group).
    Failed(Arc<DbErr>),
    /// Access changed (a token revoked, grants changed, on any replica) after the
    /// request's credentials were checked: nothing was written; check them again.
    StaleCredentials,
}

struct Waiting {
    pending: Pending,
    written: oneshot::Sender<Result<audit_record::Model, RecordError>>,
}

/// The handle requests append through; the writer task runs while any handle lives.
#[derive(Debug, Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Waiting>,
}

impl Recorder {
    /// Starts the writer of the chain kept in `db`, counting its groups in `metrics`.
    pub fn start(db: DatabaseConnection, metrics: Arc<Metrics>) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db, waiting, metrics));
        Self { queue }
    }

    /// Appends `record` (its id and hashes are set by the writer), with what its answer
    /// adds to the service's `memory`, and returns it as stored, once it is durable. A
    /// record whose sets lost a race past the differencing guard comes back with the
    /// outcome [`CONFLICT`], one whose charge the budget does not allow with
    /// [`BUDGET_EXHAUSTED`], both with nothing released: their answers must not be
    /// sent. A record of an answer whose credentials were checked at access epoch
    /// `checked_at` is written only if access has not changed since (see
    /// [`crate::auth::cache`]).
    pub async fn append(
        &self,
        record: audit_record::Model,
        memory: Memory,
        checked_at: Option<i64>,
    ) -> Result<audit_record::Model, RecordError> {
        let (written, stored) = oneshot::channel();
        let stopped = || RecordError::Failed(Arc::new(DbErr::Custom("the audit writer has stopped".into())));
        self.queue.send(Waiting { pending: (record, memory, checked_at), written }).await.map_err(|_| stopped())?;
        stored.await.map_err(|_| stopped())?
    }
}

/// The writer: takes whatever is waiting, writes it as one group, answers, repeats.
async fn write_groups(db: DatabaseConnection, mut waiting: mpsc::Receiver<Waiting>, metrics: Arc<Metrics>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        // The records (and their sets) move to the group's writer; the answers stay.
        let (records, answers): (Vec<Pending>, Vec<_>) = group.drain(..).map(|w| (w.pending, w.written)).unzip();
        // A group is written on a task of its own, so that even a panic fails only the
        // group, not the writer.
        let written = match tokio::spawn(write_group(db.clone(), records)).await {
            Ok(written) => written,
            Err(join) => Err(DbErr::Custom(format!("writing the group failed: {join}"))),
        };
        match written {
            Ok(stored) => {
                metrics.audit_group(stored.iter().flatten().count());
                for (answer, row) in answers.into_iter().zip(stored) {
                    // A request that gave up waiting (its deadline passed) is still on record.
                    let _ = answer.send(row.ok_or(RecordError::StaleCredentials));
                }
            }
            Err(error) => {
                tracing::error!(cause = %error, records = answers.len(), "cannot append to the audit trail");
                let error = Arc::new(error);
                for answer in answers {
                    let _ = answer.send(Err(RecordError::Failed(Arc::clone(&error))));
                }
            }
        }
    }
}

/// A record waiting, with what its answer adds to memory and when its credentials were
/// checked.
type Pending = (audit_record::Model, Memory, Option<i64>);

/// Writes `records` (with their new sets and charges) in order at the head of the chain, in one
/// transaction; returns them as stored, in the same order (`None`: not written, its
/// credentials are stale).
async fn write_group(db: DatabaseConnection, records: Vec<Pending>) -> Result<Vec<Option<audit_record::Model>>, DbErr> {
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

/// One attempt at a group: the head, the ledger check, the hashes, the rows, the commit.
async fn try_group(db: &DatabaseConnection, pending: &[Pending]) -> Result<Vec<Option<audit_record::Model>>, DbErr> {
    let transaction = db.begin().await?;
    lock_chain(&transaction).await?;
    // Answers whose credentials were checked before access last changed wait for a
    // new check; everything else is written.
    let epoch = match pending.iter().any(|(_, _, checked)| checked.is_some()) {
        true => current_epoch(&transaction).await?,
        false => 0,
    };
    let live: Vec<bool> = pending.iter().map(|(_, _, checked)| checked.is_none_or(|at| at >= epoch)).collect();
    let group: Vec<(audit_record::Model, &Memory)> = pending
        .iter()
        .zip(&live)
        .filter(|(_, live)| **live)
        .map(|((record, memory, _), _)| (record.clone(), memory))
        .collect();
    let (mut records, cells) = ledger_entries(&transaction, &group).await?;
    for (record, (_, memory)) in records.iter_mut().zip(&group) {
        if let Some(charge) = memory.charge.as_ref().filter(|_| record.outcome != CONFLICT) {
            charge_record(&transaction, record, charge).await?;
        }
    }
    if records.is_empty() {
        return Ok(live.iter().map(|_| None).collect());
    }
    // In statements of bounded size (every backend limits the parameters of one).
    for chunk in cells.chunks(LEDGER_ROWS_PER_STATEMENT) {
        released_cell::Entity::insert_many(chunk.to_vec()).exec(&transaction).await?;
    }
    let (head_id, mut prev_hash) = head(&transaction).await?;
    let mut rows = Vec::with_capacity(records.len());
    for record in &records {
        let mut row = record.clone().into_active_model();
        let own = hash(record, &prev_hash);
        row.id = NotSet;
        row.hash = Set(own.clone());
        row.prev_hash = Set(std::mem::replace(&mut prev_hash, own));
        rows.push(row);
    }
    // One statement for the group (on SQLite too: each statement is a hop to its worker
    // thread and back); the rows come back ordered as inserted, by their ids.
    let mut stored = if transaction.get_database_backend() == DatabaseBackend::Postgres {
        audit_record::Entity::insert_many(rows).exec_with_returning_many(&transaction).await?
    } else {
        // sea-orm reads no RETURNING from SQLite: the group's rows, read back after the head.
        audit_record::Entity::insert_many(rows).exec(&transaction).await?;
        let after = audit_record::Column::Id.gt(head_id);
        audit_record::Entity::find().filter(after).all(&transaction).await?
    };
    stored.sort_by_key(|row| row.id);
    if stored.len() != records.len() || stored.windows(2).any(|w| w[0].hash != w[1].prev_hash) {
        // Dropping the transaction rolls the group back.
        return Err(DbErr::Custom(format!("{} records written, {} returned in order", records.len(), stored.len())));
    }
    transaction.commit().await?;
    let mut stored = stored.into_iter();
    Ok(live.into_iter().map(|live| if live { stored.next() } else { None }).collect())
}

/// On PostgreSQL, takes the chain's lock until `transaction` ends, so replicas (and
/// writes that put themselves on record) append one after the other.
async fn lock_chain(transaction: &DatabaseTransaction) -> Result<(), DbErr> {
    if transaction.get_database_backend() == DatabaseBackend::Postgres {
        transaction.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CHAIN_LOCK})")).await?;
    }
    Ok(())
}

/// The id and hash of the chain's last record (0 and the genesis hash for an empty chain).
async fn head(transaction: &DatabaseTransaction) -> Result<(i32, String), DbErr> {
    let head = audit_record::Entity::find().order_by_desc(audit_record::Column::Id).one(transaction).await?;
    Ok(head.map_or_else(|| (0, GENESIS.to_owned()), |h| (h.id, h.hash)))
}

/// Appends `record` at the head of the chain inside a write's own `transaction`, so the
/// write and its record commit together or not at all (an import; see
/// [`crate::import`]). Should another writer take the head first, the unique previous
/// hash fails the transaction and the write with it.
pub async fn append_within(
    transaction: &DatabaseTransaction,
    record: audit_record::Model,
) -> Result<audit_record::Model, DbErr> {
    lock_chain(transaction).await?;
    let (_, prev_hash) = head(transaction).await?;
    let mut row = record.clone().into_active_model();
    row.id = NotSet;
    row.hash = Set(hash(&record, &prev_hash));
    row.prev_hash = Set(prev_hash);
    row.insert(transaction).await
}

/// Makes `charge` and notes its ε in `record`, or, when the partner's budget does not
/// allow it, turns the record into `BUDGET_EXHAUSTED`, releasing nothing.
async fn charge_record(
    transaction: &DatabaseTransaction,
    record: &mut audit_record::Model,
    charge: &Charge,
) -> Result<(), DbErr> {
    // The window is the one the record is written in.
    let charge = Charge { at: chrono::Utc::now().timestamp(), ..charge.clone() };
    let charge = &charge;
    let reckoning = charge.reckon(transaction).await?;
    if reckoning.affordable(charge.budget) {
        charge.make(transaction, &reckoning).await?;
        record.epsilon = Some(reckoning.cost);
    } else {
        record.outcome = BUDGET_EXHAUSTED.to_owned();
        (record.released, record.withheld, record.epsilon) = (0, 0, Some(0.0));
        let refused = reckoning.refusal(charge.budget, charge.window_secs);
        record.detail = Some(serde_json::json!({ "refused": refused }).to_string());
    }
    Ok(())
}

/// The group's records as they go on record (a record whose sets conflict with sets
/// written since its decision becomes `CONFLICT`, releasing nothing) and the ledger rows
/// of the others' sets.
async fn ledger_entries(
    transaction: &DatabaseTransaction,
    group: &[(audit_record::Model, &Memory)],
) -> Result<(Vec<audit_record::Model>, Vec<released_cell::ActiveModel>), DbErr> {
    let releasing: Vec<&NewSets> =
        group.iter().filter_map(|(_, m)| m.sets.as_ref()).filter(|s| !s.sets.is_empty()).collect();
    // Sets written since the earliest decision of the group, to anyone.
    let written: Vec<(i64, i64, String, RoaringBitmap, u64)> = match releasing.iter().map(|s| s.seen_through).min() {
        None => Vec::new(),
        Some(since) => {
            let versions: Vec<i64> = releasing.iter().map(|s| s.data_version).collect();
            let rows = released_cell::Entity::find()
                .filter(released_cell::Column::DataVersion.is_in(versions))
                .filter(released_cell::Column::Id.gt(since))
                .all(transaction)
                .await?;
            let mut written = Vec::with_capacity(rows.len());
            for row in rows {
                let set = RoaringBitmap::deserialize_from(row.members.as_slice())
                    .map_err(|e| DbErr::Custom(format!("released_cell {} does not read back: {e}", row.id)))?;
                let k = u64::try_from(row.k).unwrap_or(u64::MAX);
                written.push((row.data_version, row.id, row.partner_code, set, k));
            }
            written
        }
    };
    // Sets of earlier records of this group, written in this transaction.
    let mut accepted: Vec<(i64, String, &RoaringBitmap, u64)> = Vec::new();
    let mut records = Vec::with_capacity(group.len());
    let mut cells = Vec::new();
    for (record, memory) in group {
        let mut record = record.clone();
        let partner = record.partner_code.clone().unwrap_or_default();
        if let Some(new) = memory.sets.as_ref().filter(|s| !s.sets.is_empty()) {
            // The partner's own ledger: sets released to it since its decision.
            let ours = |v: &i64, p: &String| *v == new.data_version && *p == partner;
            let since = written.iter().filter(|(v, id, p, _, _)| ours(v, p) && *id > new.seen_through);
            let mut earlier = since
                .map(|(_, _, _, set, k)| (set, *k))
                .chain(accepted.iter().filter(|(v, p, _, _)| ours(v, p)).map(|(_, _, set, k)| (*set, *k)));
            let raced = earlier.any(|(other, k)| new.sets.iter().any(|set| singles_out(set, other, new.k.max(k))));
            if raced {
                record.outcome = CONFLICT.to_owned();
                (record.released, record.withheld) = (0, 0);
            } else {
                for set in &new.sets {
                    let mut members = Vec::with_capacity(set.serialized_size());
                    set.serialize_into(&mut members)
                        .map_err(|e| DbErr::Custom(format!("cannot serialise a set: {e}")))?;
                    cells.push(released_cell::ActiveModel {
                        id: NotSet,
                        data_version: Set(new.data_version),
                        partner_code: Set(partner.clone()),
                        patients: Set(i64::try_from(set.len()).unwrap_or(i64::MAX)),
                        k: Set(i64::try_from(new.k).unwrap_or(i64::MAX)),
                        members: Set(members),
                    });
                    accepted.push((new.data_version, partner.clone(), set, new.k));
                }
            }
        }
        records.push(record);
    }
    Ok((records, cells))
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
