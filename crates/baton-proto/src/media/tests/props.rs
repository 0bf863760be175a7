//! Property tests: arbitrary input never panics, the fast classifiers agree
//! with the parser, and encode/parse round trips.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::amf0::Value;
use crate::media::*;

const SI24: std::ops::RangeInclusive<i32> = -(1 << 23)..=(1 << 23) - 1;

fn data() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn frame_type() -> impl Strategy<Value = FrameType> {
    (1u8..=5).prop_map(|v| FrameType::from_u8(v).expect("1..=5 are frame types"))
}

fn nanos() -> impl Strategy<Value = Option<u32>> {
    proptest::option::of(0u32..=MAX_TIMESTAMP_OFFSET_NANOS)
}

fn fourcc_video_codec() -> impl Strategy<Value = VideoCodec> {
    prop_oneof![
        Just(VideoCodec::Avc),
        Just(VideoCodec::Hevc),
        Just(VideoCodec::Vvc),
        Just(VideoCodec::Av1),
        Just(VideoCodec::Vp9),
        Just(VideoCodec::Vp8),
        any::<[u8; 4]>().prop_map(|b| VideoCodec::from_fourcc(FourCc(b))),
    ]
}

fn legacy_video_tag() -> impl Strategy<Value = VideoTag> {
    (
        (0u8..16).prop_map(VideoCodec::from_legacy_id),
        frame_type(),
        data(),
        any::<u8>(),
        SI24,
        0u8..3,
    )
        .prop_map(|(codec, frame_type, data, cmd, cts, choice)| {
            let packet = if frame_type == FrameType::Command {
                VideoPacket::Command(VideoCommand::from_u8(cmd))
            } else if matches!(codec, VideoCodec::Avc | VideoCodec::Hevc) {
                match choice {
                    0 => VideoPacket::SequenceStart,
                    1 => VideoPacket::CodedFrames {
                        composition_time: cts,
                    },
                    _ => VideoPacket::SequenceEnd,
                }
            } else {
                VideoPacket::CodedFrames {
                    composition_time: 0,
                }
            };
            VideoTag {
                frame_type,
                codec,
                packet,
                timestamp_offset_nanos: None,
                enhanced: false,
                data,
            }
        })
}

fn enhanced_video_tag() -> impl Strategy<Value = VideoTag> {
    (
        fourcc_video_codec(),
        frame_type(),
        data(),
        any::<u8>(),
        SI24,
        0u8..6,
        nanos(),
    )
        .prop_map(|(codec, frame_type, data, cmd, cts, choice, nanos)| {
            let (codec, packet) = if frame_type == FrameType::Command {
                if choice % 2 == 0 {
                    (
                        VideoCodec::Unspecified,
                        VideoPacket::Command(VideoCommand::from_u8(cmd)),
                    )
                } else {
                    (codec, VideoPacket::Metadata)
                }
            } else {
                let packet = match choice {
                    0 => VideoPacket::SequenceStart,
                    1 => VideoPacket::CodedFrames {
                        composition_time: if codec.has_composition_time() { cts } else { 0 },
                    },
                    2 => VideoPacket::CodedFramesX,
                    3 => VideoPacket::SequenceEnd,
                    4 => VideoPacket::Metadata,
                    _ => VideoPacket::Mpeg2TsSequenceStart,
                };
                (codec, packet)
            };
            VideoTag {
                frame_type,
                codec,
                packet,
                timestamp_offset_nanos: nanos,
                enhanced: true,
                data,
            }
        })
}

fn multitrack_video_tag() -> impl Strategy<Value = VideoTag> {
    (
        (1u8..=4).prop_map(|v| FrameType::from_u8(v).expect("1..=4 are frame types")),
        (0u8..3).prop_map(|v| AvMultitrackType::from_u8(v).expect("0..3 are multitrack types")),
        prop_oneof![0u8..=5].prop_map(|v| VideoPacketType::from_u8(v).expect("0..=5")),
        fourcc_video_codec(),
        vec((any::<u8>(), fourcc_video_codec(), SI24, data()), 1..4),
        nanos(),
    )
        .prop_map(|(frame_type, kind, packet_type, shared, raw, nanos)| {
            let many_codecs = kind == AvMultitrackType::ManyTracksManyCodecs;
            let count = if kind == AvMultitrackType::OneTrack {
                1
            } else {
                raw.len()
            };
            let tracks = raw
                .into_iter()
                .take(count)
                .map(|(track_id, own, cts, data)| {
                    let codec = if many_codecs { own } else { shared };
                    let with_cts =
                        packet_type == VideoPacketType::CodedFrames && codec.has_composition_time();
                    VideoTrack {
                        track_id,
                        codec,
                        composition_time: if with_cts { cts } else { 0 },
                        data,
                    }
                })
                .collect();
            VideoTag {
                frame_type,
                codec: if many_codecs {
                    VideoCodec::Unspecified
                } else {
                    shared
                },
                packet: VideoPacket::Multitrack {
                    multitrack_type: kind,
                    packet_type,
                    tracks,
                },
                timestamp_offset_nanos: nanos,
                enhanced: true,
                data: Bytes::new(),
            }
        })
}

