//! In-memory client/server session pairs: every flow runs without sockets.

use bytes::Bytes;

use super::*;
use crate::Timestamp;
use crate::amf0;
use crate::command::{Connect, DataMessage, Play, PublishType, StatusCode};
use crate::message::{Message, UserControlEvent};

struct Pair {
    client: ClientSession,
    server: ServerSession,
    client_events: Vec<ClientEvent>,
    server_events: Vec<ServerEvent>,
    /// Feed bytes one at a time (exercises every partial-input path).
    trickle: bool,
}

impl Pair {
    fn new(client: ClientConfig, server: ServerConfig) -> Self {
        Pair {
            client: ClientSession::new(client),
            server: ServerSession::new(server),
            client_events: Vec::new(),
            server_events: Vec::new(),
            trickle: false,
        }
    }

    fn default() -> Self {
        Self::new(ClientConfig::default(), ServerConfig::default())
    }

    /// Moves bytes both ways until neither side has anything to send.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                if self.trickle {
                    for b in bytes.iter() {
                        self.server.handle_input(&[*b], 7).expect("server input");
                    }
                } else {
                    self.server.handle_input(&bytes, 7).expect("server input");
                }
            }
            while let Some(bytes) = self.server.poll_transmit() {
                moved = true;
                if self.trickle {
                    for b in bytes.iter() {
                        self.client.handle_input(&[*b], 9).expect("client input");
                    }
                } else {
                    self.client.handle_input(&bytes, 9).expect("client input");
                }
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
            if !moved {
                return;
            }
        }
    }

    fn take_server_events(&mut self) -> Vec<ServerEvent> {
        std::mem::take(&mut self.server_events)
    }

    fn take_client_events(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.client_events)
    }

    /// handshake -> connect (accepted) -> createStream; returns the stream id.
    fn connect_and_create_stream(&mut self) -> u32 {
        self.client
            .connect(Connect::new("live", "rtmp://127.0.0.1/live"))
            .unwrap();
        self.pump();
        let request = self
            .take_server_events()
            .into_iter()
            .find_map(|e| match e {
                ServerEvent::ConnectRequested { request, connect } => {
                    assert_eq!(connect.app, "live");
                    assert_eq!(connect.tc_url.as_deref(), Some("rtmp://127.0.0.1/live"));
                    Some(request)
                }
                _ => None,
            })
            .expect("connect requested");
        self.server.accept_connect(request).unwrap();
        self.pump();
        let events = self.take_client_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::Connected { .. })),
            "{events:?}"
        );
        assert!(self.client.is_connected());
        self.client.create_stream().unwrap();
        self.pump();
        self.take_client_events()
            .into_iter()
            .find_map(|e| match e {
                ClientEvent::StreamCreated { stream_id, .. } => Some(stream_id),
                _ => None,
            })
            .expect("stream created")
    }

    fn publish(&mut self, name: &str) -> u32 {
        let stream_id = self.connect_and_create_stream();
        self.client.release_stream(name).unwrap();
        self.client.fc_publish(name).unwrap();
        self.client
            .publish(stream_id, name, PublishType::Live)
            .unwrap();
        self.pump();
        let request = self
            .take_server_events()
            .into_iter()
            .find_map(|e| match e {
                ServerEvent::PublishRequested {
                    request,
                    stream_id: s,
                    stream_name,
                    publish_type,
                } => {
                    assert_eq!(s, stream_id);
                    assert_eq!(stream_name, name);
                    assert_eq!(publish_type, PublishType::Live);
                    Some(request)
                }
                _ => None,
            })
            .expect("publish requested");
        self.server.accept_publish(request).unwrap();
        self.pump();
        let events = self.take_client_events();
        assert!(
            events.iter().any(|e| matches!(e,
                ClientEvent::Status { stream_id: s, info } if *s == stream_id && info.code == StatusCode::PublishStart)),
            "{events:?}"
        );
        stream_id
    }

    fn play(&mut self, name: &str) -> u32 {
        let stream_id = self.connect_and_create_stream();
        self.client
            .play(
                stream_id,
                Play {
                    transaction_id: 0.0,
                    stream_name: name.to_owned(),
                    start: -2.0,
                    duration: -1.0,
                    reset: true,
                },
            )
            .unwrap();
        self.pump();
        let request = self
            .take_server_events()
            .into_iter()
            .find_map(|e| match e {
                ServerEvent::PlayRequested {
                    request,
                    stream_name,
                    ..
                } => {
                    assert_eq!(stream_name, name);
                    Some(request)
                }
                _ => None,
            })
            .expect("play requested");
        self.server.accept_play(request).unwrap();
        self.pump();
        stream_id
    }
}

