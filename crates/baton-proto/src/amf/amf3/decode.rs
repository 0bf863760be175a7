//! AMF3 decoding (AMF 3 Specification section 3) with reference tables.
//!
//! # How references are resolved without amplification
//!
//! A value is first decoded into an internal tree whose object-table values
//! (objects, arrays, dates, XML, byte arrays, vectors, dictionaries) are
//! shared [`Arc`]s, so the reference tables hold no copies and a reference
//! costs no work. Only when the whole value has been read is it turned into a
//! plain [`Value`] tree, references expanded.
//!
//! Every table entry remembers how many values it holds, how deeply its
//! containers nest and how many string bytes it holds. A reference is charged
//! all three as if the value had been sent again in full: its values count
//! against [`AmfLimits::max_elements`], its nesting against
//! [`AmfLimits::max_depth`], and the string bytes copied out of the tables
//! (string references, the member names of trait references and the strings
//! inside referenced values) together count against
//! [`AmfLimits::max_string_len`], as if they were one string. So a small
//! input that references a value many times (a "billion laughs" bomb) fails
//! with [`AmfError::TooManyElements`] (or `TooDeep`/`StringTooLong`) as soon
//! as its expansion passes a limit, before anything is expanded. Byte arrays
//! are [`Bytes`], whose copies share memory, and are not charged by length.
//!
//! A reference to an object that is still being decoded (a cycle, which a
//! tree cannot hold) is refused with [`AmfError::BadReference`].

use std::sync::Arc;

use bytes::Bytes;

use super::{Object, Value};
use crate::amf::{AmfError, Budget, take, take_u8};
use crate::limits::AmfLimits;

/// The AMF3 type markers (section 3.1).
mod marker {
    pub(super) const UNDEFINED: u8 = 0x00;
    pub(super) const NULL: u8 = 0x01;
    pub(super) const FALSE: u8 = 0x02;
    pub(super) const TRUE: u8 = 0x03;
    pub(super) const INTEGER: u8 = 0x04;
    pub(super) const DOUBLE: u8 = 0x05;
    pub(super) const STRING: u8 = 0x06;
    pub(super) const XML_DOC: u8 = 0x07;
    pub(super) const DATE: u8 = 0x08;
    pub(super) const ARRAY: u8 = 0x09;
    pub(super) const OBJECT: u8 = 0x0A;
    pub(super) const XML: u8 = 0x0B;
    pub(super) const BYTE_ARRAY: u8 = 0x0C;
    pub(super) const VECTOR_INT: u8 = 0x0D;
    pub(super) const VECTOR_UINT: u8 = 0x0E;
    pub(super) const VECTOR_DOUBLE: u8 = 0x0F;
    pub(super) const VECTOR_OBJECT: u8 = 0x10;
    pub(super) const DICTIONARY: u8 = 0x11;
}

/// A value being decoded: like [`Value`], but object-table values are shared
/// entries and strings are shared.
#[derive(Debug)]
enum Node {
    /// A value without children (or with only plain items): copied as is.
    Leaf(Value),
    /// A string (0x06), shared with the string table.
    String(Arc<str>),
    /// An entry of the object table, decoded inline or referenced.
    Entry(Arc<Entry>),
}

/// The contents of an object-table entry.
#[derive(Debug)]
enum Complex {
    /// Date, XML, XML document, byte array and primitive vectors.
    Leaf(Value),
    Array {
        associative: Vec<(Arc<str>, Node)>,
        dense: Vec<Node>,
    },
    Object {
        traits: Arc<Traits>,
        sealed: Vec<Node>,
        dynamic: Option<Vec<(Arc<str>, Node)>>,
    },
    VectorObject {
        fixed: bool,
        type_name: Arc<str>,
        items: Vec<Node>,
    },
    Dictionary {
        weak_keys: bool,
        entries: Vec<(Node, Node)>,
    },
}

/// An object-table entry and what a reference to it costs.
#[derive(Debug)]
struct Entry {
    value: Complex,
    /// Values it holds, itself included.
    elements: usize,
    /// Container levels it nests (0 for a date, 1 for an empty array).
    height: usize,
    /// String bytes it holds (strings, names, XML).
    bytes: usize,
}

