//! The client over an in-memory transport (`tokio::io::duplex`, which is
//! not a socket and does not write vectored): connect, publish and play
//! against a server session driven by the test.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use baton_proto::Timestamp;
use baton_proto::command::PublishType;
use baton_proto::session::{MediaKind, ServerConfig, ServerEvent, ServerSession};

use super::{ClientConfig, Connection, PlayerEvent};
use crate::RtmpUrl;

/// Runs a server session over `io`, accepting everything; for plays it
/// sends `media` then the unpublish notice. Returns the media it received.
async fn serve(mut io: DuplexStream, media: Vec<Bytes>) -> Vec<Bytes> {
    let mut session = ServerSession::new(ServerConfig::default());
    let mut received = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        while let Some(out) = session.poll_transmit() {
            // The client may be gone after its last message: the read below
            // then ends the loop.
            if io.write_all(&out).await.is_err() {
                break;
            }
        }
        let n = io.read(&mut buf).await.unwrap();
        if n == 0 {
            return received;
        }
        session.handle_input(&buf[..n], 0).unwrap();
        while let Some(event) = session.poll_event() {
            match event {
                ServerEvent::ConnectRequested { request, .. } => {
                    session.accept_connect(request).unwrap()
                }
                ServerEvent::PublishRequested { request, .. } => {
                    session.accept_publish(request).unwrap()
                }
                ServerEvent::PlayRequested {
                    request, stream_id, ..
                } => {
                    session.accept_play(request).unwrap();
                    for (i, payload) in media.iter().enumerate() {
                        let ts = Timestamp(i as u32 * 40);
                        let kind = MediaKind::Video;
                        session
                            .send_media(stream_id, kind, ts, payload.clone())
                            .unwrap();
                    }
                    session.notify_unpublished(stream_id).unwrap();
                }
                ServerEvent::Media { payload, .. } => received.push(payload),
                _ => {}
            }
        }
    }
}

fn config() -> ClientConfig {
    ClientConfig {
        reply_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(5),
        max_output_buffer: 8 << 10,
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn publishes_over_a_non_socket_transport() {
    // A pipe far smaller than the frames: every send is written in parts.
    let (client, server) = tokio::io::duplex(1000);
    let frames: Vec<Bytes> = (0..20u8)
        .map(|i| Bytes::from(vec![i; 3000 + usize::from(i) * 997]))
        .collect();
    let server = tokio::spawn(serve(server, Vec::new()));
    let url = RtmpUrl::parse("rtmp://memory/live/key").unwrap();
    let run = async {
        let conn = Connection::connect_over(client, &url, &config()).await?;
        let mut publisher = conn.publish("key", PublishType::Live).await?;
        for (i, frame) in frames.iter().enumerate() {
            let ts = Timestamp(i as u32 * 33);
            publisher.send(MediaKind::Video, ts, frame.clone()).await?;
        }
        publisher.finish().await
    };
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("publishing timed out")
        .unwrap();
    let received = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received, frames);
}

#[tokio::test]
async fn plays_over_a_non_socket_transport() {
    let (client, server) = tokio::io::duplex(777);
    let frames: Vec<Bytes> = (0..5u8).map(|i| Bytes::from(vec![i; 10_000])).collect();
    let server = tokio::spawn(serve(server, frames.clone()));
    let url = RtmpUrl::parse("rtmp://memory/live/key").unwrap();
    let run = async {
        let conn = Connection::connect_over(client, &url, &config())
            .await
            .unwrap();
        let mut player = conn.play("key").await.unwrap();
        let mut media = Vec::new();
        loop {
            match player.next().await.unwrap() {
                Some(PlayerEvent::Media { payload, .. }) => media.push(payload),
                Some(PlayerEvent::End) => break,
                Some(_) => {}
                None => panic!("closed before the end of the stream"),
            }
        }
        player.close().await.unwrap();
        media
    };
    let media = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("playing timed out");
    assert_eq!(media, frames);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
}

/// Compiles only if the handles and their futures can move to another task.
fn futures_are_send(
    conn: Connection<DuplexStream>,
    publisher: &mut super::Publisher<DuplexStream>,
    player: &mut super::Player<DuplexStream>,
) {
    fn is_send<T: Send>(_: T) {}
    is_send(publisher.send(MediaKind::Audio, Timestamp::ZERO, Bytes::new()));
    is_send(publisher.flush());
    is_send(player.next());
    is_send(conn.play("key"));
}

#[test]
fn handles_and_futures_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Connection>();
    is_send::<super::Publisher>();
    is_send::<super::Player>();
    let _check: fn(_, &mut _, &mut _) = futures_are_send;
}
