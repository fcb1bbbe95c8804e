//! GraphQL over WebSocket (`graphql-transport-ws`, and the older `graphql-ws`) with the
//! limits a connection that holds resources needs.
//!
//! async-graphql speaks the protocol; this module stands between it and the socket:
//!
//! * a client that sends no `connection_init` within [`Limits::init_timeout`] is closed
//!   with 4408 (the protocol's "Connection initialisation timeout"), so a connection
//!   without a token cannot be held open;
//! * a `subscribe` with the id of a subscription still running is closed with 4409
//!   ("Subscriber for … already exists"), as the protocol asks, instead of replacing it;
//! * at most [`Limits::subscriptions`] run at once on one connection (more: 4429), and at
//!   most [`Limits::connections_per_token`] connections are open with one token (more:
//!   refused at `connection_init`, see [`crate::pipeline::admit::seats`]);
//! * every close reason is cut to what a close frame holds (123 bytes), on a character
//!   boundary, so a long message never breaks the client's frame parsing.

use std::collections::HashSet;
use std::time::Duration;

use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor};
use futures::{SinkExt, StreamExt};
use poem::web::websocket::{Message, WebSocketStream};
use serde_json::Value;

/// Longest close reason a WebSocket close frame holds, in bytes.
pub const MAX_CLOSE_REASON: usize = 123;

/// The limits of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client has to send `connection_init`.
    pub init_timeout: Duration,
    /// Most subscriptions running at once on one connection.
    pub subscriptions: usize,
    /// Most connections open at once with one token.
    pub connections_per_token: usize,
}

/// The WebSocket endpoint's limits, and the seats its connections hold per token.
#[derive(Debug)]
pub struct Sockets {
    /// The limits of one connection.
    pub limits: Limits,
    /// Connections open per token.
    pub seats: std::sync::Arc<crate::pipeline::admit::seats::Seats>,
}

/// `reason` cut to [`MAX_CLOSE_REASON`] bytes on a character boundary.
pub fn close_reason(reason: &str) -> String {
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

/// What a client message asks, as far as the limits are concerned.
enum Asked {
    Init,
    Subscribe(String),
    Complete(String),
    Other,
}

fn asked(bytes: &[u8]) -> Asked {
    let Ok(message) = serde_json::from_slice::<Value>(bytes) else { return Asked::Other };
    let id = || message.get("id").and_then(Value::as_str).map(str::to_owned);
    match (message.get("type").and_then(Value::as_str), id()) {
        (Some("connection_init"), _) => Asked::Init,
        (Some("subscribe" | "start"), Some(id)) => Asked::Subscribe(id),
        (Some("complete" | "stop"), Some(id)) => Asked::Complete(id),
        _ => Asked::Other,
    }
}

/// The id of a subscription the server reports finished, if `text` is such a message.
fn finished(text: &str) -> Option<String> {
    let message = serde_json::from_str::<Value>(text).ok()?;
    matches!(message.get("type").and_then(Value::as_str), Some("complete" | "error"))
        .then(|| message.get("id").and_then(Value::as_str).map(str::to_owned))
        .flatten()
}

/// Serves one upgraded connection with `executor`, authenticating at `connection_init`
/// with `on_init`, within `limits`.
pub async fn serve<E, F, R>(
    socket: WebSocketStream,
    executor: E,
    protocol: WebSocketProtocols,
    on_init: F,
    limits: Limits,
) where
    E: Executor,
    F: FnOnce(Value) -> R + Send + 'static,
    R: std::future::Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    let (mut sink, mut incoming) = socket.split();
    let (forward, accepted) = futures::channel::mpsc::channel::<Vec<u8>>(16);
    let graphql = async_graphql::http::WebSocket::new(executor, accepted, protocol).on_connection_init(on_init);
    tokio::pin!(graphql);
    let init_deadline = tokio::time::sleep(limits.init_timeout);
    tokio::pin!(init_deadline);
    let mut forward = forward;
    let (mut initialised, mut running) = (false, HashSet::<String>::new());
    let close = loop {
        tokio::select! {
            message = incoming.next() => {
                let bytes = match message {
                    Some(Ok(message)) if message.is_text() || message.is_binary() => message.into_bytes(),
                    Some(Ok(message)) if message.is_close() => break None,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break None,
                };
                match asked(&bytes) {
                    Asked::Init => initialised = true,
                    Asked::Subscribe(id) if running.contains(&id) => {
                        break Some((4409, format!("Subscriber for {id} already exists")));
                    }
                    Asked::Subscribe(_) if running.len() >= limits.subscriptions => {
                        break Some((4429, format!("Too many subscriptions (at most {})", limits.subscriptions)));
                    }
                    Asked::Subscribe(id) => {
                        running.insert(id);
                    }
                    Asked::Complete(id) => {
                        running.remove(&id);
                    }
                    Asked::Other => {}
                }
                if forward.send(bytes).await.is_err() {
                    break None;
                }
            }
            answer = graphql.next() => match answer {
                Some(WsMessage::Text(text)) => {
                    if let Some(id) = finished(&text) {
                        running.remove(&id);
                    }
                    if sink.send(Message::text(text)).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => break Some((code, reason)),
                None => break None,
            },
            () = &mut init_deadline, if !initialised => {
                break Some((4408, "Connection initialisation timeout".to_owned()));
            }
        }
    };
    if let Some((code, reason)) = close {
        let _ = sink.send(Message::close_with(code, close_reason(&reason))).await;
    }
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_frame_and_keep_whole_characters() {
        let long = "ø".repeat(100);
        let cut = close_reason(&long);
        assert!(cut.len() <= MAX_CLOSE_REASON && cut.chars().all(|c| c == 'ø'));
        assert_eq!(close_reason("timeout"), "timeout");
    }
}