fn video(n: usize, key: bool) -> Bytes {
    let mut v = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
    v.extend((0..n).map(|i| (i * 7 + n) as u8));
    Bytes::from(v)
}

#[test]
fn publish_flow_delivers_every_message_exactly() {
    for trickle in [false, true] {
        let mut pair = Pair::default();
        pair.trickle = trickle;
        let stream_id = pair.publish("key");
        assert_eq!(pair.server.publishing_name(stream_id), Some("key"));

        let metadata = DataMessage::SetDataFrame {
            name: "onMetaData".into(),
            value: amf0::Value::EcmaArray(vec![("width".into(), amf0::Value::Number(1280.0))]),
        };
        pair.client
            .send_data(stream_id, Timestamp::ZERO, metadata.clone())
            .unwrap();
        let mut sent = Vec::new();
        for i in 0..40u32 {
            let ts = Timestamp(i * 33);
            let payload = video(if i % 10 == 0 { 9000 } else { 700 }, i % 10 == 0);
            pair.client
                .send_media(stream_id, MediaKind::Video, ts, payload.clone())
                .unwrap();
            sent.push((MediaKind::Video, ts, payload));
            let audio = Bytes::from(vec![0xaf, 1, i as u8, 2, 3]);
            pair.client
                .send_media(stream_id, MediaKind::Audio, ts, audio.clone())
                .unwrap();
            sent.push((MediaKind::Audio, ts, audio));
        }
        pair.pump();
        let events = pair.take_server_events();
        let data: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                ServerEvent::Data { data, .. } => Some(data.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(data, vec![metadata]);
        let got: Vec<_> = events
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::Media {
                    stream_id: s,
                    kind,
                    timestamp,
                    payload,
                } if s == stream_id => Some((kind, timestamp, payload)),
                _ => None,
            })
            .collect();
        assert_eq!(got, sent, "trickle={trickle}");

        pair.client.fc_unpublish("key").unwrap();
        pair.client.delete_stream(stream_id).unwrap();
        pair.pump();
        let events = pair.take_server_events();
        let unpublished: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, ServerEvent::Unpublished { .. }))
            .collect();
        assert_eq!(
            unpublished,
            vec![&ServerEvent::Unpublished {
                stream_id,
                stream_name: "key".into(),
                reason: UnpublishReason::FcUnpublish
            }]
        );
        assert_eq!(pair.server.publishing_name(stream_id), None);
    }
}

#[test]
fn play_flow_gets_status_then_media_then_unpublish_notify() {
    let mut pair = Pair::default();
    let stream_id = pair.play("key");
    let events = pair.take_client_events();
    let codes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Status { info, .. } => Some(info.code.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, vec![StatusCode::PlayReset, StatusCode::PlayStart]);
    assert!(events.iter().any(|e| matches!(e,
        ClientEvent::UserControl(UserControlEvent::StreamBegin { stream_id: s }) if *s == stream_id)));

    let key = video(5000, true);
    pair.server
        .send_media(stream_id, MediaKind::Video, Timestamp(1000), key.clone())
        .unwrap();
    pair.server.notify_unpublished(stream_id).unwrap();
    pair.pump();
    let events = pair.take_client_events();
    assert!(matches!(&events[0],
        ClientEvent::Media { kind: MediaKind::Video, timestamp: Timestamp(1000), payload, .. } if *payload == key));
    assert!(events.iter().any(|e| matches!(e,
        ClientEvent::Status { info, .. } if info.code == StatusCode::PlayUnpublishNotify)));
    assert!(
        events.iter().any(|e| matches!(e,
        ClientEvent::UserControl(UserControlEvent::StreamEof { stream_id: s }) if *s == stream_id))
    );
}

