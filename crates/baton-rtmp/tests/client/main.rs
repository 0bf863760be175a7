//! The client against a tiny test server on 127.0.0.1 (a
//! `baton_proto::session::ServerSession` over a `TcpListener`, driven by
//! each test's script, in [`peer`]): publish, play, refusals, Go Away and
//! Reconnect Request, pings, timeouts and closed ports. Every test is
//! bounded in time.

mod failures;
mod peer;
mod play;
mod publish;
mod signals;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;

use baton_proto::command::StatusCode;
use baton_rtmp::client::{ClientConfig, PlayerEvent, ServerSignal};
use baton_rtmp::{MediaKind, RtmpUrl, Timestamp};

pub(crate) async fn listen() -> (TcpListener, RtmpUrl) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = RtmpUrl::parse(&format!("rtmp://127.0.0.1:{port}/live")).unwrap();
    (listener, url)
}

pub(crate) fn config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(5),
        reply_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

/// Runs a test body with a deadline.
pub(crate) async fn bounded<T>(secs: u64, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), body)
        .await
        .expect("the test ran past its deadline")
}

/// A reproducible mix of audio and video, 10 B to 200 KB.
pub(crate) fn media_mix(count: u32) -> Vec<(MediaKind, Timestamp, Bytes)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..count)
        .map(|i| {
            let size = match i {
                0 => 10,
                1 => 200_000,
                _ => 10 + next() % 199_991,
            };
            let kind = if next() % 3 == 0 {
                MediaKind::Audio
            } else {
                MediaKind::Video
            };
            let seed = next() as u8;
            let payload: Vec<u8> = (0..size)
                .map(|j| seed.wrapping_add((j * 31 + j / 7) as u8))
                .collect();
            (kind, Timestamp(i * 20), Bytes::from(payload))
        })
        .collect()
}

/// A compact view of player events for comparison.
#[derive(Debug, PartialEq)]
pub(crate) enum Seen {
    Data(String),
    Media(MediaKind, Timestamp, Bytes),
    Status(StatusCode),
    GoAway,
    Reconnect(Option<String>),
    End,
}

pub(crate) fn seen(event: PlayerEvent) -> Seen {
    match event {
        PlayerEvent::Media {
            kind,
            timestamp,
            payload,
        } => Seen::Media(kind, timestamp, payload),
        PlayerEvent::Data { data, .. } => Seen::Data(data.handler().to_owned()),
        PlayerEvent::Signal(ServerSignal::Status(info)) => Seen::Status(info.code),
        PlayerEvent::Signal(ServerSignal::GoAway) => Seen::GoAway,
        PlayerEvent::Signal(ServerSignal::ReconnectRequest { tc_url, .. }) => {
            Seen::Reconnect(tc_url)
        }
        PlayerEvent::End => Seen::End,
        other => panic!("unexpected event {other:?}"),
    }
}