/// A traits-table entry.
#[derive(Debug)]
struct Traits {
    class_name: Arc<str>,
    sealed_names: Vec<Arc<str>>,
    dynamic: bool,
    /// Bytes of the class name and member names.
    bytes: usize,
}

/// An AMF3 decoder: holds the string, object and trait reference tables of
/// one AMF3 context.
///
/// The tables last as long as the decoder: values decoded by later calls to
/// [`Decoder::decode`] may refer to those of earlier calls. Each call has its
/// own element, depth and string budget. After an error the context is out
/// of step with the peer's; start a new decoder.
#[derive(Debug)]
pub struct Decoder {
    limits: AmfLimits,
    strings: Vec<Arc<str>>,
    /// `None` while the entry is being decoded.
    objects: Vec<Option<Arc<Entry>>>,
    traits: Vec<Arc<Traits>>,
    /// Values produced so far by this call (for entry sizes).
    produced: usize,
    /// String bytes produced so far by this call (for entry sizes).
    str_bytes: usize,
    /// String bytes copied out of the tables by this call.
    ref_bytes: usize,
    /// Container depth within this call.
    depth: usize,
    /// Deepest `depth` reached since the innermost entry began.
    peak: usize,
}

impl Decoder {
    /// A decoder with empty reference tables.
    pub fn new(limits: &AmfLimits) -> Self {
        Decoder {
            limits: limits.clone(),
            strings: Vec::new(),
            objects: Vec::new(),
            traits: Vec::new(),
            produced: 0,
            str_bytes: 0,
            ref_bytes: 0,
            depth: 0,
            peak: 0,
        }
    }

    /// Decodes one value from the front of `buf`, advancing it.
    pub fn decode(&mut self, buf: &mut &[u8]) -> Result<Value, AmfError> {
        let limits = self.limits.clone();
        let mut budget = Budget::new(&limits);
        self.decode_with_budget(buf, &mut budget)
    }

    /// Decodes one value, sharing a budget with an enclosing AMF0 value.
    pub(crate) fn decode_with_budget(
        &mut self,
        buf: &mut &[u8],
        budget: &mut Budget<'_>,
    ) -> Result<Value, AmfError> {
        self.produced = 0;
        self.str_bytes = 0;
        self.ref_bytes = 0;
        self.depth = 0;
        self.peak = 0;
        let node = self.value(buf, budget)?;
        Ok(materialize(&node))
    }

    fn count(&mut self, budget: &mut Budget<'_>, n: usize) -> Result<(), AmfError> {
        budget.count(n)?;
        self.produced = self.produced.saturating_add(n);
        Ok(())
    }

    fn enter(&mut self, budget: &mut Budget<'_>) -> Result<(), AmfError> {
        budget.enter()?;
        self.depth += 1;
        self.peak = self.peak.max(self.depth);
        Ok(())
    }

    fn leave(&mut self, budget: &mut Budget<'_>) {
        budget.leave();
        self.depth = self.depth.saturating_sub(1);
    }

    /// Charges string bytes copied out of a table.
    fn copy_bytes(&mut self, n: usize) -> Result<(), AmfError> {
        self.str_bytes = self.str_bytes.saturating_add(n);
        self.ref_bytes = self.ref_bytes.saturating_add(n);
        if self.ref_bytes > self.limits.max_string_len {
            return Err(AmfError::StringTooLong {
                len: self.ref_bytes,
                max: self.limits.max_string_len,
            });
        }
        Ok(())
    }

