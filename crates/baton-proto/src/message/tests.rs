//! Tests of the message module: golden bytes for every protocol control and
//! user control message, aggregate splitting and re-basing, shared objects,
//! round trips of every variant, and arbitrary bytes for every type id.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::amf::amf0::Value;
use crate::command::tests::{W, any_bytes, arb_command, arb_data_message, arb_value};
use crate::limits::Limits;

fn decode(type_id: u8, payload: &[u8]) -> Result<Message, MessageError> {
    Message::decode(
        type_id,
        Timestamp::ZERO,
        Bytes::copy_from_slice(payload),
        &Limits::default(),
    )
}

fn payload(m: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    m.encode_payload(&mut out);
    out.to_vec()
}

/// Decodes `bytes` as `type_id`, checks the value, and that encoding it
/// gives the same bytes.
fn golden(type_id: u8, bytes: &[u8], want: Message) {
    assert_eq!(want.type_id(), type_id);
    assert_eq!(decode(type_id, bytes).unwrap(), want);
    assert_eq!(payload(&want), bytes, "{want:?}");
}

#[test]
fn protocol_control_golden_bytes() {
    golden(1, &[0x00, 0x00, 0x10, 0x00], Message::SetChunkSize(4096));
    golden(
        1,
        &[0x7f, 0xff, 0xff, 0xff],
        Message::SetChunkSize(MAX_CHUNK_SIZE),
    );
    golden(
        2,
        &[0x00, 0x00, 0x00, 0x05],
        Message::Abort { chunk_stream_id: 5 },
    );
    golden(
        3,
        &[0x12, 0x34, 0x56, 0x78],
        Message::Acknowledgement {
            sequence_number: 0x1234_5678,
        },
    );
    golden(
        5,
        &[0x00, 0x26, 0x25, 0xa0],
        Message::WindowAckSize(2_500_000),
    );
    for (byte, limit) in [
        (0, BandwidthLimit::Hard),
        (1, BandwidthLimit::Soft),
        (2, BandwidthLimit::Dynamic),
    ] {
        golden(
            6,
            &[0x00, 0x26, 0x25, 0xa0, byte],
            Message::SetPeerBandwidth {
                window_size: 2_500_000,
                limit,
            },
        );
    }
    assert!(Message::SetChunkSize(128).is_control());
    assert!(!Message::Audio(Bytes::new()).is_control());
}

#[test]
fn protocol_control_errors() {
    assert_eq!(
        decode(1, &[0, 0, 0, 0]),
        Err(MessageError::InvalidChunkSize(0))
    );
    assert_eq!(
        decode(1, &[0x80, 0, 0, 1]),
        Err(MessageError::InvalidChunkSize(0x8000_0001))
    );
    for ty in [1, 2, 3, 5] {
        assert!(matches!(
            decode(ty, &[0, 0, 1]),
            Err(MessageError::Truncated {
                needed: 4,
                len: 3,
                ..
            })
        ));
    }
    assert!(matches!(
        decode(6, &[0, 0, 0, 1]),
        Err(MessageError::Truncated { needed: 5, .. })
    ));
    assert_eq!(
        decode(6, &[0, 0, 0, 1, 3]),
        Err(MessageError::InvalidLimitType(3))
    );
    // Extra bytes after the fields are ignored.
    assert_eq!(
        decode(5, &[0, 0, 0, 9, 0xff]),
        Ok(Message::WindowAckSize(9))
    );
}

#[test]
fn user_control_golden_bytes() {
    let uc = |e| Message::UserControl(e);
    use UserControlEvent as E;
    golden(4, &[0, 0, 0, 0, 0, 1], uc(E::StreamBegin { stream_id: 1 }));
    golden(4, &[0, 1, 0, 0, 0, 1], uc(E::StreamEof { stream_id: 1 }));
    golden(4, &[0, 2, 0, 0, 0, 2], uc(E::StreamDry { stream_id: 2 }));
    golden(
        4,
        &[0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8],
        uc(E::SetBufferLength {
            stream_id: 1,
            buffer_ms: 3000,
        }),
    );
    golden(
        4,
        &[0, 4, 0, 0, 0, 1],
        uc(E::StreamIsRecorded { stream_id: 1 }),
    );
    golden(
        4,
        &[0, 6, 0xde, 0xad, 0xbe, 0xef],
        uc(E::PingRequest {
            timestamp: 0xdead_beef,
        }),
    );
    golden(
        4,
        &[0, 7, 0xde, 0xad, 0xbe, 0xef],
        uc(E::PingResponse {
            timestamp: 0xdead_beef,
        }),
    );
    // Non-spec events seen in the wild are kept as they are.
    for ty in [31u8, 32] {
        golden(
            4,
            &[0, ty, 0, 0, 0, 1],
            uc(E::Unknown {
                event_type: u16::from(ty),
                data: Bytes::from_static(&[0, 0, 0, 1]),
            }),
        );
    }
    golden(
        4,
        &[0, 5],
        uc(E::Unknown {
            event_type: 5,
            data: Bytes::new(),
        }),
    );
}

