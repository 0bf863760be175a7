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

// ---- decoding what the encoder never writes ----------------------------

#[test]
fn object_references_are_resolved() {
    // [o, o, d, d] with o an empty anonymous object (object index 1, the
    // array being 0) and d a date (index 2).
    let bytes = [
        0x09, 0x09, 0x01, //
        0x0a, 0x0b, 0x01, 0x03, b'a', 0x04, 0x07, 0x01, //
        0x0a, 0x02, //
        0x08, 0x01, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, //
        0x08, 0x04,
    ];
    let o = Value::Object(Object {
        class_name: String::new(),
        sealed: vec![],
        dynamic: Some(vec![("a".into(), Value::Integer(7))]),
    });
    assert_eq!(
        dec(&bytes),
        Ok(array(vec![
            o.clone(),
            o,
            Value::Date(1.5),
            Value::Date(1.5)
        ]))
    );
}

#[test]
fn every_object_table_type_can_be_referenced() {
    let leaves = [
        Value::XmlDocument("<a/>".into()),
        Value::Xml("<b/>".into()),
        Value::ByteArray(Bytes::from_static(b"xyz")),
        Value::VectorInt {
            fixed: true,
            items: vec![1, 2],
        },
        Value::VectorUint {
            fixed: false,
            items: vec![3],
        },
        Value::VectorDouble {
            fixed: false,
            items: vec![0.5],
        },
        Value::VectorObject {
            fixed: false,
            type_name: "T".into(),
            items: vec![Value::Null],
        },
        Value::Dictionary {
            weak_keys: true,
            entries: vec![(Value::Null, Value::Null)],
        },
        array(vec![Value::Integer(1)]),
    ];
    for leaf in leaves {
        // [leaf, reference to object 1]
        let mut bytes = vec![0x09, 0x05, 0x01];
        bytes.extend_from_slice(&enc(&leaf));
        bytes.extend_from_slice(&[enc(&leaf)[0], 0x02]);
        assert_eq!(dec(&bytes), Ok(array(vec![leaf.clone(), leaf])));
    }
}

#[test]
fn references_into_nested_values_number_in_wire_order() {
    // [[a], ref 1 (the inner array), ref 0 would be a cycle]
    let bytes = [
        0x09, 0x05, 0x01, //
        0x09, 0x03, 0x01, 0x06, 0x03, b'a', //
        0x09, 0x02,
    ];
    let inner = array(vec![s("a")]);
    assert_eq!(dec(&bytes), Ok(array(vec![inner.clone(), inner])));
}

#[test]
fn cyclic_reference_is_refused() {
    // An array that contains itself.
    assert_eq!(
        dec(&[0x09, 0x03, 0x01, 0x09, 0x00]),
        Err(AmfError::BadReference {
            version: 3,
            index: 0
        })
    );
    // An object whose member is the object.
    assert_eq!(
        dec(&[0x0a, 0x0b, 0x01, 0x03, b'a', 0x0a, 0x00, 0x01]),
        Err(AmfError::BadReference {
            version: 3,
            index: 0
        })
    );
}

#[test]
fn bad_reference_indexes() {
    let bad = |index| Err(AmfError::BadReference { version: 3, index });
    // String reference 0 with an empty table.
    assert_eq!(dec(&[0x06, 0x00]), bad(0));
    // String reference 1 with one string.
    assert_eq!(
        dec(&[0x09, 0x05, 0x01, 0x06, 0x03, b'a', 0x06, 0x02]),
        bad(1)
    );
    // Object reference with an empty table.
    assert_eq!(dec(&[0x0a, 0x00]), bad(0));
    assert_eq!(dec(&[0x08, 0x06]), bad(3));
    // Traits reference 0 and 1 with no traits.
    assert_eq!(dec(&[0x0a, 0x01]), bad(0));
    assert_eq!(dec(&[0x0a, 0x05]), bad(1));
    // A member name that refers past the string table.
    assert_eq!(dec(&[0x0a, 0x0b, 0x01, 0x04, 0x01, 0x01]), bad(2));
}

