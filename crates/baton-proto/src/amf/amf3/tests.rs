//! AMF3 codec tests: golden bytes hand-computed from the AMF 3 Specification,
//! round trips, reference resolution and hostile inputs.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::amf::{AmfError, amf0};
use crate::limits::AmfLimits;

fn enc(value: &Value) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(value, &mut out);
    out.to_vec()
}

fn dec(bytes: &[u8]) -> Result<Value, AmfError> {
    dec_with(bytes, &AmfLimits::default())
}

/// Decodes one value and checks that it took the whole input.
fn dec_with(bytes: &[u8], limits: &AmfLimits) -> Result<Value, AmfError> {
    let mut buf = bytes;
    let v = decode(&mut buf, limits)?;
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(v)
}

/// Checks both directions: `value` encodes to `bytes` and `bytes` decodes to
/// `value`.
#[track_caller]
fn golden(value: Value, bytes: &[u8]) {
    assert_eq!(enc(&value), bytes, "encoding {value:?}");
    assert_eq!(dec(bytes), Ok(value));
}

fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}

fn array(dense: Vec<Value>) -> Value {
    Value::Array {
        associative: Vec::new(),
        dense,
    }
}

fn typed(class: &str, sealed: &[(&str, Value)]) -> Value {
    Value::Object(Object {
        class_name: class.to_owned(),
        sealed: sealed
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        dynamic: None,
    })
}

fn limits(f: impl FnOnce(&mut AmfLimits)) -> AmfLimits {
    let mut l = AmfLimits::default();
    f(&mut l);
    l
}

// ---- golden bytes, one marker at a time --------------------------------

#[test]
fn golden_simple_markers() {
    golden(Value::Undefined, &[0x00]);
    golden(Value::Null, &[0x01]);
    golden(Value::Boolean(false), &[0x02]);
    golden(Value::Boolean(true), &[0x03]);
}

#[test]
fn golden_integers() {
    golden(Value::Integer(0), &[0x04, 0x00]);
    golden(Value::Integer(1), &[0x04, 0x01]);
    golden(Value::Integer(127), &[0x04, 0x7f]);
    golden(Value::Integer(128), &[0x04, 0x81, 0x00]);
    golden(Value::Integer(16383), &[0x04, 0xff, 0x7f]);
    golden(Value::Integer(16384), &[0x04, 0x81, 0x80, 0x00]);
    golden(Value::Integer(0x1f_ffff), &[0x04, 0xff, 0xff, 0x7f]);
    // The fourth byte holds 8 bits.
    golden(Value::Integer(0x20_0000), &[0x04, 0x80, 0xc0, 0x80, 0x00]);
    golden(Value::Integer(0x20_00ff), &[0x04, 0x80, 0xc0, 0x80, 0xff]);
    golden(Value::Integer(INTEGER_MAX), &[0x04, 0xbf, 0xff, 0xff, 0xff]);
    // Negative numbers are 29-bit two's complement.
    golden(Value::Integer(-1), &[0x04, 0xff, 0xff, 0xff, 0xff]);
    golden(Value::Integer(-2), &[0x04, 0xff, 0xff, 0xff, 0xfe]);
    golden(Value::Integer(INTEGER_MIN), &[0x04, 0xc0, 0x80, 0x80, 0x00]);
}

