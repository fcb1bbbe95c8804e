//! What one HTTP request to `/graphql` shares among its operations while it executes.
//!
//! A batch is one request: its operations read the same snapshot (pinned when the
//! request arrives, so every answer and the audit record name one data version), share
//! one complexity budget (so a batch cannot buy with many small operations what one
//! large one may not), and share one rate-limit charge: the first operation is charged
//! in the database, the others against what that charge left, in memory, and their sum
//! is written once when the request ends (one write per request, not per operation).

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use consortium_analytics::Snapshot;

use crate::rate_limit::RateStatus;

/// The shared state of one HTTP request; put into every operation's data as an `Arc`.
#[derive(Debug)]
pub struct RequestContext {
    snapshot: Arc<Snapshot>,
    complexity: AtomicUsize,
    rate: Mutex<Option<RateStatus>>,
    unsaved_charge: AtomicI64,
}

impl RequestContext {
    /// A request answered from `snapshot`.
    pub fn new(snapshot: Arc<Snapshot>) -> Arc<Self> {
        Arc::new(Self {
            snapshot,
            complexity: AtomicUsize::new(0),
            rate: Mutex::new(None),
            unsaved_charge: AtomicI64::new(0),
        })
    }

    /// The snapshot every operation of this request reads.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
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