#[test]
fn standalone_chunks_are_shared_between_sessions() {
    use crate::chunk::{ChunkEncoder, RawMessage};
    let mut a = Pair::default();
    let mut b = Pair::default();
    let sa = a.play("s");
    let sb = b.play("s");
    assert_eq!(sa, sb, "both first streams");
    a.take_client_events();
    b.take_client_events();
    let (csid, type_id) = ServerSession::media_chunk_stream(MediaKind::Video);
    let raw = RawMessage {
        chunk_stream_id: csid,
        timestamp: Timestamp(40),
        type_id,
        stream_id: sa,
        payload: video(10_000, true),
    };
    let mut out = bytes::BytesMut::new();
    ChunkEncoder::encode_standalone(a.server.chunk_size(), &raw, &mut out);
    let chunks = out.freeze();
    for pair in [&mut a, &mut b] {
        pair.server.send_standalone(&raw, chunks.clone()).unwrap();
        // A stateful message after the shared one must still decode.
        pair.server
            .send_media(sa, MediaKind::Video, Timestamp(80), video(300, false))
            .unwrap();
        pair.pump();
        let media: Vec<_> = pair
            .take_client_events()
            .into_iter()
            .filter_map(|e| match e {
                ClientEvent::Media {
                    timestamp, payload, ..
                } => Some((timestamp, payload.len())),
                _ => None,
            })
            .collect();
        assert_eq!(media, vec![(Timestamp(40), 10_005), (Timestamp(80), 305)]);
    }
}

#[test]
fn go_away_only_to_clients_that_announced_it() {
    let mut pair = Pair::default();
    pair.publish("s");
    assert!(pair.server.supports_go_away());
    assert!(pair.server.send_go_away());
    pair.pump();
    assert!(pair.take_client_events().contains(&ClientEvent::GoAway));

    let config = ClientConfig {
        announce_go_away: false,
        caps_ex: crate::command::CapsEx::default(),
        ..ClientConfig::default()
    };
    let mut pair = Pair::new(config, ServerConfig::default());
    pair.publish("s");
    assert!(!pair.server.supports_go_away());
    assert_eq!(pair.server.pending_output(), 0);
    assert!(!pair.server.send_go_away());
    assert!(!pair.server.send_reconnect_request(None, None));
    assert_eq!(pair.server.pending_output(), 0, "nothing queued");
}

#[test]
fn go_away_bytes_on_the_wire() {
    let mut pair = Pair::default();
    pair.publish("s");
    assert!(pair.server.send_go_away());
    let bytes = pair.server.poll_transmit().unwrap();
    // One fmt 0 chunk on chunk stream 2: timestamp 0, length 4, type 32,
    // message stream 0, then the (non-empty, ignored) payload.
    let mut expected = vec![0x02, 0, 0, 0, 0, 0, 4, 32, 0, 0, 0, 0];
    let mut payload = bytes::BytesMut::new();
    Message::go_away().encode_payload(&mut payload);
    assert_eq!(payload.len(), 4, "non-empty payload");
    expected.extend_from_slice(&payload);
    assert_eq!(&bytes[..], &expected[..]);
    // And the client decodes it after everything that came before.
    pair.server.send_go_away();
    pair.pump();
    assert_eq!(
        pair.take_client_events()
            .iter()
            .filter(|e| **e == ClientEvent::GoAway)
            .count(),
        1
    );
}

#[test]
fn reconnect_request_carries_tc_url() {
    let mut pair = Pair::default();
    pair.publish("s");
    assert!(pair.server.supports_reconnect_request());
    assert!(
        pair.server
            .send_reconnect_request(Some("rtmp://b.example/live"), Some("maintenance"))
    );
    pair.pump();
    assert!(
        pair.take_client_events()
            .contains(&ClientEvent::ReconnectRequested {
                tc_url: Some("rtmp://b.example/live".into()),
                description: Some("maintenance".into()),
            })
    );
    // The server stated its own capabilities in the connect _result.
    assert!(
        pair.client
            .server_caps_ex()
            .contains(crate::command::CapsEx::RECONNECT)
    );
}

#[test]
fn rejected_connect_closes_the_session() {
    let mut pair = Pair::default();
    pair.client
        .connect(Connect::new("private", "rtmp://h/private"))
        .unwrap();
    pair.pump();
    let request = pair
        .take_server_events()
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::ConnectRequested { request, .. } => Some(request),
            _ => None,
        })
        .unwrap();
    pair.server.reject_connect(request, "no such app").unwrap();
    pair.pump();
    assert!(pair.server.is_closed());
    let events = pair.take_client_events();
    assert!(events.iter().any(|e| matches!(e,
        ClientEvent::ConnectRejected { response } if response.values.first().and_then(|v| v.get("code")).and_then(amf0::Value::as_str) == Some("NetConnection.Connect.Rejected"))), "{events:?}");
    // A decision on a request that is no longer pending is API misuse.
    assert!(matches!(
        pair.server.accept_connect(request),
        Err(SessionError::Usage(UsageError::UnknownRequest(_)))
    ));
}