#[test]
fn externalizable_objects_are_refused() {
    assert_eq!(
        dec(&[0x0a, 0x07, 0x03, b'E', 0x01]),
        Err(AmfError::Malformed("AMF3 externalizable object"))
    );
}

#[test]
fn unknown_markers_are_refused() {
    for m in [0x12, 0x20, 0xff] {
        assert_eq!(
            dec(&[m]),
            Err(AmfError::UnknownMarker {
                version: 3,
                marker: m
            })
        );
    }
}

#[test]
fn invalid_utf8_is_refused() {
    assert_eq!(dec(&[0x06, 0x03, 0xff]), Err(AmfError::InvalidUtf8));
    assert_eq!(dec(&[0x0b, 0x03, 0xff]), Err(AmfError::InvalidUtf8));
}

#[test]
fn truncated_input_fails_with_eof_at_every_cut() {
    let value = array(vec![
        typed("P", &[("x", Value::Integer(300_000))]),
        typed("P", &[("x", Value::Double(1.5))]),
        Value::Array {
            associative: vec![("k".into(), s("v"))],
            dense: vec![s("v")],
        },
        Value::Date(3.0),
        Value::XmlDocument("<x/>".into()),
        Value::ByteArray(Bytes::from_static(b"ab")),
        Value::VectorInt {
            fixed: false,
            items: vec![1, 2],
        },
        Value::VectorUint {
            fixed: false,
            items: vec![1],
        },
        Value::VectorDouble {
            fixed: false,
            items: vec![1.0],
        },
        Value::VectorObject {
            fixed: true,
            type_name: "T".into(),
            items: vec![Value::Null],
        },
        Value::Dictionary {
            weak_keys: false,
            entries: vec![(Value::Null, Value::Null)],
        },
        Value::Object(Object {
            class_name: String::new(),
            sealed: vec![],
            dynamic: Some(vec![("d".into(), Value::Null)]),
        }),
    ]);
    let bytes = enc(&value);
    assert_eq!(dec(&bytes), Ok(value));
    for cut in 0..bytes.len() {
        assert_eq!(
            dec(&bytes[..cut]),
            Err(AmfError::UnexpectedEof),
            "cut at {cut}"
        );
    }
}

#[test]
fn too_deep_nesting_fails() {
    let mut bytes = Vec::new();
    for _ in 0..40 {
        bytes.extend_from_slice(&[0x09, 0x03, 0x01]);
    }
    bytes.push(0x01);
    assert_eq!(dec(&bytes), Err(AmfError::TooDeep { max: 32 }));
    // Exactly at the limit is fine.
    let l = limits(|l| l.max_depth = 40);
    assert!(dec_with(&bytes, &l).is_ok());
    let l = limits(|l| l.max_depth = 39);
    assert_eq!(dec_with(&bytes, &l), Err(AmfError::TooDeep { max: 39 }));
}

#[test]
fn nesting_by_reference_counts_against_depth() {
    // [A, B]: A is 20 nested arrays, B is 15 nested arrays around a
    // reference to A, so the tree is 1 + 15 + 20 = 36 levels deep.
    let mut bytes = vec![0x09, 0x05, 0x01];
    for _ in 0..20 {
        bytes.extend_from_slice(&[0x09, 0x03, 0x01]);
    }
    bytes.push(0x01);
    for _ in 0..15 {
        bytes.extend_from_slice(&[0x09, 0x03, 0x01]);
    }
    bytes.extend_from_slice(&[0x09, 0x02]); // A is object 1
    assert_eq!(dec(&bytes), Err(AmfError::TooDeep { max: 32 }));
    let l = limits(|l| l.max_depth = 36);
    assert!(dec_with(&bytes, &l).is_ok());
    let l = limits(|l| l.max_depth = 35);
    assert_eq!(dec_with(&bytes, &l), Err(AmfError::TooDeep { max: 35 }));
}

