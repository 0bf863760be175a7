//! AMF0 (Adobe "Action Message Format -- AMF 0", 2006): every type marker of
//! section 2.1, from number (0x00) to the AVM+ switch (0x11).
//!
//! - movieclip (0x04) and recordset (0x0E) are reserved: decoding them fails.
//! - A reference (0x07) is kept as [`Value::Reference`], not resolved, so a
//!   hostile message cannot expand into a large tree.
//! - The AVM+ switch (0x11) is followed by one AMF3 value (section 3.1), decoded
//!   with a fresh AMF3 reference context, sharing this value's depth and
//!   element budget.

use bytes::{BufMut, BytesMut};

use super::{AmfError, Budget, amf3, take, take_str, take_u8};
use crate::limits::AmfLimits;

/// The AMF0 type markers (section 2.1).
pub mod marker {
    /// number-marker
    pub const NUMBER: u8 = 0x00;
    /// boolean-marker
    pub const BOOLEAN: u8 = 0x01;
    /// string-marker
    pub const STRING: u8 = 0x02;
    /// object-marker
    pub const OBJECT: u8 = 0x03;
    /// movieclip-marker (reserved, not supported)
    pub const MOVIECLIP: u8 = 0x04;
    /// null-marker
    pub const NULL: u8 = 0x05;
    /// undefined-marker
    pub const UNDEFINED: u8 = 0x06;
    /// reference-marker
    pub const REFERENCE: u8 = 0x07;
    /// ecma-array-marker
    pub const ECMA_ARRAY: u8 = 0x08;
    /// object-end-marker
    pub const OBJECT_END: u8 = 0x09;
    /// strict-array-marker
    pub const STRICT_ARRAY: u8 = 0x0A;
    /// date-marker
    pub const DATE: u8 = 0x0B;
    /// long-string-marker
    pub const LONG_STRING: u8 = 0x0C;
    /// unsupported-marker
    pub const UNSUPPORTED: u8 = 0x0D;
    /// recordset-marker (reserved, not supported)
    pub const RECORDSET: u8 = 0x0E;
    /// xml-document-marker
    pub const XML_DOCUMENT: u8 = 0x0F;
    /// typed-object-marker
    pub const TYPED_OBJECT: u8 = 0x10;
    /// avmplus-object-marker: the next value is AMF3
    pub const AVMPLUS: u8 = 0x11;
}

/// An ordered list of named properties (object members, ECMA array entries).
pub type Properties = Vec<(String, Value)>;

