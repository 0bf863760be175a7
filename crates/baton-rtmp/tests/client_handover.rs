//! The reconnecting publisher between two test servers A and B (each a
//! `baton_proto` `ServerSession` over TCP on 127.0.0.1): 200 video frames
//! in GOPs of 25 (keyframes start with 0x17, inter frames with 0x27, the
//! frame's index in bytes 5-6) go to A; after frame 60 A asks the client to
//! move. Each test checks that every frame reached a server, in order,
//! with its timestamp, that B started with the metadata and sequence
//! headers, and that A was left without FCUnpublish/deleteStream. Every
//! test is bounded in time.

#[path = "client/peer.rs"]
#[allow(dead_code)]
mod peer;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use baton_proto::amf0::Value;
use baton_proto::command::DataMessage;
use baton_proto::session::ServerEvent;
use baton_rtmp::client::{
    ClientConfig, HandoverConfig, HandoverState, HandoverStats, ReconnectingPublisher,
};
use baton_rtmp::{MediaKind, RtmpUrl, Timestamp};

use peer::Peer;

const FRAMES: u32 = 200;
const GOP: u32 = 25;
/// A asks the client to move after receiving this frame.
const SIGNAL_AFTER: u32 = 60;
const FRAME_MS: u32 = 40;

/// What a test server saw, in order.
#[derive(Clone, Debug, PartialEq)]
enum Got {
    Meta(u32),
    VideoHeader(u32),
    AudioHeader(u32),
    /// Frame index and timestamp.
    Frame(u32, u32),
    Unpublished,
}

/// What A does after frame `SIGNAL_AFTER`.
enum Action {
    GoAway,
    Reconnect(String),
    /// Go Away, then close the socket at once and tell the test.
    GoAwayThenClose(oneshot::Sender<()>),
}

async fn bounded<T>(secs: u64, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), body)
        .await
        .expect("the test ran past its deadline")
}

async fn listen() -> (TcpListener, RtmpUrl) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url_of(listener.local_addr().unwrap().port());
    (listener, url)
}

fn url_of(port: u16) -> RtmpUrl {
    RtmpUrl::parse(&format!("rtmp://127.0.0.1:{port}/live")).unwrap()
}

fn client_config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(5),
        reply_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

fn handover_config() -> HandoverConfig {
    HandoverConfig {
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        ..HandoverConfig::default()
    }
}

fn got(event: ServerEvent) -> Option<Got> {
    match event {
        ServerEvent::Data {
            timestamp, data, ..
        } if data.metadata().is_some() => Some(Got::Meta(timestamp.0)),
        ServerEvent::Media {
            kind,
            timestamp,
            payload,
            ..
        } => Some(match (kind, payload[1]) {
            (MediaKind::Video, 0) => Got::VideoHeader(timestamp.0),
            (MediaKind::Audio, 0) => Got::AudioHeader(timestamp.0),
            (MediaKind::Video, _) => Got::Frame(
                u32::from(u16::from_be_bytes([payload[5], payload[6]])),
                timestamp.0,
            ),
            (MediaKind::Audio, _) => panic!("no audio frames are sent"),
        }),
        ServerEvent::Unpublished { .. } => Some(Got::Unpublished),
        _ => None,
    }
}

/// Server A: accepts the publish, acts after frame `SIGNAL_AFTER`, and
/// records until the client leaves (or until it closes, for
/// `GoAwayThenClose`).
async fn server_a(listener: TcpListener, action: Action) -> Vec<Got> {
    let mut peer = Peer::accept(&listener).await;
    peer.accept_publish().await;
    let mut seen = Vec::new();
    let mut action = Some(action);
    while let Some(event) = peer.event().await {
        let Some(g) = got(event) else { continue };
        let signal_now = g == Got::Frame(SIGNAL_AFTER, SIGNAL_AFTER * FRAME_MS);
        seen.push(g);
        if !signal_now {
            continue;
        }
        match action.take() {
            Some(Action::GoAway) => assert!(peer.session.send_go_away()),
            Some(Action::Reconnect(tc_url)) => {
                assert!(peer.session.send_reconnect_request(Some(&tc_url), None))
            }
            Some(Action::GoAwayThenClose(closed)) => {
                assert!(peer.session.send_go_away());
                peer.flush().await.unwrap();
                drop(peer);
                closed.send(()).unwrap();
                return seen;
            }
            None => {}
        }
        peer.flush().await.unwrap();
    }
    seen
}

