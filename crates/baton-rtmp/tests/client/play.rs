//! Playing: metadata, media, the end of a stream (once per end), refusals
//! and the read timeout.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use baton_proto::amf0::Value;
use baton_proto::command::{StatusInfo, StatusLevel};
use baton_proto::message::UserControlEvent;
use baton_proto::session::ServerEvent;
use baton_rtmp::client::{ClientConfig, Connection, PlayerEvent};
use baton_rtmp::{DataMessage, RtmpError, StatusCode, TimeoutPhase, Timestamp};

use crate::peer::Peer;
use crate::{Seen, bounded, config, listen, media_mix, seen};

#[tokio::test]
async fn plays_metadata_and_media_then_ends_once_per_end() {
    bounded(60, async {
        let (listener, url) = listen().await;
        let first = media_mix(20);
        let second: Vec<_> = media_mix(3)
            .into_iter()
            .map(|(k, ts, p)| (k, Timestamp(ts.0 + 10_000), p))
            .collect();
        let (a, b) = (first.clone(), second.clone());
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            let ServerEvent::PlayRequested {
                request,
                stream_id: id,
                stream_name,
                start,
                duration,
                reset,
            } = peer.until_request().await
            else {
                panic!("expected play");
            };
            assert_eq!(
                (stream_name.as_str(), start, duration, reset),
                ("key", -2.0, -1.0, true)
            );
            peer.session.accept_play(request).unwrap();
            let meta = DataMessage::OnMetaData(Value::EcmaArray(vec![(
                "duration".into(),
                Value::Number(0.0),
            )]));
            peer.session.send_data(id, Timestamp::ZERO, &meta).unwrap();
            for (kind, ts, payload) in a {
                peer.session.send_media(id, kind, ts, payload).unwrap();
            }
            peer.session.notify_unpublished(id).unwrap();
            peer.flush().await.unwrap();
            // The stream comes back, and ends again.
            let event = UserControlEvent::StreamBegin { stream_id: id };
            peer.session.send_user_control(event);
            let info = StatusInfo::new(
                StatusLevel::Status,
                StatusCode::PlayPublishNotify,
                "key is now published.",
            );
            peer.session.send_status(id, info).unwrap();
            for (kind, ts, payload) in b {
                peer.session.send_media(id, kind, ts, payload).unwrap();
            }
            peer.session.notify_unpublished(id).unwrap();
            peer.close_and_drain().await;
        });

        let conn = Connection::connect(&url, &config()).await.unwrap();
        let mut player = conn.play("key").await.unwrap();
        let mut events = Vec::new();
        while let Some(event) = player.next().await.unwrap() {
            events.push(seen(event));
        }
        let mut expected = vec![
            Seen::Data("|RtmpSampleAccess".into()),
            Seen::Data("onMetaData".into()),
        ];
        expected.extend(first.into_iter().map(|(k, t, p)| Seen::Media(k, t, p)));
        expected.push(Seen::Status(StatusCode::PlayUnpublishNotify));
        expected.push(Seen::End);
        expected.push(Seen::Status(StatusCode::PlayPublishNotify));
        expected.extend(second.into_iter().map(|(k, t, p)| Seen::Media(k, t, p)));
        expected.push(Seen::Status(StatusCode::PlayUnpublishNotify));
        expected.push(Seen::End);
        assert_eq!(events.len(), expected.len(), "{events:?}");
        for (i, (got, want)) in events.iter().zip(&expected).enumerate() {
            assert!(got == want, "event {i}: got {got:?}, want {want:?}");
        }
        assert!(player.next().await.unwrap().is_none(), "stays closed");
        drop(player);
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_missing_stream_is_rejected() {
    bounded(20, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            let ServerEvent::PlayRequested { request, .. } = peer.until_request().await else {
                panic!("expected play");
            };
            peer.session
                .reject_play(request, StatusCode::PlayStreamNotFound, "no key")
                .unwrap();
            peer.close_and_drain().await;
        });
        let conn = Connection::connect(&url, &config()).await.unwrap();
        match conn.play("key").await {
            Err(RtmpError::Rejected { code, .. }) => {
                assert_eq!(code, StatusCode::PlayStreamNotFound)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_silent_player_times_out_on_read() {
    bounded(20, async {
        let (listener, url) = listen().await;
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            peer.accept_play().await;
            let _ = done_rx.await;
        });
        let cfg = ClientConfig {
            read_timeout: Duration::from_millis(300),
            ..config()
        };
        let conn = Connection::connect(&url, &cfg).await.unwrap();
        let mut player = conn.play("key").await.unwrap();
        // |RtmpSampleAccess came with Play.Start; then nothing.
        assert!(matches!(
            player.next().await,
            Ok(Some(PlayerEvent::Data { .. }))
        ));
        let started = Instant::now();
        let result = player.next().await;
        assert!(
            matches!(result, Err(RtmpError::Timeout(TimeoutPhase::Read))),
            "{result:?}"
        );
        assert!(started.elapsed() >= Duration::from_millis(250));
        done_tx.send(()).unwrap();
        server.await.unwrap();
    })
    .await;
}
