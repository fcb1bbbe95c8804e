//! Shared state of a running service: the database, the current snapshot and the
//! answer caches.
//!
//! The snapshot is swapped atomically behind an `Arc`: readers clone the `Arc` and keep
//! answering from it while a rebuild runs. A background watcher polls the data version
//! and rebuilds when it moves; the watcher is the only writer, so rebuilds never run
//! twice at once. Answers are cached per (data version, question): a new version makes
//! old entries unreachable, and concurrent identical questions compute once.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use consortium_analytics::endpoints::EndpointRules;
use consortium_analytics::{
    count_patients, funnel, CountTable, Dimension, Filter, Funnel, Population, Snapshot, TrialRows,
};
use moka::future::Cache;
use sea_orm::DatabaseConnection;

use crate::error::ApiError;

/// A grouped-count question, as a cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountQuestion {
    /// Population counted.
    pub population: Population,
    /// Grouping dimensions.
    pub group_by: Vec<Dimension>,
    /// Filter.
    pub filter: Filter,
}

/// Everything a request handler needs.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub db: DatabaseConnection,
    snapshot: RwLock<Arc<Snapshot>>,
    rules: EndpointRules,
    counts: Cache<(i64, CountQuestion), Arc<CountTable>>,
    funnels: Cache<(i64, Filter), Arc<Funnel>>,
}

impl AppState {
    /// Builds the first snapshot and the state around it.
    pub async fn build(db: DatabaseConnection, cache_capacity: u64) -> Result<Arc<Self>, ApiError> {
        let rules = EndpointRules::default();
        let snapshot = load_snapshot(&db, rules).await?;
        Ok(Arc::new(Self {
            db,
            snapshot: RwLock::new(Arc::new(snapshot)),
            rules,
            counts: Cache::new(cache_capacity),
            funnels: Cache::new(cache_capacity),
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
        let fresh = Arc::new(load_snapshot(&self.db, self.rules).await?);
        let version = fresh.version;
        match self.snapshot.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        // Entries of older versions can never be asked for again.
        self.counts.invalidate_all();
        self.funnels.invalidate_all();
        Ok(version)
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

    /// The funnel over `filter`, cached.
    pub async fn funnel(&self, filter: Filter) -> Result<Arc<Funnel>, ApiError> {
        let snapshot = self.snapshot();
        let key = (snapshot.version, filter.clone());
        self.funnels.try_get_with(key, compute(move || funnel(&snapshot, &filter))).await.map_err(|e| shared_error(&e))
    }

    /// A grouped count, cached.
    pub async fn count(&self, question: CountQuestion) -> Result<Arc<CountTable>, ApiError> {
        let snapshot = self.snapshot();
        let key = (snapshot.version, question.clone());
        self.counts
            .try_get_with(
                key,
                compute(move || count_patients(&snapshot, question.population, &question.group_by, &question.filter)),
            )
            .await
            .map_err(|e| shared_error(&e))
    }
}

/// Reads the current data version and builds its snapshot off the async workers.
async fn load_snapshot(db: &DatabaseConnection, rules: EndpointRules) -> Result<Snapshot, ApiError> {
    let rows = TrialRows::read(db).await?;
    match tokio::task::spawn_blocking(move || Snapshot::build(rows, rules)).await {
        Ok(built) => Ok(built?),
        Err(join) => Err(ApiError::Internal(format!("snapshot build task failed: {join}"))),
    }
}

/// Runs a polars computation off the async workers.
async fn compute<T, F>(work: F) -> Result<Arc<T>, ApiError>
where
    T: Send + Sync + 'static,
    F: FnOnce() -> Result<T, consortium_analytics::AnalyticsError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map(Arc::new).map_err(ApiError::from),
        Err(join) => Err(ApiError::Internal(format!("computation task failed: {join}"))),
    }
}

/// The cache shares one error among all waiters; rebuild an owned one.
fn shared_error(error: &Arc<ApiError>) -> ApiError {
    match error.as_ref() {
        ApiError::BadUserInput(m) => ApiError::BadUserInput(m.clone()),
        ApiError::NotFound(m) => ApiError::NotFound(m.clone()),
        ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
        ApiError::Internal(m) => ApiError::Internal(m.clone()),
    }
}
