//! AMF0 codec tests: golden bytes hand-computed from the AMF 0 Specification
//! (section 2), round trips and hostile inputs.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

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

/// `value` encodes to `bytes` and `bytes` decodes to `value`.
#[track_caller]
fn golden(value: Value, bytes: &[u8]) {
    assert_eq!(enc(&value), bytes, "encoding {value:?}");
    assert_eq!(dec(bytes), Ok(value));
}

fn props(p: &[(&str, Value)]) -> Properties {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn number_round_trip() {
    let mut out = BytesMut::new();
    encode(&Value::Number(1.5), &mut out);
    assert_eq!(&out[..], &[0x00, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    let mut slice = &out[..];
    assert_eq!(
        decode(&mut slice, &AmfLimits::default()),
        Ok(Value::Number(1.5))
    );
    assert!(slice.is_empty());
}

// ---- golden bytes, one marker at a time --------------------------------

#[test]
fn golden_number() {
    golden(Value::Number(0.0), &[0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    golden(Value::Number(-2.0), &[0x00, 0xc0, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn golden_boolean() {
    golden(Value::Boolean(false), &[0x01, 0x00]);
    golden(Value::Boolean(true), &[0x01, 0x01]);
    // Any non-zero byte is true.
    assert_eq!(dec(&[0x01, 0x7f]), Ok(Value::Boolean(true)));
}

#[test]
fn golden_string() {
    golden(Value::string(""), &[0x02, 0x00, 0x00]);
    golden(Value::string("hi"), &[0x02, 0x00, 0x02, b'h', b'i']);
    golden(Value::string("é"), &[0x02, 0x00, 0x02, 0xc3, 0xa9]);
}

#[test]
fn golden_object() {
    golden(Value::Object(vec![]), &[0x03, 0x00, 0x00, 0x09]);
    golden(
        Value::object([("a", Value::Number(1.0)), ("bc", Value::Null)]),
        &[
            0x03, //
            0x00, 0x01, b'a', 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, //
            0x00, 0x02, b'b', b'c', 0x05, //
            0x00, 0x00, 0x09,
        ],
    );
}

#[test]
fn golden_null_undefined_unsupported() {
    golden(Value::Null, &[0x05]);
    golden(Value::Undefined, &[0x06]);
    golden(Value::Unsupported, &[0x0d]);
}

#[test]
fn golden_reference() {
    golden(Value::Reference(5), &[0x07, 0x00, 0x05]);
    golden(Value::Reference(0x1234), &[0x07, 0x12, 0x34]);
}

#[test]
fn golden_ecma_array() {
    golden(
        Value::EcmaArray(props(&[("a", Value::Null)])),
        &[0x08, 0, 0, 0, 1, 0x00, 0x01, b'a', 0x05, 0x00, 0x00, 0x09],
    );
    golden(
        Value::EcmaArray(vec![]),
        &[0x08, 0, 0, 0, 0, 0x00, 0x00, 0x09],
    );
    // The count is only a hint.
    assert_eq!(
        dec(&[0x08, 0, 0, 0, 7, 0x00, 0x01, b'a', 0x05, 0x00, 0x00, 0x09]),
        Ok(Value::EcmaArray(props(&[("a", Value::Null)])))
    );
}

#[test]
fn golden_strict_array() {
    golden(Value::StrictArray(vec![]), &[0x0a, 0, 0, 0, 0]);
    golden(
        Value::StrictArray(vec![Value::Null, Value::Boolean(true)]),
        &[0x0a, 0, 0, 0, 2, 0x05, 0x01, 0x01],
    );
}

#[test]
fn golden_date() {
    golden(
        Value::Date {
            millis: 1.5,
            time_zone: 0,
        },
        &[0x0b, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x00, 0x00],
    );
    golden(
        Value::Date {
            millis: 0.0,
            time_zone: -60,
        },
        &[0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xc4],
    );
}

#[test]
fn golden_long_string() {
    // Decoded as a plain string.
    assert_eq!(
        dec(&[0x0c, 0, 0, 0, 2, b'h', b'i']),
        Ok(Value::string("hi"))
    );
    // The encoder uses the long form past 65,535 bytes.
    let short = "x".repeat(0xffff);
    let bytes = enc(&Value::string(short.clone()));
    assert_eq!(&bytes[..3], &[0x02, 0xff, 0xff]);
    assert_eq!(bytes.len(), 3 + 0xffff);
    assert_eq!(dec(&bytes), Ok(Value::String(short)));
    let long = "x".repeat(0x10000);
    let bytes = enc(&Value::string(long.clone()));
    assert_eq!(&bytes[..5], &[0x0c, 0x00, 0x01, 0x00, 0x00]);
    assert_eq!(bytes.len(), 5 + 0x10000);
    assert_eq!(dec(&bytes), Ok(Value::String(long)));
}

#[test]
fn golden_xml_document() {
    golden(
        Value::XmlDocument("<a/>".into()),
        &[0x0f, 0, 0, 0, 4, b'<', b'a', b'/', b'>'],
    );
}

#[test]
fn golden_typed_object() {
    golden(
        Value::TypedObject {
            class_name: "P".into(),
            properties: props(&[("x", Value::Boolean(false))]),
        },
        &[
            0x10, 0x00, 0x01, b'P', //
            0x00, 0x01, b'x', 0x01, 0x00, //
            0x00, 0x00, 0x09,
        ],
    );
}

#[test]
fn golden_avmplus() {
    golden(Value::Avmplus(amf3::Value::Integer(1)), &[0x11, 0x04, 0x01]);
    golden(
        Value::Avmplus(amf3::Value::String("ab".into())),
        &[0x11, 0x06, 0x05, b'a', b'b'],
    );
}

#[test]
fn decode_all_reads_a_command() {
    // "connect", 1, {app: "live"}
    let values = vec![
        Value::string("connect"),
        Value::Number(1.0),
        Value::object([("app", Value::string("live"))]),
    ];
    let mut out = BytesMut::new();
    encode_all(&values, &mut out);
    assert_eq!(decode_all(&out, &AmfLimits::default()), Ok(values));
    assert_eq!(decode_all(&[], &AmfLimits::default()), Ok(vec![]));
}

#[test]
fn empty_property_names_are_left_out() {
    let v = Value::object([("", Value::Null), ("a", Value::Null)]);
    assert_eq!(dec(&enc(&v)), Ok(Value::object([("a", Value::Null)])));
}

// ---- hostile and malformed input ---------------------------------------

#[test]
fn reserved_markers_are_refused() {
    for m in [marker::MOVIECLIP, marker::RECORDSET] {
        assert_eq!(
            dec(&[m]),
            Err(AmfError::UnknownMarker {
                version: 0,
                marker: m
            })
        );
    }
}

#[test]
fn unknown_markers_are_refused() {
    // The object-end marker is not a value either.
    for m in [marker::OBJECT_END, 0x12, 0x13, 0x80, 0xff] {
        assert_eq!(
            dec(&[m]),
            Err(AmfError::UnknownMarker {
                version: 0,
                marker: m
            })
        );
    }
    // Inside a container too.
    assert_eq!(
        dec(&[0x0a, 0, 0, 0, 1, 0x04]),
        Err(AmfError::UnknownMarker {
            version: 0,
            marker: 0x04
        })
    );
}

#[test]
fn huge_strict_array_count_fails_without_allocating() {
    let bytes = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x05];
    let start = Instant::now();
    assert_eq!(dec(&bytes), Err(AmfError::TooManyElements { max: 1 << 16 }));
    // Without an element limit, the count is checked against the input.
    let limits = AmfLimits {
        max_elements: usize::MAX,
        ..AmfLimits::default()
    };
    assert_eq!(dec_with(&bytes, &limits), Err(AmfError::UnexpectedEof));
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn huge_string_lengths_fail_before_allocating() {
    assert_eq!(
        dec(&[0x0c, 0xff, 0xff, 0xff, 0xff]),
        Err(AmfError::StringTooLong {
            len: 0xffff_ffff,
            max: 1 << 20
        })
    );
    assert_eq!(
        dec(&[0x0f, 0x00, 0x10, 0x00, 0x01]),
        Err(AmfError::StringTooLong {
            len: 0x10_0001,
            max: 1 << 20
        })
    );
    assert_eq!(dec(&[0x02, 0x00, 0x05, b'a']), Err(AmfError::UnexpectedEof));
}

#[test]
fn deep_nesting_fails() {
    let nested = |n| {
        let mut bytes = Vec::new();
        for _ in 0..n {
            bytes.extend_from_slice(&[0x03, 0x00, 0x01, b'a']);
        }
        bytes.push(0x05);
        for _ in 0..n {
            bytes.extend_from_slice(&[0x00, 0x00, 0x09]);
        }
        bytes
    };
    assert!(dec(&nested(32)).is_ok());
    assert_eq!(dec(&nested(33)), Err(AmfError::TooDeep { max: 32 }));
    // Strict arrays, ECMA arrays and typed objects are containers too; a
    // hostile input need not close them to be refused.
    let mut mixed = Vec::new();
    for i in 0..100 {
        match i % 3 {
            0 => mixed.extend_from_slice(&[0x0a, 0, 0, 0, 1]),
            1 => mixed.extend_from_slice(&[0x08, 0, 0, 0, 1, 0x00, 0x01, b'a']),
            _ => mixed.extend_from_slice(&[0x10, 0x00, 0x01, b'C', 0x00, 0x01, b'a']),
        }
    }
    assert_eq!(dec(&mixed), Err(AmfError::TooDeep { max: 32 }));
}

#[test]
fn element_budget_is_shared_by_a_message() {
    let limits = AmfLimits {
        max_elements: 4,
        ..AmfLimits::default()
    };
    // Object + 3 members = 4 values.
    let v = Value::object([("a", Value::Null), ("b", Value::Null), ("c", Value::Null)]);
    assert_eq!(dec_with(&enc(&v), &limits), Ok(v));
    let v = Value::StrictArray(vec![Value::Null; 4]);
    assert_eq!(
        dec_with(&enc(&v), &limits),
        Err(AmfError::TooManyElements { max: 4 })
    );
    // decode_all: five nulls in one message.
    assert_eq!(
        decode_all(&[0x05; 5], &limits),
        Err(AmfError::TooManyElements { max: 4 })
    );
}

#[test]
fn object_without_end_marker_fails() {
    // Input ends after a member.
    assert_eq!(
        dec(&[0x03, 0x00, 0x01, b'a', 0x05]),
        Err(AmfError::UnexpectedEof)
    );
    // Input ends right after the start.
    assert_eq!(dec(&[0x03]), Err(AmfError::UnexpectedEof));
    // Empty name, then no end marker.
    assert_eq!(dec(&[0x03, 0x00, 0x00]), Err(AmfError::UnexpectedEof));
    // Empty name followed by something other than the end marker.
    assert_eq!(
        dec(&[0x03, 0x00, 0x00, 0x05]),
        Err(AmfError::Malformed(
            "empty property name without object end"
        ))
    );
    // Typed objects the same.
    assert_eq!(
        dec(&[0x10, 0x00, 0x01, b'C', 0x00, 0x01, b'a', 0x05]),
        Err(AmfError::UnexpectedEof)
    );
}

#[test]
fn ecma_array_without_end_marker_at_end_of_input_is_accepted() {
    let want = Value::EcmaArray(props(&[("a", Value::Null)]));
    assert_eq!(
        dec(&[0x08, 0, 0, 0, 1, 0x00, 0x01, b'a', 0x05]),
        Ok(want.clone())
    );
    // An empty one too.
    assert_eq!(dec(&[0x08, 0, 0, 0, 0]), Ok(Value::EcmaArray(vec![])));
    // Typically the last value of an onMetaData message.
    assert_eq!(
        decode_all(
            &[
                0x02, 0x00, 0x01, b'm', //
                0x08, 0, 0, 0, 1, 0x00, 0x01, b'a', 0x05
            ],
            &AmfLimits::default()
        ),
        Ok(vec![Value::string("m"), want])
    );
    // But not an ECMA array cut inside a member.
    assert_eq!(
        dec(&[0x08, 0, 0, 0, 1, 0x00, 0x01, b'a']),
        Err(AmfError::UnexpectedEof)
    );
    // Nor an object.
    assert_eq!(
        dec(&[0x03, 0x00, 0x01, b'a', 0x05]),
        Err(AmfError::UnexpectedEof)
    );
}

#[test]
fn invalid_utf8_is_refused() {
    assert_eq!(dec(&[0x02, 0x00, 0x01, 0xff]), Err(AmfError::InvalidUtf8));
    assert_eq!(
        dec(&[0x03, 0x00, 0x01, 0xff, 0x05, 0x00, 0x00, 0x09]),
        Err(AmfError::InvalidUtf8)
    );
}

#[test]
fn truncated_input_fails_with_eof_at_every_cut() {
    let v = Value::StrictArray(vec![
        Value::Number(1.0),
        Value::Boolean(true),
        Value::string("s"),
        Value::object([("a", Value::Null)]),
        Value::Reference(1),
        Value::Date {
            millis: 2.0,
            time_zone: 0,
        },
        Value::XmlDocument("x".into()),
        Value::TypedObject {
            class_name: "C".into(),
            properties: props(&[("b", Value::Undefined)]),
        },
        Value::Avmplus(amf3::Value::String("t".into())),
    ]);
    let bytes = enc(&v);
    assert_eq!(dec(&bytes), Ok(v));
    for cut in 0..bytes.len() {
        assert_eq!(
            dec(&bytes[..cut]),
            Err(AmfError::UnexpectedEof),
            "cut at {cut}"
        );
    }
}

// ---- property tests ----------------------------------------------------

fn arb_finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("NaN never compares equal", |d| !d.is_nan())
}

/// Short strings: the encoder picks the short form for them (long strings
/// have their own test).
fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-c]{0,3}", 1 => ".{0,8}"]
}

/// Property names: the encoder leaves out empty names.
fn arb_name() -> impl Strategy<Value = String> + Clone {
    prop_oneof![3 => "[a-c]{1,3}", 1 => ".{1,8}"]
}

/// A few AMF3 values (the AMF3 tests generate the full range).
fn arb_amf3() -> impl Strategy<Value = amf3::Value> {
    prop_oneof![
        Just(amf3::Value::Null),
        (amf3::INTEGER_MIN..=amf3::INTEGER_MAX).prop_map(amf3::Value::Integer),
        arb_string().prop_map(amf3::Value::String),
        prop::collection::vec(arb_string().prop_map(amf3::Value::String), 0..4).prop_map(|dense| {
            amf3::Value::Array {
                associative: vec![],
                dense,
            }
        }),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_finite().prop_map(Value::Number),
        any::<bool>().prop_map(Value::Boolean),
        arb_string().prop_map(Value::String),
        Just(Value::Null),
        Just(Value::Undefined),
        any::<u16>().prop_map(Value::Reference),
        (arb_finite(), any::<i16>())
            .prop_map(|(millis, time_zone)| Value::Date { millis, time_zone }),
        Just(Value::Unsupported),
        arb_string().prop_map(Value::XmlDocument),
        arb_amf3().prop_map(Value::Avmplus),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(4, 48, 6, |inner| {
        let props = prop::collection::vec((arb_name(), inner.clone()), 0..5);
        prop_oneof![
            props.clone().prop_map(Value::Object),
            props.clone().prop_map(Value::EcmaArray),
            prop::collection::vec(inner, 0..5).prop_map(Value::StrictArray),
            (arb_string(), props).prop_map(|(class_name, properties)| Value::TypedObject {
                class_name,
                properties,
            }),
        ]
    })
}

proptest! {
    #[test]
    fn round_trip(value in arb_value()) {
        prop_assert_eq!(dec(&enc(&value)), Ok(value));
    }

    #[test]
    fn round_trip_message(values in prop::collection::vec(arb_value(), 0..5)) {
        let mut out = BytesMut::new();
        encode_all(&values, &mut out);
        prop_assert_eq!(decode_all(&out, &AmfLimits::default()), Ok(values));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_all(&bytes, &AmfLimits::default());
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
        let _ = decode_all(&bytes, &AmfLimits::default());
    }
}
