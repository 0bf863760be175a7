//! Relay push between in-process servers on 127.0.0.1: an origin O and
//! ingest nodes relaying to it (`relay.push = ["rtmp://O/live"]`). A
//! publisher on an ingest node, a player on O: every frame arrives at O; an
//! unpublish reaches O's player; a draining ingest node whose publisher
//! left ends its relay without FCUnpublish (O keeps the stream for its
//! reconnect window); a second ingest node refused by O while the first one
//! still relays retries until the stream is free, and loses nothing.

use std::net::SocketAddr;
use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::amf0::Value;
use baton_proto::command::{DataMessage, PublishType};
use baton_proto::session::MediaKind;
use baton_rtmp::RtmpUrl;
use baton_rtmp::client::{ClientConfig, Connection, Player, PlayerEvent, Publisher};
use baton_rtmp::server::ShutdownHandle;
use baton_server::{BoundServer, Config, ServerError, StreamHub};
use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// Bound on each whole test.
const TEST_TIMEOUT: Duration = Duration::from_secs(40);
/// Bound on each wait for a player event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

struct Node {
    addr: SocketAddr,
    handle: ShutdownHandle,
    hub: StreamHub,
    task: JoinHandle<Result<(), ServerError>>,
}

async fn node(extra: &str) -> Node {
    let mut config = Config::from_toml_str(extra).unwrap();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    let server = BoundServer::bind(config).await.unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.shutdown_handle();
    let hub = server.hub().clone();
    let task = tokio::spawn(server.run());
    Node {
        addr,
        handle,
        hub,
        task,
    }
}

/// An ingest node relaying the application `live` to `origin`.
async fn ingest(origin: SocketAddr, extra: &str) -> Node {
    node(&format!(
        "{extra}\n[relay]\npush = [\"rtmp://{origin}/live\"]\nretry_secs = 20\n"
    ))
    .await
}

fn url(addr: SocketAddr) -> RtmpUrl {
    RtmpUrl::parse(&format!("rtmp://{addr}/live")).unwrap()
}

async fn publish(addr: SocketAddr, name: &str) -> Publisher<TcpStream> {
    Connection::connect(&url(addr), &ClientConfig::default())
        .await
        .unwrap()
        .publish(name, PublishType::Live)
        .await
        .unwrap()
}

async fn play(addr: SocketAddr, name: &str) -> Player<TcpStream> {
    Connection::connect(&url(addr), &ClientConfig::default())
        .await
        .unwrap()
        .play(name)
        .await
        .unwrap()
}

/// Sends metadata and the sequence headers.
async fn start(p: &mut Publisher<TcpStream>) {
    p.send_data(
        Timestamp(0),
        DataMessage::SetDataFrame {
            name: "onMetaData".into(),
            value: Value::EcmaArray(vec![("width".into(), Value::Number(1280.0))]),
        },
    )
    .await
    .unwrap();
    p.send(
        MediaKind::Video,
        Timestamp(0),
        Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f]),
    )
    .await
    .unwrap();
    p.send(
        MediaKind::Audio,
        Timestamp(0),
        Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
    )
    .await
    .unwrap();
}

/// Sends `gops` GOPs of 10 video frames (40 ms apart, each followed by an
/// audio frame) numbered from `*id`, starting at `*ts`; returns the ids.
async fn gops(p: &mut Publisher<TcpStream>, gops: u32, id: &mut u32, ts: &mut u32) -> Vec<u32> {
    let mut sent = Vec::new();
    for _ in 0..gops {
        for i in 0..10 {
            let head: &[u8] = if i == 0 {
                &[0x17, 1, 0, 0, 0]
            } else {
                &[0x27, 1, 0, 0, 0]
            };
            for (kind, head) in [(MediaKind::Video, head), (MediaKind::Audio, &[0xaf, 1][..])] {
                let mut payload = head.to_vec();
                payload.extend_from_slice(&id.to_be_bytes());
                p.send(kind, Timestamp(*ts), Bytes::from(payload))
                    .await
                    .unwrap();
                sent.push(*id);
                *id += 1;
            }
            *ts += 40;
        }
    }
    p.flush().await.unwrap();
    sent
}