#[test]
fn rejected_publish_gets_bad_name_and_media_is_refused() {
    let mut pair = Pair::default();
    let stream_id = pair.connect_and_create_stream();
    pair.client
        .publish(stream_id, "taken", PublishType::Live)
        .unwrap();
    pair.pump();
    let request = pair
        .take_server_events()
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::PublishRequested { request, .. } => Some(request),
            _ => None,
        })
        .unwrap();
    pair.server
        .reject_publish(
            request,
            StatusCode::PublishBadName,
            "taken is already published",
        )
        .unwrap();
    pair.pump();
    assert!(pair.take_client_events().iter().any(|e| matches!(e,
        ClientEvent::Status { info, .. } if info.code == StatusCode::PublishBadName)));
    // Media on a stream that is not publishing is a protocol violation.
    pair.client
        .send_media(stream_id, MediaKind::Video, Timestamp(0), video(10, true))
        .unwrap();
    let bytes = pair.client.poll_transmit().unwrap();
    let err = pair.server.handle_input(&bytes, 0).unwrap_err();
    assert!(matches!(
        err,
        SessionError::Protocol(ProtocolViolation::MediaOnIdleStream(s)) if s == stream_id
    ));
    assert!(pair.server.is_closed());
}

#[test]
fn input_is_held_while_a_publish_decision_is_pending() {
    let mut pair = Pair::default();
    let stream_id = pair.connect_and_create_stream();
    pair.client
        .publish(stream_id, "s", PublishType::Live)
        .unwrap();
    pair.pump();
    // The client sends media right away (before Publish.Start); the server
    // must not see it before the decision.
    pair.client
        .send_media(stream_id, MediaKind::Video, Timestamp(0), video(10, true))
        .unwrap();
    pair.pump();
    let events = pair.take_server_events();
    let request = events
        .iter()
        .find_map(|e| match e {
            ServerEvent::PublishRequested { request, .. } => Some(*request),
            _ => None,
        })
        .unwrap();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ServerEvent::Media { .. }))
    );
    pair.server.accept_publish(request).unwrap();
    pair.pump();
    assert!(
        pair.take_server_events()
            .iter()
            .any(|e| matches!(e, ServerEvent::Media { .. }))
    );
}

#[test]
fn acknowledgements_follow_the_window() {
    let server = ServerConfig {
        session: SessionConfig {
            window_ack_size: 4096,
            ..SessionConfig::default()
        },
        ..ServerConfig::default()
    };
    let mut pair = Pair::new(ClientConfig::default(), server);
    let stream_id = pair.play("s");
    for i in 0..10 {
        pair.server
            .send_media(
                stream_id,
                MediaKind::Video,
                Timestamp(i * 40),
                video(2000, i == 0),
            )
            .unwrap();
    }
    pair.pump();
    let stats = pair.server.stats();
    // The client acknowledged at least one window of what it received.
    assert!(stats.peer_acknowledged >= 4096, "{stats:?}");
    assert!(u64::from(stats.peer_acknowledged) <= pair.client.stats().bytes_received);
}

#[test]
fn ping_is_answered_by_the_session() {
    let mut pair = Pair::default();
    pair.connect_and_create_stream();
    pair.server.send_ping(123_456);
    pair.pump();
    let events = pair.take_server_events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            ServerEvent::Message {
                message: Message::UserControl(UserControlEvent::PingResponse {
                    timestamp: 123_456
                }),
                ..
            }
        )),
        "{events:?}"
    );
}

#[test]
fn unknown_commands_reach_the_application() {
    let mut pair = Pair::default();
    pair.connect_and_create_stream();
    pair.client
        .call(
            "getServerTime",
            amf0::Value::Null,
            vec![amf0::Value::string("x")],
        )
        .unwrap();
    pair.pump();
    let events = pair.take_server_events();
    assert!(
        events.iter().any(|e| matches!(e,
        ServerEvent::Command { command, .. } if command.name() == "getServerTime")),
        "{events:?}"
    );
}

