//! Timeouts (handshake, reply, write) and connection errors.

use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpSocket;
use tokio::sync::oneshot;
use tokio::time::Instant;

use baton_proto::message::{Message, UserControlEvent};
use baton_proto::session::ServerEvent;
use baton_rtmp::client::{ClientConfig, Connection, ServerSignal};
use baton_rtmp::{MediaKind, PublishType, RtmpError, RtmpUrl, TimeoutPhase, Timestamp};

use crate::peer::Peer;
use crate::{bounded, config, listen};

#[tokio::test]
async fn a_silent_server_times_out_in_the_handshake() {
    bounded(20, async {
        let (listener, url) = listen().await;
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (_io, _) = listener.accept().await.unwrap();
            let _ = done_rx.await;
        });
        let cfg = ClientConfig {
            reply_timeout: Duration::from_millis(400),
            ..config()
        };
        let started = Instant::now();
        let result = Connection::connect(&url, &cfg).await;
        let elapsed = started.elapsed();
        assert!(
            matches!(result, Err(RtmpError::Timeout(TimeoutPhase::Handshake))),
            "{result:?}"
        );
        assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        done_tx.send(()).unwrap();
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_undecided_connect_times_out_waiting_for_the_reply() {
    bounded(20, async {
        let (listener, url) = listen().await;
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            let event = peer.event().await;
            assert!(matches!(event, Some(ServerEvent::HandshakeDone(_))));
            let event = peer.event().await;
            assert!(matches!(event, Some(ServerEvent::ConnectRequested { .. })));
            let _ = done_rx.await;
        });
        let cfg = ClientConfig {
            reply_timeout: Duration::from_millis(400),
            ..config()
        };
        let result = Connection::connect(&url, &cfg).await;
        assert!(
            matches!(result, Err(RtmpError::Timeout(TimeoutPhase::Reply))),
            "{result:?}"
        );
        done_tx.send(()).unwrap();
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn connecting_to_a_closed_port_is_an_io_error() {
    bounded(20, async {
        let (listener, url) = listen().await;
        drop(listener);
        let result = Connection::connect(&url, &config()).await;
        assert!(matches!(result, Err(RtmpError::Io(_))), "{result:?}");
    })
    .await;
}

/// A server that stops reading: the publisher's sends wait past
/// `max_output_buffer`, still read the server's ping and Go Away while
/// blocked, and fail with a write timeout; once the server reads again,
/// everything queued arrives, the ping response included.
#[tokio::test]
async fn a_server_that_stops_reading_makes_send_time_out() {
    bounded(60, async {
        // Small socket buffers so that the stall shows after little data.
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(16 << 10).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(8).unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = RtmpUrl::parse(&format!("rtmp://127.0.0.1:{port}/live")).unwrap();
        let (resume_tx, resume_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let mut peer = Peer::accept(&listener).await;
            peer.accept_publish().await;
            // Not reading now; the client fills the buffers and blocks.
            tokio::time::sleep(Duration::from_millis(500)).await;
            peer.session.send_ping(777);
            assert!(peer.session.send_go_away());
            peer.flush().await.unwrap();
            resume_rx.await.unwrap();
            let mut media = 0;
            let mut pong = false;
            while let Some(event) = peer.event().await {
                match event {
                    ServerEvent::Media { .. } => media += 1,
                    ServerEvent::Message {
                        message: Message::UserControl(UserControlEvent::PingResponse { timestamp }),
                        ..
                    } => pong |= timestamp == 777,
                    _ => {}
                }
            }
            (media, pong)
        });

        let socket = TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(16 << 10).unwrap();
        let tcp = socket
            .connect(url.socket_addr_string().parse().unwrap())
            .await
            .unwrap();
        let cfg = ClientConfig {
            max_output_buffer: 64 << 10,
            write_timeout: Duration::from_millis(1500),
            ..config()
        };
        let conn = Connection::connect_over(tcp, &url, &cfg).await.unwrap();
        let mut publisher = conn.publish("key", PublishType::Live).await.unwrap();
        let mut sent = 0u32;
        let error = loop {
            let frame = Bytes::from(vec![5u8; 50_000]);
            match publisher
                .send(MediaKind::Video, Timestamp(sent * 33), frame)
                .await
            {
                Ok(()) => {
                    assert!(publisher.queued_output() <= cfg.max_output_buffer);
                    sent += 1;
                }
                Err(e) => break e,
            }
            assert!(sent < 2000, "the sends never blocked");
        };
        assert!(
            matches!(error, RtmpError::Timeout(TimeoutPhase::Write)),
            "{error:?}"
        );
        assert!(publisher.queued_output() > cfg.max_output_buffer);
        assert_eq!(publisher.take_signal(), Some(ServerSignal::GoAway));

        // The server reads again: the queue drains, the last frame included.
        resume_tx.send(()).unwrap();
        publisher.flush().await.unwrap();
        assert_eq!(publisher.queued_output(), 0);
        publisher.abandon().await.unwrap();
        let (media, pong) = server.await.unwrap();
        assert_eq!(media, sent + 1);
        assert!(pong, "the ping read while blocked was answered");
    })
    .await;
}
