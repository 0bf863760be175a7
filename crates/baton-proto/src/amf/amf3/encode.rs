//! AMF3 encoding (AMF 3 Specification section 3).
//!
//! - Repeated non-empty strings (values, member names, class names, vector
//!   type names) are written as string references, and repeated traits (same
//!   class name, sealed member names and dynamic flag) as trait references.
//!   Objects, arrays and the other object-table values are always written
//!   inline, so no object reference is ever emitted.
//! - [`Value::Integer`]s outside -2^28 ..= 2^28 - 1 (the 29-bit range of the
//!   integer type) are written as doubles, as the spec says to.
//! - Members with an empty name in an array's associative part or an object's
//!   dynamic part are left out: the empty name ends those lists on the wire.
//! - Lengths and counts are U29s: a string, XML text or byte array longer than
//!   2^28 - 1 bytes is cut (strings at a character boundary), and only the
//!   first 2^28 - 1 items of a list (2^25 - 1 sealed members of an object)
//!   are written. No real value comes near these sizes.

use std::collections::HashMap;

use bytes::{BufMut, BytesMut};

use super::{INTEGER_MAX, INTEGER_MIN, Object, Value};

/// Largest value a U29 holds with one flag bit taken: lengths, counts and
/// string reference indexes.
const U28_MAX: usize = (1 << 28) - 1;
/// Largest trait reference index (two flag bits).
const TRAIT_INDEX_MAX: usize = (1 << 27) - 1;
/// Largest sealed member count (four flag bits).
const SEALED_MAX: usize = (1 << 25) - 1;

/// Traits as the trait table knows them: class name, sealed member names,
/// dynamic flag.
type TraitsKey = (String, Vec<String>, bool);

/// An AMF3 encoder: holds the string reference table of one AMF3 context.
///
/// The tables last as long as the encoder, matching a [`Decoder`] that reads
/// the values in the same order.
///
/// [`Decoder`]: super::Decoder
#[derive(Debug, Default)]
pub struct Encoder {
    /// Index of each non-empty string written so far.
    strings: HashMap<String, usize>,
    /// Entries in the decoder's string table so far.
    string_count: usize,
    /// Index of each traits written so far.
    traits: HashMap<TraitsKey, usize>,
    /// Entries in the decoder's traits table so far.
    trait_count: usize,
}

impl Encoder {
    /// An encoder with empty reference tables.
    pub fn new() -> Self {
        Encoder::default()
    }

    /// Appends the encoding of `value` to `out`.
    pub fn encode(&mut self, value: &Value, out: &mut BytesMut) {
        match value {
            Value::Undefined => out.put_u8(0x00),
            Value::Null => out.put_u8(0x01),
            Value::Boolean(false) => out.put_u8(0x02),
            Value::Boolean(true) => out.put_u8(0x03),
            Value::Integer(i) if (INTEGER_MIN..=INTEGER_MAX).contains(i) => {
                out.put_u8(0x04);
                put_u29(out, (*i as u32) & 0x1fff_ffff);
            }
            Value::Integer(i) => {
                out.put_u8(0x05);
                out.put_f64(f64::from(*i));
            }
            Value::Double(d) => {
                out.put_u8(0x05);
                out.put_f64(*d);
            }
            Value::String(s) => {
                out.put_u8(0x06);
                self.put_string(out, s);
            }
            Value::XmlDocument(s) => {
                out.put_u8(0x07);
                put_inline_bytes(out, truncate_str(s).as_bytes());
            }
            Value::Date(millis) => {
                out.put_u8(0x08);
                put_u29(out, 1);
                out.put_f64(*millis);
            }
            Value::Array { associative, dense } => {
                out.put_u8(0x09);
                let dense = &dense[..dense.len().min(U28_MAX)];
                put_len(out, dense.len());
                self.put_pairs(out, associative);
                for item in dense {
                    self.encode(item, out);
                }
            }
            Value::Object(object) => {
                out.put_u8(0x0a);
                self.put_object(out, object);
            }
            Value::Xml(s) => {
                out.put_u8(0x0b);
                put_inline_bytes(out, truncate_str(s).as_bytes());
            }
            Value::ByteArray(b) => {
                out.put_u8(0x0c);
                put_inline_bytes(out, &b[..b.len().min(U28_MAX)]);
            }
            Value::VectorInt { fixed, items } => {
                out.put_u8(0x0d);
                let items = &items[..items.len().min(U28_MAX)];
                put_len(out, items.len());
                out.put_u8(u8::from(*fixed));
                for i in items {
                    out.put_i32(*i);
                }
            }
            Value::VectorUint { fixed, items } => {
                out.put_u8(0x0e);
                let items = &items[..items.len().min(U28_MAX)];
                put_len(out, items.len());
                out.put_u8(u8::from(*fixed));
                for u in items {
                    out.put_u32(*u);
                }
            }
            Value::VectorDouble { fixed, items } => {
                out.put_u8(0x0f);
                let items = &items[..items.len().min(U28_MAX)];
                put_len(out, items.len());
                out.put_u8(u8::from(*fixed));
                for d in items {
                    out.put_f64(*d);
                }
            }
            Value::VectorObject {
                fixed,
                type_name,
                items,
            } => {
                out.put_u8(0x10);
                let items = &items[..items.len().min(U28_MAX)];
                put_len(out, items.len());
                out.put_u8(u8::from(*fixed));
                self.put_string(out, type_name);
                for item in items {
                    self.encode(item, out);
                }
            }
            Value::Dictionary { weak_keys, entries } => {
                out.put_u8(0x11);
                let entries = &entries[..entries.len().min(U28_MAX)];
                put_len(out, entries.len());
                out.put_u8(u8::from(*weak_keys));
                for (key, value) in entries {
                    self.encode(key, out);
                    self.encode(value, out);
                }
            }
        }
    }