#[test]
fn garbage_after_the_handshake_closes_only_with_an_error() {
    let mut pair = Pair::default();
    pair.connect_and_create_stream();
    // A chunk on a stream with no previous header: fmt 3 on csid 9.
    let err = pair.server.handle_input(&[0xc9, 1, 2, 3], 0).unwrap_err();
    assert!(matches!(err, SessionError::Chunk(_)), "{err}");
    assert!(pair.server.is_closed());
}

#[test]
fn commands_before_connect_are_refused() {
    let mut pair = Pair::default();
    pair.client.create_stream().unwrap();
    // The client sends createStream without connect.
    let mut err = None;
    loop {
        let mut moved = false;
        while let Some(b) = pair.client.poll_transmit() {
            moved = true;
            if let Err(e) = pair.server.handle_input(&b, 0) {
                err = Some(e);
            }
        }
        while let Some(b) = pair.server.poll_transmit() {
            moved = true;
            pair.client.handle_input(&b, 0).unwrap();
        }
        if !moved || err.is_some() {
            break;
        }
    }
    assert!(matches!(
        err,
        Some(SessionError::Protocol(ProtocolViolation::BeforeConnect(ref name))) if name == "createStream"
    ));
}

#[test]
fn oversized_payloads_are_api_errors_not_panics() {
    let mut pair = Pair::default();
    let stream_id = pair.publish("s");
    let huge = Bytes::from(vec![0u8; 1 << 24]);
    assert!(matches!(
        pair.client
            .send_media(stream_id, MediaKind::Video, Timestamp(0), huge.clone()),
        Err(UsageError::PayloadTooLarge { len, .. }) if len == 1 << 24
    ));
    assert!(matches!(
        pair.server
            .send_media(stream_id, MediaKind::Video, Timestamp(0), huge),
        Err(UsageError::PayloadTooLarge { .. })
    ));
    // The connection is unaffected.
    pair.client
        .send_media(stream_id, MediaKind::Video, Timestamp(0), video(10, true))
        .unwrap();
    pair.pump();
    assert!(
        pair.take_server_events()
            .iter()
            .any(|e| matches!(e, ServerEvent::Media { .. }))
    );
    // Once closed, sends are refused.
    pair.client.close();
    assert_eq!(pair.client.create_stream(), Err(UsageError::Closed));
}

#[test]
fn zero_copy_input_decodes_like_handle_input_and_keeps_the_limit() {
    use bytes::BufMut;
    // A server's media, read by one client through its input buffer in
    // reads of 7 bytes (every partial path), and by another through
    // handle_input: the same frames, every byte counted.
    let frames: Vec<Bytes> = (0..5).map(|i| video(3000 + 1000 * i, i == 0)).collect();
    let played = || {
        let mut pair = Pair::default();
        let stream_id = pair.play("key");
        pair.take_client_events();
        for (i, frame) in frames.iter().enumerate() {
            let ts = Timestamp(40 * i as u32);
            pair.server
                .send_media(stream_id, MediaKind::Video, ts, frame.clone())
                .unwrap();
        }
        let mut wire = Vec::new();
        while let Some(bytes) = pair.server.poll_transmit() {
            wire.extend_from_slice(&bytes);
        }
        (pair.client, wire)
    };
    let media = |s: &mut ClientSession| {
        std::iter::from_fn(|| s.poll_event())
            .filter_map(|e| match e {
                ClientEvent::Media { payload, .. } => Some(payload),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let (mut zero_copy, wire) = played();
    let before = zero_copy.stats().bytes_received;
    for piece in wire.chunks(7) {
        let mut space = zero_copy.input_buffer(7);
        assert!(space.remaining_mut() >= piece.len());
        space.put_slice(piece);
        zero_copy.handle_appended_input(piece.len(), 9).unwrap();
    }
    assert_eq!(media(&mut zero_copy), frames);
    assert_eq!(zero_copy.stats().bytes_received - before, wire.len() as u64);
    let (mut copying, wire) = played();
    copying.handle_input(&wire, 9).unwrap();
    assert_eq!(media(&mut copying), frames);

    // The buffer takes no more than the input limit allows.
    let mut small = ClientSession::new(ClientConfig {
        session: SessionConfig {
            max_buffered_input: 64,
            ..SessionConfig::default()
        },
        ..ClientConfig::default()
    });
    assert_eq!(small.input_buffer(4096).remaining_mut(), 64);
    assert_eq!(small.input_buffer(16).remaining_mut(), 16);
}
