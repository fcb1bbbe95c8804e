//! What one HTTP request to `/graphql` shares among its operations while it executes.
//!
//! A batch is one request: its numbers go through one release step (see
//! [`crate::release`]), its operations read the same snapshot (pinned when the
//! request arrives, so every answer and the audit record name one data version), and
//! share one complexity budget (so a batch cannot buy with many small operations what
//! one large one may not). The request also sums what its operations were charged, and
//! notes whether any of them read something that is not a function of the question
//! and the data version (the caller's token, budget or audit trail): such an answer is
//! never served again from the released-answer cache (see [`crate::answers`]).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use consortium_analytics::Snapshot;

use crate::rate_limit::RateStatus;
use crate::recorder::Memory;
use crate::release::Release;

/// The shared state of one HTTP request; put into every operation's data as an `Arc`.
#[derive(Debug)]
pub struct RequestContext {
    snapshot: Arc<Snapshot>,
    release: Release,
    publishing: AtomicBool,
    complexity: AtomicUsize,
    rate: Mutex<Option<RateStatus>>,
    charged: AtomicI64,
    personal: AtomicBool,
    memory: Mutex<Option<Memory>>,
}

impl RequestContext {
    /// A request answered from `snapshot`, its numbers released by `release`.
    pub fn new(snapshot: Arc<Snapshot>, release: Release) -> Arc<Self> {
        Arc::new(Self {
            snapshot,
            release,
            publishing: AtomicBool::new(false),
            complexity: AtomicUsize::new(0),
            rate: Mutex::new(None),
            charged: AtomicI64::new(0),
            personal: AtomicBool::new(false),
            memory: Mutex::new(None),
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

    /// From now on the operations run a second time, to publish what the release step
    /// decided: limits and rate-limit charges were applied the first time.
    pub fn start_publishing(&self) {
        self.publishing.store(true, Ordering::Relaxed);
    }

    /// Whether the operations are running for the second time.
    pub fn is_publishing(&self) -> bool {
        self.publishing.load(Ordering::Relaxed)
    }

    /// Adds one operation's complexity to the request's total and returns the new total.
    pub fn add_complexity(&self, complexity: usize) -> usize {
        self.complexity.fetch_add(complexity, Ordering::Relaxed).saturating_add(complexity)
    }

    /// The latest rate-limit charge of this request.
    pub fn rate(&self) -> Option<RateStatus> {
        match self.rate.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// Records an operation's rate-limit charge.
    pub fn add_charge(&self, status: RateStatus) {
        self.charged.fetch_add(status.cost, Ordering::Relaxed);
        match self.rate.lock() {
            Ok(mut guard) => *guard = Some(status),
            Err(poisoned) => *poisoned.into_inner() = Some(status),
        }
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

    /// Keeps what this request's answer adds to memory (new sets, a privacy charge),
    /// for its record.
    pub fn set_memory(&self, memory: Memory) {
        *self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(memory);
    }

    /// What this request's answer adds to memory (once).
    pub fn take_memory(&self) -> Memory {
        self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().unwrap_or_default()
    }
}
