//! The one boot path: [`Application::build`] binds the listener, builds the first
//! snapshot and the schema; [`Application::run_until_stopped`] serves until SIGINT or
//! SIGTERM, then drains in-flight requests. `main` and the end-to-end tests both use it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::{get, post, EndpointExt, Route};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::auth::federation::TrustedIssuer;
use crate::auth::sign_in::{self, SignIn};
use crate::auth::{oauth, Authenticator};
use crate::config::ServeArgs;
use crate::graphql::{build_live_schema, build_schema};
use crate::pipeline::exchange::{Service, Settings};
use crate::socket::Sockets;
use crate::state::AppState;
use crate::{http, report, server, socket, web};

/// A built, not yet running, service.
pub struct Application {
    listener: TcpListener,
    limits: server::Limits,
    local_addr: SocketAddr,
    state: Arc<AppState>,
    route: poem::endpoint::BoxEndpoint<'static>,
    refresh: Duration,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `args.bind` and builds the first snapshot of `db` (which must be migrated).
    pub async fn build(args: &ServeArgs, db: DatabaseConnection) -> anyhow::Result<Self> {
        let state = AppState::build(db, args)
            .await
            .map_err(|e| anyhow::anyhow!("cannot build the analytics snapshot: {e:?}"))?;
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        let local_addr = listener.local_addr().context("listener has no local address")?;
        let limits = server::Limits { header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)) };
        let issuer = args.public_url.clone().unwrap_or_else(|| format!("http://{local_addr}"));
        let issuer = issuer.trim_end_matches('/').to_owned();
        let trusted = match &args.trusted_issuers {
            Some(path) => TrustedIssuer::load_all(path).await.context("cannot load the trusted issuers")?,
            None => Vec::new(),
        };
        let sign_in = match &args.sign_in_issuer {
            Some(provider) => Some(Arc::new(
                SignIn::discover(provider, &args.sign_in_client_id, &args.sign_in_scopes, &issuer)
                    .await
                    .context("cannot set up sign-in")?,
            )),
            None => None,
        };
        let auth =
            Authenticator::new(state.db.clone(), issuer, args.audience.clone(), args.token_lifetime_secs, trusted)
                .await
                .context("cannot set up authentication")?;
        let route = routes(args, &state, Arc::new(auth), sign_in);
        Ok(Self { listener, limits, local_addr, state, route, refresh: Duration::from_secs(args.refresh_secs.max(1)) })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shared state (snapshot and caches).
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// Serves until SIGINT/SIGTERM, keeping the snapshot current meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let watcher = self.state.watch(self.refresh);
        tracing::info!(address = %self.local_addr, "serving GraphQL at http://{}/graphql", self.local_addr);
        let served = server::serve(self.listener, self.route, self.limits, shutdown_signal()).await;
        watcher.abort();
        served
    }
}

/// Every route, with what its handlers share.
fn routes(
    args: &ServeArgs,
    state: &Arc<AppState>,
    auth: Arc<Authenticator>,
    sign_in: Option<Arc<SignIn>>,
) -> poem::endpoint::BoxEndpoint<'static> {
    let service = Arc::new(Service {
        schema: build_schema(Arc::clone(state), args),
        state: Arc::clone(state),
        auth: Arc::clone(&auth),
        settings: Settings {
            max_batch: args.max_batch,
            timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
            overrides: args.disclosure_overrides.clone(),
            max_upload_bytes: args.max_upload_bytes,
        },
    });
    let sockets = Arc::new(Sockets {
        limits: socket::Limits {
            init_timeout: Duration::from_secs(args.ws_init_timeout_secs.max(1)),
            subscriptions: args.ws_max_subscriptions.max(1),
            connections_per_token: args.ws_max_connections_per_token.max(1),
        },
        seats: Arc::default(),
    });
    Route::new()
        .at("/", get(http::root))
        .at("/graphql", get(http::graphql_get).post(http::graphql))
        .at("/graphql/ws", get(http::subscriptions))
        .at("/graphql/export", post(http::export_answer))
        .at("/dashboards", get(web::dashboards))
        .at("/reports", get(web::reports))
        .at("/reports/cohorts.html", get(http::report_html))
        .at("/reports/cohorts.pdf", get(http::report_pdf))
        .at("/assets/*path", get(web::asset))
        .at("/healthz", get(http::healthz))
        .at("/metrics", get(http::metrics))
        .at("/readyz", get(http::readyz))
        .at("/oauth/token", post(oauth::issue_token))
        .at("/oauth/introspect", post(oauth::introspect))
        .at("/oauth/revoke", post(oauth::revoke))
        .at("/.well-known/jwks.json", get(oauth::jwks))
        .at("/.well-known/oauth-authorization-server", get(oauth::metadata))
        .at("/auth/login", get(sign_in::login))
        .at("/auth/callback", get(sign_in::callback))
        .data(service)
        .data(build_live_schema(Arc::clone(state), args))
        .data(Arc::clone(state))
        .data(auth)
        .data(web::Pages { sign_in: sign_in.is_some() })
        .data(report::Printer::configured(args.chromium.as_deref()))
        .data(sign_in)
        .data(sockets)
        .boxed()
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
