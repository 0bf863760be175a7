//! Commands and data messages whose values use the AVM+ switch (AMF0 marker
//! 0x11 followed by an AMF3 value), built byte by byte, as Flash clients
//! with `objectEncoding = 3` send them in type 17 and type 15 messages.

use super::*;
use crate::message::{Message, type_id};
use crate::{Limits, Timestamp};
use bytes::Bytes;

/// AMF0 string marker + u16 length + bytes.
fn amf0_str(out: &mut Vec<u8>, s: &str) {
    out.push(0x02);
    out.extend((s.len() as u16).to_be_bytes());
    out.extend(s.as_bytes());
}

/// AVM+ switch, then an AMF3 string (marker 0x06, U29 length << 1 | 1).
fn avm_str(out: &mut Vec<u8>, s: &str) {
    assert!(s.len() < 64, "one-byte U29 in this helper");
    out.extend([0x11, 0x06, ((s.len() as u8) << 1) | 1]);
    out.extend(s.as_bytes());
}

#[test]
fn publish_with_amf3_stream_name_in_a_type_17_message() {
    let mut p = vec![0x00]; // AMF3 command format byte
    amf0_str(&mut p, "publish");
    p.push(0x00);
    p.extend(5.0f64.to_be_bytes());
    p.push(0x05);
    avm_str(&mut p, "key");
    avm_str(&mut p, "live");
    let message = Message::decode(
        type_id::COMMAND_AMF3,
        Timestamp(0),
        Bytes::from(p),
        &Limits::default(),
    )
    .unwrap();
    let Message::Command { encoding, command } = message else {
        panic!("{message:?}")
    };
    assert_eq!(encoding, ObjectEncoding::Amf3);
    match command {
        Command::Publish(publish) => {
            assert_eq!(publish.stream_name, "key");
            assert_eq!(publish.publish_type, PublishType::Live);
            assert_eq!(publish.transaction_id, 5.0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn on_status_with_an_amf3_info_object() {
    // onStatus 0 null <AVM+ anonymous dynamic object {level: "status", code: "NetStream.Play.Start"}>
    let mut p = vec![0x00];
    amf0_str(&mut p, "onStatus");
    p.push(0x00);
    p.extend(0.0f64.to_be_bytes());
    p.push(0x05);
    // 0x0A object; U29O-traits 0x0B = inline traits, dynamic, 0 sealed;
    // class name "" (0x01); then dynamic members; "" (0x01) ends them.
    p.extend([0x11, 0x0a, 0x0b, 0x01]);
    for (k, v) in [("level", "status"), ("code", "NetStream.Play.Start")] {
        p.push(((k.len() as u8) << 1) | 1);
        p.extend(k.as_bytes());
        p.push(0x06);
        p.push(((v.len() as u8) << 1) | 1);
        p.extend(v.as_bytes());
    }
    p.push(0x01);
    let command = Command::decode(&p, ObjectEncoding::Amf3, &AmfLimits::default()).unwrap();
    match command {
        Command::OnStatus(status) => {
            assert_eq!(status.info.code, StatusCode::PlayStart);
            assert_eq!(status.info.level, StatusLevel::Status);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn amf3_data_message_with_metadata_object() {
    // Type 15: format byte, "@setDataFrame", "onMetaData", AVM+ object {width: 1280 (AMF3 integer)}.
    let mut p = vec![0x00];
    amf0_str(&mut p, "@setDataFrame");
    amf0_str(&mut p, "onMetaData");
    p.extend([0x11, 0x0a, 0x0b, 0x01]);
    p.push((5 << 1) | 1);
    p.extend(b"width");
    p.extend([0x04, 0x8a, 0x00]); // U29 1280 = 0b1010_0000000 -> 0x8a 0x00
    p.push(0x01);
    let message = Message::decode(
        type_id::DATA_AMF3,
        Timestamp(0),
        Bytes::from(p),
        &Limits::default(),
    )
    .unwrap();
    let Message::Data { encoding, data } = message else {
        panic!("{message:?}")
    };
    assert_eq!(encoding, ObjectEncoding::Amf3);
    match data {
        DataMessage::SetDataFrame { name, value } => {
            assert_eq!(name, "onMetaData");
            match value {
                crate::amf0::Value::Avmplus(amf3::Value::Object(object)) => {
                    let dynamic = object.dynamic.expect("dynamic members");
                    assert_eq!(
                        dynamic,
                        vec![("width".to_owned(), amf3::Value::Integer(1280))]
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn amf3_commands_round_trip_through_the_amf3_codec() {
    // A command whose argument is an AMF3 value survives encode/decode.
    let value = crate::amf0::Value::Avmplus(amf3::Value::Array {
        associative: vec![("k".into(), amf3::Value::String("v".into()))],
        dense: vec![amf3::Value::Integer(-5), amf3::Value::Double(0.5)],
    });
    let command = Command::Unknown {
        name: "custom".into(),
        transaction_id: 3.0,
        command_object: crate::amf0::Value::Null,
        args: vec![value],
    };
    let mut out = BytesMut::new();
    command.encode(ObjectEncoding::Amf3, &mut out);
    assert_eq!(out[0], 0x00, "format byte");
    let back = Command::decode(&out, ObjectEncoding::Amf3, &AmfLimits::default()).unwrap();
    assert_eq!(back, command);
}