fn fourcc_audio_codec() -> impl Strategy<Value = AudioCodec> {
    prop_oneof![
        Just(AudioCodec::Aac),
        Just(AudioCodec::Mp3),
        Just(AudioCodec::Opus),
        Just(AudioCodec::Flac),
        Just(AudioCodec::Ac3),
        Just(AudioCodec::Eac3),
        any::<[u8; 4]>().prop_map(|b| AudioCodec::from_fourcc(FourCc(b))),
    ]
}

fn legacy_audio_tag() -> impl Strategy<Value = AudioTag> {
    (
        (0u8..16)
            .prop_filter("9 is ExHeader", |v| *v != 9)
            .prop_map(AudioCodec::from_legacy_id),
        0u8..4,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        data(),
    )
        .prop_map(|(codec, rate, bits16, stereo, config, data)| AudioTag {
            codec,
            sound_rate: Some(SoundRate::from_bits(rate)),
            sound_size: Some(if bits16 {
                SoundSize::Bits16
            } else {
                SoundSize::Bits8
            }),
            sound_type: Some(if stereo {
                SoundType::Stereo
            } else {
                SoundType::Mono
            }),
            packet: if codec == AudioCodec::Aac && config {
                AudioPacket::SequenceStart
            } else {
                AudioPacket::CodedFrames
            },
            timestamp_offset_nanos: None,
            enhanced: false,
            data,
        })
}

fn multichannel_config() -> impl Strategy<Value = MultichannelConfig> {
    (any::<u8>(), 0u8..3, any::<u32>(), vec(any::<u8>(), 0..8)).prop_map(
        |(count, order, flags, map)| match order {
            0 => MultichannelConfig {
                channel_count: count,
                layout: ChannelLayout::Unspecified,
            },
            1 => MultichannelConfig {
                channel_count: count,
                layout: ChannelLayout::Native(flags),
            },
            _ => MultichannelConfig {
                channel_count: map.len() as u8,
                layout: ChannelLayout::Custom(Bytes::from(map)),
            },
        },
    )
}

fn enhanced_audio_tag() -> impl Strategy<Value = AudioTag> {
    (
        fourcc_audio_codec(),
        0u8..4,
        multichannel_config(),
        data(),
        nanos(),
    )
        .prop_map(|(codec, choice, config, data, nanos)| AudioTag {
            codec,
            sound_rate: None,
            sound_size: None,
            sound_type: None,
            packet: match choice {
                0 => AudioPacket::SequenceStart,
                1 => AudioPacket::CodedFrames,
                2 => AudioPacket::SequenceEnd,
                _ => AudioPacket::MultichannelConfig(config),
            },
            timestamp_offset_nanos: nanos,
            enhanced: true,
            data,
        })
}

fn multitrack_audio_tag() -> impl Strategy<Value = AudioTag> {
    (
        (0u8..3).prop_map(|v| AvMultitrackType::from_u8(v).expect("0..3 are multitrack types")),
        prop_oneof![Just(0u8), Just(1), Just(2), Just(4)]
            .prop_map(|v| AudioPacketType::from_u8(v).expect("defined")),
        fourcc_audio_codec(),
        vec((any::<u8>(), fourcc_audio_codec(), data()), 1..4),
        nanos(),
    )
        .prop_map(|(kind, packet_type, shared, raw, nanos)| {
            let many_codecs = kind == AvMultitrackType::ManyTracksManyCodecs;
            let count = if kind == AvMultitrackType::OneTrack {
                1
            } else {
                raw.len()
            };
            let tracks = raw
                .into_iter()
                .take(count)
                .map(|(track_id, own, data)| AudioTrack {
                    track_id,
                    codec: if many_codecs { own } else { shared },
                    data,
                })
                .collect();
            AudioTag {
                codec: if many_codecs {
                    AudioCodec::Unspecified
                } else {
                    shared
                },
                sound_rate: None,
                sound_size: None,
                sound_type: None,
                packet: AudioPacket::Multitrack {
                    multitrack_type: kind,
                    packet_type,
                    tracks,
                },
                timestamp_offset_nanos: nanos,
                enhanced: true,
                data: Bytes::new(),
            }
        })
}

