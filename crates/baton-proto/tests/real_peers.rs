//! Byte fixtures captured from real peers (FFmpeg 5.1 as client, nginx-rtmp
//! 1.2.2 as server; see `fixtures/README.md` and
//! `scripts/capture-fixtures.py`), decoded to the expected typed values and
//! replayed through Baton's sessions.

use baton_proto::chunk::ChunkDecoder;
use baton_proto::command::{Command, DataMessage, PublishType, StatusCode};
use baton_proto::flv::{FlvReader, FlvWriter, TagType};
use baton_proto::handshake::{HandshakeConfig, HandshakeKind, HandshakeStatus, ServerHandshake};
use baton_proto::media::{self, AudioTag, VideoTag};
use baton_proto::message::{Message, UserControlEvent};
use baton_proto::session::{
    ClientConfig, ClientEvent, ClientSession, MediaKind, ServerConfig, ServerEvent, ServerSession,
    UnpublishReason,
};
use baton_proto::{ChunkLimits, Limits, Timestamp};
use bytes::{Bytes, BytesMut};

const PUBLISH_C2S: &[u8] = include_bytes!("fixtures/ffmpeg-publish.c2s.bin");
const PLAY_S2C: &[u8] = include_bytes!("fixtures/ffmpeg-play.s2c.bin");
const PLAY_C2S: &[u8] = include_bytes!("fixtures/ffmpeg-play.c2s.bin");
const SMALL_FLV: &[u8] = include_bytes!("fixtures/ffmpeg-small.flv");

/// C0 + C1 + C2 (or S0 + S1 + S2).
const HANDSHAKE_LEN: usize = 1 + 1536 + 1536;

/// Decodes a captured chunk stream into typed messages (with stream ids).
fn decode_stream(bytes: &[u8]) -> Vec<(u32, Timestamp, Message)> {
    let limits = Limits::default();
    let mut decoder = ChunkDecoder::new(ChunkLimits::default());
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(raw) = decoder.decode(&mut buf).expect("valid chunk stream") {
        let message = Message::decode(raw.type_id, raw.timestamp, raw.payload, &limits)
            .expect("valid message");
        out.push((raw.stream_id, raw.timestamp, message));
    }
    assert!(buf.is_empty(), "{} bytes left undecoded", buf.len());
    out
}

#[test]
fn ffmpeg_c1_is_answered_with_a_digest_handshake() {
    let mut server = ServerHandshake::new(HandshakeConfig::default());
    let mut input = BytesMut::from(&PUBLISH_C2S[..HANDSHAKE_LEN + 10]);
    let mut out = BytesMut::new();
    let status = server.handle(&mut input, 0, &mut out).unwrap();
    let HandshakeStatus::Done(outcome) = status else {
        panic!("handshake not done: {status:?}");
    };
    assert_eq!(outcome.kind, HandshakeKind::Digest);
    assert_eq!(outcome.peer_version_requested, 3);
    assert_eq!(outcome.peer_flash_version, 0x0900_7c02);
    assert_eq!(out.len(), HANDSHAKE_LEN, "S0 S1 S2");
    assert_eq!(out[0], 3);
    assert_eq!(
        input.len(),
        10,
        "bytes after C2 are left for the chunk stream"
    );
}

