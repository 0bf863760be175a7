//! The server's limits over real TCP on 127.0.0.1: timeouts (handshake,
//! idle, write), pings, a player that does not read, garbage input, and the
//! connection limit. Tests that wait for timeouts run on tokio's paused
//! clock, which jumps ahead whenever every task waits.

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
use tokio::time::{Instant, timeout};

use baton_proto::Timestamp;
use baton_proto::session::{ClientEvent, MediaKind};
use baton_rtmp::SharedMessage;
use baton_rtmp::server::{FeedItem, PublishEnd, ServerConfig};

use client::{TestClient, WAIT};
use handler::Record;
use harness::{bounded, config, start};

/// Reads until the server closes the connection; true if it did within
/// [`WAIT`].
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = vec![0u8; 64 << 10];
    timeout(WAIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

fn the_close(records: &[Record]) -> (Option<String>, String, u64, u64) {
    match &records[0] {
        Record::Closed {
            app,
            reason,
            bytes_received,
            bytes_sent,
        } => (app.clone(), reason.clone(), *bytes_received, *bytes_sent),
        other => panic!("not a close: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_silent_socket_is_closed_by_the_handshake_timeout() {
    bounded(async {
        let server = start(ServerConfig {
            handshake_timeout: Duration::from_secs(5),
            ..config()
        })
        .await;
        let started = Instant::now();
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        assert!(closed_by_server(&mut silent).await);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(5), "closed after {waited:?}");
        assert!(waited < Duration::from_secs(6), "closed after {waited:?}");
        let (app, reason, received, _) = the_close(&server.handler.log.wait_closed(1).await);
        assert_eq!(app, None);
        assert_eq!(reason, "handshake timed out");
        assert_eq!(received, 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_closed_by_the_idle_timeout() {
    bounded(async {
        let server = start(ServerConfig {
            idle_timeout: Duration::from_secs(8),
            ping_interval: Duration::from_secs(3600),
            ..config()
        })
        .await;
        let mut client = TestClient::connect(server.addr).await;
        client.connect_app("live").await;
        let connected = Instant::now();
        assert!(client.wait_closed().await);
        let waited = connected.elapsed();
        assert!(
            waited >= Duration::from_secs(7) && waited < Duration::from_secs(9),
            "closed after {waited:?}"
        );
        let (app, reason, _, _) = the_close(&server.handler.log.wait_closed(1).await);
        assert_eq!(app.as_deref(), Some("live"));
        assert_eq!(reason, "idle timeout (nothing received)");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn pings_keep_an_answering_client_alive_past_the_idle_timeout() {
    bounded(async {
        let server = start(ServerConfig {
            idle_timeout: Duration::from_secs(5),
            ping_interval: Duration::from_secs(2),
            ..config()
        })
        .await;
        let mut client = TestClient::connect(server.addr).await;
        client.connect_app("live").await;
        // The client sends nothing of its own; its session answers each
        // Ping Request as it reads (no event: the session handles them).
        let before = client.session.stats().bytes_received;
        let pumped = timeout(Duration::from_secs(12), async {
            while client.read_once().await.expect("read") {
                client.flush().await.expect("answer the ping");
            }
        })
        .await;
        assert!(pumped.is_err(), "the connection closed within 12 s");
        // At least five pings (a 6-byte payload behind a 1-byte header at
        // the least).
        let received = client.session.stats().bytes_received - before;
        assert!(received >= 5 * 7, "{received} bytes in 12 s");
        assert!(
            server
                .handler
                .log
                .records()
                .iter()
                .all(|r| !matches!(r, Record::Closed { .. })),
            "still open"
        );
        assert!(client.create_stream().await >= 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_player_that_does_not_read_takes_at_most_max_output_buffer_then_times_out() {
    bounded(async {
        const MAX_OUTPUT: usize = 64 << 10;
        const ITEMS: usize = 1000;
        let server = start(ServerConfig {
            max_output_buffer: MAX_OUTPUT,
            write_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(3600),
            ping_interval: Duration::from_secs(3600),
            ..config()
        })
        .await;
        // Every item is in the feed before the play, so that a poll with
        // room takes one.
        let (feed, stats) = server.handler.add_feed("big", ITEMS);
        let payload = Bytes::from(vec![0x17u8; 32 << 10]);
        let messages: Vec<Arc<SharedMessage>> = (0..ITEMS)
            .map(|i| {
                Arc::new(SharedMessage::new(
                    MediaKind::Video,
                    Timestamp(i as u32 * 40),
                    payload.clone(),
                ))
            })
            .collect();
        let first = Arc::clone(&messages[0]);
        for message in messages {
            feed.try_send(FeedItem::Media(message)).unwrap();
        }
        let mut player = TestClient::connect_small_window(server.addr).await;
        player.connect_app("live").await;
        let (stream_id, _) = player.play("big").await;
        let chunked = first.chunks(4096, stream_id).len();
        // From here on the player reads nothing.
        let stalled = Instant::now();
        let (_, reason, _, bytes_sent) = the_close(&server.handler.log.wait_closed(1).await);
        assert_eq!(reason, "write timeout (the peer does not read)");
        assert!(stalled.elapsed() >= Duration::from_secs(5));

        let taken = stats.taken();
        assert!(taken < ITEMS / 2, "took {taken} of {ITEMS} items");
        // Polled only to take an item: never while the output was full (a
        // poll or two may find the channel pending when tokio's
        // cooperative budget ran out in a long turn).
        let idle_polls = stats.polls() - taken;
        assert!(idle_polls <= 2, "{idle_polls} polls took nothing");
        // What the feed gave and the socket did not take stayed under the
        // bound (plus the one message that crossed it).
        let unsent = (taken * chunked) as i64 - bytes_sent as i64;
        assert!(
            unsent <= (MAX_OUTPUT + chunked) as i64,
            "{unsent} bytes taken from the feed were never written"
        );
        assert!(
            unsent > 0,
            "the player read nothing, so something stayed queued"
        );
    })
    .await;
}

#[tokio::test]
async fn a_player_that_does_not_read_still_has_its_commands_processed() {
    bounded(async {
        const ITEMS: usize = 300;
        let server = start(config()).await;
        let (feed, stats) = server.handler.add_feed("big", ITEMS);
        let mut player = TestClient::connect_small_window(server.addr).await;
        player.connect_app("live").await;
        let (stream_id, _) = player.play("big").await;
        let payload = Bytes::from(vec![0x27u8; 32 << 10]);
        for i in 0..ITEMS {
            let message =
                SharedMessage::new(MediaKind::Video, Timestamp(i as u32), payload.clone());
            feed.try_send(FeedItem::Media(Arc::new(message))).unwrap();
        }
        // Let the server fill the socket and its queue; the player reads
        // nothing.
        let mut taken = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = stats.taken();
            if now > 0 && now == taken {
                break;
            }
            taken = now;
        }
        assert!(taken < ITEMS, "the output is backed up");

        // Its closeStream is read and acted upon all the same: the feed
        // goes.
        player.session.close_stream(stream_id).unwrap();
        player.flush().await.unwrap();
        timeout(WAIT, feed.closed())
            .await
            .expect("the server dropped the feed on closeStream");
        assert_eq!(stats.taken(), taken, "no more items were taken");
    })
    .await;
}

#[tokio::test]
async fn garbage_closes_only_its_connection_while_a_publisher_goes_on() {
    bounded(async {
        let server = start(config()).await;
        let log = &server.handler.log;
        let mut publisher = TestClient::connect(server.addr).await;
        publisher.connect_app("live").await;
        let (stream_id, _) = publisher.publish("cam").await;
        let frame = |i: u32| Bytes::from(vec![i as u8; 2000 + i as usize]);
        for i in 0..5 {
            publisher
                .send_media(stream_id, MediaKind::Video, i * 40, frame(i))
                .await;
        }

        // Not RTMP at all: the version byte 'G' is refused.
        let mut http = TcpStream::connect(server.addr).await.unwrap();
        http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(closed_by_server(&mut http).await);

        // A valid handshake, then a type 1 chunk on a chunk stream that
        // never had a type 0 header.
        let mut bad = TestClient::connect(server.addr).await;
        bad.wait_for("the handshake", |e| {
            matches!(e, ClientEvent::HandshakeDone(_))
        })
        .await;
        bad.flush().await.unwrap();
        bad.io
            .write_all(&[0x49, 0, 0, 0, 0, 0, 10, 9])
            .await
            .unwrap();
        assert!(bad.wait_closed().await);

        for i in 5..10 {
            publisher
                .send_media(stream_id, MediaKind::Video, i * 40, frame(i))
                .await;
        }
        log.wait("ten frames", |r| {
            let n = r
                .iter()
                .filter(|r| matches!(r, Record::Media { .. }))
                .count();
            (n == 10).then_some(())
        })
        .await;
        let got: Vec<Bytes> = log.media("cam").into_iter().map(|(_, _, p)| p).collect();
        assert_eq!(got, (0..10).map(frame).collect::<Vec<_>>());

        let closed = log.wait_closed(2).await;
        for record in &closed {
            match record {
                Record::Closed { app, reason, .. } => {
                    assert_eq!(*app, None);
                    assert!(reason.starts_with("protocol error: "), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(
            log.records()
                .iter()
                .all(|r| !matches!(r, Record::End { .. })),
            "the publication is untouched"
        );
        // The publisher is still served.
        assert!(publisher.create_stream().await >= 1);
    })
    .await;
}

#[tokio::test]
async fn past_max_connections_a_new_connection_is_closed_at_once() {
    bounded(async {
        let server = start(ServerConfig {
            max_connections: 2,
            ..config()
        })
        .await;
        let mut first = TestClient::connect(server.addr).await;
        first.connect_app("live").await;
        let mut second = TestClient::connect(server.addr).await;
        second.connect_app("live").await;

        let mut third = TcpStream::connect(server.addr).await.unwrap();
        let refused_at = Instant::now();
        assert!(closed_by_server(&mut third).await);
        assert!(
            refused_at.elapsed() < Duration::from_secs(5),
            "closed at once, not by a timeout"
        );
        assert!(
            server
                .handler
                .log
                .records()
                .iter()
                .all(|r| !matches!(r, Record::Closed { .. })),
            "refused before any connection task ran"
        );
        assert!(first.create_stream().await >= 1);
        assert!(second.create_stream().await >= 1);

        // A slot frees when a connection ends.
        drop(first);
        server.handler.log.wait_closed(1).await;
        let mut accepted = false;
        for _ in 0..50 {
            let mut next = TestClient::connect(server.addr).await;
            if next.try_connect_app("live").await.is_some() {
                accepted = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(accepted, "a new connection is served once a slot is free");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_publisher_that_stops_sending_media_is_closed() {
    bounded(async {
        let server = start(ServerConfig {
            idle_timeout: Duration::from_secs(3600),
            ping_interval: Duration::from_secs(2),
            publisher_idle_timeout: Duration::from_secs(6),
            ..config()
        })
        .await;
        let mut publisher = TestClient::connect(server.addr).await;
        publisher.connect_app("live").await;
        let (stream_id, _) = publisher.publish("cam").await;
        for i in 0..3u32 {
            publisher
                .send_media(
                    stream_id,
                    MediaKind::Video,
                    i * 40,
                    Bytes::from_static(&[0x17, 1, 0, 0, 0]),
                )
                .await;
        }
        let last_media = Instant::now();
        // The client keeps answering pings, so only the media timeout can
        // close it.
        let open = timeout(Duration::from_secs(20), async {
            while publisher.read_once().await.unwrap_or(false) {
                publisher.flush().await.ok();
            }
        })
        .await;
        assert!(open.is_ok(), "the server closed the idle publisher");
        let waited = last_media.elapsed();
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_secs(8),
            "closed after {waited:?}"
        );
        let records = server.handler.log.wait_closed(1).await;
        let (_, reason, _, _) = the_close(&records);
        assert_eq!(reason, "publisher idle: no media for 6 s");
        assert!(server.handler.log.records().iter().any(|r| matches!(
            r,
            Record::End { stream, end: PublishEnd::ConnectionLost(_) } if stream == "cam"
        )));
    })
    .await;
}