#[test]
fn element_budget() {
    let value = array((0..20).map(Value::Integer).collect());
    let bytes = enc(&value);
    // The array and its 20 items.
    let l = limits(|l| l.max_elements = 21);
    assert_eq!(dec_with(&bytes, &l), Ok(value));
    let l = limits(|l| l.max_elements = 20);
    assert_eq!(
        dec_with(&bytes, &l),
        Err(AmfError::TooManyElements { max: 20 })
    );
    // A vector's items count as elements too.
    let v = Value::VectorInt {
        fixed: false,
        items: vec![0; 20],
    };
    assert_eq!(
        dec_with(&enc(&v), &l),
        Err(AmfError::TooManyElements { max: 20 })
    );
}

#[test]
fn huge_declared_counts_fail_before_allocating() {
    // 2^28 - 1 dense items, vector items, dictionary entries, sealed members.
    for bytes in [
        &[0x09, 0xff, 0xff, 0xff, 0xff, 0x01][..],
        &[0x0d, 0xff, 0xff, 0xff, 0xff, 0x00],
        &[0x0f, 0xff, 0xff, 0xff, 0xff, 0x00],
        &[0x10, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01],
        &[0x11, 0xff, 0xff, 0xff, 0xff, 0x00],
        &[0x0a, 0xff, 0xff, 0xff, 0xf3, 0x01],
    ] {
        assert_eq!(
            dec(bytes),
            Err(AmfError::TooManyElements { max: 1 << 16 }),
            "{bytes:x?}"
        );
        // Without an element limit, the input is too short for the count.
        let l = limits(|l| l.max_elements = usize::MAX);
        assert_eq!(
            dec_with(bytes, &l),
            Err(AmfError::UnexpectedEof),
            "{bytes:x?}"
        );
    }
    // Strings, XML and byte arrays: the declared length is checked first.
    for m in [0x06, 0x07, 0x0b, 0x0c] {
        assert_eq!(
            dec(&[m, 0xff, 0xff, 0xff, 0xff]),
            Err(AmfError::StringTooLong {
                len: (1 << 28) - 1,
                max: 1 << 20
            })
        );
    }
}

#[test]
fn reference_bomb_fails_fast() {
    // One array of 200 integers (object 1), then 999 references to it: about
    // 2.4 KB of input that would expand to 200,000 values.
    let mut bytes = vec![0x09, 0x8f, 0x51, 0x01]; // 1000 dense items
    bytes.extend_from_slice(&[0x09, 0x83, 0x11, 0x01]); // 200 dense items
    for _ in 0..200 {
        bytes.extend_from_slice(&[0x04, 0x01]);
    }
    for _ in 0..999 {
        bytes.extend_from_slice(&[0x09, 0x02]);
    }
    let start = std::time::Instant::now();
    assert_eq!(dec(&bytes), Err(AmfError::TooManyElements { max: 1 << 16 }));
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
    // With room for it all, it decodes to the full tree.
    let l = limits(|l| l.max_elements = 1 + 201 * 1000);
    let v = dec_with(&bytes, &l).unwrap();
    let Value::Array { dense, .. } = v else {
        panic!("not an array")
    };
    assert_eq!(dense.len(), 1000);
    assert!(dense.iter().all(|d| *d == dense[0]));
}