#[test]
fn user_control_errors() {
    assert!(matches!(
        decode(4, &[0]),
        Err(MessageError::Truncated { needed: 2, .. })
    ));
    assert!(matches!(
        decode(4, &[0, 0, 0, 0, 1]),
        Err(MessageError::Truncated { needed: 6, .. })
    ));
    assert!(matches!(
        decode(4, &[0, 3, 0, 0, 0, 1, 0, 0]),
        Err(MessageError::Truncated { needed: 10, .. })
    ));
}

/// One aggregate sub-message as an FLV tag with its back pointer.
fn tag(type_id: u8, ts: u32, data: &[u8]) -> Vec<u8> {
    let size = data.len() as u32;
    let mut t = vec![type_id];
    t.extend(&size.to_be_bytes()[1..]);
    t.extend(&ts.to_be_bytes()[1..]);
    t.push((ts >> 24) as u8);
    t.extend([0, 0, 1]);
    t.extend(data);
    t.extend((size + 11).to_be_bytes());
    t
}

fn aggregate(ts: u32, body: &[u8], limits: &Limits) -> Result<Message, MessageError> {
    Message::decode(22, Timestamp(ts), Bytes::copy_from_slice(body), limits)
}

#[test]
fn aggregate_split_and_rebased() {
    let body = [
        tag(9, 5000, b"video0"),
        tag(8, 5023, b"audio"),
        tag(9, 5040, b"video1"),
    ]
    .concat();
    let Message::Aggregate(parts) = aggregate(1000, &body, &Limits::default()).unwrap() else {
        panic!()
    };
    let got: Vec<_> = parts
        .iter()
        .map(|p| (p.type_id, p.timestamp.as_millis(), &p.payload[..]))
        .collect();
    assert_eq!(
        got,
        vec![
            (9, 1000, &b"video0"[..]),
            (8, 1023, &b"audio"[..]),
            (9, 1040, &b"video1"[..])
        ]
    );

    // The timestamp extension byte is the high byte, and re-basing wraps.
    let body = [tag(9, 0xffff_fff0, b"a"), tag(9, 0x0000_0010, b"b")].concat();
    let Message::Aggregate(parts) = aggregate(0xffff_fff0, &body, &Limits::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(parts[0].timestamp, Timestamp(0xffff_fff0));
    assert_eq!(parts[1].timestamp, Timestamp(0x10));

    // Without the last back pointer.
    let mut body = [tag(8, 0, b"x"), tag(8, 20, b"y")].concat();
    body.truncate(body.len() - 4);
    let Message::Aggregate(parts) = aggregate(0, &body, &Limits::default()).unwrap() else {
        panic!()
    };
    assert_eq!(parts.len(), 2);
    assert_eq!(&parts[1].payload[..], b"y");

    // Empty.
    assert_eq!(
        aggregate(0, &[], &Limits::default()),
        Ok(Message::Aggregate(Vec::new()))
    );
}

#[test]
fn aggregate_errors() {
    let limits = Limits::default();
    let one = tag(9, 0, b"frame");
    // Header cut.
    assert_eq!(
        aggregate(0, &one[..7], &limits),
        Err(MessageError::AggregateTruncated {
            index: 0,
            what: "header"
        })
    );
    // Data past the end (also the largest declared size).
    assert!(matches!(
        aggregate(0, &one[..13], &limits),
        Err(MessageError::AggregateTruncated { what: "data", .. })
    ));
    let mut huge = one.clone();
    huge[1..4].copy_from_slice(&[0xff, 0xff, 0xff]);
    assert!(matches!(
        aggregate(0, &huge, &limits),
        Err(MessageError::AggregateTruncated { what: "data", .. })
    ));
    // A stray partial back pointer.
    let stray = [&one[..], &tag(8, 0, b"a")[..14]].concat();
    assert_eq!(
        aggregate(0, &stray, &limits),
        Err(MessageError::AggregateTruncated {
            index: 1,
            what: "back pointer"
        })
    );
    // Second header cut.
    let cut = [&one[..], &[8, 0, 0][..]].concat();
    assert_eq!(
        aggregate(0, &cut, &limits),
        Err(MessageError::AggregateTruncated {
            index: 1,
            what: "header"
        })
    );
    // Over the limit.
    let tight = Limits {
        max_aggregate_messages: 2,
        ..Limits::default()
    };
    let two = [tag(8, 0, b"a"), tag(8, 1, b"b")].concat();
    assert!(aggregate(0, &two, &tight).is_ok());
    let three = [&two[..], &tag(8, 2, b"c")[..]].concat();
    assert_eq!(
        aggregate(0, &three, &tight),
        Err(MessageError::TooManyAggregateParts { max: 2 })
    );
}

#[test]
fn aggregate_encodes_flv_tags() {
    let parts = vec![
        AggregatePart {
            type_id: 9,
            timestamp: Timestamp(0x0100_0002),
            payload: Bytes::from_static(b"v"),
        },
        AggregatePart {
            type_id: 8,
            timestamp: Timestamp(0x0100_0005),
            payload: Bytes::from_static(b"au"),
        },
    ];
    let bytes = payload(&Message::Aggregate(parts));
    let mut want = [tag(9, 0x0100_0002, b"v"), tag(8, 0x0100_0005, b"au")].concat();
    // We write stream id 0.
    want[10] = 0;
    want[11 + 1 + 4 + 10] = 0;
    assert_eq!(bytes, want);
}

#[test]
fn go_away() {
    let m = Message::go_away();
    assert_eq!(m.type_id(), 32);
    assert!(!payload(&m).is_empty(), "OBS ignores an empty Go Away");
    assert_eq!(decode(32, &payload(&m)).unwrap(), m);
    assert_eq!(
        decode(32, b"bye").unwrap(),
        Message::GoAway(Bytes::from_static(b"bye"))
    );
}

#[test]
fn media_and_unknown_are_kept() {
    golden(
        8,
        b"\xaf\x01aac",
        Message::Audio(Bytes::from_static(b"\xaf\x01aac")),
    );
    golden(
        9,
        b"\x17\x01",
        Message::Video(Bytes::from_static(b"\x17\x01")),
    );
    golden(
        7,
        b"?",
        Message::Unknown {
            type_id: 7,
            payload: Bytes::from_static(b"?"),
        },
    );
}

#[test]
fn command_and_data_dispatch() {
    let publish = W::new()
        .str("publish")
        .num(5.0)
        .null()
        .str("key")
        .str("live")
        .bytes();
    let m = decode(20, &publish).unwrap();
    assert!(matches!(
        &m,
        Message::Command { encoding: ObjectEncoding::Amf0, command: Command::Publish(p) }
            if p.stream_name == "key"
    ));
    let amf3 = [&[0u8][..], &publish].concat();
    let m3 = decode(17, &amf3).unwrap();
    assert_eq!(m3.type_id(), 17);
    assert_eq!(payload(&m3), amf3);

    let meta = W::new().str("onMetaData").null().bytes();
    assert_eq!(
        decode(18, &meta).unwrap(),
        Message::Data {
            encoding: ObjectEncoding::Amf0,
            data: DataMessage::OnMetaData(Value::Null)
        }
    );
    assert_eq!(
        decode(15, &[&[0u8][..], &meta].concat()).unwrap().type_id(),
        15
    );

    let err = decode(20, &W::new().str("publish").num(5.0).bytes()).unwrap_err();
    assert!(matches!(err, MessageError::Command(_)));
    assert!(
        err.to_string().starts_with("command message: publish:"),
        "{err}"
    );
    assert!(matches!(decode(18, &[]), Err(MessageError::Data(_))));
}

fn so_header(name: &str) -> Vec<u8> {
    let mut b = (name.len() as u16).to_be_bytes().to_vec();
    b.extend(name.as_bytes());
    b.extend(7u32.to_be_bytes()); // version
    b.extend(2u32.to_be_bytes()); // flags
    b.extend(0u32.to_be_bytes()); // reserved
    b
}

fn so_event(ty: u8, data: &[u8]) -> Vec<u8> {
    let mut b = vec![ty];
    b.extend((data.len() as u32).to_be_bytes());
    b.extend(data);
    b
}

#[test]
fn shared_object_events() {
    let name = |n: &str| [&(n.len() as u16).to_be_bytes()[..], n.as_bytes()].concat();
    let change = [
        name("x"),
        W::new().num(1.0).bytes(),
        name("y"),
        W::new().str("v").bytes(),
    ]
    .concat();
    let body = [
        so_header("chat"),
        so_event(1, &[]),
        so_event(4, &change),
        so_event(6, &W::new().str("say").str("hi").bytes()),
        so_event(
            7,
            &[name("SharedObject.Flush.Failed"), name("error")].concat(),
        ),
        so_event(9, &name("x")),
        so_event(10, &name("y")),
        so_event(11, &[]),
        so_event(42, b"raw"),
    ]
    .concat();
    let want = SharedObjectMessage {
        name: "chat".into(),
        version: 7,
        flags: 2,
        reserved: 0,
        events: vec![
            SharedObjectEvent::Use,
            SharedObjectEvent::Change(vec![
                ("x".into(), Value::Number(1.0)),
                ("y".into(), Value::string("v")),
            ]),
            SharedObjectEvent::SendMessage(vec![Value::string("say"), Value::string("hi")]),
            SharedObjectEvent::Status {
                code: "SharedObject.Flush.Failed".into(),
                level: "error".into(),
            },
            SharedObjectEvent::Remove { name: "x".into() },
            SharedObjectEvent::RequestRemove { name: "y".into() },
            SharedObjectEvent::UseSuccess,
            SharedObjectEvent::Unknown {
                event_type: 42,
                data: Bytes::from_static(b"raw"),
            },
        ],
    };
    let m = Message::SharedObject {
        encoding: ObjectEncoding::Amf0,
        message: want,
    };
    golden(19, &body, m.clone());
    let amf3 = [&[0u8][..], &body].concat();
    let Message::SharedObject { message, .. } = m else {
        panic!()
    };
    golden(
        16,
        &amf3,
        Message::SharedObject {
            encoding: ObjectEncoding::Amf3,
            message,
        },
    );
}

#[test]
fn shared_object_errors() {
    assert!(matches!(
        decode(19, &[0, 4, b'c', b'h']),
        Err(MessageError::SharedObjectTruncated { what: "name" })
    ));
    assert!(matches!(
        decode(19, &so_header("a")[..8]),
        Err(MessageError::SharedObjectTruncated { .. })
    ));
    let mut long = so_header("a");
    long.extend([4, 0, 0, 0, 9, 1]);
    assert!(matches!(
        decode(19, &long),
        Err(MessageError::SharedObjectTruncated { what: "event data" })
    ));
    let bad_utf8 = [&[0u8, 1, 0xff][..], &so_header("")[2..]].concat();
    assert!(matches!(decode(19, &bad_utf8), Err(MessageError::Amf(_))));
    assert_eq!(
        decode(16, &[3, 0, 0]),
        Err(MessageError::UnsupportedSharedObjectFormat(3))
    );
    let bad_amf = [so_header("a"), so_event(6, &[0xff])].concat();
    assert!(matches!(decode(19, &bad_amf), Err(MessageError::Amf(_))));
    let tight = Limits {
        amf: crate::limits::AmfLimits {
            max_elements: 1,
            ..Default::default()
        },
        ..Limits::default()
    };
    let two = [so_header("a"), so_event(1, &[]), so_event(2, &[])].concat();
    assert_eq!(
        Message::decode(19, Timestamp::ZERO, Bytes::from(two), &tight),
        Err(MessageError::TooManySharedObjectEvents { max: 1 })
    );
}

fn encoding() -> impl Strategy<Value = ObjectEncoding> {
    prop_oneof![Just(ObjectEncoding::Amf0), Just(ObjectEncoding::Amf3)]
}

fn arb_bytes() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..32).prop_map(Bytes::from)
}

