//! Live updates over a real WebSocket: a client subscribes to the data version with its
//! token in `connection_init`, receives the current version, and receives the next one
//! when new data lands; a question about patients gets no answer there; a forged token
//! gets no subscription.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Backend, TestApp};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A `graphql-transport-ws` connection to the app, initialised with `authorization`.
async fn connect(app: &TestApp, authorization: &str) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": authorization } });
    socket.send(Message::text(init.to_string())).await.expect("send");
    socket
}

/// The next JSON message (pings skipped), or `None` when the connection closes.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next()).await.expect("a message in time")?;
        match message.ok()? {
            Message::Text(text) => return Some(serde_json::from_str(&text).expect("JSON")),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_hears_of_each_new_data_version() {
    let app = TestApp::spawn_refreshed_by_hand(Backend::Sqlite).await.expect("app");
    let token = app.registry_token().await;
    let mut socket = connect(&app, &format!("Bearer {token}")).await;
    assert_eq!(next(&mut socket).await.expect("ack")["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { dataVersions { version builtAt } }" } });
    socket.send(Message::text(subscribe.to_string())).await.expect("subscribe");
    let first = next(&mut socket).await.expect("the current version");
    assert_eq!(first["type"], "next", "{first}");
    let version = first["payload"]["data"]["dataVersions"]["version"].as_i64().expect("a version");
    // New data lands: the version moves and the snapshot is rebuilt.
    let bumped = consortium_entity::data_version::bump(&app.db).await.expect("bump");
    app.state.refresh().await.expect("refresh");
    let second = next(&mut socket).await.expect("the new version");
    assert_eq!(second["payload"]["data"]["dataVersions"]["version"].as_i64(), Some(bumped), "{second}");
    assert!(bumped > version);
    // Questions about patients are not answered over WebSocket.
    let question = json!({ "id": "2", "type": "subscribe", "payload": { "query": "{ funnel { steps { patients { value } } } }" } });
    socket.send(Message::text(question.to_string())).await.expect("ask");
    let refused = next(&mut socket).await.expect("an answer");
    let payload =
        if refused["type"] == "error" { json!({ "errors": refused["payload"] }) } else { refused["payload"].clone() };
    assert!(payload["errors"].as_array().is_some_and(|e| !e.is_empty()), "{refused}");
    assert!(payload["data"].is_null(), "{refused}");
    // The connection is on record.
    let subscriptions =
        app.sql_count("SELECT COUNT(*) FROM audit_record WHERE operation = 'subscription' AND outcome = 'OK'").await;
    assert_eq!(subscriptions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_token_gets_no_subscription() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let mut socket = connect(&app, "Bearer cat_forged_0000000000000000000000000000").await;
    let answer = next(&mut socket).await;
    assert!(answer.as_ref().is_none_or(|a| a["type"] != "connection_ack"), "{answer:?}");
    let refused = app
        .sql_count("SELECT COUNT(*) FROM audit_record WHERE operation = 'subscription' AND outcome = 'UNAUTHENTICATED'")
        .await;
    assert_eq!(refused, 1);
}
