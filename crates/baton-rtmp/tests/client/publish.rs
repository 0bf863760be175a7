//! Publishing: every message arrives byte-exact, refusals carry their code,
//! the server closing is reported as closed.

use std::time::Duration;

use bytes::Bytes;

use baton_proto::amf0::Value;
use baton_proto::command::CapsEx;
use baton_proto::session::{ServerConfig, ServerEvent, UnpublishReason};
use baton_rtmp::client::Connection;
use baton_rtmp::{DataMessage, MediaKind, PublishType, RtmpError, StatusCode, Timestamp};

use crate::peer::Peer;
use crate::{bounded, config, listen, media_mix};

#[tokio::test]
async fn publishes_300_messages_in_order_byte_exact() {
    bounded(120, async {
        let (listener, url) = listen().await;
        let media = media_mix(300);
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            let ServerEvent::PublishRequested {
                request,
                stream_name,
                publish_type,
                ..
            } = peer.until_request().await
            else {
                panic!("expected publish");
            };
            assert_eq!(stream_name, "key?token=abc", "the name is sent as given");
            assert_eq!(publish_type, PublishType::Live);
            peer.session.accept_publish(request).unwrap();
            let connect = peer.connect.take().unwrap();
            let mut got = Vec::new();
            let mut data = Vec::new();
            let mut unpublished = None;
            while let Some(event) = peer.event().await {
                match event {
                    ServerEvent::Media {
                        kind,
                        timestamp,
                        payload,
                        ..
                    } => got.push((kind, timestamp, payload)),
                    ServerEvent::Data { data: d, .. } => data.push(d),
                    ServerEvent::Unpublished { reason, .. } => unpublished = Some(reason),
                    _ => {}
                }
            }
            (connect, got, data, unpublished)
        });

        let cfg = config();
        let conn = Connection::connect(&url, &cfg).await.unwrap();
        assert!(conn.server_caps_ex().contains(CapsEx::RECONNECT));
        let mut publisher = conn
            .publish("key?token=abc", PublishType::Live)
            .await
            .unwrap();
        let metadata = DataMessage::SetDataFrame {
            name: "onMetaData".into(),
            value: Value::EcmaArray(vec![("width".into(), Value::Number(1280.0))]),
        };
        publisher
            .send_data(Timestamp::ZERO, metadata.clone())
            .await
            .unwrap();
        for (kind, ts, payload) in &media {
            publisher.send(*kind, *ts, payload.clone()).await.unwrap();
            assert!(publisher.queued_output() <= cfg.max_output_buffer);
        }
        publisher.finish().await.unwrap();

        let (connect, got, data, unpublished) = server.await.unwrap();
        assert_eq!(connect.app, "live");
        assert_eq!(connect.tc_url.as_deref(), Some(url.tc_url().as_str()));
        assert_eq!(connect.flash_ver.as_deref(), Some(cfg.flash_ver.as_str()));
        assert!(connect.supports_go_away);
        assert!(connect.caps_ex.contains(CapsEx::RECONNECT));
        assert_eq!(data, vec![metadata]);
        assert_eq!(got.len(), media.len());
        for (i, (sent, received)) in media.iter().zip(&got).enumerate() {
            assert!(sent == received, "message {i} differs");
        }
        assert_eq!(unpublished, Some(UnpublishReason::FcUnpublish));
    })
    .await;
}

#[tokio::test]
async fn a_bad_name_refusal_is_rejected_with_its_code() {
    bounded(20, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            let ServerEvent::PublishRequested { request, .. } = peer.until_request().await else {
                panic!("expected publish");
            };
            peer.session
                .reject_publish(request, StatusCode::PublishBadName, "key is in use")
                .unwrap();
            peer.close_and_drain().await;
        });
        let conn = Connection::connect(&url, &config()).await.unwrap();
        match conn.publish("key", PublishType::Live).await {
            Err(RtmpError::Rejected { code, description }) => {
                assert_eq!(code, StatusCode::PublishBadName);
                assert_eq!(description, "key is in use");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_refused_connect_is_rejected_with_its_description() {
    bounded(20, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            let request = loop {
                match peer.event().await.expect("connect") {
                    ServerEvent::ConnectRequested { request, .. } => break request,
                    _ => continue,
                }
            };
            peer.session.reject_connect(request, "no such app").unwrap();
            peer.close_and_drain().await;
        });
        match Connection::connect(&url, &config()).await {
            Err(RtmpError::Rejected { code, description }) => {
                assert_eq!(code, StatusCode::ConnectRejected);
                assert_eq!(description, "no such app");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_publisher_sees_the_server_close_as_closed() {
    bounded(20, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            peer.accept_publish().await;
            peer.close_and_drain().await;
        });
        let conn = Connection::connect(&url, &config()).await.unwrap();
        let mut publisher = conn.publish("key", PublishType::Live).await.unwrap();
        let mut result = Ok(());
        for i in 0..500 {
            let frame = Bytes::from(vec![1u8; 1000]);
            result = publisher.send(MediaKind::Video, Timestamp(i), frame).await;
            if result.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(matches!(result, Err(RtmpError::Closed)), "{result:?}");
        drop(publisher);
        server.await.unwrap();
    })
    .await;
}

/// The server acknowledges often and reads slowly, so its
/// Acknowledgements are unread in the client's socket when the client is
/// done writing: closing then must not reset the connection, or the media
/// still in the client's kernel buffer is lost.
#[tokio::test]
async fn finish_waits_for_the_server_so_nothing_is_lost() {
    bounded(60, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let config = ServerConfig {
                // The client acknowledges at the server's peer bandwidth
                // and asks the same window of the server.
                peer_bandwidth: 16_000,
                ..ServerConfig::default()
            };
            let mut peer = Peer::accept_with(&listener, config).await;
            peer.accept_publish().await;
            peer.read_delay = Some(Duration::from_millis(3));
            let events = peer.drain().await;
            let media = events
                .iter()
                .filter(|e| matches!(e, ServerEvent::Media { .. }))
                .count();
            let unpublished = events
                .iter()
                .any(|e| matches!(e, ServerEvent::Unpublished { .. }));
            (media, unpublished)
        });
        let conn = Connection::connect(&url, &config()).await.unwrap();
        let mut publisher = conn.publish("key", PublishType::Live).await.unwrap();
        for i in 0..60 {
            let frame = Bytes::from(vec![i as u8; 50_000]);
            publisher
                .send(MediaKind::Video, Timestamp(i * 20), frame)
                .await
                .unwrap();
        }
        publisher.finish().await.unwrap();
        assert_eq!(server.await.unwrap(), (60, true));
    })
    .await;
}
