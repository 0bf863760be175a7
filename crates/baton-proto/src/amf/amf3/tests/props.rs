//! AMF3 through AMF0 (the AVM+ switch) and property tests.

use super::*;

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
