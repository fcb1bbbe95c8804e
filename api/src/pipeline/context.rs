//! What the operations of one request share while they execute, put into every
//! operation's data (resolvers and the schema's extensions read it).
//!
//! A batch is one request: its numbers go through one release step (see
//! [`super::release`]), its operations read the same snapshot (pinned when the request
//! arrives, so every answer and the audit record name one data version), and share one
//! complexity budget (so a batch cannot buy with many small operations what one large
//! one may not). The request also sums what its operations were charged, and notes
//! whether any of them read something that is not a function of the question and the
//! data version (the caller's token, budget or audit trail): such an answer is never
//! served again from the released-answer cache (see [`super::route::answers`]).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use consortium_analytics::Snapshot;

use super::release::Release;

/// A token's rate-limit budget after a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    /// Points per window.
    pub limit: i64,
    /// Points left in this window: not yet leased by any replica, plus this replica's
    /// unspent lease (as of this replica's last lease).
    pub remaining: i64,
    /// When the window ends (Unix seconds).
    pub reset_at: i64,
    /// What this query cost.
    pub cost: i64,
}

/// The shared state of one request; put into every operation's data as an `Arc`.
#[derive(Debug)]
pub struct RequestContext {
    snapshot: Arc<Snapshot>,
    release: Release,
    complexity: AtomicUsize,
    rate: Mutex<Option<RateStatus>>,
    charged: AtomicI64,
    personal: AtomicBool,
}

impl RequestContext {
    /// A request answered from `snapshot`, its numbers released by `release`.
    pub fn new(snapshot: Arc<Snapshot>, release: Release) -> Arc<Self> {
        Arc::new(Self {
            snapshot,
            release,
            complexity: AtomicUsize::new(0),
            rate: Mutex::new(None),
            charged: AtomicI64::new(0),
            personal: AtomicBool::new(false),
        })
    }

    /// The snapshot every operation of this request reads.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// The release step of this request.
    pub fn release(&self) -> &Release {
        &self.release
    }

    /// Whether the operations are running for the second time, to publish what the
    /// release step decided (limits and rate-limit charges were applied the first
    /// time); the release step's phase says.
    pub fn is_publishing(&self) -> bool {
        self.release.is_publishing()
    }

    /// Adds one operation's complexity to the request's total and returns the new total.
    pub fn add_complexity(&self, complexity: usize) -> usize {
        self.complexity.fetch_add(complexity, Ordering::Relaxed).saturating_add(complexity)
    }

    /// The latest rate-limit charge of this request.
    pub fn rate(&self) -> Option<RateStatus> {
        *self.rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an operation's rate-limit charge.
    pub fn add_charge(&self, status: RateStatus) {
        self.charged.fetch_add(status.cost, Ordering::Relaxed);
        *self.rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status);
    }

    /// The points all operations of this request were charged.
    pub fn charged(&self) -> i64 {
        self.charged.load(Ordering::Relaxed)
    }

    /// Notes that the answer depends on who asks or when, beyond the partner's policy,
    /// scopes and the data version: it must not be served to anyone else or again.
    pub fn mark_personal(&self) {
        self.personal.store(true, Ordering::Relaxed);
    }

    /// Whether the answer depends on who asks or when.
    pub fn is_personal(&self) -> bool {
        self.personal.load(Ordering::Relaxed)
    }
}
