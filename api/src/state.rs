//! Shared state of a running service: the database, the audit trail's writer, the
//! current snapshot and the answer caches.
//!
//! The snapshot is swapped atomically behind an `Arc`: readers clone the `Arc` and keep
//! answering from it while a rebuild runs. A background watcher polls the data version
//! and rebuilds when it moves; the watcher is the only writer, so rebuilds never run
//! twice at once. Answers of every measure are cached per (data version, question) in one
//! cache: a new version makes old entries unreachable, and concurrent identical questions
//! compute once.

use std::any::Any;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use consortium_analytics::endpoints::EndpointRules;
use consortium_analytics::{AnalyticsError, Catalogue, RowScope, Snapshot};
use moka::future::Cache;
use sea_orm::DatabaseConnection;

use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::graphql::document::Documents;
use crate::metrics::Metrics;
use crate::pipeline::admit::persisted::PersistedQueries;
use crate::pipeline::decide::ledger::Ledgers;
use crate::pipeline::decide::privacy::Privacy;
use crate::pipeline::plan::rate_limit::RateLimiter;
use crate::pipeline::record::recorder::Recorder;
use crate::pipeline::route::answers::ReleasedAnswers;

/// A cached answer of any measure.
type Answer = Arc<dyn Any + Send + Sync>;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: DatabaseConnection,
    /// The audit trail's writer, appended to by every request.
    pub audit: Recorder,
    /// Answers as released, per question and protection.
    pub released: ReleasedAnswers,
    /// The differencing guard's ledger of released patient sets.
    pub ledger: Ledgers,
    /// The noisy tier's kept values, charges and budgets.
    pub privacy: Privacy,
    /// The patients' record keys, for the cell-key method.
    pub record_keys: consortium_disclosure::RecordKeys,
    /// Queries known by their hash (automatic persisted queries).
    pub persisted: PersistedQueries,
    /// Query texts parsed before.
    pub documents: Documents,
    /// The tokens' rate-limit budgets.
    pub limiter: RateLimiter,
    /// The operators' metrics.
    pub metrics: Arc<Metrics>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// The data version served and when its snapshot was built, for subscribers.
    versions: tokio::sync::watch::Sender<(i64, chrono::DateTime<chrono::Utc>)>,
    rules: EndpointRules,
    answers: Cache<(i64, String), Answer>,
    scoped: Cache<(i64, RowScope), Arc<Snapshot>>,
    compute: tokio::sync::Semaphore,
    /// Each partner's lane into the compute queue: at most one permit fewer than the
    /// queue holds (one, on two cores), so another partner always finds one.
    lanes: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>,
    lane_permits: usize,
}

/// The rows one request may read: a snapshot restricted to a row scope.
#[derive(Debug, Clone)]
pub struct View {
    /// The restricted snapshot.
    pub snapshot: Arc<Snapshot>,
    /// The scope it was restricted to (part of every cache key).
    pub scope: RowScope,
    /// The compute lane of whoever asks (its partner's): see [`AppState::compute`].
    pub lane: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Builds the first snapshot and the state around it, sized and limited by `args`
    /// (the caches' capacity, the differencing ledger's size per data version, the
    /// privacy budgets' window, the rate limits).
    pub async fn build(db: DatabaseConnection, args: &ServeArgs) -> Result<Arc<Self>, ApiError> {
        let rules = EndpointRules::default();
        let metrics = Arc::new(Metrics::default());
        let started = std::time::Instant::now();
        let snapshot = load_snapshot(&db, rules).await?;
        metrics.snapshot(snapshot.version, started.elapsed());
        Ok(Arc::new(Self {
            audit: Recorder::start(db.clone(), Arc::clone(&metrics)),
            metrics,
            released: ReleasedAnswers::default(),
            ledger: Ledgers::new(db.clone(), args.ledger_max_bytes),
            privacy: Privacy::new(db.clone(), args.privacy_window_secs),
            record_keys: crate::pipeline::decide::record_keys::load(&db).await?,
            persisted: PersistedQueries::default(),
            documents: Documents::default(),
            limiter: RateLimiter::new(db.clone(), args.rate_limit_points, args.rate_limit_window_secs),
            db,
            versions: tokio::sync::watch::Sender::new((snapshot.version, snapshot.built_at)),
            snapshot: RwLock::new(Arc::new(snapshot)),
            rules,
            answers: Cache::new(args.cache_capacity),
            scoped: Cache::new(256),
            compute: tokio::sync::Semaphore::new(cores()),
            lanes: std::sync::Mutex::default(),
            lane_permits: cores().saturating_sub(1).max(1),
        }))
    }
    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        // A poisoned lock only means a writer panicked mid-swap of an Arc, which leaves
        // the old value intact; keep serving it.
        match self.snapshot.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Rebuilds the snapshot if the data version moved; returns the version served.
    pub async fn refresh(&self) -> Result<i64, ApiError> {
        let current = consortium_entity::data_version::current(&self.db).await?;
        let served = self.snapshot().version;
        if current == served {
            return Ok(served);
        }
        let started = std::time::Instant::now();
        let fresh = Arc::new(load_snapshot(&self.db, self.rules).await?);
        let (version, built_at) = (fresh.version, fresh.built_at);
        self.metrics.snapshot(version, started.elapsed());
        match self.snapshot.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        // Entries of older versions can never be asked for again.
        self.answers.invalidate_all();
        self.scoped.invalidate_all();
        self.released.clear();
        self.versions.send_replace((version, built_at));
        Ok(version)
    }