/// Payloads that reach deep into the parsers: random bytes, or a known
/// first byte (and sometimes a known FourCC) followed by random bytes.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let first = prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            0x17u8, 0x27, 0x1c, 0x57, 0x90, 0x91, 0x93, 0x94, 0x95, 0x96, 0x97, 0xa6, 0xd1, 0xd4,
            0xaf, 0x2f,
        ]),
    ];
    let fourcc = prop::sample::select(vec![
        *b"avc1", *b"hvc1", *b"av01", *b"vp09", *b"Opus", *b"mp4a", *b"fLaC",
    ]);
    prop_oneof![
        vec(any::<u8>(), 0..48),
        multitrack_payload(),
        (first.clone(), vec(any::<u8>(), 0..48)).prop_map(|(b, rest)| [vec![b], rest].concat()),
        (
            first.clone(),
            any::<u8>(),
            fourcc.clone(),
            vec(any::<u8>(), 0..48)
        )
            .prop_map(|(b, m, f, rest)| [vec![b, m], f.to_vec(), rest].concat()),
        (first, fourcc, vec(any::<u8>(), 0..48)).prop_map(|(b, f, rest)| [
            vec![b],
            f.to_vec(),
            rest
        ]
        .concat()),
    ]
}

/// Well-framed multitrack payloads (audio or video), sometimes cut short.
fn multitrack_payload() -> impl Strategy<Value = Vec<u8>> {
    let fourcc = prop::sample::select(vec![*b"avc1", *b"hvc1", *b"av01", *b"Opus", *b"mp4a"]);
    (
        prop::sample::select(vec![0x96u8, 0xa6, 0x97, 0x95]),
        0u8..3,
        0u8..6,
        fourcc.clone(),
        vec((fourcc, any::<u8>(), vec(any::<u8>(), 0..8)), 1..4),
        proptest::option::of(any::<usize>()),
    )
        .prop_map(|(first, kind, inner, shared, tracks, cut)| {
            let mut v = vec![first];
            if first == 0x97 {
                // ModEx: a 3-byte nano offset, then Multitrack.
                v.extend([0x02, 0x00, 0x01, 0x00, 0x06]);
            }
            v.push((kind << 4) | inner);
            if kind != 2 {
                v.extend(shared);
            }
            let count = if kind == 0 { 1 } else { tracks.len() };
            for (own, id, body) in tracks.into_iter().take(count) {
                if kind == 2 {
                    v.extend(own);
                }
                v.push(id);
                if kind != 0 {
                    v.extend(&(body.len() as u32).to_be_bytes()[1..]);
                }
                v.extend(body);
            }
            if let Some(cut) = cut {
                v.truncate(cut % (v.len() + 1));
            }
            v
        })
}

fn amf_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        (-1e12f64..1e12).prop_map(Value::Number),
        any::<u32>().prop_map(|n| Value::Number(f64::from(n))),
        (0u8..16).prop_map(|n| Value::Number(f64::from(n))),
        any::<bool>().prop_map(Value::Boolean),
        "[a-zA-Z0-9.-]{0,6}".prop_map(Value::String),
        Just(Value::Null),
        Just(Value::Undefined),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        vec(("[a-z]{1,4}", inner), 0..3).prop_map(Value::Object)
    })
}

fn metadata_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "duration",
            "width",
            "height",
            "videodatarate",
            "framerate",
            "videocodecid",
            "audiodatarate",
            "audiosamplerate",
            "audiosamplesize",
            "audiochannels",
            "stereo",
            "audiocodecid",
            "audiodelay",
            "canSeekToEnd",
            "creationdate",
            "encoder",
            "filesize",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z]{0,8}",
    ]
}

