//! The differencing guard's ledgers as this replica knows them: per partner, the patient
//! sets released to it on the current data version, by any replica (see
//! [`consortium_disclosure::differencing`] for the rule). The guard serves the exact
//! tier only, which does not claim to protect against a partner combining answers with
//! another's (it is for partners entitled to the pseudonymised data): what it guards is
//! one partner's own answers, so no partner's questions can withhold another's answers
//! or fill another's ledger.
//!
//! The ledgers live in the database (`released_cell`, one row per partner and distinct
//! set, a compressed bitmap) so that they hold across requests, processes and replicas. Each
//! replica keeps the current version's sets in memory and, before deciding a request
//! that computes anything, reads the rows written since it last looked (one indexed
//! query). New sets are written by the request's record, in the transaction of its
//! audit record ([`crate::pipeline::record::recorder`]), where they are checked once more against sets
//! written meanwhile by other requests: the guard holds under concurrency too.
//!
//! **Bound.** A partner's ledger of a data version holds at most `LEDGER_MAX_BYTES` of
//! serialised sets (256 MiB by default). When an answer would pass the bound it is refused with
//! `DISCLOSURE_LEDGER_FULL`: the ledger never forgets a released set to make room, so
//! the guard never silently stops guarding. Questions already answered (served from the
//! released-answer cache) still are; a new data version starts a new ledger.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use consortium_disclosure::{Ledger, PatientSet};
use consortium_entity::access::released_cell;
use roaring::RoaringBitmap;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::error::ApiError;

/// A data version's ledger in memory.
#[derive(Debug)]
pub struct VersionLedger {
    version: i64,
    state: RwLock<Loaded>,
    reading: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Loaded {
    /// Each partner's sets.
    partners: HashMap<String, PartnerSets>,
    /// The last row read.
    through: i64,
    /// No sets: the ledger of a partner with none yet.
    none: PartnerSets,
}

/// The sets released to one partner.
#[derive(Debug, Default)]
struct PartnerSets {
    sets: Ledger,
    /// Serialised bytes held.
    bytes: u64,
}

/// New sets a request releases, to be written with its audit record.
#[derive(Debug, Clone)]
pub struct NewSets {
    /// The data version they were released from.
    pub data_version: i64,
    /// The smallest count the requester's policy publishes (the guard's k).
    pub k: u64,
    /// The last ledger row the request's decision saw.
    pub seen_through: i64,
    /// The sets, distinct and not in the ledger when decided.
    pub sets: Vec<RoaringBitmap>,
}

impl VersionLedger {
    /// The sets released to `partner`, for the rule (read-locked while held).
    pub fn sets(&self, partner: &str) -> LedgerRead<'_> {
        LedgerRead { loaded: self.read(), version: self.version, partner: partner.to_owned() }
    }

    fn through(&self) -> i64 {
        self.read().through
    }

    fn read(&self) -> RwLockReadGuard<'_, Loaded> {
        // A poisoned lock means a reader panicked; the ledger itself is intact.
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A ledger's sets, read-locked: a decision made on them and the sets it adds name the
/// same rows (see [`LedgerRead::new_sets`]).
#[derive(Debug)]
pub struct LedgerRead<'a> {
    loaded: RwLockReadGuard<'a, Loaded>,
    version: i64,
    partner: String,
}

impl LedgerRead<'_> {
    fn partner_sets(&self) -> &PartnerSets {
        self.loaded.partners.get(&self.partner).unwrap_or(&self.loaded.none)
    }
}

impl std::ops::Deref for LedgerRead<'_> {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        &self.partner_sets().sets
    }
}

impl LedgerRead<'_> {
    /// Of `released` (cells a decision on these sets published, under a policy of
    /// `k`), the sets not in the ledger yet, distinct; refused if they would pass
    /// `max_bytes`. They are checked again when written against every row after the
    /// ones this decision saw.
    pub fn new_sets(&self, released: &[PatientSet], k: u64, max_bytes: u64) -> Result<NewSets, ApiError> {
        let loaded = self.partner_sets();
        let mut fresh = Ledger::new();
        let mut sets = Vec::new();
        let mut bytes = 0u64;
        for set in released.iter().filter(|s| !s.is_empty()) {
            let bitmap = consortium_disclosure::differencing::bitmap(set);
            if !loaded.sets.contains(&bitmap) && fresh.insert(bitmap.clone(), k) {
                bytes += bitmap.serialized_size() as u64;
                sets.push(bitmap);
            }
        }
        if !sets.is_empty() && loaded.bytes + bytes > max_bytes {
            return Err(ApiError::LedgerFull(format!(
                "your differencing ledger of data version {} is full ({} sets); nothing new can be released to you \
                 before the next data version, though questions already answered still are",
                self.version,
                loaded.sets.len()
            )));
        }
        Ok(NewSets { data_version: self.version, k, seen_through: self.loaded.through, sets })
    }
}

/// The ledgers of this replica: the current data version's.
#[derive(Debug)]
pub struct Ledgers {
    db: DatabaseConnection,
    current: RwLock<Option<Arc<VersionLedger>>>,
    /// The bound per partner and data version, in serialised bytes.
    pub max_bytes: u64,
}

impl Ledgers {
    /// Ledgers kept in `db`, each partner's bounded to `max_bytes`.
    pub fn new(db: DatabaseConnection, max_bytes: u64) -> Self {
        Self { db, current: RwLock::new(None), max_bytes }
    }

    /// The ledger of `version`, with every row written so far read in.
    pub async fn synced(&self, version: i64) -> Result<Arc<VersionLedger>, ApiError> {
        let ledger = {
            let mut current = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            match current.as_ref() {
                Some(ledger) if ledger.version == version => Arc::clone(ledger),
                // A request still answering from an older version (a swap just happened)
                // gets that version's ledger read in full, not kept.
                Some(ledger) if ledger.version > version => Arc::new(VersionLedger::empty(version)),
                _ => {
                    let fresh = Arc::new(VersionLedger::empty(version));
                    *current = Some(Arc::clone(&fresh));
                    fresh
                }
            }
        };
        // One reader at a time per ledger; the others then find nothing more to read.
        let reading = ledger.reading.lock().await;
        let rows = released_cell::Entity::find()
            .filter(released_cell::Column::DataVersion.eq(version))
            .filter(released_cell::Column::Id.gt(ledger.through()))
            .order_by_asc(released_cell::Column::Id)
            .all(&self.db)
            .await?;
        if let Some(last) = rows.last().map(|r| r.id) {
            let mut loaded = ledger.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for row in rows {
                let set = RoaringBitmap::deserialize_from(row.members.as_slice())
                    .map_err(|e| ApiError::Internal(format!("released_cell {} does not read back: {e}", row.id)))?;
                let partner = loaded.partners.entry(row.partner_code).or_default();
                partner.bytes += row.members.len() as u64;
                partner.sets.insert(set, u64::try_from(row.k).unwrap_or(u64::MAX));
            }
            loaded.through = last;
        }
        drop(reading);
        Ok(ledger)
    }
}

impl VersionLedger {
    fn empty(version: i64) -> Self {
        Self { version, state: RwLock::new(Loaded::default()), reading: tokio::sync::Mutex::new(()) }
    }
}