    /// The data version served and when its snapshot was built, now and at every change.
    pub fn versions(&self) -> tokio::sync::watch::Receiver<(i64, chrono::DateTime<chrono::Utc>)> {
        self.versions.subscribe()
    }

    /// Keeps the snapshot current until the returned task is aborted.
    pub fn watch(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = state.refresh().await {
                    tracing::warn!(error = ?error, "snapshot refresh failed; serving the previous one");
                }
            }
        })
    }

    /// `full` (a snapshot this state served) restricted to the row scope `scope_of`
    /// derives from its catalogue, built at most once per data version and scope. The
    /// scope is derived from the very snapshot it restricts, so versions cannot mix.
    pub async fn view(
        &self,
        full: Arc<Snapshot>,
        lane: &str,
        scope_of: impl FnOnce(&Catalogue) -> RowScope,
    ) -> Result<View, ApiError> {
        let scope = scope_of(&full.catalogue);
        let lane = self.lane(lane);
        if scope.is_everything() {
            return Ok(View { snapshot: full, scope, lane });
        }
        let key = (full.version, scope.clone());
        let (restrict, building) = (scope.clone(), Arc::clone(&lane));
        let snapshot = self
            .scoped
            .try_get_with(key, async move {
                self.compute(&building, move || full.restricted(&restrict)).await?.map(Arc::new).map_err(ApiError::from)
            })
            .await
            .map_err(|e| shared_error(&e))?;
        Ok(View { snapshot, scope, lane })
    }

    /// Answers `question` with `measure` on the view's snapshot, computing it at most
    /// once per data version and row scope however many requests ask at the same time.
    ///
    /// The question's `Debug` form is part of the cache key, so two questions share an
    /// answer exactly when they are equal; `measure` must be a function of the question
    /// alone.
    pub async fn answer<Q, T, F>(&self, view: &View, question: Q, measure: F) -> Result<Arc<T>, ApiError>
    where
        Q: std::fmt::Debug + Send + 'static,
        T: Send + Sync + 'static,
        F: FnOnce(&Snapshot, &Q) -> Result<T, AnalyticsError> + Send + 'static,
    {
        let snapshot = Arc::clone(&view.snapshot);
        let key = (snapshot.version, format!("{}:{:?}:{question:?}", std::any::type_name::<T>(), view.scope));
        let lane = Arc::clone(&view.lane);
        let answer = self
            .answers
            .try_get_with(key, async move {
                let computed = self.compute(&lane, move || measure(&snapshot, &question)).await?;
                computed.map(|value| Arc::new(value) as Answer).map_err(ApiError::from)
            })
            .await
            .map_err(|e| shared_error(&e))?;
        answer.downcast::<T>().map_err(|_| ApiError::Internal("cached answer of an unexpected type".into()))
    }

    /// The compute lane of `partner`: see [`AppState::compute`].
    pub fn lane(&self, partner: &str) -> Arc<tokio::sync::Semaphore> {
        let mut lanes = self.lanes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lane) = lanes.get(partner) {
            return Arc::clone(lane);
        }
        let lane = Arc::new(tokio::sync::Semaphore::new(self.lane_permits));
        lanes.insert(partner.to_owned(), Arc::clone(&lane));
        lane
    }

    /// Runs CPU-bound `work` on a blocking thread, at most one per core at a time: the
    /// async workers stay free for other requests (health checks, cached answers), and
    /// a flood of heavy questions queues here instead of crowding the CPU out. Work
    /// queues first in its `lane` (a partner's, [`AppState::lane`]), which holds one
    /// permit fewer than the whole queue: one partner's flood of heavy questions leaves
    /// a core to the others.
    pub async fn compute<T, F>(&self, lane: &tokio::sync::Semaphore, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let closed = |_| ApiError::Internal("the compute queue is closed".into());
        let _in_lane = lane.acquire().await.map_err(closed)?;
        let _permit = self.compute.acquire().await.map_err(closed)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|join| ApiError::Internal(format!("computation failed: {join}")))
    }
}

/// The cores the compute queue uses.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Reads the current data version and builds its snapshot off the async workers.
async fn load_snapshot(db: &DatabaseConnection, rules: EndpointRules) -> Result<Snapshot, ApiError> {
    let rows = consortium_store::snapshot::read(db).await?;
    match tokio::task::spawn_blocking(move || Snapshot::build(rows, rules)).await {
        Ok(built) => Ok(built?),
        Err(join) => Err(ApiError::Internal(format!("snapshot build task failed: {join}"))),
    }
}

/// The cache shares one error among all waiters; rebuild an owned one.
fn shared_error(error: &Arc<ApiError>) -> ApiError {
    match error.as_ref() {
        ApiError::BadRequest(m) => ApiError::BadRequest(m.clone()),
        ApiError::OperationResolution(m) => ApiError::OperationResolution(m.clone()),
        ApiError::BadUserInput(m) => ApiError::BadUserInput(m.clone()),
        ApiError::NotFound(m) => ApiError::NotFound(m.clone()),
        ApiError::Forbidden(m) => ApiError::Forbidden(m.clone()),
        ApiError::TooComplex(m) => ApiError::TooComplex(m.clone()),
        ApiError::LedgerFull(m) => ApiError::LedgerFull(m.clone()),
        ApiError::BudgetExhausted(m) => ApiError::BudgetExhausted(m.clone()),
        ApiError::PersistedQueryNotFound => ApiError::PersistedQueryNotFound,
        ApiError::Throttled { retry_after_secs } => ApiError::Throttled { retry_after_secs: *retry_after_secs },
        ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
        ApiError::Internal(m) => ApiError::Internal(m.clone()),
    }
}
