//! The server's drain over real TCP on 127.0.0.1: the exact RTMP Go Away
//! bytes, the Enhanced RTMP Reconnect Request with the configured tcUrl,
//! nothing for clients that announced neither (served, then cut at the
//! deadline), an early end when every client left, refused connections, a
//! shutdown that ends the drain, and a publisher's sink told of Go Away.

#[allow(dead_code)]
#[path = "server/client.rs"]
mod client;
#[allow(dead_code)]
#[path = "server/handler.rs"]
mod handler;
#[allow(dead_code)]
#[path = "server/harness.rs"]
mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use baton_proto::Timestamp;
use baton_proto::command::{CapsEx, DataMessage, StatusCode};
use baton_proto::session::{ClientConfig, ClientEvent, ClientSession, MediaKind};
use baton_rtmp::server::{
    ConnectionInfo, Handler, MediaSink, PublishEnd, PublishRequest, Rejection, Server, ServerConfig,
};

use client::{TestClient, WAIT};
use handler::Record;
use harness::{Running, bounded, config, init_logs, start};

/// A test client that announces what it is told to.
async fn client_announcing(
    addr: std::net::SocketAddr,
    go_away: bool,
    caps_ex: CapsEx,
) -> TestClient {
    let mut client = TestClient::connect(addr).await;
    client.session = ClientSession::new(ClientConfig {
        announce_go_away: go_away,
        caps_ex,
        ..ClientConfig::default()
    });
    client
}

/// Waits for the server's `run()` to return; its result and when.
async fn run_returns(server: Running) -> (std::io::Result<()>, Instant) {
    let result = timeout(Duration::from_secs(120), server.task)
        .await
        .expect("run() did not return")
        .expect("the server task panicked");
    (result, Instant::now())
}

/// Reads raw bytes until `n` arrived (or the server closed).
async fn read_raw(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    timeout(WAIT, async {
        while got.len() < n {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(k) => got.extend_from_slice(&buf[..k]),
            }
        }
    })
    .await
    .expect("timed out reading from the server");
    got
}