fn arb_user_control() -> impl Strategy<Value = UserControlEvent> {
    use UserControlEvent as E;
    prop_oneof![
        any::<u32>().prop_map(|stream_id| E::StreamBegin { stream_id }),
        any::<u32>().prop_map(|stream_id| E::StreamEof { stream_id }),
        any::<u32>().prop_map(|stream_id| E::StreamDry { stream_id }),
        (any::<u32>(), any::<u32>()).prop_map(|(stream_id, buffer_ms)| E::SetBufferLength {
            stream_id,
            buffer_ms
        }),
        any::<u32>().prop_map(|stream_id| E::StreamIsRecorded { stream_id }),
        any::<u32>().prop_map(|timestamp| E::PingRequest { timestamp }),
        any::<u32>().prop_map(|timestamp| E::PingResponse { timestamp }),
        (
            any::<u16>().prop_filter("unknown", |t| ![0, 1, 2, 3, 4, 6, 7].contains(t)),
            arb_bytes()
        )
            .prop_map(|(event_type, data)| E::Unknown { event_type, data }),
    ]
}

fn arb_so_event() -> impl Strategy<Value = SharedObjectEvent> {
    use SharedObjectEvent as E;
    let slots = || prop::collection::vec(("\\PC{0,6}", arb_value()), 0..3);
    prop_oneof![
        prop::sample::select(vec![
            E::Use,
            E::Release,
            E::Success,
            E::Clear,
            E::UseSuccess
        ]),
        slots().prop_map(E::RequestChange),
        slots().prop_map(E::Change),
        prop::collection::vec(arb_value(), 0..3).prop_map(E::SendMessage),
        ("\\PC{0,8}", "\\PC{0,8}").prop_map(|(code, level)| E::Status { code, level }),
        "\\PC{0,8}".prop_map(|name| E::Remove { name }),
        "\\PC{0,8}".prop_map(|name| E::RequestRemove { name }),
        (12u8.., arb_bytes()).prop_map(|(event_type, data)| E::Unknown { event_type, data }),
    ]
}