    fn value(&mut self, buf: &mut &[u8], budget: &mut Budget<'_>) -> Result<Node, AmfError> {
        let m = take_u8(buf)?;
        match m {
            marker::UNDEFINED => self.leaf(budget, Value::Undefined),
            marker::NULL => self.leaf(budget, Value::Null),
            marker::FALSE => self.leaf(budget, Value::Boolean(false)),
            marker::TRUE => self.leaf(budget, Value::Boolean(true)),
            marker::INTEGER => {
                let u = read_u29(buf)?;
                // Sign-extend the 29-bit two's complement value.
                let i = ((u << 3) as i32) >> 3;
                self.leaf(budget, Value::Integer(i))
            }
            marker::DOUBLE => {
                let d = read_f64(buf)?;
                self.leaf(budget, Value::Double(d))
            }
            marker::STRING => {
                self.count(budget, 1)?;
                Ok(Node::String(self.string(buf, budget)?))
            }
            marker::XML_DOC | marker::XML | marker::BYTE_ARRAY => {
                self.complex(buf, budget, |d, header, buf, budget| {
                    let len = (header >> 1) as usize;
                    budget.check_len(len, buf)?;
                    let raw = take(buf, len)?;
                    if m == marker::BYTE_ARRAY {
                        return Ok(Complex::Leaf(Value::ByteArray(Bytes::copy_from_slice(raw))));
                    }
                    let s = std::str::from_utf8(raw)
                        .map_err(|_| AmfError::InvalidUtf8)?
                        .to_owned();
                    d.str_bytes = d.str_bytes.saturating_add(len);
                    Ok(Complex::Leaf(if m == marker::XML {
                        Value::Xml(s)
                    } else {
                        Value::XmlDocument(s)
                    }))
                })
            }
            marker::DATE => self.complex(buf, budget, |_, _, buf, _| {
                // The rest of U29D-value is not used.
                Ok(Complex::Leaf(Value::Date(read_f64(buf)?)))
            }),
            marker::ARRAY => self.complex(buf, budget, |d, header, buf, budget| {
                let dense_len = (header >> 1) as usize;
                d.enter(budget)?;
                let mut associative = Vec::new();
                loop {
                    let name = d.string(buf, budget)?;
                    if name.is_empty() {
                        break;
                    }
                    let value = d.value(buf, budget)?;
                    associative.push((name, value));
                }
                let cap = budget.check_count(dense_len, 1, buf)?;
                let mut dense = Vec::with_capacity(cap);
                for _ in 0..dense_len {
                    dense.push(d.value(buf, budget)?);
                }
                d.leave(budget);
                Ok(Complex::Array { associative, dense })
            }),
            marker::OBJECT => self.complex(buf, budget, |d, header, buf, budget| {
                let traits = d.traits(header, buf, budget)?;
                d.enter(budget)?;
                let cap = budget.check_count(traits.sealed_names.len(), 1, buf)?;
                let mut sealed = Vec::with_capacity(cap);
                for _ in 0..traits.sealed_names.len() {
                    sealed.push(d.value(buf, budget)?);
                }
                let dynamic = if traits.dynamic {
                    let mut members = Vec::new();
                    loop {
                        let name = d.string(buf, budget)?;
                        if name.is_empty() {
                            break;
                        }
                        let value = d.value(buf, budget)?;
                        members.push((name, value));
                    }
                    Some(members)
                } else {
                    None
                };
                d.leave(budget);
                Ok(Complex::Object {
                    traits,
                    sealed,
                    dynamic,
                })
            }),
            marker::VECTOR_INT | marker::VECTOR_UINT | marker::VECTOR_DOUBLE => {
                self.complex(buf, budget, |d, header, buf, budget| {
                    let len = (header >> 1) as usize;
                    let fixed = take_u8(buf)? != 0;
                    let size = if m == marker::VECTOR_DOUBLE { 8 } else { 4 };
                    let cap = budget.check_count(len, size, buf)?;
                    d.enter(budget)?;
                    d.count(budget, len)?;
                    let value = match m {
                        marker::VECTOR_INT => {
                            let mut items = Vec::with_capacity(cap);
                            for _ in 0..len {
                                items.push(read_u32(buf)? as i32);
                            }
                            Value::VectorInt { fixed, items }
                        }
                        marker::VECTOR_UINT => {
                            let mut items = Vec::with_capacity(cap);
                            for _ in 0..len {
                                items.push(read_u32(buf)?);
                            }
                            Value::VectorUint { fixed, items }
                        }
                        _ => {
                            let mut items = Vec::with_capacity(cap);
                            for _ in 0..len {
                                items.push(read_f64(buf)?);
                            }
                            Value::VectorDouble { fixed, items }
                        }
                    };
                    d.leave(budget);
                    Ok(Complex::Leaf(value))
                })
            }
            marker::VECTOR_OBJECT => self.complex(buf, budget, |d, header, buf, budget| {
                let len = (header >> 1) as usize;
                let fixed = take_u8(buf)? != 0;
                let type_name = d.string(buf, budget)?;
                let cap = budget.check_count(len, 1, buf)?;
                d.enter(budget)?;
                let mut items = Vec::with_capacity(cap);
                for _ in 0..len {
                    items.push(d.value(buf, budget)?);
                }
                d.leave(budget);
                Ok(Complex::VectorObject {
                    fixed,
                    type_name,
                    items,
                })
            }),
            marker::DICTIONARY => self.complex(buf, budget, |d, header, buf, budget| {
                let len = (header >> 1) as usize;
                let weak_keys = take_u8(buf)? != 0;
                // A key and a value take at least a byte each.
                let cap = budget.check_count(len.saturating_mul(2), 1, buf)? / 2;
                d.enter(budget)?;
                let mut entries = Vec::with_capacity(cap);
                for _ in 0..len {
                    let key = d.value(buf, budget)?;
                    let value = d.value(buf, budget)?;
                    entries.push((key, value));
                }
                d.leave(budget);
                Ok(Complex::Dictionary { weak_keys, entries })
            }),
            other => Err(AmfError::UnknownMarker {
                version: 3,
                marker: other,
            }),
        }
    }

