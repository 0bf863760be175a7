//! The server over real TCP on 127.0.0.1: connect decisions, publishing
//! into a sink, playing from a feed, shutdown, and `serve_connection` over
//! a non-TCP transport. Clients are `baton_proto` sessions pumped by a tiny
//! test client (tests/server/client.rs).

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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use baton_proto::Timestamp;
use baton_proto::amf0::Value;
use baton_proto::command::{DataMessage, StatusCode};
use baton_proto::message::UserControlEvent;
use baton_proto::session::{ClientEvent, MediaKind, UnpublishReason};
use baton_rtmp::SharedMessage;
use baton_rtmp::server::{FeedItem, PublishEnd, ServerConfig, ShutdownHandle, serve_connection};

use client::{TestClient, WAIT};
use handler::{Record, TestHandler};
use harness::{bounded, config, start};

/// A payload whose bytes depend on `seed`, so that a swap or a shift shows.
fn payload(seed: u32, len: usize) -> Bytes {
    (0..len)
        .map(|i| (seed as usize * 31 + i * 7) as u8)
        .collect::<Vec<u8>>()
        .into()
}

fn closed_reason(record: &Record) -> &str {
    match record {
        Record::Closed { reason, .. } => reason,
        other => panic!("not a close: {other:?}"),
    }
}