#[test]
fn doubling_reference_bomb_fails_fast() {
    // [e0, e1, ..., e39] where e0 = [] and e(i) = [e(i-1), e(i-1)] by
    // reference: e39 alone would hold 2^40 values.
    let mut bytes = vec![0x09, 0x51, 0x01, 0x09, 0x01, 0x01];
    for i in 1u8..40 {
        // e(i-1) is object i.
        bytes.extend_from_slice(&[0x09, 0x05, 0x01, 0x09, i << 1, 0x09, i << 1]);
    }
    let start = std::time::Instant::now();
    assert_eq!(dec(&bytes), Err(AmfError::TooManyElements { max: 1 << 16 }));
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn string_reference_bomb_fails() {
    // A 1000-byte string, then 2000 references to it: 2 MB of copies.
    let long = "x".repeat(1000);
    let mut bytes = vec![0x09, 0x9f, 0x23, 0x01]; // 2001 dense items
    bytes.extend_from_slice(&enc(&s(&long)));
    for _ in 0..2000 {
        bytes.extend_from_slice(&[0x06, 0x00]);
    }
    assert!(matches!(
        dec(&bytes),
        Err(AmfError::StringTooLong { max: 0x10_0000, .. })
    ));
    // Each reference is charged its length: 1000 references fit in 1 MB.
    let l = limits(|l| l.max_string_len = 1000 * 1000);
    bytes.truncate(bytes.len() - 2000);
    bytes[1..3].copy_from_slice(&[0x8f, 0x53]); // 1001 dense items
    assert!(dec_with(&bytes, &l).is_ok());
    bytes.extend_from_slice(&[0x06, 0x00]);
    bytes[1..3].copy_from_slice(&[0x8f, 0x55]); // 1002 dense items
    assert!(matches!(
        dec_with(&bytes, &l),
        Err(AmfError::StringTooLong { .. })
    ));
}

#[test]
fn trait_and_object_references_are_charged_their_string_bytes() {
    // Traits with one 1000-byte member name, then objects that refer to
    // them; and an array holding a long string, referenced again.
    let name = "n".repeat(1000);
    let objects: Vec<Value> = (0..5)
        .map(|_| typed("C", &[(&name, Value::Null)]))
        .collect();
    let bytes = enc(&array(objects));
    // Four trait references, each "C" and the name: 4 * 1001 bytes.
    let l = limits(|l| l.max_string_len = 4003);
    assert!(matches!(
        dec_with(&bytes, &l),
        Err(AmfError::StringTooLong { .. })
    ));
    let l = limits(|l| l.max_string_len = 4004);
    assert!(dec_with(&bytes, &l).is_ok());

    let mut bytes = vec![0x09, 0x07, 0x01];
    bytes.extend_from_slice(&enc(&array(vec![s(&name)])));
    bytes.extend_from_slice(&[0x09, 0x02, 0x09, 0x02]);
    let l = limits(|l| l.max_string_len = 1999);
    assert!(matches!(
        dec_with(&bytes, &l),
        Err(AmfError::StringTooLong { .. })
    ));
    let l = limits(|l| l.max_string_len = 2000);
    assert!(dec_with(&bytes, &l).is_ok());
}

#[test]
fn reference_tables_are_bounded() {
    let l = limits(|l| l.max_references = 2);
    let too_many = AmfError::TooManyReferences { max: 2 };
    // Strings (the empty string does not count).
    assert!(dec_with(&enc(&array(vec![s("a"), s("b"), s(""), s("a")])), &l).is_ok());
    assert_eq!(
        dec_with(&enc(&array(vec![s("a"), s("b"), s("c")])), &l),
        Err(too_many.clone())
    );
    // Objects (the outer array is one of them).
    assert!(dec_with(&enc(&array(vec![Value::Date(0.0)])), &l).is_ok());
    assert_eq!(
        dec_with(&enc(&array(vec![Value::Date(0.0), Value::Date(1.0)])), &l),
        Err(too_many.clone())
    );
    // Every object with inline traits is itself an object-table entry, so
    // the traits table never fills before the object table does.
}

#[test]
fn decoder_and_encoder_keep_their_context_across_values() {
    let mut enc_ctx = Encoder::new();
    let mut out = BytesMut::new();
    let p = typed("P", &[("x", Value::Integer(1))]);
    enc_ctx.encode(&s("shared"), &mut out);
    enc_ctx.encode(&s("shared"), &mut out);
    enc_ctx.encode(&p, &mut out);
    enc_ctx.encode(&p, &mut out);
    assert_eq!(
        &out[..],
        &[
            0x06, 0x0d, b's', b'h', b'a', b'r', b'e', b'd', //
            0x06, 0x00, //
            0x0a, 0x13, 0x03, b'P', 0x03, b'x', 0x04, 0x01, //
            0x0a, 0x01, 0x04, 0x01,
        ]
    );
    let mut dec_ctx = Decoder::new(&AmfLimits::default());
    let mut buf = &out[..];
    assert_eq!(dec_ctx.decode(&mut buf), Ok(s("shared")));
    assert_eq!(dec_ctx.decode(&mut buf), Ok(s("shared")));
    assert_eq!(dec_ctx.decode(&mut buf), Ok(p.clone()));
    assert_eq!(dec_ctx.decode(&mut buf), Ok(p));
    assert!(buf.is_empty());
    // A fresh context does not know the string.
    assert_eq!(
        dec(&[0x06, 0x00]),
        Err(AmfError::BadReference {
            version: 3,
            index: 0
        })
    );
}

#[test]
fn empty_member_names_are_left_out() {
    let v = Value::Array {
        associative: vec![("".into(), Value::Null), ("a".into(), Value::Null)],
        dense: vec![],
    };
    assert_eq!(
        dec(&enc(&v)),
        Ok(Value::Array {
            associative: vec![("a".into(), Value::Null)],
            dense: vec![],
        })
    );
    let o = Value::Object(Object {
        class_name: String::new(),
        sealed: vec![("".into(), Value::Integer(1))],
        dynamic: Some(vec![("".into(), Value::Null)]),
    });
    // An empty sealed name is fine: sealed members are counted, not ended.
    assert_eq!(
        dec(&enc(&o)),
        Ok(Value::Object(Object {
            class_name: String::new(),
            sealed: vec![("".into(), Value::Integer(1))],
            dynamic: Some(vec![]),
        }))
    );
}

// ---- through AMF0 ------------------------------------------------------

#[test]
fn avmplus_in_amf0() {
    let v = amf0::Value::Avmplus(array(vec![s("a"), s("a"), Value::Integer(-1)]));
    let mut out = BytesMut::new();
    amf0::encode(&v, &mut out);
    assert_eq!(
        &out[..],
        &[
            0x11, 0x09, 0x07, 0x01, 0x06, 0x03, b'a', 0x06, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff
        ]
    );
    let mut buf = &out[..];
    assert_eq!(amf0::decode(&mut buf, &AmfLimits::default()), Ok(v));
    assert!(buf.is_empty());
}

#[test]
fn avmplus_values_each_get_a_fresh_context() {
    // Two AVM+ values in one AMF0 message: the second cannot refer to the
    // first one's strings.
    let bytes = [0x11, 0x06, 0x03, b'a', 0x11, 0x06, 0x00];
    assert_eq!(
        amf0::decode_all(&bytes, &AmfLimits::default()),
        Err(AmfError::BadReference {
            version: 3,
            index: 0
        })
    );
}

#[test]
fn avmplus_shares_the_amf0_budget() {
    // AMF0 strict array [AVM+ array of 10 integers]: 1 + 1 + 1 + 10 values.
    let inner = array((0..10).map(Value::Integer).collect());
    let v = amf0::Value::StrictArray(vec![amf0::Value::Avmplus(inner)]);
    let mut out = BytesMut::new();
    amf0::encode(&v, &mut out);
    let l = limits(|l| l.max_elements = 13);
    assert_eq!(amf0::decode(&mut &out[..], &l), Ok(v));
    let l = limits(|l| l.max_elements = 12);
    assert_eq!(
        amf0::decode(&mut &out[..], &l),
        Err(AmfError::TooManyElements { max: 12 })
    );
    // And the depth: an AMF0 object around `n` AMF3 arrays is n + 1 deep.
    let nested = |n| {
        let mut bytes = vec![0x03, 0x00, 0x01, b'a', 0x11];
        for _ in 0..n {
            bytes.extend_from_slice(&[0x09, 0x03, 0x01]);
        }
        bytes.extend_from_slice(&[0x01, 0x00, 0x00, 0x09]);
        bytes
    };
    assert!(amf0::decode(&mut &nested(31)[..], &AmfLimits::default()).is_ok());
    assert_eq!(
        amf0::decode(&mut &nested(32)[..], &AmfLimits::default()),
        Err(AmfError::TooDeep { max: 32 })
    );
}

// ---- property tests ----------------------------------------------------

fn arb_name() -> impl Strategy<Value = String> {
    // A small alphabet so that names and strings repeat and exercise the
    // reference tables, with the odd arbitrary string.
    prop_oneof![
        4 => "[a-c]{0,2}",
        1 => ".{0,6}",
    ]
}

fn arb_finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("NaN never compares equal", |d| !d.is_nan())
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Undefined),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        (INTEGER_MIN..=INTEGER_MAX).prop_map(Value::Integer),
        prop_oneof![
            Just(0),
            Just(-1),
            Just(128),
            Just(INTEGER_MIN),
            Just(INTEGER_MAX)
        ]
        .prop_map(Value::Integer),
        arb_finite().prop_map(Value::Double),
        arb_name().prop_map(Value::String),
        arb_name().prop_map(Value::XmlDocument),
        arb_name().prop_map(Value::Xml),
        arb_finite().prop_map(Value::Date),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| Value::ByteArray(b.into())),
        (any::<bool>(), prop::collection::vec(any::<i32>(), 0..4))
            .prop_map(|(fixed, items)| Value::VectorInt { fixed, items }),
        (any::<bool>(), prop::collection::vec(any::<u32>(), 0..4))
            .prop_map(|(fixed, items)| Value::VectorUint { fixed, items }),
        (any::<bool>(), prop::collection::vec(arb_finite(), 0..4))
            .prop_map(|(fixed, items)| Value::VectorDouble { fixed, items }),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(4, 48, 6, |inner| {
        let pairs = prop::collection::vec(("[a-c]{1,2}|.{1,4}", inner.clone()), 0..4);
        prop_oneof![
            (pairs.clone(), prop::collection::vec(inner.clone(), 0..6))
                .prop_map(|(associative, dense)| Value::Array { associative, dense }),
            (
                prop_oneof![Just(String::new()), arb_name()],
                prop::collection::vec((arb_name(), inner.clone()), 0..4),
                prop::option::of(pairs),
            )
                .prop_map(|(class_name, sealed, dynamic)| {
                    Value::Object(Object {
                        class_name,
                        sealed,
                        dynamic,
                    })
                }),
            (
                any::<bool>(),
                arb_name(),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(fixed, type_name, items)| Value::VectorObject {
                    fixed,
                    type_name,
                    items,
                }),
            (
                any::<bool>(),
                prop::collection::vec((inner.clone(), inner), 0..4)
            )
                .prop_map(|(weak_keys, entries)| Value::Dictionary { weak_keys, entries }),
        ]
    })
}

