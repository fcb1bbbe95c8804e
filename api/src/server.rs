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
//!
//! A request hyper cannot parse (a malformed header, a `Content-Length` of 10^20, a
//! head or URI too long) never reaches a handler: hyper answers it itself with a status
//! and an empty body, then closes. [`Coded`] gives those answers the body every other
//! error has: a JSON error with a stable code.

use std::convert::Infallible;
use std::future::Future;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::endpoint::BoxEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
    let served = builder.serve_connection_with_upgrades(TokioIo::new(Coded::new(stream)), service);
    tokio::pin!(served);
    tokio::select! {
        _ = &mut served => {}
        _ = stopping.changed() => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
    }
}

/// A connection whose automatic error answers get a coded JSON body (see the module
/// documentation).
struct Coded<T> {
    inner: T,
    /// A replacement being written: its bytes, how many are written, and the length of
    /// the answer it replaces (reported written once it is).
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<T> Coded<T> {
    fn new(inner: T) -> Self {
        Coded { inner, replacing: None }
    }
}

/// The coded answer to put in place of `head`, when `head` is hyper's own answer to a
/// request it could not parse: a client error, closing the connection, without a body.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    // hyper's answer is a short head; anything else is passed on without a look.
    if head.len() > 512 || !head.starts_with(b"HTTP/1.1 4") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let own = text.starts_with("HTTP/1.1 4")
        && text.ends_with("\r\n\r\n")
        && text.contains("\r\nconnection: close\r\n")
        && text.contains("\r\ncontent-length: 0\r\n");
    if !own {
        return None;
    }
    let status = text.get(9..12)?;
    let (code, message) = match status {
        "431" => ("TOO_LARGE", "the request's headers are too large"),
        "414" => ("TOO_LARGE", "the request's URI is too long"),
        _ => (
            "BAD_REQUEST",
            "the request's head cannot be read (a malformed request line or header, such as its Content-Length)",
        ),
    };
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }).to_string();
    let reason = text.lines().next()?.get(13..).unwrap_or("Bad Request");
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncWrite + Unpin> Coded<T> {
    /// Writes what remains of a replacement; ready with the replaced answer's length.
    fn poll_replacing(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        while let Some((bytes, written, replaced)) = &mut self.replacing {
            if *written == bytes.len() {
                let replaced = *replaced;
                self.replacing = None;
                return Poll::Ready(Ok(replaced));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(0))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coded<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coded<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.replacing.is_none() {
            match replacement(buf) {
                Some(bytes) => self.replacing = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        self.poll_replacing(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if self.replacing.is_none() {
            // hyper's own answer is a head alone, in one slice.
            match bufs.iter().filter(|b| !b.is_empty()).collect::<Vec<_>>().as_slice() {
                [only] => match replacement(only) {
                    Some(bytes) => self.replacing = Some((bytes, 0, only.len())),
                    None => return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
                },
                _ => return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
            }
        }
        self.poll_replacing(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_own_error_answers_get_a_coded_body_and_others_pass() {
        let own = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 00:10:05 GMT\r\n\r\n";
        let coded = String::from_utf8(replacement(own).expect("replaced")).expect("text");
        assert!(coded.starts_with("HTTP/1.1 400 Bad Request\r\n") && coded.contains("\"BAD_REQUEST\""), "{coded}");
        let length: usize = coded
            .split("content-length: ")
            .nth(1)
            .and_then(|r| r.split("\r\n").next())
            .and_then(|n| n.parse().ok())
            .expect("length");
        assert_eq!(length, coded.split("\r\n\r\n").nth(1).map_or(0, str::len));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 80\r\n\r\n";
        assert!(replacement(ours).is_none());
    }
}