/// Server B: waits for `start` (if given), then accepts the publish and
/// records until the client leaves.
async fn server_b(listener: TcpListener, start: Option<oneshot::Receiver<()>>) -> Vec<Got> {
    if let Some(start) = start {
        start.await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut peer = Peer::accept(&listener).await;
    peer.accept_publish().await;
    let mut seen = Vec::new();
    while let Some(event) = peer.event().await {
        seen.extend(got(event));
    }
    seen
}

fn frame(i: u32) -> Bytes {
    let first = if i % GOP == 0 { 0x17 } else { 0x27 };
    let [hi, lo] = (i as u16).to_be_bytes();
    Bytes::from(vec![first, 1, 0, 0, 0, hi, lo, 0xAB])
}

/// What the publishing side observed.
struct Run {
    /// The first frame index before which the handover was seen ready.
    ready_at: Option<u32>,
    stats: HandoverStats,
}

/// Publishes metadata, both sequence headers and the frames (one every
/// 3 ms); `before(i, publisher)` runs before frame `i`.
async fn publish(urls: Vec<RtmpUrl>, mut before: impl FnMut(u32, &ReconnectingPublisher)) -> Run {
    let mut p = ReconnectingPublisher::connect(&urls, "key", client_config(), handover_config())
        .await
        .unwrap();
    assert_eq!(p.handover_state(), HandoverState::Idle);
    let meta = DataMessage::SetDataFrame {
        name: "onMetaData".into(),
        value: Value::Null,
    };
    p.send_data(Timestamp(0), meta).await.unwrap();
    let video_header = Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 2, 3]);
    p.send(MediaKind::Video, Timestamp(0), video_header)
        .await
        .unwrap();
    let audio_header = Bytes::from_static(&[0xAF, 0, 0x12, 0x10]);
    p.send(MediaKind::Audio, Timestamp(0), audio_header)
        .await
        .unwrap();
    let mut ready_at = None;
    for i in 0..FRAMES {
        before(i, &p);
        if ready_at.is_none() && p.handover_state() == HandoverState::Ready {
            ready_at = Some(i);
        }
        p.send(MediaKind::Video, Timestamp(i * FRAME_MS), frame(i))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let stats = p.handover_stats();
    p.finish().await.unwrap();
    Run { ready_at, stats }
}

fn frames(seen: &[Got]) -> Vec<u32> {
    seen.iter()
        .filter_map(|g| match g {
            Got::Frame(i, ts) => {
                assert_eq!(*ts, i * FRAME_MS, "timestamps unchanged");
                Some(*i)
            }
            _ => None,
        })
        .collect()
}

fn config_at(ts: u32) -> Vec<Got> {
    vec![Got::Meta(ts), Got::VideoHeader(ts), Got::AudioHeader(ts)]
}

/// A got the configuration and frames 0..k-1 and was left without
/// FCUnpublish/deleteStream; returns k.
fn check_a(a: &[Got]) -> u32 {
    assert_eq!(a[..3], config_at(0)[..]);
    let a_frames = frames(a);
    let k = a_frames.len() as u32;
    assert_eq!(a_frames, (0..k).collect::<Vec<_>>(), "A: in order, no gap");
    assert!(k > SIGNAL_AFTER, "A got frames after its signal");
    assert!(
        !a.contains(&Got::Unpublished),
        "A saw no FCUnpublish/deleteStream"
    );
    k
}

/// B got the configuration stamped at frame `from`, then frames
/// `from..FRAMES`, then the unpublish.
fn check_b(b: &[Got], from: u32) {
    assert_eq!(b[..3], config_at(from * FRAME_MS)[..], "B: {b:?}");
    assert_eq!(frames(b), (from..FRAMES).collect::<Vec<_>>());
    assert_eq!(b.last(), Some(&Got::Unpublished), "finish unpublishes on B");
}