proptest! {
    #[test]
    fn round_trip(value in arb_value()) {
        let bytes = enc(&value);
        prop_assert_eq!(dec(&bytes), Ok(value));
    }

    #[test]
    fn round_trip_with_one_context(values in prop::collection::vec(arb_value(), 1..4)) {
        let mut encoder = Encoder::new();
        let mut out = BytesMut::new();
        for v in &values {
            encoder.encode(v, &mut out);
        }
        let mut decoder = Decoder::new(&AmfLimits::default());
        let mut buf = &out[..];
        for v in &values {
            prop_assert_eq!(&decoder.decode(&mut buf).unwrap(), v);
        }
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn round_trip_through_amf0(value in arb_value()) {
        let v = amf0::Value::Avmplus(value);
        let mut out = BytesMut::new();
        amf0::encode(&v, &mut out);
        let mut buf = &out[..];
        prop_assert_eq!(amf0::decode(&mut buf, &AmfLimits::default()), Ok(v));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = dec_with_rest(&bytes);
    }

    #[test]
    fn mutated_encodings_never_panic(
        value in arb_value(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = enc(&value);
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = dec_with_rest(&bytes);
    }
}

/// Decodes without requiring that the whole input be used.
fn dec_with_rest(bytes: &[u8]) -> Result<Value, AmfError> {
    let mut buf = bytes;
    decode(&mut buf, &AmfLimits::default())
}
