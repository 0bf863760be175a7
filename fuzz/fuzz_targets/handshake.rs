//! Handshake state machines: never panic on any peer bytes, in either role.
//!
//! The first input byte picks the role and how the rest is split into reads;
//! the peer's version byte is usually forced to 3 so that the fuzzer spends
//! its time inside C1/C2 (S1/S2) handling rather than on version refusals.
#![no_main]

use baton_proto::handshake::{ClientHandshake, HandshakeConfig, ServerHandshake};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mut peer = Vec::with_capacity(rest.len() + 1);
    if control & 0x80 == 0 {
        peer.push(3);
    }
    peer.extend_from_slice(rest);
    let step = 1 + (usize::from(control & 0x3f) * 97);
    let config = HandshakeConfig {
        digest: control & 0x40 == 0,
        ..HandshakeConfig::default()
    };
    let mut out = BytesMut::new();
    let mut input = BytesMut::new();
    if control & 0x01 == 0 {
        let mut server = ServerHandshake::new(config);
        for piece in peer.chunks(step) {
            input.extend_from_slice(piece);
            if server.handle(&mut input, 1, &mut out).is_err() {
                return;
            }
        }
    } else {
        let mut client = ClientHandshake::new(config);
        client.start(&mut out);
        for piece in peer.chunks(step) {
            input.extend_from_slice(piece);
            if client.handle(&mut input, 1, &mut out).is_err() {
                return;
            }
        }
    }
});