/// What a player got: frame ids (not sequence headers), metadata count,
/// and whether the stream ended.
#[derive(Debug, Default)]
struct Seen {
    ids: Vec<u32>,
    metadata: usize,
    headers: usize,
    ended: bool,
}

/// Reads events until `want` frames arrived or the end.
async fn read(player: &mut Player<TcpStream>, seen: &mut Seen, want: usize) {
    while seen.ids.len() < want && !seen.ended {
        let event = timeout(EVENT_TIMEOUT, player.next())
            .await
            .unwrap_or_else(|_| panic!("no event after {} frames: {seen:?}", seen.ids.len()))
            .unwrap();
        record(seen, event);
    }
}

fn record(seen: &mut Seen, event: Option<PlayerEvent>) {
    match event {
        Some(PlayerEvent::Media { payload, .. }) if payload[1] == 0 => seen.headers += 1,
        Some(PlayerEvent::Media { payload, .. }) => {
            let n = payload.len();
            seen.ids
                .push(u32::from_be_bytes(payload[n - 4..].try_into().unwrap()));
        }
        Some(PlayerEvent::Data {
            data: DataMessage::OnMetaData(_),
            ..
        }) => seen.metadata += 1,
        Some(PlayerEvent::End) | None => seen.ended = true,
        Some(_) => {}
    }
}

