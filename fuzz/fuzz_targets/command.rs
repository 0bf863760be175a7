//! Command and data message decoders: never panic; a decoded command
//! re-encodes to bytes that decode to the same command.
#![no_main]

use baton_proto::AmfLimits;
use baton_proto::command::{Command, DataMessage};
use baton_proto::message::ObjectEncoding;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = AmfLimits::default();
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let encoding = if first & 1 == 0 {
        ObjectEncoding::Amf0
    } else {
        ObjectEncoding::Amf3
    };
    if let Ok(command) = Command::decode(rest, encoding, &limits) {
        let mut out = BytesMut::new();
        command.encode(encoding, &mut out);
        let again = Command::decode(&out, encoding, &limits).expect("re-encoded command decodes");
        assert_eq!(again.name(), command.name());
    }
    let _ = DataMessage::decode(rest, encoding, &limits);
});
