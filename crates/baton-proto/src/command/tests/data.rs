//! Data messages: @setDataFrame onMetaData and others.

use super::*;

#[test]
fn set_data_frame_on_metadata_as_ffmpeg_sends_it() {
    let bytes = W::new()
        .str("@setDataFrame")
        .str("onMetaData")
        .ecma(3)
        .key("duration")
        .num(0.0)
        .key("width")
        .num(1280.0)
        .key("encoder")
        .str("Lavf60.16.100")
        .end()
        .bytes();
    let data = DataMessage::decode(&bytes, ObjectEncoding::Amf0, &limits()).unwrap();
    let DataMessage::SetDataFrame { name, value } = &data else {
        panic!("{data:?}")
    };
    assert_eq!(name, "onMetaData");
    assert!(matches!(value, Value::EcmaArray(p) if p.len() == 3));
    assert_eq!(
        data.metadata().and_then(|m| m.get("width")),
        Some(&Value::Number(1280.0))
    );
    assert_eq!(data.handler(), "@setDataFrame");
    let mut out = BytesMut::new();
    data.encode(ObjectEncoding::Amf0, &mut out);
    assert_eq!(out.to_vec(), bytes);

    let on_meta = W::new()
        .str("onMetaData")
        .obj()
        .key("fps")
        .num(30.0)
        .end()
        .bytes();
    let data = DataMessage::decode(&on_meta, ObjectEncoding::Amf0, &limits()).unwrap();
    assert!(matches!(&data, DataMessage::OnMetaData(Value::Object(_))));
    assert!(data.metadata().is_some());

    let sample = W::new()
        .str("|RtmpSampleAccess")
        .bool(false)
        .bool(false)
        .bytes();
    assert_eq!(
        DataMessage::decode(&sample, ObjectEncoding::Amf0, &limits()).unwrap(),
        DataMessage::Other {
            handler: "|RtmpSampleAccess".into(),
            values: vec![Value::Boolean(false), Value::Boolean(false)]
        }
    );
    let clear = W::new().str("@clearDataFrame").str("onMetaData").bytes();
    assert_eq!(
        DataMessage::decode(&clear, ObjectEncoding::Amf0, &limits()).unwrap(),
        DataMessage::ClearDataFrame {
            name: "onMetaData".into()
        }
    );
}

#[test]
fn bad_data_messages() {
    let d = |b: &[u8]| DataMessage::decode(b, ObjectEncoding::Amf0, &limits());
    assert_eq!(d(&[]), Err(CommandError::Empty));
    assert!(matches!(
        d(&W::new().null().bytes()),
        Err(CommandError::NameNotString { .. })
    ));
    let no_value = W::new().str("@setDataFrame").str("onMetaData").bytes();
    assert!(matches!(
        d(&no_value),
        Err(CommandError::MissingArgument { .. })
    ));
    let no_name = W::new().str("@setDataFrame").bytes();
    assert!(matches!(
        d(&no_name),
        Err(CommandError::MissingArgument { .. })
    ));
    let amf3 = [&[0x00][..], &W::new().str("onMetaData").null().bytes()].concat();
    assert_eq!(
        DataMessage::decode(&amf3, ObjectEncoding::Amf3, &limits()),
        Ok(DataMessage::OnMetaData(Value::Null))
    );
}