/// Whether the player gets an end within `within`.
async fn ends_within(player: &mut Player<TcpStream>, seen: &mut Seen, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while !seen.ended {
        match tokio::time::timeout_at(deadline, player.next()).await {
            Err(_) => return false,
            Ok(event) => record(seen, event.unwrap()),
        }
    }
    true
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + EVENT_TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_frame_reaches_the_origin_and_so_does_the_unpublish() {
    timeout(TEST_TIMEOUT, async {
        let origin = node("").await;
        let ingest = ingest(origin.addr, "").await;
        let mut player = play(origin.addr, "s").await;

        let mut p = publish(ingest.addr, "s?token=abc").await;
        start(&mut p).await;
        let (mut id, mut ts) = (1, 0);
        let sent = gops(&mut p, 5, &mut id, &mut ts).await;
        let mut seen = Seen::default();
        read(&mut player, &mut seen, sent.len()).await;
        assert_eq!(seen.ids, sent, "every frame, in order");
        assert_eq!(seen.metadata, 1);
        assert_eq!(seen.headers, 2);
        assert!(!seen.ended);
        // The relay is one player of the ingest's stream.
        let stats = ingest.hub.stream_stats("live", "s").unwrap();
        assert_eq!(stats.players, 1);
        let origin_stats = origin.hub.stream_stats("live", "s").unwrap();
        assert!(origin_stats.publishing);

        p.finish().await.unwrap();
        assert!(ends_within(&mut player, &mut seen, EVENT_TIMEOUT).await);
        assert_eq!(seen.ids, sent);
        // The relay ended and left the ingest's stream.
        wait_until("the ingest's stream to go", || {
            ingest.hub.stream_stats("live", "s").is_none()
        })
        .await;
        assert_eq!(
            origin.hub.stats().publishers,
            0,
            "the origin's stream ended"
        );

        // A new publication of the same key gets a new relay.
        let mut p = publish(ingest.addr, "s").await;
        start(&mut p).await;
        let again = gops(&mut p, 1, &mut id, &mut ts).await;
        let mut seen = Seen::default();
        read(&mut player, &mut seen, again.len()).await;
        assert_eq!(seen.ids, again);
        p.finish().await.unwrap();
        assert!(ends_within(&mut player, &mut seen, EVENT_TIMEOUT).await);

        for n in [&ingest, &origin] {
            n.handle.shutdown();
        }
        ingest.task.await.unwrap().unwrap();
        origin.task.await.unwrap().unwrap();
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn a_draining_ingest_leaves_the_origin_stream_alive() {
    timeout(TEST_TIMEOUT, async {
        let origin = node("[streams]\nreconnect_window_secs = 3\n").await;
        let ingest = ingest(origin.addr, "[server]\ndrain_deadline_secs = 10\n").await;
        let mut player = play(origin.addr, "s").await;

        let mut p = publish(ingest.addr, "s").await;
        start(&mut p).await;
        let (mut id, mut ts) = (1, 0);
        let sent = gops(&mut p, 3, &mut id, &mut ts).await;
        let mut seen = Seen::default();
        read(&mut player, &mut seen, 2).await;

        // The ingest drains; its publisher leaves without FCUnpublish.
        ingest.handle.drain();
        let tail = gops(&mut p, 1, &mut id, &mut ts).await;
        p.abandon().await.unwrap();
        let drained = Instant::now();
        timeout(Duration::from_secs(15), ingest.task)
            .await
            .expect("the ingest stops after its drain")
            .unwrap()
            .unwrap();

        // Everything reached the origin, and no end.
        let all: Vec<u32> = sent.iter().chain(&tail).copied().collect();
        read(&mut player, &mut seen, all.len()).await;
        assert_eq!(seen.ids, all);
        assert!(!seen.ended);
        // The origin waits for a publisher: the relay sent no FCUnpublish
        // or deleteStream (either would have ended the stream at once).
        wait_until("the relay's connection to end", || {
            origin
                .hub
                .stream_stats("live", "s")
                .is_some_and(|s| !s.publishing)
        })
        .await;
        let stats = origin.hub.stream_stats("live", "s").unwrap();
        assert!(stats.awaiting_publisher, "{stats:?}");
        let quiet = Duration::from_secs(3)
            .saturating_sub(drained.elapsed())
            .saturating_sub(Duration::from_millis(500));
        assert!(
            !ends_within(&mut player, &mut seen, quiet).await,
            "the origin's player got an end within the reconnect window"
        );
        // Past the window with nobody back, the player gets the end.
        assert!(ends_within(&mut player, &mut seen, Duration::from_secs(5)).await);
        assert_eq!(seen.ids, all);

        origin.handle.shutdown();
        origin.task.await.unwrap().unwrap();
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn a_refused_relay_retries_until_the_origin_frees_the_stream() {
    timeout(TEST_TIMEOUT, async {
        let origin = node("[streams]\nreconnect_window_secs = 10\n").await;
        let a = ingest(origin.addr, "[server]\ndrain_deadline_secs = 10\n").await;
        let b = ingest(origin.addr, "").await;
        let mut player = play(origin.addr, "s").await;

        let mut pa = publish(a.addr, "s").await;
        start(&mut pa).await;
        let (mut id, mut ts) = (1, 0);
        let first = gops(&mut pa, 2, &mut id, &mut ts).await;
        let mut seen = Seen::default();
        read(&mut player, &mut seen, first.len()).await;

        // The same stream on B: B's relay is refused by O (A's relay holds
        // the stream) and holds what B gets meanwhile.
        let mut pb = publish(b.addr, "s").await;
        start(&mut pb).await;
        let second = gops(&mut pb, 2, &mut id, &mut ts).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(b.hub.stream_stats("live", "s").unwrap().players, 1);

        // A drains and its publisher leaves: A's relay abandons, O's stream
        // waits, B's relay gets in and sends what it held.
        a.handle.drain();
        pa.abandon().await.unwrap();
        timeout(Duration::from_secs(15), a.task)
            .await
            .expect("A stops after its drain")
            .unwrap()
            .unwrap();
        let third = gops(&mut pb, 1, &mut id, &mut ts).await;
        let all: Vec<u32> = first.iter().chain(&second).chain(&third).copied().collect();
        read(&mut player, &mut seen, all.len()).await;
        assert_eq!(seen.ids, all, "nothing lost or doubled");
        assert!(!seen.ended);
        assert_eq!(seen.metadata, 1, "the same metadata is not sent again");
        assert_eq!(seen.headers, 2, "the same headers are not sent again");

        pb.finish().await.unwrap();
        assert!(ends_within(&mut player, &mut seen, EVENT_TIMEOUT).await);
        for n in [&b, &origin] {
            n.handle.shutdown();
        }
        b.task.await.unwrap().unwrap();
        origin.task.await.unwrap().unwrap();
    })
    .await
    .expect("test timed out");
}