    fn leaf(&mut self, budget: &mut Budget<'_>, value: Value) -> Result<Node, AmfError> {
        self.count(budget, 1)?;
        Ok(Node::Leaf(value))
    }

    /// Reads a value that goes in the object table: a U29 whose low bit is 0
    /// for a reference (the rest is the index), and otherwise the value,
    /// which `body` reads given the U29.
    fn complex(
        &mut self,
        buf: &mut &[u8],
        budget: &mut Budget<'_>,
        body: impl FnOnce(&mut Self, u32, &mut &[u8], &mut Budget<'_>) -> Result<Complex, AmfError>,
    ) -> Result<Node, AmfError> {
        let header = read_u29(buf)?;
        if header & 1 == 0 {
            return self.object_reference((header >> 1) as usize, budget);
        }
        let (produced, str_bytes, depth, peak) =
            (self.produced, self.str_bytes, self.depth, self.peak);
        self.count(budget, 1)?;
        // The entry takes its index before its contents are read, so that
        // references inside it number as the encoder numbered them.
        if self.objects.len() >= self.limits.max_references {
            return Err(AmfError::TooManyReferences {
                max: self.limits.max_references,
            });
        }
        let index = self.objects.len();
        self.objects.push(None);
        self.peak = depth;
        let value = body(self, header, buf, budget)?;
        let entry = Arc::new(Entry {
            value,
            elements: self.produced - produced,
            height: self.peak - depth,
            bytes: self.str_bytes - str_bytes,
        });
        self.peak = self.peak.max(peak);
        self.objects[index] = Some(entry.clone());
        Ok(Node::Entry(entry))
    }

    /// Resolves an object reference, charging the full size of the value.
    fn object_reference(
        &mut self,
        index: usize,
        budget: &mut Budget<'_>,
    ) -> Result<Node, AmfError> {
        // `None`: the object is still being decoded, so this is a cycle.
        let entry = self
            .objects
            .get(index)
            .cloned()
            .flatten()
            .ok_or(AmfError::BadReference { version: 3, index })?;
        self.count(budget, entry.elements)?;
        for entered in 0..entry.height {
            if let Err(e) = budget.enter() {
                for _ in 0..entered {
                    budget.leave();
                }
                return Err(e);
            }
        }
        for _ in 0..entry.height {
            budget.leave();
        }
        self.peak = self.peak.max(self.depth + entry.height);
        self.copy_bytes(entry.bytes)?;
        Ok(Node::Entry(entry))
    }

    /// Reads a U29S string: a reference or a new string, which (when not
    /// empty) joins the string table.
    fn string(&mut self, buf: &mut &[u8], budget: &mut Budget<'_>) -> Result<Arc<str>, AmfError> {
        let header = read_u29(buf)?;
        let n = (header >> 1) as usize;
        if header & 1 == 0 {
            let s = self.strings.get(n).cloned().ok_or(AmfError::BadReference {
                version: 3,
                index: n,
            })?;
            self.copy_bytes(s.len())?;
            return Ok(s);
        }
        budget.check_len(n, buf)?;
        let raw = take(buf, n)?;
        let s: Arc<str> = Arc::from(std::str::from_utf8(raw).map_err(|_| AmfError::InvalidUtf8)?);
        self.str_bytes = self.str_bytes.saturating_add(n);
        if !s.is_empty() {
            if self.strings.len() >= self.limits.max_references {
                return Err(AmfError::TooManyReferences {
                    max: self.limits.max_references,
                });
            }
            self.strings.push(s.clone());
        }
        Ok(s)
    }

    /// Reads the traits of an object whose U29O (`header`) is not an object
    /// reference.
    fn traits(
        &mut self,
        header: u32,
        buf: &mut &[u8],
        budget: &mut Budget<'_>,
    ) -> Result<Arc<Traits>, AmfError> {
        if header & 0b10 == 0 {
            // U29O-traits-ref
            let index = (header >> 2) as usize;
            let traits = self
                .traits
                .get(index)
                .cloned()
                .ok_or(AmfError::BadReference { version: 3, index })?;
            self.copy_bytes(traits.bytes)?;
            return Ok(traits);
        }
        if header & 0b100 != 0 {
            return Err(AmfError::Malformed("AMF3 externalizable object"));
        }
        let dynamic = header & 0b1000 != 0;
        let count = (header >> 4) as usize;
        let str_bytes = self.str_bytes;
        let class_name = self.string(buf, budget)?;
        // Each member takes at least a byte for its name and one for its
        // value, and each value counts against the element budget.
        let cap = budget.check_count(count, 2, buf)?;
        let mut sealed_names = Vec::with_capacity(cap);
        for _ in 0..count {
            sealed_names.push(self.string(buf, budget)?);
        }
        if self.traits.len() >= self.limits.max_references {
            return Err(AmfError::TooManyReferences {
                max: self.limits.max_references,
            });
        }
        let traits = Arc::new(Traits {
            class_name,
            sealed_names,
            dynamic,
            bytes: self.str_bytes - str_bytes,
        });
        self.traits.push(traits.clone());
        Ok(traits)
    }
}

/// Decodes one value with a fresh context.
pub fn decode(buf: &mut &[u8], limits: &AmfLimits) -> Result<Value, AmfError> {
    Decoder::new(limits).decode(buf)
}

/// Expands a decoded tree into a plain value. Its size was charged while
/// decoding.
fn materialize(node: &Node) -> Value {
    match node {
        Node::Leaf(v) => v.clone(),
        Node::String(s) => Value::String(s.to_string()),
        Node::Entry(entry) => materialize_complex(&entry.value),
    }
}

fn materialize_complex(value: &Complex) -> Value {
    let pairs = |pairs: &[(Arc<str>, Node)]| -> Vec<(String, Value)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), materialize(v)))
            .collect()
    };
    match value {
        Complex::Leaf(v) => v.clone(),
        Complex::Array { associative, dense } => Value::Array {
            associative: pairs(associative),
            dense: dense.iter().map(materialize).collect(),
        },
        Complex::Object {
            traits,
            sealed,
            dynamic,
        } => Value::Object(Object {
            class_name: traits.class_name.to_string(),
            sealed: traits
                .sealed_names
                .iter()
                .zip(sealed)
                .map(|(k, v)| (k.to_string(), materialize(v)))
                .collect(),
            dynamic: dynamic.as_deref().map(pairs),
        }),
        Complex::VectorObject {
            fixed,
            type_name,
            items,
        } => Value::VectorObject {
            fixed: *fixed,
            type_name: type_name.to_string(),
            items: items.iter().map(materialize).collect(),
        },
        Complex::Dictionary { weak_keys, entries } => Value::Dictionary {
            weak_keys: *weak_keys,
            entries: entries
                .iter()
                .map(|(k, v)| (materialize(k), materialize(v)))
                .collect(),
        },
    }
}

/// Reads a U29: 1 to 4 bytes, 7 bits from each of the first three (high bit
/// set when another byte follows) and 8 bits from the fourth.
fn read_u29(buf: &mut &[u8]) -> Result<u32, AmfError> {
    let mut value = 0u32;
    for _ in 0..3 {
        let b = take_u8(buf)?;
        value = (value << 7) | u32::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    let b = take_u8(buf)?;
    Ok((value << 8) | u32::from(b))
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
