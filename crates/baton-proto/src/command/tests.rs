//! Tests of the command module: commands built byte by byte as FFmpeg, OBS
//! and servers send them, reply builders, error cases, and property tests
//! (round trips of every variant, arbitrary bytes never panic).

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::amf::amf3;
use crate::limits::AmfLimits;

mod arb;
mod connect;
mod data;
mod netstream;
mod status;
mod wire_amf3;
pub(crate) use arb::{any_bytes, arb_command, arb_data_message, arb_value};

/// Builds AMF0 bytes by hand, independent of the encoder under test.
#[derive(Default)]
pub(crate) struct W(pub(crate) Vec<u8>);

impl W {
    pub(crate) fn new() -> Self {
        W(Vec::new())
    }
    /// A string value: 0x02, u16 length, bytes.
    pub(crate) fn str(mut self, v: &str) -> Self {
        self.0.push(0x02);
        self.0.extend((v.len() as u16).to_be_bytes());
        self.0.extend(v.as_bytes());
        self
    }
    /// A number value: 0x00, big-endian f64.
    pub(crate) fn num(mut self, v: f64) -> Self {
        self.0.push(0x00);
        self.0.extend(v.to_be_bytes());
        self
    }
    pub(crate) fn bool(mut self, v: bool) -> Self {
        self.0.extend([0x01, u8::from(v)]);
        self
    }
    pub(crate) fn null(mut self) -> Self {
        self.0.push(0x05);
        self
    }
    /// Starts an anonymous object.
    pub(crate) fn obj(mut self) -> Self {
        self.0.push(0x03);
        self
    }
    /// Starts an ECMA array with a count.
    pub(crate) fn ecma(mut self, count: u32) -> Self {
        self.0.push(0x08);
        self.0.extend(count.to_be_bytes());
        self
    }
    /// A property name: u16 length, bytes (no marker).
    pub(crate) fn key(mut self, k: &str) -> Self {
        self.0.extend((k.len() as u16).to_be_bytes());
        self.0.extend(k.as_bytes());
        self
    }
    /// Ends an object: empty name, 0x09.
    pub(crate) fn end(mut self) -> Self {
        self.0.extend([0x00, 0x00, 0x09]);
        self
    }
    pub(crate) fn raw(mut self, b: &[u8]) -> Self {
        self.0.extend(b);
        self
    }
    pub(crate) fn bytes(self) -> Vec<u8> {
        self.0
    }
}

fn limits() -> AmfLimits {
    AmfLimits::default()
}

fn decode(bytes: &[u8]) -> Result<Command, CommandError> {
    Command::decode(bytes, ObjectEncoding::Amf0, &limits())
}

fn encode(cmd: &Command, enc: ObjectEncoding) -> Vec<u8> {
    let mut out = BytesMut::new();
    cmd.encode(enc, &mut out);
    out.to_vec()
}

#[test]
fn unknown_command_is_kept_whole() {
    let bytes = W::new()
        .str("verifyClient")
        .num(9.0)
        .obj()
        .key("a")
        .num(1.0)
        .end()
        .str("arg")
        .bool(true)
        .bytes();
    let cmd = decode(&bytes).unwrap();
    assert_eq!(
        cmd,
        Command::Unknown {
            name: "verifyClient".into(),
            transaction_id: 9.0,
            command_object: Value::object([("a", Value::Number(1.0))]),
            args: vec![Value::string("arg"), Value::Boolean(true)],
        }
    );
    assert_eq!(cmd.name(), "verifyClient");
    assert_eq!(encode(&cmd, ObjectEncoding::Amf0), bytes);
    // A bare name is still kept.
    assert!(matches!(
        decode(&W::new().str("ping").bytes()).unwrap(),
        Command::Unknown {
            transaction_id: 0.0,
            command_object: Value::Null,
            ..
        }
    ));
    // A Call is written like an Unknown and read back as one.
    let call = Command::Call {
        name: "myProc".into(),
        transaction_id: 3.0,
        command_object: Value::Null,
        args: vec![Value::Number(1.0)],
    };
    let Command::Unknown {
        name,
        transaction_id,
        args,
        ..
    } = decode(&encode(&call, ObjectEncoding::Amf0)).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (name.as_str(), transaction_id, args),
        ("myProc", 3.0, vec![Value::Number(1.0)])
    );
}

