//! `onMetaData`: typed fields, codec ids, lossless relay.

use bytes::BytesMut;

use crate::amf0::{self, Value};
use crate::limits::AmfLimits;
use crate::media::*;

/// An `onMetaData` ECMA array like the one FFmpeg writes for H.264 + AAC,
/// with an extra vendor property and a string codec id.
fn ffmpeg_like() -> Vec<(String, Value)> {
    [
        ("duration", Value::Number(0.0)),
        ("width", Value::Number(1920.0)),
        ("height", Value::Number(1080.0)),
        ("videodatarate", Value::Number(2500.0)),
        ("framerate", Value::Number(29.97)),
        ("videocodecid", Value::Number(7.0)),
        ("audiodatarate", Value::Number(160.0)),
        ("audiosamplerate", Value::Number(48000.0)),
        ("audiosamplesize", Value::Number(16.0)),
        ("stereo", Value::Boolean(true)),
        ("audiocodecid", Value::string("mp4a")),
        ("encoder", Value::string("Lavf61.7.100")),
        ("filesize", Value::Number(0.0)),
        ("x-vendor", Value::object([("a", Value::Null)])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[test]
fn typed_fields() {
    let m = Metadata::from_amf(&Value::EcmaArray(ffmpeg_like())).unwrap();
    assert_eq!(m.width, Some(1920.0));
    assert_eq!(m.height, Some(1080.0));
    assert_eq!(m.frame_rate, Some(29.97));
    assert_eq!(m.video_codec_id, Some(CodecId::Id(7)));
    assert_eq!(m.video_codec(), Some(VideoCodec::Avc));
    assert_eq!(m.audio_codec_id, Some(CodecId::FourCc(FourCc::MP4A)));
    assert_eq!(m.audio_codec(), Some(AudioCodec::Aac));
    assert_eq!(m.stereo, Some(true));
    assert_eq!(m.encoder.as_deref(), Some("Lavf61.7.100"));
    assert_eq!(m.file_size, Some(0.0));
    assert_eq!(m.audio_channels, None);
    assert_eq!(m.properties.len(), 14);
    assert_eq!(
        m.property("x-vendor"),
        Some(&Value::object([("a", Value::Null)]))
    );
}

#[test]
fn enhanced_fourcc_numbers() {
    // "av01" == 0x61763031 == 1635135537.0, "Opus" == 1332770163.0.
    let v = Value::object([
        ("videocodecid", Value::Number(1_635_135_537.0)),
        ("audiocodecid", Value::Number(1_332_770_163.0)),
    ]);
    let m = Metadata::from_amf(&v).unwrap();
    assert_eq!(m.video_codec_id, Some(CodecId::FourCc(FourCc::AV01)));
    assert_eq!(m.video_codec(), Some(VideoCodec::Av1));
    assert_eq!(m.audio_codec(), Some(AudioCodec::Opus));
}

#[test]
fn other_codec_id_forms() {
    let id = |v: Value| CodecId::from_amf(&v);
    assert_eq!(
        id(Value::string("hvc1")),
        Some(CodecId::FourCc(FourCc::HVC1))
    );
    assert_eq!(
        id(Value::string("H264Avc")),
        Some(CodecId::Name("H264Avc".into()))
    );
    assert_eq!(id(Value::Number(7.5)), Some(CodecId::Number(7.5)));
    assert_eq!(id(Value::Number(-1.0)), Some(CodecId::Number(-1.0)));
    assert_eq!(id(Value::Number(1e12)), Some(CodecId::Number(1e12)));
    assert_eq!(id(Value::Number(12.0)), Some(CodecId::Id(12)));
    assert_eq!(CodecId::Id(12).video_codec(), Some(VideoCodec::Hevc));
    assert_eq!(CodecId::Id(200).video_codec(), None);
    assert_eq!(id(Value::Null), None);
    assert_eq!(
        CodecId::FourCc(FourCc::AV01).to_amf(),
        Value::Number(1_635_135_537.0)
    );
}

#[test]
fn wrong_types_leave_fields_empty_but_keep_properties() {
    let v = Value::object([
        ("width", Value::string("1280")),
        ("stereo", Value::Number(1.0)),
        ("encoder", Value::Number(3.0)),
    ]);
    let m = Metadata::from_amf(&v).unwrap();
    assert_eq!(m.width, None);
    assert_eq!(m.stereo, Some(true));
    assert_eq!(m.encoder, None);
    assert_eq!(
        m.to_amf(),
        Value::EcmaArray(v.properties().unwrap().clone())
    );
}

#[test]
fn not_an_object() {
    assert_eq!(
        Metadata::from_amf(&Value::Number(1.0)),
        Err(MediaError::MetadataNotObject)
    );
    assert_eq!(
        Metadata::from_amf(&Value::StrictArray(vec![])),
        Err(MediaError::MetadataNotObject)
    );
}

#[test]
fn round_trip_keeps_every_property_byte_for_byte() {
    let mut wire = BytesMut::new();
    amf0::encode(&Value::EcmaArray(ffmpeg_like()), &mut wire);
    let mut slice = &wire[..];
    let decoded = amf0::decode(&mut slice, &AmfLimits::default()).unwrap();
    let m = Metadata::from_amf(&decoded).unwrap();
    let mut again = BytesMut::new();
    amf0::encode(&m.to_amf(), &mut again);
    assert_eq!(again, wire);
}

#[test]
fn object_input_comes_out_as_ecma_array() {
    let v = Value::Object(ffmpeg_like());
    let m = Metadata::from_amf(&v).unwrap();
    assert_eq!(m.to_amf(), Value::EcmaArray(ffmpeg_like()));
}

#[test]
fn changed_and_added_fields_are_written() {
    let mut m = Metadata::from_amf(&Value::EcmaArray(ffmpeg_like())).unwrap();
    m.width = Some(1280.0);
    m.video_codec_id = Some(CodecId::FourCc(FourCc::HVC1));
    m.audio_channels = Some(2.0);
    m.height = None; // leaves the property alone
    let out = m.to_amf();
    assert_eq!(out.get("width"), Some(&Value::Number(1280.0)));
    assert_eq!(
        out.get("videocodecid"),
        Some(&Value::Number(f64::from(FourCc::HVC1.to_u32())))
    );
    assert_eq!(out.get("height"), Some(&Value::Number(1080.0)));
    // The string "mp4a" is unchanged: same codec id, same form as received.
    assert_eq!(out.get("audiocodecid"), Some(&Value::string("mp4a")));
    let props = out.properties().unwrap();
    assert_eq!(props.len(), 15);
    assert_eq!(props[1].0, "width", "replaced in place");
    assert_eq!(
        props.last(),
        Some(&("audiochannels".to_owned(), Value::Number(2.0)))
    );
}

#[test]
fn built_from_scratch() {
    let m = Metadata {
        width: Some(640.0),
        height: Some(360.0),
        video_codec_id: Some(CodecId::FourCc(FourCc::AV01)),
        stereo: Some(false),
        encoder: Some("baton".into()),
        ..Metadata::default()
    };
    let v = m.to_amf();
    let names: Vec<_> = v
        .properties()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        names,
        ["width", "height", "videocodecid", "stereo", "encoder"]
    );
    let back = Metadata::from_amf(&v).unwrap();
    assert_eq!(back.video_codec(), Some(VideoCodec::Av1));
    assert_eq!(back.stereo, Some(false));
    assert_eq!(back.to_amf(), v);
}