/// A live switch: k is a keyframe, and it is the first one once the new
/// connection was seen ready (or an earlier one, when it became ready
/// between the look and the send).
fn check_live_switch(a: &[Got], b: &[Got], run: &Run) -> u32 {
    let k = check_a(a);
    assert_eq!(k % GOP, 0, "the switch happens at a keyframe");
    let ready_at = run.ready_at.expect("the handover became ready");
    let first_key_after_ready = ready_at.div_ceil(GOP) * GOP;
    assert!(k <= first_key_after_ready, "k {k}, ready at {ready_at}");
    check_b(b, k);
    assert_eq!(
        (run.stats.started, run.stats.completed, run.stats.resent),
        (1, 1, 0)
    );
    k
}

#[tokio::test]
async fn go_away_moves_to_the_next_url_at_a_keyframe() {
    bounded(30, async {
        let (la, a_url) = listen().await;
        let (lb, b_url) = listen().await;
        let a = tokio::spawn(server_a(la, Action::GoAway));
        let b = tokio::spawn(server_b(lb, None));
        let run = publish(vec![a_url, b_url], |_, _| {}).await;
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        check_live_switch(&a, &b, &run);
    })
    .await;
}

#[tokio::test]
async fn a_reconnect_request_names_the_server_to_move_to() {
    bounded(30, async {
        let (la, a_url) = listen().await;
        let (lb, b_url) = listen().await;
        let a = tokio::spawn(server_a(la, Action::Reconnect(b_url.tc_url())));
        let b = tokio::spawn(server_b(lb, None));
        // Only A in the list: B comes from the request's tcUrl.
        let run = publish(vec![a_url], |_, _| {}).await;
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        check_live_switch(&a, &b, &run);
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_server_is_retried_while_frames_go_to_the_old_one() {
    bounded(30, async {
        let (la, a_url) = listen().await;
        // B's port is closed until the client has failed twice.
        let (closed, b_url) = listen().await;
        drop(closed);
        let (start_b, started) = oneshot::channel();
        let port = b_url.port;
        let b = tokio::spawn(async move {
            started.await.unwrap();
            let lb = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
            server_b(lb, None).await
        });
        let a = tokio::spawn(server_a(la, Action::GoAway));
        let mut start_b = Some(start_b);
        let mut b_started_at = None;
        let run = publish(vec![a_url, b_url], |i, p| {
            if p.handover_stats().failed_attempts >= 2
                && let Some(tx) = start_b.take()
            {
                tx.send(()).unwrap();
                b_started_at = Some(i);
            }
        })
        .await;
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let b_started_at = b_started_at.expect("the client retried");
        assert!(run.stats.failed_attempts >= 2);
        let k = check_a(&a);
        assert!(k > b_started_at, "frames kept going to A while B was down");
        assert_eq!(k % GOP, 0);
        check_b(&b, k);
        assert_eq!((run.stats.completed, run.stats.resent), (1, 0));
    })
    .await;
}

#[tokio::test]
async fn frames_are_held_when_the_old_server_dies_before_the_switch() {
    bounded(30, async {
        let (la, a_url) = listen().await;
        let (lb, b_url) = listen().await;
        let (closed_tx, closed_rx) = oneshot::channel();
        let a = tokio::spawn(server_a(la, Action::GoAwayThenClose(closed_tx)));
        // B accepts only after A is gone.
        let b = tokio::spawn(server_b(lb, Some(closed_rx)));
        let run = publish(vec![a_url, b_url], |_, _| {}).await;
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let m = check_a(&a);
        // B starts at the last keyframe sent to A: nothing is missing, and
        // only frames A may have received come twice.
        let b_frames = frames(&b);
        let j = b_frames[0];
        assert_eq!(j % GOP, 0, "B starts at a keyframe: {b_frames:?}");
        assert!(j < m && m - j <= GOP, "no gap: A has 0..{m}, B from {j}");
        check_b(&b, j);
        assert_eq!(run.stats.completed, 1);
        assert!(run.stats.resent >= u64::from(m - j), "{:?}", run.stats);
    })
    .await;
}
