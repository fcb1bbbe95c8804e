//! What one HTTP request to `/graphql` shares among its operations while it executes.
//!
//! A batch is one request: its numbers go through one release step (see
//! [`crate::release`]), its operations read the same snapshot (pinned when the
//! request arrives, so every answer and the audit record name one data version), share
//! one complexity budget (so a batch cannot buy with many small operations what one
//! large one may not), and share one rate-limit charge: the first operation is charged
//! in the database, the others against what that charge left, in memory, and their sum
//! is written once when the request ends (one write per request, not per operation).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use consortium_analytics::Snapshot;

use crate::rate_limit::RateStatus;
use crate::release::Release;

/// The shared state of one HTTP request; put into every operation's data as an `Arc`.
#[derive(Debug)]
pub struct RequestContext {
    snapshot: Arc<Snapshot>,
    release: Release,
    publishing: AtomicBool,
    complexity: AtomicUsize,
    rate: Mutex<Option<RateStatus>>,
    unsaved_charge: AtomicI64,
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
            unsaved_charge: AtomicI64::new(0),
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

    /// Points charged to this request in memory (operations after a batch's first),
    /// to be written to the budget once, when the request ends.
    pub fn add_unsaved_charge(&self, points: i64) {
        self.unsaved_charge.fetch_add(points, Ordering::Relaxed);
    }

    /// The points charged in memory and not yet written.
    pub fn take_unsaved_charge(&self) -> i64 {
        self.unsaved_charge.swap(0, Ordering::Relaxed)
    }

    /// Records a rate-limit charge.
    pub fn set_rate(&self, status: RateStatus) {
        match self.rate.lock() {
            Ok(mut guard) => *guard = Some(status),
            Err(poisoned) => *poisoned.into_inner() = Some(status),
        }
    }
}
