//! AMF0 decoder: never panics; whatever decodes re-encodes and decodes to the
//! same value.
#![no_main]

use baton_proto::{AmfLimits, amf0};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = AmfLimits::default();
    if let Ok(values) = amf0::decode_all(data, &limits) {
        let mut out = BytesMut::new();
        amf0::encode_all(&values, &mut out);
        // Re-encoding normalizes (string forms, dropped empty names), so only
        // check that the normalized form is stable.
        let again = amf0::decode_all(&out, &limits).expect("re-encoded AMF0 decodes");
        let mut out2 = BytesMut::new();
        amf0::encode_all(&again, &mut out2);
        assert_eq!(out, out2);
    }
});
