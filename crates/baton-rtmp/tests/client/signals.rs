//! What the server says besides media: RTMP Go Away and the Enhanced RTMP
//! Reconnect Request reach publishers and players; pings are answered.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use baton_proto::message::{Message, UserControlEvent};
use baton_proto::session::ServerEvent;
use baton_rtmp::client::{Connection, ServerSignal};
use baton_rtmp::{MediaKind, PublishType, Timestamp};

use crate::peer::Peer;
use crate::{Seen, bounded, config, listen, seen};

const NEXT_TC_URL: &str = "rtmp://127.0.0.1:1940/live";

/// Sends RTMP Go Away and a Reconnect Request to `NEXT_TC_URL`.
async fn send_move_signals(peer: &mut Peer) {
    assert!(peer.session.send_go_away(), "the client announced Go Away");
    assert!(
        peer.session
            .send_reconnect_request(Some(NEXT_TC_URL), Some("moving")),
        "the client announced the Reconnect capability"
    );
    peer.flush().await.unwrap();
}

#[tokio::test]
async fn a_publisher_gets_go_away_and_reconnect_request() {
    bounded(30, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            peer.accept_publish().await;
            loop {
                if let ServerEvent::Media { .. } = peer.event().await.expect("media") {
                    break;
                }
            }
            send_move_signals(&mut peer).await;
            peer.drain().await
        });
        let conn = Connection::connect(&url, &config()).await.unwrap();
        let mut publisher = conn.publish("key", PublishType::Live).await.unwrap();
        let mut signals = Vec::new();
        for i in 0..1000 {
            let frame = Bytes::from(vec![7u8; 500]);
            publisher
                .send(MediaKind::Video, Timestamp(i * 33), frame)
                .await
                .unwrap();
            while let Some(signal) = publisher.take_signal() {
                signals.push(signal);
            }
            if signals.len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            signals,
            vec![
                ServerSignal::GoAway,
                ServerSignal::ReconnectRequest {
                    tc_url: Some(NEXT_TC_URL.into()),
                    description: Some("moving".into()),
                },
            ]
        );
        // A handover: no FCUnpublish, no deleteStream.
        publisher.abandon().await.unwrap();
        let after = server.await.unwrap();
        assert!(
            !after.iter().any(|e| matches!(
                e,
                ServerEvent::Unpublished { .. } | ServerEvent::Command { .. }
            )),
            "abandon sent nothing: {after:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_player_gets_go_away_and_reconnect_request() {
    bounded(30, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            peer.accept_play().await;
            send_move_signals(&mut peer).await;
            peer.close_and_drain().await;
        });
        let conn = Connection::connect(&url, &config()).await.unwrap();
        let mut player = conn.play("key").await.unwrap();
        let mut events = Vec::new();
        while let Some(event) = player.next().await.unwrap() {
            events.push(seen(event));
        }
        drop(player);
        assert_eq!(
            events,
            vec![
                Seen::Data("|RtmpSampleAccess".into()),
                Seen::GoAway,
                Seen::Reconnect(Some(NEXT_TC_URL.into())),
            ]
        );
        server.await.unwrap();
    })
    .await;
}

// ---- pings ------------------------------------------------------------------

/// Reads until the Ping Response carrying `stamp`; returns whether it came.
pub(crate) async fn wait_ping_response(peer: &mut Peer, stamp: u32) -> bool {
    while let Some(event) = peer.event().await {
        if let ServerEvent::Message {
            message: Message::UserControl(UserControlEvent::PingResponse { timestamp }),
            ..
        } = event
            && timestamp == stamp
        {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn pings_are_answered_by_a_publisher_between_frames() {
    bounded(30, async {
        let (listener, url) = listen().await;
        let (pong_tx, mut pong_rx) = oneshot::channel();
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            peer.accept_publish().await;
            peer.session.send_ping(4242);
            peer.flush().await.unwrap();
            let answered = wait_ping_response(&mut peer, 4242).await;
            pong_tx.send(answered).unwrap();
            peer.drain().await;
        });
        let conn = Connection::connect(&url, &config()).await.unwrap();
        let mut publisher = conn.publish("key", PublishType::Live).await.unwrap();
        // One small frame every 33 ms, as a 30 fps encoder would.
        let mut answered = None;
        for i in 0..300 {
            let frame = Bytes::from(vec![3u8; 200]);
            publisher
                .send(MediaKind::Video, Timestamp(i * 33), frame)
                .await
                .unwrap();
            if let Ok(a) = pong_rx.try_recv() {
                answered = Some(a);
                break;
            }
            tokio::time::sleep(Duration::from_millis(33)).await;
        }
        assert_eq!(answered, Some(true), "the ping was answered");
        publisher.finish().await.unwrap();
        server.await.unwrap();
    })
    .await;
}