#[test]
fn ffmpeg_publish_decodes_to_the_expected_commands() {
    let messages = decode_stream(&PUBLISH_C2S[HANDSHAKE_LEN..]);
    let commands: Vec<_> = messages
        .iter()
        .filter_map(|(_, _, m)| match m {
            Message::Command { command, .. } => Some(command.clone()),
            _ => None,
        })
        .collect();
    let names: Vec<_> = commands.iter().map(Command::name).collect();
    assert_eq!(
        names,
        [
            "connect",
            "releaseStream",
            "FCPublish",
            "createStream",
            "publish",
            "FCUnpublish",
            "deleteStream"
        ]
    );
    let Command::Connect(connect) = &commands[0] else {
        unreachable!()
    };
    assert_eq!(connect.app, "live");
    assert_eq!(
        connect.flash_ver.as_deref(),
        Some("FMLE/3.0 (compatible; Lavf59.27.100)")
    );
    assert!(
        connect
            .tc_url
            .as_deref()
            .unwrap()
            .starts_with("rtmp://127.0.0.1:")
    );
    assert!(
        !connect.supports_go_away,
        "stock FFmpeg does not announce Go Away"
    );
    match &commands[4] {
        Command::Publish(p) => {
            assert_eq!(p.stream_name, "fixture");
            assert_eq!(p.publish_type, PublishType::Live);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&messages[1].2, Message::SetChunkSize(4096)));

    // @setDataFrame onMetaData with the encoder's properties.
    let metadata = messages
        .iter()
        .find_map(|(_, _, m)| match m {
            Message::Data {
                data: DataMessage::SetDataFrame { name, value },
                ..
            } => Some((name.clone(), value.clone())),
            _ => None,
        })
        .expect("metadata");
    assert_eq!(metadata.0, "onMetaData");
    let metadata = media::Metadata::from_amf(&metadata.1).unwrap();
    assert_eq!(metadata.width, Some(160.0));
    assert_eq!(metadata.height, Some(90.0));

    let video: Vec<_> = messages
        .iter()
        .filter_map(|(s, ts, m)| match m {
            Message::Video(p) => Some((*s, *ts, p.clone())),
            _ => None,
        })
        .collect();
    let audio: Vec<_> = messages
        .iter()
        .filter_map(|(_, _, m)| match m {
            Message::Audio(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!((video.len(), audio.len()), (17, 67));
    assert!(video.iter().all(|(s, _, _)| *s == 1));
    let first = VideoTag::parse(&video[0].2).unwrap();
    assert!(first.is_sequence_header());
    assert!(AudioTag::parse(&audio[0]).unwrap().is_sequence_header());
    let keyframes = video
        .iter()
        .filter(|(_, _, p)| media::video_is_keyframe(p) && !media::video_is_sequence_header(p))
        .count();
    // Frame type 1 appears 4 times: the sequence header, two coded keyframes
    // (GOP of 10 frames at 10 fps) and the AVC end of sequence.
    assert_eq!(keyframes, 2);
    let frame_type_1 = video.iter().filter(|(_, _, p)| p[0] >> 4 == 1).count();
    assert_eq!(frame_type_1, 4);
    let last = video.last().unwrap();
    assert_eq!(last.1, Timestamp(1423));
    assert_eq!(
        last.2[1], 2,
        "the stream ends with the AVC end-of-sequence packet"
    );
}

#[test]
fn ffmpeg_publish_replays_through_the_server_session() {
    let mut session = ServerSession::new(ServerConfig::default());
    let mut events = Vec::new();
    // Feed in uneven pieces, deciding requests as they come.
    for piece in PUBLISH_C2S.chunks(777) {
        session.handle_input(piece, 5).unwrap();
        while let Some(event) = session.poll_event() {
            match &event {
                ServerEvent::ConnectRequested { request, .. } => {
                    session.accept_connect(*request).unwrap()
                }
                ServerEvent::PublishRequested { request, .. } => {
                    session.accept_publish(*request).unwrap()
                }
                _ => {}
            }
            events.push(event);
        }
    }
    assert!(matches!(&events[0], ServerEvent::HandshakeDone(o) if o.kind == HandshakeKind::Digest));
    assert!(
        matches!(&events[1], ServerEvent::ConnectRequested { connect, .. } if connect.app == "live")
    );
    assert!(
        matches!(&events[2], ServerEvent::PublishRequested { stream_id: 1, stream_name, publish_type: PublishType::Live, .. } if stream_name == "fixture")
    );
    assert!(matches!(&events[3], ServerEvent::Data { stream_id: 1, .. }));
    let media: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Media { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(media.iter().filter(|k| **k == MediaKind::Video).count(), 17);
    assert_eq!(media.iter().filter(|k| **k == MediaKind::Audio).count(), 67);
    assert_eq!(
        events.last().unwrap(),
        &ServerEvent::Unpublished {
            stream_id: 1,
            stream_name: "fixture".into(),
            reason: UnpublishReason::FcUnpublish
        }
    );
    // Everything the session wrote back decodes as a valid chunk stream.
    let mut written = Vec::new();
    while let Some(b) = session.poll_transmit() {
        written.extend_from_slice(&b);
    }
    let replies = decode_stream(&written[HANDSHAKE_LEN..]);
    let codes: Vec<_> = replies
        .iter()
        .filter_map(|(_, _, m)| match m {
            Message::Command {
                command: Command::OnStatus(s),
                ..
            } => Some(s.info.code.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [StatusCode::PublishStart]);
}

#[test]
fn ffmpeg_play_requests_decode() {
    let messages = decode_stream(&PLAY_C2S[HANDSHAKE_LEN..]);
    let play = messages
        .iter()
        .find_map(|(s, _, m)| match m {
            Message::Command {
                command: Command::Play(p),
                ..
            } => Some((*s, p.clone())),
            _ => None,
        })
        .expect("play");
    assert_eq!(play.0, 1);
    assert_eq!(play.1.stream_name, "fixture");
    assert!(messages.iter().any(|(_, _, m)| matches!(
        m,
        Message::UserControl(UserControlEvent::SetBufferLength {
            stream_id: 1,
            buffer_ms: 3000
        })
    )));
}

#[test]
fn nginx_play_replies_drive_the_client_session() {
    let mut client = ClientSession::new(ClientConfig::default());
    client
        .connect(baton_proto::command::Connect::new(
            "live",
            "rtmp://127.0.0.1/live",
        ))
        .unwrap();
    client.create_stream().unwrap();
    let mut events = Vec::new();
    for piece in PLAY_S2C.chunks(1000) {
        client.handle_input(piece, 0).unwrap();
        while let Some(e) = client.poll_event() {
            events.push(e);
        }
    }
    assert!(matches!(events[0], ClientEvent::HandshakeDone(_)));
    assert!(
        matches!(events[1], ClientEvent::Connected { .. }),
        "{:?}",
        events[1]
    );
    assert!(events.contains(&ClientEvent::StreamCreated {
        transaction_id: 2.0,
        stream_id: 1
    }));
    assert!(events.iter().any(|e| matches!(e,
        ClientEvent::Status { stream_id: 1, info } if info.code == StatusCode::PlayStart)));
    let data: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Data { data, .. } => Some(data.handler().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(data, ["|RtmpSampleAccess", "onMetaData"]);
    let video = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                ClientEvent::Media {
                    kind: MediaKind::Video,
                    ..
                }
            )
        })
        .count();
    let audio = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                ClientEvent::Media {
                    kind: MediaKind::Audio,
                    ..
                }
            )
        })
        .count();
    assert_eq!((video, audio), (42, 195));
    assert_eq!(
        events.last().unwrap(),
        &ClientEvent::UserControl(UserControlEvent::StreamEof { stream_id: 1 })
    );
}

#[test]
fn ffmpeg_flv_file_reads_and_rewrites_byte_identical() {
    let (header, tags) = FlvReader::read_all(SMALL_FLV, 1 << 20).unwrap();
    assert!(header.has_audio && header.has_video);
    assert_eq!(tags.len(), 112);
    let count = |t: TagType| tags.iter().filter(|tag| tag.tag_type == t).count();
    assert_eq!(count(TagType::Script), 1);
    assert_eq!(count(TagType::Video), 22);
    assert_eq!(count(TagType::Audio), 89);
    let keyframes = tags
        .iter()
        .filter(|t| t.tag_type == TagType::Video && media::video_is_keyframe(&t.data))
        .count();
    // Coded keyframes at 0 s and 1 s (the sequence header and the end of
    // sequence also carry frame type 1, and are not keyframes).
    assert_eq!(keyframes, 2);
    let mut out = BytesMut::new();
    FlvWriter::header(&header, &mut out);
    for tag in &tags {
        FlvWriter::tag(tag, &mut out).unwrap();
    }
    assert_eq!(Bytes::from(out), Bytes::from_static(SMALL_FLV));
}