/// The close reasons the handler saw.
fn close_reasons(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Closed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn go_away_is_the_exact_type_32_chunk_and_nothing_else() {
    bounded(async {
        let server = start(config()).await;
        let mut client = client_announcing(server.addr, true, CapsEx::NONE).await;
        assert!(matches!(
            client.connect_app("live").await,
            ClientEvent::Connected { .. }
        ));
        server.shutdown.drain();
        // fmt 0, csid 2 | timestamp 0 | length 4 | type 32 | stream 0 (LE) | payload
        let expected = [0x02, 0, 0, 0, 0, 0, 4, 0x20, 0, 0, 0, 0, 0, 0, 0, 0];
        let got = read_raw(&mut client.io, expected.len()).await;
        assert_eq!(got, expected, "the Go Away chunk on the wire");
        // The session reads it as Go Away.
        client.session.handle_input(&got, 0).unwrap();
        assert_eq!(client.session.poll_event(), Some(ClientEvent::GoAway));
        // Nothing else follows: no Reconnect Request to a client without
        // capsEx Reconnect.
        let mut more = [0u8; 64];
        let extra = timeout(Duration::from_millis(300), client.io.read(&mut more)).await;
        assert!(extra.is_err(), "more bytes after Go Away: {extra:?}");
        assert!(server.shutdown.is_draining());
        // The client leaves: run() returns without waiting for the deadline.
        let started = Instant::now();
        drop(client);
        let (result, at) = run_returns(server).await;
        result.unwrap();
        assert!(at - started < Duration::from_secs(5), "{:?}", at - started);
    })
    .await;
}

#[tokio::test]
async fn a_client_with_caps_ex_reconnect_gets_the_reconnect_request_with_the_tc_url() {
    bounded(async {
        let server = start(ServerConfig {
            reconnect_tc_url: Some("rtmp://b.example:1935/live".into()),
            ..config()
        })
        .await;
        let mut client = client_announcing(server.addr, false, CapsEx::RECONNECT).await;
        assert!(matches!(
            client.connect_app("live").await,
            ClientEvent::Connected { .. }
        ));
        server.shutdown.drain();
        let event = client
            .wait_for("the Reconnect Request", |e| {
                matches!(e, ClientEvent::ReconnectRequested { .. })
            })
            .await;
        assert_eq!(
            event,
            ClientEvent::ReconnectRequested {
                tc_url: Some("rtmp://b.example:1935/live".into()),
                description: Some("server is going away".into()),
            }
        );
        assert!(
            !client.events.contains(&ClientEvent::GoAway),
            "{:?}",
            client.events
        );
        // Still served: a createStream is answered during the drain.
        let stream_id = client.create_stream().await;
        assert!(stream_id > 0);
        assert!(
            !client.events.contains(&ClientEvent::GoAway),
            "no Go Away without supportsGoAway"
        );
        server.shutdown.shutdown();
        run_returns(server).await.0.unwrap();
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_client_that_announced_neither_is_served_then_cut_at_the_deadline() {
    bounded(async {
        let deadline = Duration::from_secs(5);
        let server = start(ServerConfig {
            drain_deadline: deadline,
            ..config()
        })
        .await;
        let (feed, _) = server.handler.add_feed("s", 4);
        let mut client = client_announcing(server.addr, false, CapsEx::NONE).await;
        assert!(matches!(
            client.connect_app("live").await,
            ClientEvent::Connected { .. }
        ));
        let drained_at = Instant::now();
        server.shutdown.drain();
        // Served during the drain: play is answered and media flows.
        let (stream_id, info) = client.play("s").await;
        assert_eq!(info.code, StatusCode::PlayStart);
        feed.send(baton_rtmp::server::FeedItem::Data {
            timestamp: Timestamp(0),
            data: DataMessage::Other {
                handler: "onTextData".into(),
                values: Vec::new(),
            },
        })
        .await
        .unwrap();
        client
            .wait_for(
                "the data",
                |e| matches!(e, ClientEvent::Data { stream_id: s, .. } if *s == stream_id),
            )
            .await;
        // Read until the server cuts the connection at the deadline.
        let closed = timeout(Duration::from_secs(60), async {
            while let Ok(true) = client.read_once().await {}
        })
        .await;
        assert!(closed.is_ok(), "not cut at the deadline");
        let cut_after = drained_at.elapsed();
        assert!(cut_after >= deadline, "cut after {cut_after:?}");
        assert!(
            cut_after < deadline + Duration::from_secs(1),
            "cut after {cut_after:?}"
        );
        assert!(
            !client.events.iter().any(|e| matches!(
                e,
                ClientEvent::GoAway | ClientEvent::ReconnectRequested { .. }
            )),
            "{:?}",
            client.events
        );
        let records = server.handler.log.wait_closed(1).await;
        assert_eq!(close_reasons(&records), ["drain deadline"]);
        let (result, at) = run_returns(server).await;
        result.unwrap();
        let returned = at - drained_at;
        assert!(returned >= deadline, "returned after {returned:?}");
        assert!(
            returned < deadline + Duration::from_secs(2),
            "returned after {returned:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_connection_that_connects_during_the_drain_is_asked_at_once() {
    bounded(async {
        let server = start(config()).await;
        let mut client = TestClient::connect(server.addr).await;
        // The handshake before the drain (so the server accepted the TCP
        // connection); connect after it.
        client
            .wait_for("the handshake", |e| {
                matches!(e, ClientEvent::HandshakeDone(_))
            })
            .await;
        server.shutdown.drain();
        assert!(matches!(
            client.connect_app("live").await,
            ClientEvent::Connected { .. }
        ));
        client
            .wait_for("Go Away", |e| *e == ClientEvent::GoAway)
            .await;
        client
            .wait_for("the Reconnect Request", |e| {
                matches!(e, ClientEvent::ReconnectRequested { tc_url: None, .. })
            })
            .await;
        // New connections are refused: the listener is closed.
        let refused = timeout(WAIT, async {
            loop {
                match TcpStream::connect(server.addr).await {
                    Err(_) => return,
                    Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        })
        .await;
        assert!(refused.is_ok(), "the server still accepts connections");
        drop(client);
        run_returns(server).await.0.unwrap();
    })
    .await;
}

#[tokio::test]
async fn run_returns_as_soon_as_every_client_left() {
    bounded(async {
        let server = start(ServerConfig {
            drain_deadline: Duration::from_secs(600),
            ..config()
        })
        .await;
        let mut mover = client_announcing(server.addr, true, CapsEx::RECONNECT).await;
        let mut stayer = client_announcing(server.addr, false, CapsEx::NONE).await;
        for client in [&mut mover, &mut stayer] {
            assert!(matches!(
                client.connect_app("live").await,
                ClientEvent::Connected { .. }
            ));
        }
        let started = Instant::now();
        server.shutdown.drain();
        mover
            .wait_for("Go Away", |e| *e == ClientEvent::GoAway)
            .await;
        drop(mover);
        // The stayer is still served after the mover left.
        assert!(stayer.create_stream().await > 0);
        assert!(!server.task.is_finished());
        stayer.session.close_connection().unwrap();
        stayer.flush().await.unwrap();
        drop(stayer);
        let (result, at) = run_returns(server).await;
        result.unwrap();
        assert!(at - started < Duration::from_secs(10), "{:?}", at - started);
    })
    .await;
}

#[tokio::test]
async fn a_shutdown_during_the_drain_closes_everything_at_once() {
    bounded(async {
        let server = start(ServerConfig {
            drain_deadline: Duration::from_secs(600),
            ..config()
        })
        .await;
        let mut client = client_announcing(server.addr, false, CapsEx::NONE).await;
        assert!(matches!(
            client.connect_app("live").await,
            ClientEvent::Connected { .. }
        ));
        server.shutdown.drain();
        // Still served while draining.
        assert!(client.create_stream().await > 0);
        let started = Instant::now();
        server.shutdown.shutdown();
        assert!(server.shutdown.is_shutdown() && !server.shutdown.is_draining());
        assert!(client.wait_closed().await);
        let records = server.handler.log.wait_closed(1).await;
        assert_eq!(close_reasons(&records), ["server shutdown"]);
        let (result, at) = run_returns(server).await;
        result.unwrap();
        assert!(at - started < Duration::from_secs(5), "{:?}", at - started);
    })
    .await;
}

/// What a publication's sink was told.
#[derive(Clone, Default)]
struct SinkLog {
    go_away: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
}

/// Accepts every publish with a sink that records into its stream's log.
#[derive(Clone, Default)]
struct Publishers {
    asked: SinkLog,
    not_asked: SinkLog,
}

struct FlagSink(SinkLog);

impl MediaSink for FlagSink {
    fn on_media(&mut self, _: MediaKind, _: Timestamp, _: Bytes) {}
    fn on_data(&mut self, _: Timestamp, _: DataMessage) {}
    fn on_end(self: Box<Self>, _: PublishEnd) {
        self.0.ended.store(true, Ordering::SeqCst);
    }
    fn on_go_away(&mut self) {
        self.0.go_away.store(true, Ordering::SeqCst);
    }
}

impl Handler for Publishers {
    async fn on_publish(
        &self,
        _: &ConnectionInfo,
        request: &PublishRequest,
    ) -> Result<Box<dyn MediaSink>, Rejection> {
        let log = match request.stream_name.as_str() {
            "asked" => self.asked.clone(),
            _ => self.not_asked.clone(),
        };
        Ok(Box::new(FlagSink(log)))
    }
}

#[tokio::test]
async fn a_publisher_asked_to_move_tells_its_sink() {
    bounded(async {
        init_logs();
        let handler = Publishers::default();
        let server = Server::bind("127.0.0.1:0", config(), handler.clone())
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let shutdown = server.shutdown_handle();
        let task = tokio::spawn(server.run());

        let mut asked = client_announcing(addr, true, CapsEx::NONE).await;
        let mut not_asked = client_announcing(addr, false, CapsEx::NONE).await;
        for (client, name) in [(&mut asked, "asked"), (&mut not_asked, "other")] {
            assert!(matches!(
                client.connect_app("live").await,
                ClientEvent::Connected { .. }
            ));
            let (_, info) = client.publish(name).await;
            assert_eq!(info.code, StatusCode::PublishStart);
        }
        assert!(!handler.asked.go_away.load(Ordering::SeqCst));
        shutdown.drain();
        asked
            .wait_for("Go Away", |e| *e == ClientEvent::GoAway)
            .await;
        // The sink heard of it before the server wrote the Go Away.
        assert!(handler.asked.go_away.load(Ordering::SeqCst));
        // The other one is still served: a createStream is answered.
        assert!(not_asked.create_stream().await > 0);
        assert!(!handler.not_asked.go_away.load(Ordering::SeqCst));
        shutdown.shutdown();
        timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(handler.asked.ended.load(Ordering::SeqCst));
        assert!(handler.not_asked.ended.load(Ordering::SeqCst));
        assert!(!handler.not_asked.go_away.load(Ordering::SeqCst));
    })
    .await;
}
