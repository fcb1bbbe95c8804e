//! The values a request's stages pass along: the [`Service`] that answers every request,
//! and the [`Exchange`] of one request with it (who asks, what is on record so far,
//! which snapshot it reads, when it started).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use consortium_analytics::Snapshot;
use consortium_entity::access::audit_record;
use serde_json::Value;

use super::context::RequestContext;
use super::release::{PolicyOverrides, Release};
use crate::auth::{Authenticator, Principal};
use crate::graphql::document::{query_hash, variables_hash};
use crate::graphql::ConsortiumSchema;
use crate::state::AppState;

/// What the pipeline needs besides the schema, the state and authentication.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Most operations in a batch.
    pub max_batch: usize,
    /// How long a request may run, its body's arrival included, before it is stopped.
    pub timeout: Duration,
    /// The disclosure policies' local changes.
    pub overrides: PolicyOverrides,
    /// Largest GraphQL multipart request (a file upload) accepted, in bytes.
    pub max_upload_bytes: usize,
}

/// Everything that answers requests, shared by all of them.
pub struct Service {
    /// The schema the operations run on.
    pub schema: ConsortiumSchema,
    /// The snapshot, the caches and the stores.
    pub state: Arc<AppState>,
    /// Who a token is.
    pub auth: Arc<Authenticator>,
    /// The limits and policies.
    pub settings: Settings,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// An authenticated caller, and the access epoch its credentials were checked at.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who the request acts for.
    pub principal: Principal,
    /// The access epoch of the check (see [`crate::auth::cache`]).
    pub checked_at: i64,
}

/// One request's exchange with the service.
#[derive(Debug)]
pub struct Exchange<'s> {
    /// The service answering.
    pub service: &'s Service,
    /// When the request arrived.
    pub started: Instant,
    /// The snapshot every operation of the request reads: its version is on record.
    pub snapshot: Arc<Snapshot>,
    /// The `Authorization` header as sent (a header that is not text: empty).
    pub authorization: Option<String>,
    /// The caller, once authenticated.
    pub caller: Option<Caller>,
    /// The request's audit record, filled in as it goes.
    pub entry: audit_record::Model,
}

impl<'s> Exchange<'s> {
    /// A request arriving now at `service` with `authorization`.
    pub fn begin(service: &'s Service, authorization: Option<String>) -> Self {
        let snapshot = service.state.snapshot();
        let entry = record_of(snapshot.version);
        Exchange { service, started: Instant::now(), snapshot, authorization, caller: None, entry }
    }

    /// The request's caller; the pipeline authenticates before any stage that asks.
    pub fn principal(&self) -> Option<&Principal> {
        self.caller.as_ref().map(|c| &c.principal)
    }

    /// Acts for `caller` from now on (and says so in the record).
    pub fn act_for(&mut self, caller: Caller) {
        self.entry.partner_code = Some(caller.principal.partner.code.clone());
        self.entry.token_id = Some(caller.principal.token_id.clone());
        self.caller = Some(caller);
    }

    /// What the request's operations share while they run, under the caller's
    /// partner's policy.
    pub fn context(&self, principal: &Principal) -> Arc<RequestContext> {
        let policy = self.service.settings.overrides.for_partner(&principal.partner);
        RequestContext::new(Arc::clone(&self.snapshot), Release::new(policy))
    }

    /// Milliseconds since the request arrived.
    pub fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// The audit record of a request arriving now, answered from `data_version`, to be
/// filled in as the request goes.
pub fn record_of(data_version: i64) -> audit_record::Model {
    // The hashes of no query and no variables, until the request's are read.
    static NOTHING_YET: std::sync::LazyLock<(String, String)> =
        std::sync::LazyLock::new(|| (query_hash(""), variables_hash(&Value::Null)));
    audit_record::Model {
        id: 0,
        prev_hash: String::new(),
        hash: String::new(),
        at_ms: Utc::now().timestamp_millis(),
        partner_code: None,
        token_id: None,
        operation: None,
        query_hash: NOTHING_YET.0.clone(),
        variables_hash: NOTHING_YET.1.clone(),
        data_version,
        outcome: String::new(),
        duration_ms: 0,
        released: 0,
        withheld: 0,
        policy_version: None,
        epsilon: None,
        detail: None,
    }
}
