//! Principals of recently checked tokens, so a request does not read its token's row,
//! with every change of access (a revocation, a partner's grants) still taking effect
//! at once.
//!
//! A token is checked in full the first time a replica sees it (signature, expiry, the
//! stored row, the partner's grants) and its principal is kept for at most
//! [`TTL`], keyed by the token's SHA-256; within that time only its expiry is checked
//! again. Whatever changes access announces it ([`announce_access_change`]):
//!
//! * on PostgreSQL with `NOTIFY` (see [`super::epoch`]), which every replica's listener receives and answers
//!   by forgetting every principal. While a replica's listener is not connected (at
//!   start, or after losing its connection) that replica does not use its cache at
//!   all. A listener whose connection hangs without breaking would miss notifications
//!   unnoticed: the access epoch below still stops the answers;
//! * in-process, for SQLite (one server process): every announcement moves a
//!   process-wide generation, and a principal is only used if it was checked at the
//!   current generation. A revocation from the command line, another process, is
//!   caught by the access epoch below.
//!
//! A principal is stamped with the generation read before its check began, so a check
//! that was under way while access changed can never be used afterwards.
//!
//! **Strictly at once.** A notification arrives a moment after the change, so a request
//! could still meet a cached principal just after a revocation. Every access change
//! therefore also moves the database's access epoch (`access_epoch`), and each principal
//! carries the epoch read before it was checked. No answer leaves before its audit
//! record is written, and the record is written only if the epoch has not moved since
//! the request's principal was checked (the audit writer reads it once per group, see
//! [`crate::pipeline::record::recorder`]); otherwise the credentials are checked again, from the
//! database, before the answer may go. So a request whose answer would leave after a
//! revocation committed, on any replica, is refused, and on SQLite a revocation from
//! the command line takes effect at once too.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use moka::future::Cache;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};

use super::epoch::{self, current_epoch, CHANNEL};
use super::error::AuthError;
use super::principal::Principal;
use super::secret::sha256_hex;

/// Longest a checked token is trusted without reading its row again.
pub const TTL: Duration = Duration::from_secs(30);

/// Most principals kept.
const CAPACITY: u64 = 100_000;

/// The cache.
#[derive(Debug)]
pub struct TokenCache {
    principals: Cache<String, (u64, i64, Principal)>,
    /// Access changes this cache learnt of from its listener.
    heard: AtomicU64,
    /// Whether announcements reach this replica (always, in-process, on SQLite).
    listening: AtomicBool,
}

impl TokenCache {
    /// A cache for tokens of `db`; on PostgreSQL it listens for announcements from now on.
    pub fn start(db: &DatabaseConnection) -> Arc<Self> {
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        let cache = Arc::new(Self {
            principals: Cache::builder().time_to_live(TTL).max_capacity(CAPACITY).build(),
            heard: AtomicU64::new(0),
            listening: AtomicBool::new(!postgres),
        });
        if postgres {
            tokio::spawn(listen(db.clone(), Arc::downgrade(&cache)));
        }
        cache
    }

    /// The principal of `token` and the access epoch it was checked at: from the
    /// cache, or from `check` (then kept), the epoch read from `db` first.
    pub async fn principal<F>(
        &self,
        db: &DatabaseConnection,
        token: &str,
        check: F,
    ) -> Result<(Principal, i64), AuthError>
    where
        F: Future<Output = Result<Principal, AuthError>>,
    {
        let listening = self.listening.load(Ordering::SeqCst);
        let generation = self.generation();
        let key = sha256_hex(token.as_bytes());
        if listening {
            match self.principals.get(&key).await {
                Some((checked_at, epoch, principal)) if checked_at == generation => {
                    if principal.expires_at <= Utc::now().timestamp() {
                        return Err(AuthError::Invalid("the token has expired"));
                    }
                    return Ok((principal, epoch));
                }
                Some(_) => self.principals.invalidate(&key).await,
                None => {}
            }
        }
        let epoch = current_epoch(db).await?;
        let principal = check.await?;
        if listening {
            self.principals.insert(key, (generation, epoch, principal.clone())).await;
        }
        Ok((principal, epoch))
    }

    /// Forgets `token`'s principal (its credentials are to be checked again).
    pub async fn forget(&self, token: &str) {
        self.principals.invalidate(&sha256_hex(token.as_bytes())).await;
    }

    /// Forgets every principal: access changed somewhere.
    pub fn forget_all(&self) {
        self.heard.fetch_add(1, Ordering::SeqCst);
        self.principals.invalidate_all();
    }

    /// How many access changes this cache knows of: a principal checked at another
    /// generation is not used.
    fn generation(&self) -> u64 {
        self.heard.load(Ordering::SeqCst).wrapping_add(epoch::announced())
    }

    fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::SeqCst);
        self.forget_all();
    }
}

/// Listens for announcements until the cache is dropped, reconnecting after a loss.
async fn listen(db: DatabaseConnection, cache: std::sync::Weak<TokenCache>) {
    let pool = db.get_postgres_connection_pool().clone();
    let mut backoff = Duration::from_millis(100);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match connected.await {
            Ok(mut listener) => {
                let Some(live) = cache.upgrade() else { return };
                live.set_listening(true);
                drop(live);
                backoff = Duration::from_millis(100);
                // `None`: the connection was lost, and announcements with it.
                while let Ok(Some(_)) = listener.try_recv().await {
                    let Some(live) = cache.upgrade() else { return };
                    live.forget_all();
                }
                tracing::warn!("lost the connection that listens for revocations; not caching tokens until it is back");
            }
            Err(error) => tracing::warn!(cause = %error, "cannot listen for revocations; not caching tokens"),
        }
        let Some(live) = cache.upgrade() else { return };
        live.set_listening(false);
        drop(live);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
