use super::*;

#[test]
fn number_round_trip() {
    let mut out = BytesMut::new();
    encode(&Value::Number(1.5), &mut out);
    assert_eq!(&out[..], &[0x00, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    let mut slice = &out[..];
    assert_eq!(decode(&mut slice, &AmfLimits::default()), Ok(Value::Number(1.5)));
    assert!(slice.is_empty());
}
