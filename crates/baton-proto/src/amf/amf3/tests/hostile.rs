//! Decoding what the encoder never writes: references, cycles, refused
//! markers, truncation, and every limit (depth, elements, reference bombs).

use super::*;

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