#[test]
fn integers_outside_29_bits_are_written_as_doubles() {
    assert_eq!(
        enc(&Value::Integer(INTEGER_MAX + 1)),
        [0x05, 0x41, 0xb0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        dec(&enc(&Value::Integer(INTEGER_MIN - 1))),
        Ok(Value::Double(f64::from(INTEGER_MIN - 1)))
    );
    assert_eq!(
        dec(&enc(&Value::Integer(i32::MAX))),
        Ok(Value::Double(f64::from(i32::MAX)))
    );
    assert_eq!(
        dec(&enc(&Value::Integer(i32::MIN))),
        Ok(Value::Double(f64::from(i32::MIN)))
    );
}

#[test]
fn golden_double() {
    golden(Value::Double(1.5), &[0x05, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    golden(Value::Double(-2.0), &[0x05, 0xc0, 0x00, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn golden_strings() {
    golden(s(""), &[0x06, 0x01]);
    golden(s("hi"), &[0x06, 0x05, b'h', b'i']);
    golden(s("é"), &[0x06, 0x05, 0xc3, 0xa9]);
    // A 64-byte string: its U29S-value (64 << 1 | 1 = 129) takes two bytes.
    let long = "x".repeat(64);
    let mut bytes = vec![0x06, 0x81, 0x01];
    bytes.extend_from_slice(long.as_bytes());
    golden(s(&long), &bytes);
}

#[test]
fn golden_string_references() {
    // The second "hello" is U29S-ref 0; the empty string is never in the
    // table, so "x" after it is still reference 1.
    golden(
        array(vec![s("hello"), s(""), s("hello"), s("x"), s(""), s("x")]),
        &[
            0x09, 0x0d, 0x01, //
            0x06, 0x0b, b'h', b'e', b'l', b'l', b'o', //
            0x06, 0x01, //
            0x06, 0x00, //
            0x06, 0x03, b'x', //
            0x06, 0x01, //
            0x06, 0x02,
        ],
    );
}

#[test]
fn golden_xml_document_and_xml() {
    golden(
        Value::XmlDocument("<a/>".into()),
        &[0x07, 0x09, b'<', b'a', b'/', b'>'],
    );
    golden(
        Value::Xml("<a/>".into()),
        &[0x0b, 0x09, b'<', b'a', b'/', b'>'],
    );
    // XML text does not go in the string table.
    golden(
        array(vec![Value::Xml("a".into()), s("a"), s("a")]),
        &[
            0x09, 0x07, 0x01, 0x0b, 0x03, b'a', 0x06, 0x03, b'a', 0x06, 0x00,
        ],
    );
}

#[test]
fn golden_date() {
    golden(Value::Date(0.0), &[0x08, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
    golden(
        Value::Date(1.5),
        &[0x08, 0x01, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
    );
}

#[test]
fn golden_arrays() {
    golden(array(vec![]), &[0x09, 0x01, 0x01]);
    golden(
        array(vec![Value::Integer(1), Value::Null]),
        &[0x09, 0x05, 0x01, 0x04, 0x01, 0x01],
    );
    golden(
        Value::Array {
            associative: vec![("k".into(), Value::Integer(1))],
            dense: vec![Value::Boolean(true)],
        },
        &[0x09, 0x03, 0x03, b'k', 0x04, 0x01, 0x01, 0x03],
    );
}

#[test]
fn golden_objects() {
    // Anonymous dynamic object: U29O-traits with 0 sealed members and the
    // dynamic bit (0b1011), class name "", members, then "".
    golden(
        Value::Object(Object {
            class_name: String::new(),
            sealed: vec![],
            dynamic: Some(vec![("a".into(), Value::Integer(1))]),
        }),
        &[0x0a, 0x0b, 0x01, 0x03, b'a', 0x04, 0x01, 0x01],
    );
    // Sealed typed object: 1 sealed member (1 << 4 | 0b0011).
    golden(
        typed("P", &[("x", Value::Integer(1))]),
        &[0x0a, 0x13, 0x03, b'P', 0x03, b'x', 0x04, 0x01],
    );
    // Both at once.
    golden(
        Value::Object(Object {
            class_name: "P".into(),
            sealed: vec![("x".into(), Value::Null)],
            dynamic: Some(vec![("y".into(), Value::Null)]),
        }),
        &[
            0x0a, 0x1b, 0x03, b'P', 0x03, b'x', 0x01, 0x03, b'y', 0x01, 0x01,
        ],
    );
}

#[test]
fn golden_trait_references() {
    // The second object refers to the traits of the first (U29O-traits-ref
    // 0 = 0b01); "P" as a string value then refers to string 0.
    golden(
        array(vec![
            typed("P", &[("x", Value::Integer(1))]),
            typed("P", &[("x", Value::Integer(2))]),
            typed("P", &[("y", Value::Integer(3))]),
            typed("P", &[("y", Value::Integer(4))]),
            s("P"),
        ]),
        &[
            0x09, 0x0b, 0x01, //
            0x0a, 0x13, 0x03, b'P', 0x03, b'x', 0x04, 0x01, //
            0x0a, 0x01, 0x04, 0x02, //
            0x0a, 0x13, 0x00, 0x03, b'y', 0x04, 0x03, //
            0x0a, 0x05, 0x04, 0x04, //
            0x06, 0x00,
        ],
    );
}

#[test]
fn golden_byte_array() {
    golden(
        Value::ByteArray(Bytes::from_static(&[1, 2, 3])),
        &[0x0c, 0x07, 1, 2, 3],
    );
    golden(Value::ByteArray(Bytes::new()), &[0x0c, 0x01]);
}

#[test]
fn golden_vectors() {
    golden(
        Value::VectorInt {
            fixed: false,
            items: vec![-1, 1],
        },
        &[0x0d, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1],
    );
    golden(
        Value::VectorUint {
            fixed: true,
            items: vec![u32::MAX],
        },
        &[0x0e, 0x03, 0x01, 0xff, 0xff, 0xff, 0xff],
    );
    golden(
        Value::VectorDouble {
            fixed: false,
            items: vec![1.5],
        },
        &[0x0f, 0x03, 0x00, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
    );
    golden(
        Value::VectorObject {
            fixed: false,
            type_name: "*".into(),
            items: vec![Value::Integer(5), s("*")],
        },
        &[0x10, 0x05, 0x00, 0x03, b'*', 0x04, 0x05, 0x06, 0x00],
    );
}

#[test]
fn golden_dictionary() {
    golden(
        Value::Dictionary {
            weak_keys: false,
            entries: vec![(s("k"), Value::Integer(1)), (Value::Integer(2), s("k"))],
        },
        &[
            0x11, 0x05, 0x00, 0x06, 0x03, b'k', 0x04, 0x01, 0x04, 0x02, 0x06, 0x00,
        ],
    );
    golden(
        Value::Dictionary {
            weak_keys: true,
            entries: vec![],
        },
        &[0x11, 0x01, 0x01],
    );
}

mod hostile;
mod props;
