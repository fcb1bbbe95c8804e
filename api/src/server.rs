//! The HTTP server: accepts connections and serves the routes over HTTP/1.1 (with
//! WebSocket upgrades) and HTTP/2, with the limits a service open to many clients needs.
//!
//! poem's own server has no limit on how long a client may take to send a request's
//! headers: a client trickling them a byte at a time holds a connection (and its
//! task) for as long as it likes, and a thousand such clients hold a thousand. Here
//! hyper's HTTP/1 header read timeout closes a connection whose headers have not all
//! arrived within [`Limits::header_read_timeout`] of its start (or of the end of the
//! previous request on it), and HTTP/2 connections are pinged and closed when they stop
//! answering. The body is read by the handler within the request's deadline (see
//! [`crate::http`]). On shutdown, no new connection is accepted and open ones finish
//! their requests for up to [`GRACE`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::endpoint::BoxEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long open connections may finish their requests after shutdown begins.
pub const GRACE: Duration = Duration::from_secs(10);

/// How often an idle HTTP/2 connection is pinged, and how long its answer may take.
const HTTP2_PING: Duration = Duration::from_secs(20);

/// The limits on one connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
}

/// Serves `endpoint` on `listener` until `shutdown` resolves, then lets open
/// connections finish for up to [`GRACE`].
pub async fn serve(
    listener: TcpListener,
    endpoint: BoxEndpoint<'static>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let endpoint = Arc::new(endpoint);
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    let (endpoint, stopping) = (Arc::clone(&endpoint), stopping.clone());
                    connections.spawn(connection(stream, local, remote, endpoint, limits, stopping));
                }
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: go on after a moment rather than spin.
                    tracing::warn!(cause = %error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    // Nobody may be listening any more: every connection has ended already.
    let _ = stop.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drained).await.is_err() {
        tracing::warn!(open = connections.len(), "closing connections still open after the grace period");
        connections.shutdown().await;
    }
    Ok(())
}

/// Serves one connection until it ends, or until shutdown asks it to finish.
async fn connection(
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    endpoint: Arc<BoxEndpoint<'static>>,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let endpoint = Arc::clone(&endpoint);
        async move {
            let addresses = (LocalAddr(Addr::SocketAddr(local)), RemoteAddr(Addr::SocketAddr(remote)));
            let request = poem::Request::from((request, addresses.0, addresses.1, poem::http::uri::Scheme::HTTP));
            Ok::<_, Infallible>(hyper::Response::from(endpoint.get_response(request).await))
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(HTTP2_PING).keep_alive_timeout(HTTP2_PING);
    let served = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(served);
    tokio::select! {
        _ = &mut served => {}
        _ = stopping.changed() => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
    }
}
