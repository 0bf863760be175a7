//! AMF3 encoding (AMF 3 Specification section 3).

use bytes::BytesMut;

use super::Value;

/// An AMF3 encoder: holds the string reference table of one AMF3 context.
#[derive(Debug, Default)]
pub struct Encoder {}

impl Encoder {
    /// An encoder with empty reference tables.
    pub fn new() -> Self {
        Encoder::default()
    }

    /// Appends the encoding of `value` to `out`.
    pub fn encode(&mut self, value: &Value, out: &mut BytesMut) {
        let _ = (value, out);
        todo!("AMF3 encoder")
    }
}

/// Encodes one value with a fresh context.
pub fn encode(value: &Value, out: &mut BytesMut) {
    Encoder::new().encode(value, out)
}
