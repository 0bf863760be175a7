//! The FLV a sequence of player events becomes, read back with
//! `FlvReader::read_all`.

use super::*;
use baton_proto::flv::FlvReader;
use baton_proto::limits::AmfLimits;
use baton_rtmp::client::ServerSignal;

fn media(kind: MediaKind, ts: u32, payload: &'static [u8]) -> PlayerEvent {
    PlayerEvent::Media {
        kind,
        timestamp: Timestamp(ts),
        payload: Bytes::from_static(payload),
    }
}

fn metadata(props: &[(&str, Value)]) -> Value {
    Value::EcmaArray(
        props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

const AVC_HEADER: &[u8] = &[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f];
const AVC_KEY: &[u8] = &[0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65];
const AVC_INTER: &[u8] = &[0x27, 1, 0, 0, 0, 0, 0, 0, 2, 0x41];
const AAC_HEADER: &[u8] = &[0xaf, 0, 0x12, 0x10];
const AAC_FRAME: &[u8] = &[0xaf, 1, 0x21, 0x10];

fn record_all(events: Vec<PlayerEvent>, duration_ms: Option<u64>) -> (Vec<Step>, BytesMut) {
    let mut rec = FlvRecorder::new(duration_ms);
    let mut out = BytesMut::new();
    let mut steps = Vec::new();
    for e in events {
        let step = rec.push(e, &mut out).unwrap();
        steps.push(step);
        if step != Step::Continue {
            break;
        }
    }
    rec.finish(&mut out);
    (steps, out)
}

#[test]
fn a_played_stream_becomes_the_same_tags_in_a_valid_flv() {
    let meta = metadata(&[
        ("duration", Value::Number(0.0)),
        ("videocodecid", Value::Number(7.0)),
        ("audiocodecid", Value::Number(10.0)),
        ("framerate", Value::Number(25.0)),
    ]);
    let events = vec![
        PlayerEvent::Data {
            timestamp: Timestamp(0),
            data: DataMessage::Other {
                handler: "|RtmpSampleAccess".into(),
                values: vec![Value::Boolean(false), Value::Boolean(false)],
            },
        },
        // A server may relay the publisher's @setDataFrame form.
        PlayerEvent::Data {
            timestamp: Timestamp(0),
            data: DataMessage::SetDataFrame {
                name: "onMetaData".into(),
                value: meta.clone(),
            },
        },
        media(MediaKind::Video, 0, AVC_HEADER),
        media(MediaKind::Audio, 0, AAC_HEADER),
        media(MediaKind::Video, 0, AVC_KEY),
        media(MediaKind::Audio, 23, AAC_FRAME),
        PlayerEvent::Signal(ServerSignal::GoAway),
        media(MediaKind::Video, 40, AVC_INTER),
        // Past 2^24 ms: the extended timestamp byte.
        media(MediaKind::Audio, 0x0123_4567, AAC_FRAME),
        PlayerEvent::End,
        media(MediaKind::Video, 80, AVC_INTER),
    ];
    let (steps, out) = record_all(events, None);
    assert_eq!(steps.last(), Some(&Step::Stop(StopReason::Ended)));

    let (header, tags) = FlvReader::read_all(&out, 1 << 20).unwrap();
    assert_eq!(
        header,
        FlvHeader {
            has_audio: true,
            has_video: true
        }
    );
    let expected: Vec<(TagType, u32, &[u8])> = vec![
        (TagType::Video, 0, AVC_HEADER),
        (TagType::Audio, 0, AAC_HEADER),
        (TagType::Video, 0, AVC_KEY),
        (TagType::Audio, 23, AAC_FRAME),
        (TagType::Video, 40, AVC_INTER),
        (TagType::Audio, 0x0123_4567, AAC_FRAME),
    ];
    assert_eq!(tags.len(), 1 + expected.len(), "{tags:?}");
    // The script tag: onMetaData and the value, as a player gets it.
    assert_eq!(tags[0].tag_type, TagType::Script);
    let script =
        DataMessage::decode(&tags[0].data, ObjectEncoding::Amf0, &AmfLimits::default()).unwrap();
    assert_eq!(script, DataMessage::OnMetaData(meta));
    for (tag, (tag_type, ts, data)) in tags[1..].iter().zip(expected) {
        assert_eq!(
            (tag.tag_type, tag.timestamp, &tag.data[..]),
            (tag_type, Timestamp(ts), data)
        );
    }
}

#[test]
fn the_header_flags_follow_metadata_that_comes_first() {
    let video_only = metadata(&[("videocodecid", Value::Number(7.0))]);
    let (_, out) = record_all(
        vec![
            PlayerEvent::Data {
                timestamp: Timestamp(0),
                data: DataMessage::OnMetaData(video_only),
            },
            media(MediaKind::Video, 0, AVC_KEY),
        ],
        None,
    );
    let (header, tags) = FlvReader::read_all(&out, 1 << 20).unwrap();
    assert_eq!((header.has_audio, header.has_video), (false, true));
    assert_eq!(tags.len(), 2);

    // Media first: both flags, since the other kind may still come.
    let (_, out) = record_all(vec![media(MediaKind::Audio, 0, AAC_FRAME)], None);
    let (header, _) = FlvReader::read_all(&out, 1 << 20).unwrap();
    assert_eq!((header.has_audio, header.has_video), (true, true));

    // Metadata that names no codec: both.
    let (_, out) = record_all(
        vec![PlayerEvent::Data {
            timestamp: Timestamp(0),
            data: DataMessage::OnMetaData(metadata(&[("width", Value::Number(320.0))])),
        }],
        None,
    );
    let (header, tags) = FlvReader::read_all(&out, 1 << 20).unwrap();
    assert_eq!(
        (header.has_audio, header.has_video, tags.len()),
        (true, true, 1)
    );
}

#[test]
fn nothing_received_is_still_a_valid_empty_flv() {
    let (_, out) = record_all(vec![PlayerEvent::End], None);
    let (_, tags) = FlvReader::read_all(&out, 1 << 20).unwrap();
    assert!(tags.is_empty());
    assert_eq!(out.len(), 13);
}

#[test]
fn stops_after_the_duration_counted_from_the_first_frame() {
    // A late joiner: sequence headers stamped 0, frames from 50 s.
    let mut events = vec![
        media(MediaKind::Video, 0, AVC_HEADER),
        media(MediaKind::Audio, 0, AAC_HEADER),
    ];
    for i in 0..100 {
        events.push(media(MediaKind::Video, 50_000 + i * 40, AVC_INTER));
    }
    let (steps, out) = record_all(events, Some(1000));
    assert_eq!(steps.last(), Some(&Step::Stop(StopReason::Duration)));
    let (_, tags) = FlvReader::read_all(&out, 1 << 20).unwrap();
    // Headers plus the frames from 50_000 to 50_960: one second of media.
    assert_eq!(tags.len(), 2 + 25);
    assert_eq!(tags.last().unwrap().timestamp, Timestamp(50_960));
}

#[test]
fn other_data_is_kept_and_session_data_dropped() {
    let cue = DataMessage::Other {
        handler: "onCuePoint".into(),
        values: vec![Value::String("chapter 2".into())],
    };
    let (_, out) = record_all(
        vec![
            PlayerEvent::Data {
                timestamp: Timestamp(5),
                data: cue.clone(),
            },
            PlayerEvent::Data {
                timestamp: Timestamp(6),
                data: DataMessage::Other {
                    handler: "onStatus".into(),
                    values: vec![],
                },
            },
            PlayerEvent::Data {
                timestamp: Timestamp(7),
                data: DataMessage::ClearDataFrame {
                    name: "onMetaData".into(),
                },
            },
        ],
        None,
    );
    let (_, tags) = FlvReader::read_all(&out, 1 << 20).unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].timestamp, Timestamp(5));
    let back = DataMessage::decode(&tags[0].data, ObjectEncoding::Amf0, &AmfLimits::default());
    assert_eq!(back.unwrap(), cue);
}
