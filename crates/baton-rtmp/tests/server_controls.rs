//! A player's receiveAudio, receiveVideo, pause and seek on a live stream,
//! through the server driver over TCP.

#[path = "server/client.rs"]
#[allow(dead_code)]
mod client;
#[path = "server/handler.rs"]
#[allow(dead_code)]
mod handler;
#[path = "server/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::sync::Arc;

use bytes::Bytes;

use baton_proto::Timestamp;
use baton_proto::command::StatusCode;
use baton_proto::session::{ClientEvent, MediaKind};
use baton_rtmp::SharedMessage;
use baton_rtmp::server::FeedItem;

use client::TestClient;
use harness::{bounded, config, start};

fn video(first: u8, n: u8) -> FeedItem {
    FeedItem::Media(Arc::new(SharedMessage::new(
        MediaKind::Video,
        Timestamp(u32::from(n) * 40),
        Bytes::from(vec![first, 1, 0, 0, 0, n]),
    )))
}

fn audio(n: u8) -> FeedItem {
    FeedItem::Media(Arc::new(SharedMessage::new(
        MediaKind::Audio,
        Timestamp(u32::from(n) * 40),
        Bytes::from(vec![0xaf, 1, n]),
    )))
}

/// The last byte of every media message the player got, in order, with its
/// kind, until `last` arrives.
async fn media_until(player: &mut TestClient, last: u8) -> Vec<(MediaKind, u8)> {
    let mut got = Vec::new();
    loop {
        let event = player
            .wait_for("media", |e| matches!(e, ClientEvent::Media { .. }))
            .await;
        if let ClientEvent::Media { kind, payload, .. } = event {
            let n = *payload.last().unwrap();
            got.push((kind, n));
            if n == last {
                return got;
            }
        }
    }
}

#[tokio::test]
async fn receive_flags_and_pause_shape_what_a_player_gets() {
    bounded(async {
        let server = start(config()).await;
        let (feed, _) = server.handler.add_feed("show", 64);
        let mut player = TestClient::connect(server.addr).await;
        player.connect_app("live").await;
        let (stream_id, info) = player.play("show").await;
        assert_eq!(info.code, StatusCode::PlayStart);

        // No audio. Unpause (while playing) is a no-op whose Notify tells us
        // the flag before it was applied.
        player.session.receive_audio(stream_id, false).unwrap();
        player.session.pause(stream_id, false, 0.0).unwrap();
        player
            .wait_status(stream_id, StatusCode::UnpauseNotify)
            .await;
        for item in [
            video(0x17, 1),
            audio(2),
            video(0x27, 3),
            audio(4),
            video(0x27, 5),
        ] {
            feed.send(item).await.unwrap();
        }
        assert_eq!(
            media_until(&mut player, 5).await,
            [
                (MediaKind::Video, 1),
                (MediaKind::Video, 3),
                (MediaKind::Video, 5)
            ]
        );

        // Audio back, video off then on: video resumes at a keyframe.
        player.session.receive_audio(stream_id, true).unwrap();
        player.session.receive_video(stream_id, false).unwrap();
        player.session.pause(stream_id, false, 0.0).unwrap();
        player
            .wait_status(stream_id, StatusCode::UnpauseNotify)
            .await;
        feed.send(video(0x27, 6)).await.unwrap();
        feed.send(audio(7)).await.unwrap();
        assert_eq!(media_until(&mut player, 7).await, [(MediaKind::Audio, 7)]);
        player.session.receive_video(stream_id, true).unwrap();
        player.session.pause(stream_id, false, 0.0).unwrap();
        player
            .wait_status(stream_id, StatusCode::UnpauseNotify)
            .await;
        for item in [video(0x27, 8), audio(9), video(0x17, 10), video(0x27, 11)] {
            feed.send(item).await.unwrap();
        }
        assert_eq!(
            media_until(&mut player, 11).await,
            [
                (MediaKind::Audio, 9),
                (MediaKind::Video, 10),
                (MediaKind::Video, 11)
            ]
        );

        // Pause drops everything; unpause resumes video at a keyframe.
        player.session.pause(stream_id, true, 440.0).unwrap();
        player.wait_status(stream_id, StatusCode::PauseNotify).await;
        for item in [video(0x17, 12), audio(13)] {
            feed.send(item).await.unwrap();
        }
        player.session.pause(stream_id, false, 440.0).unwrap();
        player
            .wait_status(stream_id, StatusCode::UnpauseNotify)
            .await;
        for item in [video(0x27, 14), audio(15), video(0x17, 16)] {
            feed.send(item).await.unwrap();
        }
        assert_eq!(
            media_until(&mut player, 16).await,
            [(MediaKind::Audio, 15), (MediaKind::Video, 16)]
        );

        // Seek on a live stream: Seek.Notify, playback goes on.
        player.session.seek(stream_id, 0.0).unwrap();
        player.wait_status(stream_id, StatusCode::SeekNotify).await;
        feed.send(video(0x27, 17)).await.unwrap();
        assert_eq!(media_until(&mut player, 17).await, [(MediaKind::Video, 17)]);
    })
    .await;
}