#[tokio::test]
async fn connect_is_accepted_or_refused_with_the_handlers_reason() {
    bounded(async {
        let server = start(config()).await;
        let mut accepted = TestClient::connect(server.addr).await;
        let reply = accepted.connect_app("live").await;
        assert!(matches!(reply, ClientEvent::Connected { .. }), "{reply:?}");

        let mut refused = TestClient::connect(server.addr).await;
        match refused.connect_app("private").await {
            ClientEvent::ConnectRejected { response } => {
                let info = response.info().expect("an info object");
                assert_eq!(info.code, StatusCode::ConnectRejected);
                assert_eq!(info.description.as_deref(), Some("private app"));
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert!(
            refused.wait_closed().await,
            "a refused connection is closed"
        );
        drop(refused);
        let closed = server.handler.log.wait_closed(1).await;
        match &closed[0] {
            Record::Closed { app, reason, .. } => {
                assert_eq!(app.as_deref(), Some("private"));
                assert_eq!(reason, "connect rejected: private app");
            }
            other => panic!("{other:?}"),
        }

        // The accepted connection goes on.
        assert!(accepted.create_stream().await >= 1);
        let connects: Vec<Record> = server
            .handler
            .log
            .records()
            .into_iter()
            .filter(|r| matches!(r, Record::Connect { .. }))
            .collect();
        assert_eq!(
            connects,
            [
                Record::Connect { app: "live".into() },
                Record::Connect {
                    app: "private".into()
                }
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn refused_publish_and_play_carry_the_handlers_code_and_keep_the_connection() {
    bounded(async {
        let server = start(config()).await;
        let mut client = TestClient::connect(server.addr).await;
        client.connect_app("live").await;
        let (_, info) = client.publish("taken").await;
        assert_eq!(info.code, StatusCode::PublishBadName);
        assert_eq!(
            info.description.as_deref(),
            Some("taken is already published")
        );
        let (_, info) = client.play("nothing-here").await;
        assert_eq!(info.code, StatusCode::PlayStreamNotFound);
        assert_eq!(info.description.as_deref(), Some("no stream nothing-here"));
        let (_, info) = client.publish("cam").await;
        assert_eq!(info.code, StatusCode::PublishStart);
        assert!(
            server
                .handler
                .log
                .records()
                .iter()
                .all(|r| !matches!(r, Record::Closed { .. }))
        );
    })
    .await;
}

#[tokio::test]
async fn a_publishers_media_reaches_its_sink_exactly_then_fc_unpublish_ends_it() {
    bounded(async {
        let server = start(config()).await;
        let log = &server.handler.log;
        let mut publisher = TestClient::connect(server.addr).await;
        publisher.connect_app("live").await;
        let (stream_id, info) = publisher.publish("cam").await;
        assert_eq!(info.code, StatusCode::PublishStart);

        let metadata = DataMessage::SetDataFrame {
            name: "onMetaData".into(),
            value: Value::EcmaArray(vec![
                ("width".into(), Value::Number(1280.0)),
                ("encoder".into(), Value::String("test".into())),
            ]),
        };
        publisher.send_data(stream_id, 0, metadata.clone()).await;
        let mut sent = Vec::new();
        for i in 0..60u32 {
            let kind = if i % 3 == 0 {
                MediaKind::Audio
            } else {
                MediaKind::Video
            };
            // Around the 4096-byte chunk size, and far past it.
            let len = [5, 200, 4096, 4097, 20_000][i as usize % 5];
            let bytes = payload(i, len);
            publisher
                .send_media(stream_id, kind, i * 33, bytes.clone())
                .await;
            sent.push((kind, Timestamp(i * 33), bytes));
        }
        publisher.session.fc_unpublish("cam").unwrap();
        publisher.flush().await.unwrap();

        log.wait("the end of cam", |r| {
            r.iter()
                .any(|r| matches!(r, Record::End { .. }))
                .then_some(())
        })
        .await;
        assert_eq!(log.media("cam"), sent, "every message, in order, exact");
        let records = log.records();
        let stream: Vec<&Record> = records
            .iter()
            .filter(|r| !matches!(r, Record::Connect { .. } | Record::Closed { .. }))
            .collect();
        assert_eq!(
            stream.first(),
            Some(&&Record::Data {
                stream: "cam".into(),
                timestamp: Timestamp(0),
                data: metadata,
            })
        );
        assert_eq!(
            stream.last(),
            Some(&&Record::End {
                stream: "cam".into(),
                end: PublishEnd::Unpublished(UnpublishReason::FcUnpublish),
            }),
            "the end comes after every frame"
        );

        drop(publisher);
        log.wait_closed(1).await;
        let ends = log
            .records()
            .iter()
            .filter(|r| matches!(r, Record::End { .. }))
            .count();
        assert_eq!(ends, 1, "on_end is called once");
    })
    .await;
}

#[tokio::test]
async fn a_publisher_that_drops_its_connection_ends_with_connection_lost() {
    bounded(async {
        let server = start(config()).await;
        let log = &server.handler.log;
        let mut publisher = TestClient::connect(server.addr).await;
        publisher.connect_app("live").await;
        let (stream_id, _) = publisher.publish("cam").await;
        for i in 0..3 {
            publisher
                .send_media(stream_id, MediaKind::Video, i * 40, payload(i, 1000))
                .await;
        }
        drop(publisher);

        let end = log
            .wait("the end of cam", |r| {
                r.iter().find_map(|r| match r {
                    Record::End { end, .. } => Some(end.clone()),
                    _ => None,
                })
            })
            .await;
        match end {
            PublishEnd::ConnectionLost(reason) => assert!(!reason.is_empty()),
            other => panic!("expected ConnectionLost, got {other:?}"),
        }
        assert_eq!(log.media("cam").len(), 3, "frames before the drop arrive");
        let closed = log.wait_closed(1).await;
        match &closed[0] {
            Record::Closed {
                app,
                bytes_received,
                bytes_sent,
                ..
            } => {
                assert_eq!(app.as_deref(), Some("live"));
                assert!(*bytes_received > 1537 + 1536 + 3000, "{bytes_received}");
                assert!(*bytes_sent > 3073, "{bytes_sent}");
            }
            other => panic!("{other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_player_gets_its_feed_byte_exact_then_the_end_notices_and_later_media() {
    bounded(async {
        let server = start(config()).await;
        let (feed, stats) = server.handler.add_feed("show", 64);
        let mut player = TestClient::connect(server.addr).await;
        player.connect_app("live").await;
        let (stream_id, info) = player.play("show").await;
        assert_eq!(info.code, StatusCode::PlayStart);

        let metadata = DataMessage::OnMetaData(Value::EcmaArray(vec![(
            "duration".into(),
            Value::Number(0.0),
        )]));
        feed.send(FeedItem::Data {
            timestamp: Timestamp(0),
            data: metadata.clone(),
        })
        .await
        .unwrap();
        let messages: Vec<Arc<SharedMessage>> = [10usize, 4096, 4097, 30_000, 1]
            .iter()
            .enumerate()
            .map(|(i, &len)| {
                let kind = if i % 2 == 0 {
                    MediaKind::Video
                } else {
                    MediaKind::Audio
                };
                Arc::new(SharedMessage::new(
                    kind,
                    Timestamp(i as u32 * 20),
                    payload(i as u32, len),
                ))
            })
            .collect();
        for message in &messages {
            feed.send(FeedItem::Media(Arc::clone(message)))
                .await
                .unwrap();
        }

        let data = player
            .wait_for("metadata", |e| {
                matches!(
                    e,
                    ClientEvent::Data {
                        data: DataMessage::OnMetaData(_),
                        ..
                    }
                )
            })
            .await;
        assert_eq!(
            data,
            ClientEvent::Data {
                stream_id,
                timestamp: Timestamp(0),
                data: metadata
            }
        );
        for message in &messages {
            let got = player
                .wait_for("media", |e| matches!(e, ClientEvent::Media { .. }))
                .await;
            assert_eq!(
                got,
                ClientEvent::Media {
                    stream_id,
                    kind: message.kind(),
                    timestamp: message.timestamp(),
                    payload: message.payload().clone(),
                }
            );
        }

        feed.send(FeedItem::End).await.unwrap();
        let info = player
            .wait_status(stream_id, StatusCode::PlayUnpublishNotify)
            .await;
        assert_eq!(info.code, StatusCode::PlayUnpublishNotify);
        player
            .wait_for("Stream EOF", |e| {
                *e == ClientEvent::UserControl(UserControlEvent::StreamEof { stream_id })
            })
            .await;

        // The stream comes back: the feed is still polled.
        let again = Arc::new(SharedMessage::new(
            MediaKind::Video,
            Timestamp(5000),
            payload(99, 700),
        ));
        feed.send(FeedItem::Media(Arc::clone(&again)))
            .await
            .unwrap();
        let got = player
            .wait_for("media after the end", |e| {
                matches!(e, ClientEvent::Media { .. })
            })
            .await;
        assert!(
            matches!(got, ClientEvent::Media { timestamp: Timestamp(5000), ref payload, .. }
                if *payload == *again.payload())
        );
        assert_eq!(stats.taken(), 1 + messages.len() + 1 + 1);
    })
    .await;
}

#[tokio::test]
async fn shutdown_ends_run_and_closes_every_connection() {
    bounded(async {
        let server = start(config()).await;
        let log = &server.handler.log;
        let (_feed, _) = server.handler.add_feed("show", 4);
        let mut publisher = TestClient::connect(server.addr).await;
        publisher.connect_app("live").await;
        let (stream_id, _) = publisher.publish("cam").await;
        publisher
            .send_media(stream_id, MediaKind::Video, 0, payload(1, 100))
            .await;
        let mut player = TestClient::connect(server.addr).await;
        player.connect_app("live").await;
        player.play("show").await;
        // Half a handshake (C0 C1, S0 S1 S2 read), so that it is served.
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        let mut c0c1 = vec![0u8; 1537];
        c0c1[0] = 3;
        silent.write_all(&c0c1).await.unwrap();
        let mut s0s1s2 = vec![0u8; 3073];
        silent.read_exact(&mut s0s1s2).await.unwrap();
        log.wait("the first frame", |r| {
            r.iter()
                .any(|r| matches!(r, Record::Media { .. }))
                .then_some(())
        })
        .await;

        server.shutdown.shutdown();
        let ran = tokio::time::timeout(WAIT, server.task).await;
        ran.expect("run ends after shutdown")
            .expect("the run task did not panic")
            .expect("run returns Ok");

        assert!(publisher.wait_closed().await);
        assert!(player.wait_closed().await);
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(WAIT, silent.read(&mut buf)).await;
        assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");

        let closed = log.wait_closed(3).await;
        for record in &closed {
            assert_eq!(closed_reason(record), "server shutdown");
        }
        assert!(log.records().contains(&Record::End {
            stream: "cam".into(),
            end: PublishEnd::ConnectionLost("server shutdown".into()),
        }));
        assert!(
            TcpStream::connect(server.addr).await.is_err(),
            "the listener is closed"
        );
    })
    .await;
}

#[tokio::test]
async fn serve_connection_works_over_any_transport() {
    bounded(async {
        let (client_io, server_io) = tokio::io::duplex(16 << 10);
        let handler = Arc::new(TestHandler::default());
        let shutdown = ShutdownHandle::new();
        let task = tokio::spawn(serve_connection(
            server_io,
            "192.0.2.7:50000".parse().unwrap(),
            Arc::new(config()),
            Arc::clone(&handler),
            shutdown.clone(),
        ));
        let mut client = TestClient::over(client_io);
        let reply = client.connect_app("live").await;
        assert!(matches!(reply, ClientEvent::Connected { .. }), "{reply:?}");
        let (stream_id, _) = client.publish("cam").await;
        client
            .send_media(stream_id, MediaKind::Audio, 7, payload(3, 300))
            .await;
        handler
            .log
            .wait("media", |r| {
                r.iter()
                    .any(|r| matches!(r, Record::Media { .. }))
                    .then_some(())
            })
            .await;

        // A handle not tied to a server stops it too.
        shutdown.shutdown();
        let summary = tokio::time::timeout(WAIT, task)
            .await
            .expect("the connection ends")
            .unwrap();
        assert_eq!(summary.reason, "server shutdown");
        assert!(summary.bytes_received > 1537 + 1536);
        assert!(summary.bytes_sent > 3073);
        assert!(handler.log.records().contains(&Record::End {
            stream: "cam".into(),
            end: PublishEnd::ConnectionLost("server shutdown".into()),
        }));
    })
    .await;
}

#[tokio::test]
async fn extreme_limits_neither_panic_nor_stall() {
    bounded(async {
        let (client_io, server_io) = tokio::io::duplex(4 << 10);
        let handler = Arc::new(TestHandler::default());
        let (feed, _) = handler.add_feed("show", 4);
        let config = ServerConfig {
            handshake_timeout: Duration::MAX,
            idle_timeout: Duration::MAX,
            write_timeout: Duration::MAX,
            ping_interval: Duration::MAX,
            close_timeout: Duration::from_millis(100),
            max_output_buffer: 0,
            read_buffer_size: 0,
            ..ServerConfig::default()
        };
        let task = tokio::spawn(serve_connection(
            server_io,
            "192.0.2.7:50000".parse().unwrap(),
            Arc::new(config),
            Arc::clone(&handler),
            ShutdownHandle::new(),
        ));
        let mut client = TestClient::over(client_io);
        client.connect_app("live").await;
        let (stream_id, _) = client.play("show").await;
        let message = Arc::new(SharedMessage::new(
            MediaKind::Video,
            Timestamp(1),
            payload(5, 9000),
        ));
        feed.send(FeedItem::Media(Arc::clone(&message)))
            .await
            .unwrap();
        let got = client
            .wait_for("media", |e| matches!(e, ClientEvent::Media { .. }))
            .await;
        assert_eq!(
            got,
            ClientEvent::Media {
                stream_id,
                kind: MediaKind::Video,
                timestamp: Timestamp(1),
                payload: message.payload().clone(),
            }
        );
        drop(client);
        let summary = tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
        assert_eq!(summary.reason, "closed by the peer");
    })
    .await;
}