    /// Writes a U29S: a reference to an earlier equal string, or the string
    /// (which, when not empty, joins the table).
    fn put_string(&mut self, out: &mut BytesMut, s: &str) {
        let s = truncate_str(s);
        if s.is_empty() {
            put_u29(out, 1);
            return;
        }
        match self.strings.get(s) {
            Some(&index) if index <= U28_MAX => {
                put_u29(out, (index as u32) << 1);
                return;
            }
            Some(_) => {}
            None => {
                self.strings.insert(s.to_owned(), self.string_count);
            }
        }
        // The decoder numbers every inline non-empty string, referable or
        // not.
        self.string_count += 1;
        put_inline_bytes(out, s.as_bytes());
    }

    /// Writes name/value pairs then the empty string that ends them.
    fn put_pairs(&mut self, out: &mut BytesMut, pairs: &[(String, Value)]) {
        for (name, value) in pairs {
            if name.is_empty() {
                continue;
            }
            self.put_string(out, name);
            self.encode(value, out);
        }
        put_u29(out, 1);
    }

    fn put_object(&mut self, out: &mut BytesMut, object: &Object) {
        let sealed = &object.sealed[..object.sealed.len().min(SEALED_MAX)];
        let dynamic = object.dynamic.is_some();
        let key: TraitsKey = (
            object.class_name.clone(),
            sealed.iter().map(|(name, _)| name.clone()).collect(),
            dynamic,
        );
        match self.traits.get(&key) {
            Some(&index) if index <= TRAIT_INDEX_MAX => {
                // U29O-traits-ref
                put_u29(out, ((index as u32) << 2) | 0b01);
            }
            _ => {
                // U29O-traits
                put_u29(
                    out,
                    ((sealed.len() as u32) << 4) | (u32::from(dynamic) << 3) | 0b011,
                );
                self.put_string(out, &object.class_name);
                for (name, _) in sealed {
                    self.put_string(out, name);
                }
                let index = self.trait_count;
                self.trait_count += 1;
                self.traits.entry(key).or_insert(index);
            }
        }
        for (_, value) in sealed {
            self.encode(value, out);
        }
        if let Some(members) = &object.dynamic {
            self.put_pairs(out, members);
        }
    }
}

/// Encodes one value with a fresh context.
pub fn encode(value: &Value, out: &mut BytesMut) {
    Encoder::new().encode(value, out)
}

/// Writes a U29 (`value` < 2^29): 7 bits in each of up to three bytes with
/// the high bit set when another follows, then 8 bits in a fourth.
fn put_u29(out: &mut BytesMut, value: u32) {
    let v = value & 0x1fff_ffff;
    if v < 0x80 {
        out.put_u8(v as u8);
    } else if v < 0x4000 {
        out.put_u8(((v >> 7) as u8) | 0x80);
        out.put_u8((v & 0x7f) as u8);
    } else if v < 0x20_0000 {
        out.put_u8(((v >> 14) as u8) | 0x80);
        out.put_u8((((v >> 7) & 0x7f) as u8) | 0x80);
        out.put_u8((v & 0x7f) as u8);
    } else {
        out.put_u8(((v >> 22) as u8) | 0x80);
        out.put_u8((((v >> 15) & 0x7f) as u8) | 0x80);
        out.put_u8((((v >> 8) & 0x7f) as u8) | 0x80);
        out.put_u8((v & 0xff) as u8);
    }
}

/// Writes a U29 length or count with the low "inline value" bit set.
fn put_len(out: &mut BytesMut, len: usize) {
    put_u29(out, ((len.min(U28_MAX) as u32) << 1) | 1);
}

/// Writes the inline form of a U29S/U29X/U29B: length, then the bytes.
fn put_inline_bytes(out: &mut BytesMut, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.put_slice(&bytes[..bytes.len().min(U28_MAX)]);
}

/// Cuts a string longer than a U29 length can say at the last character
/// boundary that fits.
fn truncate_str(s: &str) -> &str {
    if s.len() <= U28_MAX {
        return s;
    }
    let mut end = U28_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
