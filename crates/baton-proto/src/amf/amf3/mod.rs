//! AMF3 (Adobe "AMF 3 Specification", 2013): the value model.
//!
//! Decoded values are plain trees. Object, array and string references on the
//! wire are resolved while decoding (each resolved reference is counted
//! against [`AmfLimits::max_elements`](crate::limits::AmfLimits), so a chain of
//! references cannot expand into an unbounded tree). The encoder writes
//! strings by reference when they repeat and objects inline.

mod decode;
mod encode;

pub use decode::{Decoder, decode};
pub use encode::{Encoder, encode};

use bytes::Bytes;

/// An AMF3 value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `undefined` (marker 0x00).
    Undefined,
    /// `null` (0x01).
    Null,
    /// `false` (0x02) or `true` (0x03).
    Boolean(bool),
    /// A 29-bit signed integer (0x04), -2^28 ..= 2^28 - 1.
    Integer(i32),
    /// An IEEE-754 double (0x05).
    Double(f64),
    /// A UTF-8 string (0x06).
    String(String),
    /// A legacy XML document (0x07).
    XmlDocument(String),
    /// A date (0x08): milliseconds since the Unix epoch, UTC.
    Date(f64),
    /// An array (0x09): the associative part (in wire order) and the dense
    /// part.
    Array {
        /// Name/value pairs of the associative portion.
        associative: Vec<(String, Value)>,
        /// The dense (ordinal) portion.
        dense: Vec<Value>,
    },
    /// An object (0x0A), sealed and dynamic. Externalizable objects are
    /// refused by the decoder: only their class knows their encoding.
    Object(Object),
    /// An E4X XML value (0x0B).
    Xml(String),
    /// A byte array (0x0C).
    ByteArray(Bytes),
    /// `Vector.<int>` (0x0D).
    VectorInt {
        /// Whether the vector has a fixed length.
        fixed: bool,
        /// The items.
        items: Vec<i32>,
    },
    /// `Vector.<uint>` (0x0E).
    VectorUint {
        /// Whether the vector has a fixed length.
        fixed: bool,
        /// The items.
        items: Vec<u32>,
    },
    /// `Vector.<Number>` (0x0F).
    VectorDouble {
        /// Whether the vector has a fixed length.
        fixed: bool,
        /// The items.
        items: Vec<f64>,
    },
    /// `Vector.<Object>` (0x10).
    VectorObject {
        /// Whether the vector has a fixed length.
        fixed: bool,
        /// The element class name ("*" or "" for any).
        type_name: String,
        /// The items.
        items: Vec<Value>,
    },
    /// A dictionary (0x11).
    Dictionary {
        /// Whether the keys are weakly referenced.
        weak_keys: bool,
        /// Key/value pairs in wire order.
        entries: Vec<(Value, Value)>,
    },
}

/// An AMF3 object: its traits' class name, its sealed members in trait order,
/// and its dynamic members.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    /// The class name; empty for an anonymous object.
    pub class_name: String,
    /// Sealed members, in the order of the traits.
    pub sealed: Vec<(String, Value)>,
    /// Dynamic members (`None` when the traits are not dynamic).
    pub dynamic: Option<Vec<(String, Value)>>,
}

/// Smallest value an AMF3 integer may hold (-2^28).
pub const INTEGER_MIN: i32 = -(1 << 28);
/// Largest value an AMF3 integer may hold (2^28 - 1).
pub const INTEGER_MAX: i32 = (1 << 28) - 1;

#[cfg(test)]
mod tests;