#[test]
fn bad_messages() {
    assert_eq!(decode(&[]), Err(CommandError::Empty));
    assert_eq!(
        decode(&W::new().num(1.0).bytes()),
        Err(CommandError::NameNotString { found: "a number" })
    );
    assert!(matches!(decode(&[0x02, 0x00]), Err(CommandError::Amf(_))));
    assert!(matches!(decode(&[0xff]), Err(CommandError::Amf(_))));
}

#[test]
fn amf3_command_with_and_without_format_byte() {
    let body = W::new()
        .str("publish")
        .num(5.0)
        .null()
        .str("key")
        .str("live")
        .bytes();
    let with = [&[0x00][..], &body].concat();
    let a = Command::decode(&with, ObjectEncoding::Amf3, &limits()).unwrap();
    let b = Command::decode(&body, ObjectEncoding::Amf3, &limits()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.name(), "publish");
    assert_eq!(encode(&a, ObjectEncoding::Amf3), with);
    // The format byte is not skipped for AMF0 (it reads as a number marker).
    assert!(Command::decode(&with, ObjectEncoding::Amf0, &limits()).is_err());
}

#[test]
fn amf3_values_behind_the_avmplus_switch_are_read() {
    // What the AMF0 decoder yields for `0x11 <AMF3 value>`, built in memory.
    let s = |v: &str| Value::Avmplus(amf3::Value::String(v.into()));
    let cmd = Command::from_values(vec![
        Value::string("publish"),
        Value::Avmplus(amf3::Value::Integer(5)),
        Value::Avmplus(amf3::Value::Null),
        s("key"),
        s("record"),
    ])
    .unwrap();
    assert_eq!(
        cmd,
        Command::Publish(Publish {
            transaction_id: 5.0,
            stream_name: "key".into(),
            publish_type: PublishType::Record
        })
    );
    let info = amf3::Value::Object(amf3::Object {
        class_name: String::new(),
        sealed: vec![("level".into(), amf3::Value::String("status".into()))],
        dynamic: Some(vec![
            (
                "code".into(),
                amf3::Value::String("NetStream.Play.Start".into()),
            ),
            ("clientid".into(), amf3::Value::Double(7.0)),
        ]),
    });
    let cmd = Command::from_values(vec![
        Value::string("onStatus"),
        Value::Number(0.0),
        Value::Null,
        Value::Avmplus(info),
    ])
    .unwrap();
    let Command::OnStatus(s) = cmd else { panic!() };
    assert_eq!(s.info.code, StatusCode::PlayStart);
    assert_eq!(s.info.get("clientid"), Some(&Value::Number(7.0)));
}

#[test]
fn amf_limits_apply() {
    let tight = AmfLimits {
        max_elements: 4,
        ..AmfLimits::default()
    };
    let bytes = W::new().str("a").num(1.0).null().num(1.0).num(2.0).bytes();
    assert!(matches!(
        Command::decode(&bytes, ObjectEncoding::Amf0, &tight),
        Err(CommandError::Amf(
            crate::amf::AmfError::TooManyElements { .. }
        ))
    ));
}

proptest! {
    #[test]
    fn every_command_round_trips(cmd in arb_command(), amf3 in any::<bool>()) {
        let enc = if amf3 { ObjectEncoding::Amf3 } else { ObjectEncoding::Amf0 };
        let bytes = encode(&cmd, enc);
        let back = Command::decode(&bytes, enc, &limits()).unwrap();
        prop_assert_eq!(back, cmd);
    }

    #[test]
    fn every_data_message_round_trips(data in arb_data_message(), amf3 in any::<bool>()) {
        let enc = if amf3 { ObjectEncoding::Amf3 } else { ObjectEncoding::Amf0 };
        let mut out = BytesMut::new();
        data.encode(enc, &mut out);
        prop_assert_eq!(DataMessage::decode(&out, enc, &limits()).unwrap(), data);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in any_bytes(64), amf3 in any::<bool>()) {
        let enc = if amf3 { ObjectEncoding::Amf3 } else { ObjectEncoding::Amf0 };
        let _ = Command::decode(&bytes, enc, &limits());
        let _ = DataMessage::decode(&bytes, enc, &limits());
    }

    #[test]
    fn mutated_commands_never_panic(
        cmd in arb_command(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut bytes = encode(&cmd, ObjectEncoding::Amf0);
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = Command::decode(&bytes, ObjectEncoding::Amf0, &limits());
        let _ = DataMessage::decode(&bytes, ObjectEncoding::Amf0, &limits());
    }
}
