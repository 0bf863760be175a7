//! Server and client sessions after a valid handshake: any chunk-stream bytes
//! give events or a clean error, never a panic, and the session's buffers
//! stay within its limits. Requests are accepted or rejected as the input
//! says, and the server answers with media, so both directions run.
#![no_main]

use baton_proto::command::{Connect, StatusCode};
use baton_proto::session::{
    ClientConfig, ClientSession, MediaKind, ServerConfig, ServerEvent, ServerSession,
    SessionConfig,
};
use baton_proto::{ChunkLimits, Limits, Timestamp};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fn config() -> SessionConfig {
    SessionConfig {
        limits: Limits {
            chunk: ChunkLimits {
                max_message_size: 1 << 20,
                max_chunk_streams: 16,
                max_pending_bytes: 4 << 20,
            },
            ..Limits::default()
        },
        max_buffered_input: 1 << 20,
        ..SessionConfig::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let step = 1 + usize::from(control & 0x7f) * 13;
    // C0/S0 = 3, then zeroed C1 C2 (S1 S2): a valid simple handshake.
    let mut handshake = vec![3u8];
    handshake.resize(1 + 1536 * 2, 0);
    if control & 0x80 == 0 {
        let mut server = ServerSession::new(ServerConfig {
            session: config(),
            ..ServerConfig::default()
        });
        server.handle_input(&handshake, 0).expect("valid handshake");
        let mut accept = true;
        for piece in rest.chunks(step) {
            if server.handle_input(piece, 1).is_err() {
                break;
            }
            while let Some(event) = server.poll_event() {
                accept = !accept || piece.len() % 7 != 0;
                let _ = match event {
                    ServerEvent::ConnectRequested { request, .. } if accept => {
                        server.accept_connect(request)
                    }
                    ServerEvent::ConnectRequested { request, .. } => {
                        server.reject_connect(request, "no")
                    }
                    ServerEvent::PublishRequested { request, .. } if accept => {
                        server.accept_publish(request)
                    }
                    ServerEvent::PublishRequested { request, .. } => {
                        server.reject_publish(request, StatusCode::PublishBadName, "taken")
                    }
                    ServerEvent::PlayRequested {
                        request, stream_id, ..
                    } => server.accept_play(request).map(|()| {
                        let _ = server.send_media(
                            stream_id,
                            MediaKind::Video,
                            Timestamp(40),
                            Bytes::from_static(&[0x17, 1, 0, 0, 0, 1, 2, 3]),
                        );
                        let _ = server.notify_unpublished(stream_id);
                        server.send_go_away();
                        server.send_reconnect_request(Some("rtmp://h/app"), None);
                    }),
                    _ => Ok(()),
                };
            }
            while server.poll_transmit().is_some() {}
        }
    } else {
        let mut client = ClientSession::new(ClientConfig {
            session: config(),
            ..ClientConfig::default()
        });
        let _ = client.connect(Connect::new("live", "rtmp://h/live"));
        let _ = client.create_stream();
        if client.handle_input(&handshake, 0).is_err() {
            return;
        }
        for piece in rest.chunks(step) {
            if client.handle_input(piece, 1).is_err() {
                break;
            }
            while client.poll_event().is_some() {}
            while client.poll_transmit().is_some() {}
        }
    }
});
