//! Connections that hold resources, over real sockets: a body or headers that trickle
//! in, WebSocket clients that never initialise, repeat a subscription id, open too many
//! subscriptions or connections; and a thousand idle or trickling connections beside
//! which `/healthz` and a real query still answer.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Backend, TestApp, PATIENTS};

/// An app whose deadlines are short enough to wait for in a test.
async fn impatient(configure: impl FnOnce(&mut consortium_api::config::ServeArgs)) -> TestApp {
    TestApp::spawn_configured(Backend::Sqlite, Some(PATIENTS), |args| {
        args.request_timeout_secs = 2;
        args.header_read_timeout_secs = 2;
        args.ws_init_timeout_secs = 1;
        configure(args);
    })
    .await
    .expect("app")
}

fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or `limit` passes); what it sent.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut received)).await;
    read.ok().map(|_| String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_is_cut_off_at_the_request_deadline() {
    let app = impatient(|_| {}).await;
    let token = app.registry_token().await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(b"{\"query\":").await.expect("ten bytes");
    let started = Instant::now();
    let answer = until_closed(&mut stream, Duration::from_secs(30)).await.expect("answered and closed in time");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"TIMEOUT\""), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(20), "held for {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_trickle_lose_their_connection() {
    let app = impatient(|_| {}).await;
    let mut stream = TcpStream::connect(host(&app)).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\n").await.expect("request line");
    let started = Instant::now();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if stream.write_all(b"X").await.is_err() {
            break;
        }
    }
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection is still open after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_or_trickling_connections_do_not_stop_the_service() {
    let app = impatient(|args| args.header_read_timeout_secs = 60).await;
    let mut held = Vec::new();
    for i in 0..1000 {
        let mut stream = TcpStream::connect(host(&app)).await.expect("connect");
        if i % 2 == 0 {
            stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nCon").await.expect("half a head");
        }
        held.push(stream);
    }
    let health = app.client.get(format!("{}/healthz", app.address)).send().await.expect("GET /healthz");
    assert_eq!(health.status().as_u16(), 200);
    let answer = app.data("{ funnel { steps { population patients { value } } } }", json!({})).await;
    assert!(answer["funnel"]["steps"].as_array().is_some_and(|s| !s.is_empty()));
    drop(held);
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(app: &TestApp) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
    tokio_tungstenite::connect_async(request).await.expect("connect").0
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.expect("send");
}

async fn init(socket: &mut Socket, token: &str) {
    send(socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
}

fn subscribe(id: &str) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { dataVersions { version } }" } })
}

/// What the server says until it closes: its messages' types, then the close code and
/// reason (a frame that does not parse fails the test).
async fn until_close(socket: &mut Socket) -> (Vec<String>, Option<(u16, String)>) {
    let mut said = Vec::new();
    loop {
        let message =
            tokio::time::timeout(Duration::from_secs(20), socket.next()).await.expect("the server acts in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                said.push(value["type"].as_str().unwrap_or_default().to_owned());
            }
            Some(Ok(Message::Close(frame))) => {
                return (said, frame.map(|f| (u16::from(f.code), f.reason.to_string())));
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => panic!("the connection broke: {error}"),
            None => return (said, None),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_without_connection_init_is_closed_4408() {
    let app = impatient(|_| {}).await;
    let mut socket = open(&app).await;
    let (said, closed) = until_close(&mut socket).await;
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(closed.map(|c| c.0), Some(4408));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_subscription_id_is_closed_4409_with_a_reason_that_fits_a_frame() {
    // Time enough for `connection_init` (its record) on a machine busy with other tests.
    let app = impatient(|args| args.ws_init_timeout_secs = 10).await;
    let token = app.registry_token().await;
    let mut socket = open(&app).await;
    init(&mut socket, &token).await;
    let long = "x".repeat(500);
    send(&mut socket, subscribe(&long)).await;
    send(&mut socket, subscribe(&long)).await;
    let (said, closed) = until_close(&mut socket).await;
    assert_eq!(said.first().map(String::as_str), Some("connection_ack"), "{said:?}");
    let (code, reason) = closed.expect("a close frame");
    assert_eq!(code, 4409);
    assert!(reason.len() <= 123 && reason.starts_with("Subscriber for xxx"), "{reason}");
    assert_ne!(CloseCode::from(code), CloseCode::Protocol);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_per_connection_and_connections_per_token_are_capped() {
    let app = impatient(|args| {
        args.ws_max_subscriptions = 2;
        args.ws_max_connections_per_token = 2;
    })
    .await;
    let token = app.registry_token().await;
    let mut socket = open(&app).await;
    init(&mut socket, &token).await;
    for id in ["1", "2", "3"] {
        send(&mut socket, subscribe(id)).await;
    }
    let (_, closed) = until_close(&mut socket).await;
    assert_eq!(closed.map(|c| c.0), Some(4429));

    let mut first = open(&app).await;
    init(&mut first, &token).await;
    let mut second = open(&app).await;
    init(&mut second, &token).await;
    for socket in [&mut first, &mut second] {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next()).await.expect("ack in time");
        assert!(matches!(message, Some(Ok(Message::Text(ref t))) if t.contains("connection_ack")), "{message:?}");
    }
    let mut third = open(&app).await;
    init(&mut third, &token).await;
    let (said, closed) = until_close(&mut third).await;
    assert!(!said.contains(&"connection_ack".to_owned()), "{said:?}");
    assert!(closed.is_some_and(|(_, reason)| reason.contains("connections open")));
    // One closes: a seat is free again.
    drop(first);
    let mut fourth = open(&app).await;
    let mut acked = false;
    for _ in 0..20 {
        init(&mut fourth, &token).await;
        match tokio::time::timeout(Duration::from_secs(5), fourth.next()).await {
            Ok(Some(Ok(Message::Text(text)))) if text.contains("connection_ack") => {
                acked = true;
                break;
            }
            _ => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                fourth = open(&app).await;
            }
        }
    }
    assert!(acked, "the seat of a closed connection is given back");
}