fn arb_shared_object() -> impl Strategy<Value = SharedObjectMessage> {
    (
        "\\PC{0,8}",
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(arb_so_event(), 0..4),
    )
        .prop_map(
            |(name, version, flags, reserved, events)| SharedObjectMessage {
                name,
                version,
                flags,
                reserved,
                events,
            },
        )
}

fn arb_parts() -> impl Strategy<Value = Vec<AggregatePart>> {
    prop::collection::vec(
        (any::<u8>(), any::<u32>(), arb_bytes()).prop_map(|(type_id, ts, payload)| AggregatePart {
            type_id,
            timestamp: Timestamp(ts),
            payload,
        }),
        0..5,
    )
}

const KNOWN_TYPES: [u8; 16] = [1, 2, 3, 4, 5, 6, 8, 9, 15, 16, 17, 18, 19, 20, 22, 32];

fn arb_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (1..=MAX_CHUNK_SIZE).prop_map(Message::SetChunkSize),
        any::<u32>().prop_map(|chunk_stream_id| Message::Abort { chunk_stream_id }),
        any::<u32>().prop_map(|sequence_number| Message::Acknowledgement { sequence_number }),
        arb_user_control().prop_map(Message::UserControl),
        any::<u32>().prop_map(Message::WindowAckSize),
        (any::<u32>(), 0u8..3).prop_map(|(window_size, l)| Message::SetPeerBandwidth {
            window_size,
            limit: BandwidthLimit::from_u8(l).unwrap()
        }),
        arb_bytes().prop_map(Message::Audio),
        arb_bytes().prop_map(Message::Video),
        (encoding(), arb_data_message())
            .prop_map(|(encoding, data)| Message::Data { encoding, data }),
        (encoding(), arb_shared_object())
            .prop_map(|(encoding, message)| Message::SharedObject { encoding, message }),
        (encoding(), arb_command())
            .prop_map(|(encoding, command)| Message::Command { encoding, command }),
        arb_parts().prop_map(Message::Aggregate),
        arb_bytes().prop_map(Message::GoAway),
        (
            any::<u8>().prop_filter("unknown", |t| !KNOWN_TYPES.contains(t)),
            arb_bytes()
        )
            .prop_map(|(type_id, payload)| Message::Unknown { type_id, payload }),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(m in arb_message()) {
        // Aggregate parts are re-based on the message timestamp: send the
        // aggregate with its first part's timestamp.
        let ts = match &m {
            Message::Aggregate(parts) => parts.first().map_or(Timestamp::ZERO, |p| p.timestamp),
            _ => Timestamp(12345),
        };
        let back = Message::decode(m.type_id(), ts, m.to_payload(), &Limits::default()).unwrap();
        prop_assert_eq!(back, m);
    }

    #[test]
    fn aggregate_rebases_on_any_timestamp(parts in arb_parts(), ts: u32) {
        let bytes = payload(&Message::Aggregate(parts.clone()));
        let Message::Aggregate(back) = aggregate(ts, &bytes, &Limits::default()).unwrap() else {
            unreachable!()
        };
        prop_assert_eq!(back.len(), parts.len());
        for (b, p) in back.iter().zip(&parts) {
            prop_assert_eq!(b.timestamp.delta_since(Timestamp(ts)), p.timestamp.delta_since(parts[0].timestamp));
            prop_assert_eq!(&b.payload, &p.payload);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(type_id: u8, bytes in any_bytes(96), ts: u32) {
        let limits = Limits { max_aggregate_messages: 4, ..Limits::default() };
        let _ = Message::decode(type_id, Timestamp(ts), Bytes::from(bytes), &limits);
    }

    #[test]
    fn mutated_messages_never_panic(
        m in arb_message(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = m.to_payload().to_vec();
        if !bytes.is_empty() {
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = Message::decode(m.type_id(), Timestamp::ZERO, Bytes::from(bytes), &Limits::default());
    }
}