/// An AMF0 value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// number (0x00): an IEEE-754 double.
    Number(f64),
    /// boolean (0x01).
    Boolean(bool),
    /// string (0x02) or long string (0x0C); the encoder picks the form by
    /// length.
    String(String),
    /// anonymous object (0x03).
    Object(Properties),
    /// null (0x05).
    Null,
    /// undefined (0x06).
    Undefined,
    /// reference (0x07) to an earlier complex value of the same message,
    /// kept unresolved.
    Reference(u16),
    /// ECMA array (0x08): an associative array.
    EcmaArray(Properties),
    /// strict array (0x0A).
    StrictArray(Vec<Value>),
    /// date (0x0B): milliseconds since the Unix epoch (UTC) and the time zone
    /// field, which the spec says should be 0.
    Date {
        /// Milliseconds since 1970-01-01T00:00:00Z.
        millis: f64,
        /// Reserved time zone offset in minutes (written as sent).
        time_zone: i16,
    },
    /// unsupported (0x0D).
    Unsupported,
    /// XML document (0x0F).
    XmlDocument(String),
    /// typed object (0x10).
    TypedObject {
        /// The registered class name.
        class_name: String,
        /// Its members.
        properties: Properties,
    },
    /// An AMF3 value behind the AVM+ switch marker (0x11).
    Avmplus(amf3::Value),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An anonymous object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(props: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(props.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The properties of an object, ECMA array or typed object.
    pub fn properties(&self) -> Option<&Properties> {
        match self {
            Value::Object(p) | Value::EcmaArray(p) => Some(p),
            Value::TypedObject { properties, .. } => Some(properties),
            _ => None,
        }
    }

    /// The first property called `name` of an object, ECMA array or typed
    /// object.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Whether this is null or undefined.
    pub fn is_null_or_undefined(&self) -> bool {
        matches!(self, Value::Null | Value::Undefined)
    }
}

/// Decodes one value from the front of `buf`, advancing it.
pub fn decode(buf: &mut &[u8], limits: &AmfLimits) -> Result<Value, AmfError> {
    let mut budget = Budget::new(limits);
    decode_value(buf, &mut budget)
}

/// Decodes values until `buf` is empty. All the values share one element
/// budget, so a message as a whole stays within the limits.
pub fn decode_all(mut buf: &[u8], limits: &AmfLimits) -> Result<Vec<Value>, AmfError> {
    let mut budget = Budget::new(limits);
    let mut values = Vec::new();
    while !buf.is_empty() {
        values.push(decode_value(&mut buf, &mut budget)?);
    }
    Ok(values)
}

pub(crate) fn decode_value(buf: &mut &[u8], budget: &mut Budget<'_>) -> Result<Value, AmfError> {
    budget.count(1)?;
    let marker = take_u8(buf)?;
    Ok(match marker {
        marker::NUMBER => Value::Number(read_f64(buf)?),
        marker::BOOLEAN => Value::Boolean(take_u8(buf)? != 0),
        marker::STRING => {
            let len = read_u16(buf)? as usize;
            Value::String(read_string(buf, len, budget)?)
        }
        marker::OBJECT => {
            budget.enter()?;
            let props = read_properties(buf, budget, false)?;
            budget.leave();
            Value::Object(props)
        }
        marker::NULL => Value::Null,
        marker::UNDEFINED => Value::Undefined,
        marker::REFERENCE => Value::Reference(read_u16(buf)?),
        marker::ECMA_ARRAY => {
            // The count is only a hint (encoders get it wrong); the entries
            // run to the object-end marker.
            let _count = read_u32(buf)?;
            budget.enter()?;
            let props = read_properties(buf, budget, true)?;
            budget.leave();
            Value::EcmaArray(props)
        }
        marker::STRICT_ARRAY => {
            let count = read_u32(buf)? as usize;
            let cap = budget.check_count(count, 1, buf)?;
            budget.enter()?;
            let mut items = Vec::with_capacity(cap);
            for _ in 0..count {
                items.push(decode_value(buf, budget)?);
            }
            budget.leave();
            Value::StrictArray(items)
        }
        marker::DATE => {
            let millis = read_f64(buf)?;
            let time_zone = read_u16(buf)? as i16;
            Value::Date { millis, time_zone }
        }
        marker::LONG_STRING => {
            let len = read_u32(buf)? as usize;
            Value::String(read_string(buf, len, budget)?)
        }
        marker::UNSUPPORTED => Value::Unsupported,
        marker::XML_DOCUMENT => {
            let len = read_u32(buf)? as usize;
            Value::XmlDocument(read_string(buf, len, budget)?)
        }
        marker::TYPED_OBJECT => {
            let len = read_u16(buf)? as usize;
            let class_name = read_string(buf, len, budget)?;
            budget.enter()?;
            let properties = read_properties(buf, budget, false)?;
            budget.leave();
            Value::TypedObject {
                class_name,
                properties,
            }
        }
        marker::AVMPLUS => {
            let mut decoder = amf3::Decoder::new(budget.limits);
            Value::Avmplus(decoder.decode_with_budget(buf, budget)?)
        }
        other => {
            return Err(AmfError::UnknownMarker {
                version: 0,
                marker: other,
            });
        }
    })
}

/// Reads `name value` pairs up to the empty name followed by the object-end
/// marker. With `lenient_end`, input that ends where a name would start also
/// ends the list (some encoders leave the end marker off an ECMA array that
/// closes a message).
fn read_properties(
    buf: &mut &[u8],
    budget: &mut Budget<'_>,
    lenient_end: bool,
) -> Result<Properties, AmfError> {
    let mut props = Vec::new();
    loop {
        if lenient_end && buf.is_empty() {
            return Ok(props);
        }
        let len = read_u16(buf)? as usize;
        if len == 0 {
            // An empty name must be followed by the object-end marker.
            match take_u8(buf)? {
                marker::OBJECT_END => return Ok(props),
                _ => {
                    return Err(AmfError::Malformed(
                        "empty property name without object end",
                    ));
                }
            }
        }
        let name = read_string(buf, len, budget)?;
        let value = decode_value(buf, budget)?;
        props.push((name, value));
    }
}

fn read_string(buf: &mut &[u8], len: usize, budget: &Budget<'_>) -> Result<String, AmfError> {
    budget.check_len(len, buf)?;
    take_str(buf, len)
}

fn read_u16(buf: &mut &[u8]) -> Result<u16, AmfError> {
    let b = take(buf, 2)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn read_u32(buf: &mut &[u8]) -> Result<u32, AmfError> {
    let b = take(buf, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_f64(buf: &mut &[u8]) -> Result<f64, AmfError> {
    let b = take(buf, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(f64::from_be_bytes(a))
}

/// Appends the encoding of `value` to `out`.
///
/// Strings longer than 65,535 bytes are written as long strings. Property
/// names are limited to 65,535 bytes by the format; a longer name is cut at
/// the last character boundary that fits.
pub fn encode(value: &Value, out: &mut BytesMut) {
    match value {
        Value::Number(n) => {
            out.put_u8(marker::NUMBER);
            out.put_f64(*n);
        }
        Value::Boolean(b) => {
            out.put_u8(marker::BOOLEAN);
            out.put_u8(u8::from(*b));
        }
        Value::String(s) => {
            if s.len() <= u16::MAX as usize {
                out.put_u8(marker::STRING);
                put_short_str(out, s);
            } else {
                out.put_u8(marker::LONG_STRING);
                put_long_str(out, s);
            }
        }
        Value::Object(props) => {
            out.put_u8(marker::OBJECT);
            put_properties(out, props);
        }
        Value::Null => out.put_u8(marker::NULL),
        Value::Undefined => out.put_u8(marker::UNDEFINED),
        Value::Reference(r) => {
            out.put_u8(marker::REFERENCE);
            out.put_u16(*r);
        }
        Value::EcmaArray(props) => {
            out.put_u8(marker::ECMA_ARRAY);
            out.put_u32(u32::try_from(props.len()).unwrap_or(u32::MAX));
            put_properties(out, props);
        }
        Value::StrictArray(items) => {
            out.put_u8(marker::STRICT_ARRAY);
            out.put_u32(u32::try_from(items.len()).unwrap_or(u32::MAX));
            for item in items {
                encode(item, out);
            }
        }
        Value::Date { millis, time_zone } => {
            out.put_u8(marker::DATE);
            out.put_f64(*millis);
            out.put_i16(*time_zone);
        }
        Value::Unsupported => out.put_u8(marker::UNSUPPORTED),
        Value::XmlDocument(s) => {
            out.put_u8(marker::XML_DOCUMENT);
            put_long_str(out, s);
        }
        Value::TypedObject {
            class_name,
            properties,
        } => {
            out.put_u8(marker::TYPED_OBJECT);
            put_short_str(out, class_name);
            put_properties(out, properties);
        }
        Value::Avmplus(v) => {
            out.put_u8(marker::AVMPLUS);
            amf3::encode(v, out);
        }
    }
}

/// Encodes a sequence of values back to back.
pub fn encode_all<'a>(values: impl IntoIterator<Item = &'a Value>, out: &mut BytesMut) {
    for v in values {
        encode(v, out);
    }
}

fn put_properties(out: &mut BytesMut, props: &Properties) {
    for (name, value) in props {
        if name.is_empty() {
            // An empty name would read as the end of the object; such a
            // member cannot be represented in AMF0 and is left out.
            continue;
        }
        put_short_str(out, name);
        encode(value, out);
    }
    out.put_u16(0);
    out.put_u8(marker::OBJECT_END);
}

fn put_short_str(out: &mut BytesMut, s: &str) {
    let s = truncate_to_boundary(s, u16::MAX as usize);
    out.put_u16(s.len() as u16);
    out.put_slice(s.as_bytes());
}

fn put_long_str(out: &mut BytesMut, s: &str) {
    let s = truncate_to_boundary(s, u32::MAX as usize);
    out.put_u32(s.len() as u32);
    out.put_slice(s.as_bytes());
}

fn truncate_to_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests;
