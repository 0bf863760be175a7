//! Merged writes (`ServerConfig::write_merge`) over real TCP on 127.0.0.1,
//! on tokio's paused clock: a player's frames wait for the window, leave
//! together, and nothing waits when merging is off.

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
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

use baton_proto::Timestamp;
use baton_proto::session::{ClientEvent, MediaKind};
use baton_rtmp::SharedMessage;
use baton_rtmp::server::{FeedItem, ServerConfig};

use client::TestClient;
use harness::{bounded, config, start};

const WINDOW: Duration = Duration::from_millis(200);
const DEFAULT_OUTPUT: usize = 256 << 10;

fn frame(i: u32) -> FeedItem {
    let payload = Bytes::from(vec![0x27; 1000 + i as usize]);
    FeedItem::Media(Arc::new(SharedMessage::new(
        MediaKind::Video,
        Timestamp(i * 40),
        payload,
    )))
}

/// A server with `write_merge` (and `max_output_buffer`) and a player
/// of its feed "merged".
async fn player_of(
    write_merge: Duration,
    max_output_buffer: usize,
) -> (harness::Running, mpsc::Sender<FeedItem>, TestClient) {
    let server = start(ServerConfig {
        write_merge,
        max_output_buffer,
        idle_timeout: Duration::from_secs(3600),
        ping_interval: Duration::from_secs(3600),
        ..config()
    })
    .await;
    let (feed, _) = server.handler.add_feed("merged", 64);
    let mut player = TestClient::connect(server.addr).await;
    player.connect_app("live").await;
    player.play("merged").await;
    (server, feed, player)
}

/// Waits for the next media message; its timestamp.
async fn next_frame(player: &mut TestClient) -> u32 {
    match player
        .wait_for("media", |e| matches!(e, ClientEvent::Media { .. }))
        .await
    {
        ClientEvent::Media { timestamp, .. } => timestamp.0,
        other => unreachable!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn merged_frames_wait_for_the_window_and_leave_together() {
    bounded(async {
        let (_server, feed, mut player) = player_of(WINDOW, DEFAULT_OUTPUT).await;
        let start = Instant::now();
        feed.send(frame(0)).await.unwrap();
        sleep(Duration::from_millis(50)).await;
        feed.send(frame(1)).await.unwrap();
        sleep(Duration::from_millis(50)).await;
        feed.send(frame(2)).await.unwrap();

        assert_eq!(next_frame(&mut player).await, 0);
        let first = start.elapsed();
        assert!(
            first >= WINDOW && first < WINDOW + Duration::from_millis(20),
            "the first frame arrived after {first:?}, not at the window's end"
        );
        // The frames of the window came in the same write: no time passes.
        assert_eq!(next_frame(&mut player).await, 40);
        assert_eq!(next_frame(&mut player).await, 80);
        assert_eq!(start.elapsed(), first, "frames of one window apart");

        // The next frame opens a new window.
        sleep(Duration::from_millis(100)).await;
        let sent = Instant::now();
        feed.send(frame(3)).await.unwrap();
        assert_eq!(next_frame(&mut player).await, 120);
        let waited = sent.elapsed();
        assert!(
            waited >= WINDOW && waited < WINDOW + Duration::from_millis(20),
            "a new window: waited {waited:?}"
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn without_merging_each_frame_leaves_at_once() {
    bounded(async {
        let (_server, feed, mut player) = player_of(Duration::ZERO, DEFAULT_OUTPUT).await;
        for i in 0..3 {
            let sent = Instant::now();
            feed.send(frame(i)).await.unwrap();
            assert_eq!(next_frame(&mut player).await, i * 40);
            let waited = sent.elapsed();
            assert!(
                waited < Duration::from_millis(5),
                "frame {i} waited {waited:?}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_burst_past_half_the_output_bound_is_not_held() {
    bounded(async {
        // max_output_buffer / 2 = 32 KiB: a 40 KiB keyframe goes at once.
        let (_server, feed, mut player) = player_of(WINDOW, 64 << 10).await;
        let sent = Instant::now();
        let big = Bytes::from(vec![0x17; 40 << 10]);
        feed.send(FeedItem::Media(Arc::new(SharedMessage::new(
            MediaKind::Video,
            Timestamp(0),
            big,
        ))))
        .await
        .unwrap();
        assert_eq!(next_frame(&mut player).await, 0);
        let waited = sent.elapsed();
        assert!(waited < WINDOW, "the burst waited {waited:?}");
    })
    .await;
}
