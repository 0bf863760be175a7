//! AMF3 decoder: never panics, bounded by the limits even through references.
#![no_main]

use baton_proto::{AmfLimits, amf3};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = AmfLimits::default();
    let mut cursor = data;
    let mut decoder = amf3::Decoder::new(&limits);
    while let Ok(value) = decoder.decode(&mut cursor) {
        let mut out = BytesMut::new();
        amf3::encode(&value, &mut out);
        let _ = amf3::decode(&mut &out[..], &limits).expect("re-encoded AMF3 decodes");
        if cursor.is_empty() {
            break;
        }
    }
});
