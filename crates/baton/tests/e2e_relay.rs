//! Relay push between real `baton serve` processes on 127.0.0.1: an origin
//! O and an ingest node I started with `--push rtmp://O/live`. A publisher
//! on I (the baton-rtmp client), a player on O connected before it:
//! every frame arrives at O and so does the unpublish; then I gets SIGTERM
//! while its publisher leaves without FCUnpublish: I exits 0 after its
//! relay abandoned the origin's stream, and O's player gets no end within
//! O's reconnect window (only after it).

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::command::PublishType;
use baton_proto::session::MediaKind;
use baton_rtmp::RtmpUrl;
use baton_rtmp::client::{ClientConfig, Connection, Player, PlayerEvent, Publisher};
use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use support::{BatonServer, Scratch};

/// Bound on each whole test.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on each wait for a player event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The origin's reconnect window.
const WINDOW: Duration = Duration::from_secs(4);

fn url(addr: SocketAddr) -> RtmpUrl {
    RtmpUrl::parse(&format!("rtmp://{addr}/live")).unwrap()
}

async fn publish(addr: SocketAddr) -> Publisher<TcpStream> {
    Connection::connect(&url(addr), &ClientConfig::default())
        .await
        .unwrap()
        .publish("s", PublishType::Live)
        .await
        .unwrap()
}

async fn play(addr: SocketAddr) -> Player<TcpStream> {
    Connection::connect(&url(addr), &ClientConfig::default())
        .await
        .unwrap()
        .play("s")
        .await
        .unwrap()
}

/// Sequence headers, then `gops` GOPs of 10 video frames and 10 audio
/// frames numbered from `*id`; returns the ids.
async fn send(p: &mut Publisher<TcpStream>, gops: u32, id: &mut u32, ts: &mut u32) -> Vec<u32> {
    if *id == 1 {
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
    let mut sent = Vec::new();
    for _ in 0..gops {
        for i in 0..10 {
            let video: &[u8] = if i == 0 {
                &[0x17, 1, 0, 0, 0]
            } else {
                &[0x27, 1, 0, 0, 0]
            };
            for (kind, head) in [
                (MediaKind::Video, video),
                (MediaKind::Audio, &[0xaf, 1][..]),
            ] {
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

/// Frame ids a player got, and whether it got the end.
#[derive(Debug, Default)]
struct Seen {
    ids: Vec<u32>,
    ended: bool,
}

fn record(seen: &mut Seen, event: Option<PlayerEvent>) {
    match event {
        Some(PlayerEvent::Media { payload, .. }) if payload[1] != 0 => {
            let n = payload.len();
            seen.ids
                .push(u32::from_be_bytes(payload[n - 4..].try_into().unwrap()));
        }
        Some(PlayerEvent::End) | None => seen.ended = true,
        Some(_) => {}
    }
}

/// Reads until `want` frames or the end.
async fn read(player: &mut Player<TcpStream>, seen: &mut Seen, want: usize) {
    while seen.ids.len() < want && !seen.ended {
        let event = timeout(EVENT_TIMEOUT, player.next())
            .await
            .unwrap_or_else(|_| panic!("no event after {} frames", seen.ids.len()))
            .unwrap();
        record(seen, event);
    }
}

/// Whether the player gets the end within `within`.
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

fn origin(scratch: &Scratch) -> BatonServer {
    let config = scratch.path("origin.toml");
    std::fs::write(
        &config,
        format!("[streams]\nreconnect_window_secs = {}\n", WINDOW.as_secs()),
    )
    .unwrap();
    BatonServer::start(&["--config", config.to_str().unwrap()])
}

fn ingest(scratch: &Scratch, origin: &BatonServer) -> BatonServer {
    let config = scratch.path("ingest.toml");
    std::fs::write(&config, "[server]\ndrain_deadline_secs = 10\n").unwrap();
    BatonServer::start(&[
        "--config",
        config.to_str().unwrap(),
        "--push",
        &origin.url("live"),
    ])
}

#[tokio::test]
async fn serve_push_relays_every_frame_and_the_unpublish() {
    let scratch = Scratch::new("relay-unpublish");
    let o = origin(&scratch);
    let i = ingest(&scratch, &o);
    timeout(TEST_TIMEOUT, async {
        let mut player = play(o.addr).await;
        let mut p = publish(i.addr).await;
        let (mut id, mut ts) = (1, 0);
        let sent = send(&mut p, 4, &mut id, &mut ts).await;
        let mut seen = Seen::default();
        read(&mut player, &mut seen, sent.len()).await;
        assert_eq!(seen.ids, sent);
        assert!(!seen.ended);
        p.finish().await.unwrap();
        assert!(ends_within(&mut player, &mut seen, EVENT_TIMEOUT).await);
        assert_eq!(seen.ids, sent);
    })
    .await
    .unwrap_or_else(|_| {
        i.proc.dump();
        o.proc.dump();
        panic!("test timed out");
    });
    i.proc
        .wait_for_line(EVENT_TIMEOUT, |l| l.contains("relay ended: finished"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_ingest_leaves_the_stream_alive_on_the_origin() {
    let scratch = Scratch::new("relay-drain");
    let o = origin(&scratch);
    let mut i = ingest(&scratch, &o);
    timeout(TEST_TIMEOUT, async {
        let mut player = play(o.addr).await;
        let mut p = publish(i.addr).await;
        let (mut id, mut ts) = (1, 0);
        let sent = send(&mut p, 3, &mut id, &mut ts).await;
        let mut seen = Seen::default();
        read(&mut player, &mut seen, sent.len()).await;

        i.proc.terminate();
        i.proc
            .wait_for_line(EVENT_TIMEOUT, |l| l.contains("draining"));
        let tail = send(&mut p, 1, &mut id, &mut ts).await;
        p.abandon().await.unwrap();
        let left = Instant::now();
        let status = tokio::task::block_in_place(|| i.proc.wait(Duration::from_secs(20)));
        assert!(status.success(), "{status:?}");
        assert!(
            i.proc
                .lines()
                .iter()
                .any(|l| l.contains("relay ended: abandoned")),
            "no abandon line"
        );

        let all: Vec<u32> = sent.iter().chain(&tail).copied().collect();
        read(&mut player, &mut seen, all.len()).await;
        assert_eq!(seen.ids, all);
        let quiet = WINDOW
            .saturating_sub(left.elapsed())
            .saturating_sub(Duration::from_millis(700));
        assert!(
            !ends_within(&mut player, &mut seen, quiet).await,
            "O's player got an end within the reconnect window"
        );
        assert!(ends_within(&mut player, &mut seen, Duration::from_secs(6)).await);
    })
    .await
    .unwrap_or_else(|_| {
        i.proc.dump();
        o.proc.dump();
        panic!("test timed out");
    });
}