/// Checks the parse of a payload against the fast classifiers and checks
/// that encoding the parsed tag and parsing it again gives the same tag.
fn check_video(payload: &[u8]) -> Result<(), TestCaseError> {
    let bytes = Bytes::copy_from_slice(payload);
    let fast_key = video_is_keyframe(payload);
    let fast_seq = video_is_sequence_header(payload);
    if let Ok(tag) = VideoTag::parse(&bytes) {
        prop_assert_eq!(fast_key, tag.is_keyframe());
        prop_assert_eq!(fast_seq, tag.is_sequence_header());
        let mut out = BytesMut::new();
        tag.encode(&mut out)
            .map_err(|e| TestCaseError::fail(format!("{tag:?}: {e}")))?;
        prop_assert_eq!(VideoTag::parse(&out.freeze()), Ok(tag));
    }
    Ok(())
}

fn check_audio(payload: &[u8]) -> Result<(), TestCaseError> {
    let bytes = Bytes::copy_from_slice(payload);
    let fast_seq = audio_is_sequence_header(payload);
    let _ = MultichannelConfig::parse(&bytes);
    if let Ok(tag) = AudioTag::parse(&bytes) {
        prop_assert_eq!(fast_seq, tag.is_sequence_header());
        let mut out = BytesMut::new();
        tag.encode(&mut out)
            .map_err(|e| TestCaseError::fail(format!("{tag:?}: {e}")))?;
        prop_assert_eq!(AudioTag::parse(&out.freeze()), Ok(tag));
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_video_payloads(p in payload()) {
        check_video(&p)?;
    }

    #[test]
    fn arbitrary_audio_payloads(p in payload()) {
        check_audio(&p)?;
    }

    #[test]
    fn video_round_trip(
        tag in prop_oneof![legacy_video_tag(), enhanced_video_tag(), multitrack_video_tag()]
    ) {
        let mut out = BytesMut::new();
        tag.encode(&mut out).map_err(|e| TestCaseError::fail(format!("{tag:?}: {e}")))?;
        let bytes = out.freeze();
        let mut parsed = VideoTag::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let VideoPacket::Multitrack { .. } = parsed.packet {
            // `data` of a multitrack tag is the track area, written from the tracks.
            prop_assert!(bytes.ends_with(&parsed.data));
            parsed.data = Bytes::new();
        }
        prop_assert_eq!(&parsed, &tag);
        prop_assert_eq!(video_is_keyframe(&bytes), tag.is_keyframe());
        prop_assert_eq!(video_is_sequence_header(&bytes), tag.is_sequence_header());
    }

    #[test]
    fn audio_round_trip(
        tag in prop_oneof![
            legacy_audio_tag(),
            enhanced_audio_tag(),
            multitrack_audio_tag(),
            Just(AudioTag::silence()),
        ]
    ) {
        let mut out = BytesMut::new();
        tag.encode(&mut out).map_err(|e| TestCaseError::fail(format!("{tag:?}: {e}")))?;
        let bytes = out.freeze();
        let mut parsed = AudioTag::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let AudioPacket::Multitrack { .. } = parsed.packet {
            prop_assert!(bytes.ends_with(&parsed.data));
            parsed.data = Bytes::new();
        }
        prop_assert_eq!(&parsed, &tag);
        prop_assert_eq!(audio_is_sequence_header(&bytes), tag.is_sequence_header());
    }

    #[test]
    fn metadata_keeps_every_property(
        props in vec((metadata_key(), amf_value()), 0..24),
        as_object: bool,
    ) {
        let input = if as_object {
            Value::Object(props.clone())
        } else {
            Value::EcmaArray(props.clone())
        };
        let m = Metadata::from_amf(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&m.properties, &props);
        prop_assert_eq!(m.to_amf(), Value::EcmaArray(props));
    }

    #[test]
    fn metadata_typed_fields_round_trip(
        width in proptest::option::of(0f64..10_000.0),
        rate in proptest::option::of(0f64..1e6),
        stereo: Option<bool>,
        codec in proptest::option::of(any::<u32>()),
        encoder in proptest::option::of("[a-z]{0,8}"),
    ) {
        let m = Metadata {
            width,
            audio_sample_rate: rate,
            stereo,
            video_codec_id: codec.map(|c| CodecId::from_amf(&Value::Number(f64::from(c)))
                .expect("a number is a codec id")),
            encoder,
            ..Metadata::default()
        };
        let back = Metadata::from_amf(&m.to_amf()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.width, m.width);
        prop_assert_eq!(back.audio_sample_rate, m.audio_sample_rate);
        prop_assert_eq!(back.stereo, m.stereo);
        prop_assert_eq!(&back.video_codec_id, &m.video_codec_id);
        prop_assert_eq!(&back.encoder, &m.encoder);
    }
}
