//! Video tag headers: golden bytes, errors, encoding.

use bytes::{Bytes, BytesMut};

use super::cat;
use crate::media::*;

/// Parses, checks the fast classifiers agree, and checks that encoding the
/// parsed tag gives back the same bytes (every golden payload here is in
/// canonical form).
fn parse(payload: &Bytes) -> VideoTag {
    let tag = VideoTag::parse(payload).unwrap();
    assert_eq!(video_is_keyframe(payload), tag.is_keyframe(), "{tag:?}");
    assert_eq!(
        video_is_sequence_header(payload),
        tag.is_sequence_header(),
        "{tag:?}"
    );
    let mut out = BytesMut::new();
    tag.encode(&mut out).unwrap();
    assert_eq!(&out[..], &payload[..], "re-encoding {tag:?}");
    tag
}

#[test]
fn legacy_avc_keyframe() {
    let p = cat(&[&[0x17, 0x01, 0x00, 0x00, 0x21], &[0, 0, 0, 2, 0x65, 0x88]]);
    let t = parse(&p);
    assert_eq!(t.frame_type, FrameType::Key);
    assert_eq!(t.codec, VideoCodec::Avc);
    assert_eq!(
        t.packet,
        VideoPacket::CodedFrames {
            composition_time: 33
        }
    );
    assert!(!t.enhanced);
    assert_eq!(t.timestamp_offset_nanos, None);
    assert_eq!(&t.data[..], &[0, 0, 0, 2, 0x65, 0x88]);
    assert!(t.is_keyframe());
    assert!(!t.is_sequence_header());
    assert_eq!(t.composition_time(), 33);
}

#[test]
fn legacy_avc_inter_frame_with_negative_composition_time() {
    let p = Bytes::from_static(&[0x27, 0x01, 0xff, 0xff, 0xdf, 0x41]);
    let t = parse(&p);
    assert_eq!(t.frame_type, FrameType::Inter);
    assert_eq!(t.composition_time(), -33);
    assert!(!t.is_keyframe());
    assert_eq!(&t.data[..], &[0x41]);
}

#[test]
fn legacy_avc_sequence_header_and_end() {
    let p = Bytes::from_static(&[0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f]);
    let t = parse(&p);
    assert_eq!(t.packet, VideoPacket::SequenceStart);
    assert!(t.is_sequence_header());
    assert!(!t.is_keyframe(), "a sequence header is not a keyframe");
    assert_eq!(&t.data[..], &[0x01, 0x64, 0x00, 0x1f]);

    let t = parse(&Bytes::from_static(&[0x17, 0x02, 0, 0, 0]));
    assert_eq!(t.packet, VideoPacket::SequenceEnd);
    assert!(!t.is_sequence_header());
    assert!(t.data.is_empty());
}

#[test]
fn legacy_hevc_id_12() {
    let p = Bytes::from_static(&[0x1c, 0x00, 0, 0, 0, 0x01, 0x01]);
    let t = parse(&p);
    assert_eq!(t.codec, VideoCodec::Hevc);
    assert!(!t.enhanced);
    assert!(t.is_sequence_header());
    let t = parse(&Bytes::from_static(&[0x2c, 0x01, 0, 0, 0x10, 0xaa]));
    assert_eq!(t.composition_time(), 16);
}

#[test]
fn legacy_codecs_without_packet_type() {
    let t = parse(&Bytes::from_static(&[0x22, 0x00, 0x00, 0x84]));
    assert_eq!(
        (t.frame_type, t.codec),
        (FrameType::Inter, VideoCodec::SorensonH263)
    );
    assert_eq!(
        t.packet,
        VideoPacket::CodedFrames {
            composition_time: 0
        }
    );
    assert_eq!(t.data.len(), 3);

    let t = parse(&Bytes::from_static(&[0x14, 0x00, 0x55]));
    assert_eq!(t.codec, VideoCodec::Vp6);
    assert!(t.is_keyframe());

    let t = parse(&Bytes::from_static(&[0x32, 0x01]));
    assert_eq!(t.frame_type, FrameType::DisposableInter);

    // Unassigned ids pass through.
    let t = parse(&Bytes::from_static(&[0x1d, 0x01, 0x02]));
    assert_eq!(t.codec, VideoCodec::OtherId(13));
    assert_eq!(&t.data[..], &[0x01, 0x02]);
}

#[test]
fn generated_keyframe_is_noted_but_not_a_keyframe() {
    let p = Bytes::from_static(&[0x47, 0x01, 0, 0, 0, 0x65]);
    let t = parse(&p);
    assert_eq!(t.frame_type, FrameType::GeneratedKey);
    assert!(!t.is_keyframe());
    assert!(t.is_generated_keyframe());
}

#[test]
fn legacy_command_frame() {
    let t = parse(&Bytes::from_static(&[0x57, 0x01]));
    assert_eq!(t.frame_type, FrameType::Command);
    assert_eq!(t.codec, VideoCodec::Avc);
    assert_eq!(t.packet, VideoPacket::Command(VideoCommand::EndSeek));
    assert!(!t.is_keyframe() && !t.is_sequence_header());
    let t = parse(&Bytes::from_static(&[0x52, 0x00]));
    assert_eq!(t.packet, VideoPacket::Command(VideoCommand::StartSeek));
    let t = parse(&Bytes::from_static(&[0x52, 0x09]));
    assert_eq!(t.packet, VideoPacket::Command(VideoCommand::Other(9)));
}

#[test]
fn legacy_errors() {
    let err = |b: &'static [u8]| VideoTag::parse(&Bytes::from_static(b)).unwrap_err();
    assert_eq!(
        err(&[]),
        MediaError::Truncated {
            what: "video tag header"
        }
    );
    assert_eq!(
        err(&[0x17]),
        MediaError::Truncated {
            what: "AVC packet type"
        }
    );
    assert_eq!(
        err(&[0x17, 0x01, 0x00]),
        MediaError::Truncated {
            what: "composition time"
        }
    );
    assert_eq!(
        err(&[0x57]),
        MediaError::Truncated {
            what: "video command"
        }
    );
    assert_eq!(err(&[0x07, 0x01]), MediaError::UnknownFrameType(0));
    assert_eq!(err(&[0x67, 0x01]), MediaError::UnknownFrameType(6));
    assert_eq!(
        err(&[0x17, 0x03, 0, 0, 0]),
        MediaError::UnknownVideoPacketType(3)
    );
}

#[test]
fn enhanced_hevc_sequence_start_and_coded_frames() {
    let p = cat(&[&[0x90], b"hvc1", &[0x01, 0x02, 0x03]]);
    let t = parse(&p);
    assert!(t.enhanced);
    assert_eq!(
        (t.frame_type, t.codec, &t.packet),
        (
            FrameType::Key,
            VideoCodec::Hevc,
            &VideoPacket::SequenceStart
        )
    );
    assert_eq!(&t.data[..], &[1, 2, 3]);
    assert!(t.is_sequence_header());

    let p = cat(&[&[0x91], b"hvc1", &[0x00, 0x00, 0x42], &[0x26, 0x01]]);
    let t = parse(&p);
    assert_eq!(
        t.packet,
        VideoPacket::CodedFrames {
            composition_time: 66
        }
    );
    assert_eq!(&t.data[..], &[0x26, 0x01]);
    assert!(t.is_keyframe());
}

#[test]
fn enhanced_coded_frames_x() {
    let p = cat(&[&[0xa3], b"avc1", &[0x41, 0x9a]]);
    let t = parse(&p);
    assert_eq!(t.frame_type, FrameType::Inter);
    assert_eq!(t.packet, VideoPacket::CodedFramesX);
    assert_eq!(t.composition_time(), 0);
    assert_eq!(&t.data[..], &[0x41, 0x9a]);
    let t = parse(&cat(&[&[0x93], b"vvc1", &[0x00]]));
    assert_eq!(t.codec, VideoCodec::Vvc);
    assert!(t.is_keyframe());
}

#[test]
fn enhanced_av1_and_vp9_have_no_composition_time() {
    let t = parse(&cat(&[&[0x90], b"av01", &[0x81, 0x08, 0x0c, 0x00]]));
    assert_eq!(
        (t.codec, &t.packet),
        (VideoCodec::Av1, &VideoPacket::SequenceStart)
    );
    let t = parse(&cat(&[&[0xa1], b"av01", &[0x12, 0x00, 0x0a]]));
    assert_eq!(
        t.packet,
        VideoPacket::CodedFrames {
            composition_time: 0
        }
    );
    assert_eq!(&t.data[..], &[0x12, 0x00, 0x0a], "no SI24 was consumed");

    let t = parse(&cat(&[&[0x90], b"vp09", &[0x01, 0x00]]));
    assert_eq!(t.codec, VideoCodec::Vp9);
    assert!(t.is_sequence_header());
    let t = parse(&cat(&[&[0x91], b"vp09", &[0x82, 0x49]]));
    assert!(t.is_keyframe());
    assert_eq!(t.data.len(), 2);
    let t = parse(&cat(&[&[0xa1], b"vp08", &[0x31]]));
    assert_eq!(t.codec, VideoCodec::Vp8);
}

#[test]
fn enhanced_other_packets() {
    let t = parse(&cat(&[&[0x95], b"av01", &[0x80]]));
    assert_eq!(t.packet, VideoPacket::Mpeg2TsSequenceStart);
    assert!(t.is_sequence_header());

    let t = parse(&cat(&[&[0x92], b"avc1"]));
    assert_eq!(t.packet, VideoPacket::SequenceEnd);

    // Metadata as FFmpeg writes it: frame type Command (ignored) and a FourCC.
    let t = parse(&cat(&[&[0xd4], b"hvc1", &[0x02, 0x00, 0x09]]));
    assert_eq!(
        (t.frame_type, t.codec, &t.packet),
        (FrameType::Command, VideoCodec::Hevc, &VideoPacket::Metadata)
    );
    assert_eq!(&t.data[..], &[0x02, 0x00, 0x09]);
}

#[test]
fn enhanced_command_frame_has_no_fourcc() {
    let t = parse(&Bytes::from_static(&[0xd1, 0x00]));
    assert_eq!(t.frame_type, FrameType::Command);
    assert_eq!(t.codec, VideoCodec::Unspecified);
    assert_eq!(t.packet, VideoPacket::Command(VideoCommand::StartSeek));
    assert!(t.enhanced);
    assert!(!video_is_sequence_header(&[0xd0, 0x00]));
    assert!(
        !VideoTag::parse(&Bytes::from_static(&[0xd0, 0x00]))
            .unwrap()
            .is_sequence_header()
    );
}

#[test]
fn enhanced_unknown_fourcc_passes_through() {
    let t = parse(&cat(&[&[0x91], b"xyzw", &[0x00, 0x01]]));
    assert_eq!(t.codec, VideoCodec::Other(FourCc(*b"xyzw")));
    assert_eq!(&t.data[..], &[0x00, 0x01]);
}

#[test]
fn modex_timestamp_offset_nano() {
    // ExHeader | Key | ModEx, size 3, 500 ns, [TimestampOffsetNano | CodedFrames].
    let p = cat(&[
        &[0x97, 0x02, 0x00, 0x01, 0xf4, 0x01],
        b"hvc1",
        &[0x00, 0x00, 0x00, 0x26],
    ]);
    let t = parse(&p);
    assert_eq!(t.timestamp_offset_nanos, Some(500));
    assert_eq!(
        t.packet,
        VideoPacket::CodedFrames {
            composition_time: 0
        }
    );
    assert_eq!(&t.data[..], &[0x26]);
    assert!(t.is_keyframe());

    // ModEx before a sequence start, seen by the fast path too.
    let p = cat(&[&[0x97, 0x02, 0x0f, 0x42, 0x3f, 0x00], b"av01", &[0x81]]);
    let t = parse(&p);
    assert_eq!(t.timestamp_offset_nanos, Some(999_999));
    assert!(video_is_sequence_header(&p));

    let err = VideoTag::parse(&cat(&[&[0x97, 0x02, 0x0f, 0x42, 0x40, 0x01], b"hvc1"]));
    assert_eq!(err, Err(MediaError::TimestampOffsetOutOfRange(1_000_000)));
    let err = VideoTag::parse(&Bytes::from_static(&[0x97, 0x02, 0x00]));
    assert_eq!(err, Err(MediaError::Truncated { what: "ModEx data" }));
}

#[test]
fn multitrack_one_track() {
    // ExHeader | Key | Multitrack, [OneTrack | CodedFrames], avc1, track 0.
    let p = cat(&[
        &[0x96, 0x01],
        b"avc1",
        &[0x00, 0x00, 0x00, 0x21, 0x65, 0x01],
    ]);
    let t = parse(&p);
    assert_eq!(t.codec, VideoCodec::Avc);
    assert_eq!(
        t.packet,
        VideoPacket::Multitrack {
            multitrack_type: AvMultitrackType::OneTrack,
            packet_type: VideoPacketType::CodedFrames,
            tracks: vec![VideoTrack {
                track_id: 0,
                codec: VideoCodec::Avc,
                composition_time: 33,
                data: Bytes::from_static(&[0x65, 0x01]),
            }],
        }
    );
    assert_eq!(&t.data[..], &p[6..], "data is the track area");
    assert!(t.is_keyframe());
}

#[test]
fn multitrack_many_tracks_one_codec() {
    let p = cat(&[
        &[0x96, 0x10],
        b"av01",
        &[0x00, 0, 0, 2, 0xaa, 0xbb],
        &[0x01, 0, 0, 1, 0xcc],
    ]);
    let t = parse(&p);
    let VideoPacket::Multitrack {
        multitrack_type,
        packet_type,
        tracks,
    } = &t.packet
    else {
        panic!("not multitrack: {t:?}");
    };
    assert_eq!(*multitrack_type, AvMultitrackType::ManyTracks);
    assert_eq!(*packet_type, VideoPacketType::SequenceStart);
    assert_eq!(tracks.len(), 2);
    assert_eq!(
        (tracks[0].track_id, &tracks[0].data[..]),
        (0, &[0xaa, 0xbb][..])
    );
    assert_eq!((tracks[1].track_id, &tracks[1].data[..]), (1, &[0xcc][..]));
    assert!(tracks.iter().all(|t| t.codec == VideoCodec::Av1));
    assert!(t.is_sequence_header());
    assert!(!t.is_keyframe());
}

#[test]
fn multitrack_many_tracks_many_codecs() {
    let p = cat(&[
        &[0xa6, 0x21],
        b"avc1",
        &[0x00, 0, 0, 5, 0xff, 0xff, 0xfe, 0x41, 0x42],
        b"av01",
        &[0x02, 0, 0, 1, 0x32],
    ]);
    let t = parse(&p);
    assert_eq!(t.codec, VideoCodec::Unspecified);
    let VideoPacket::Multitrack { tracks, .. } = &t.packet else {
        panic!("not multitrack: {t:?}");
    };
    assert_eq!(
        tracks,
        &vec![
            VideoTrack {
                track_id: 0,
                codec: VideoCodec::Avc,
                composition_time: -2,
                data: Bytes::from_static(&[0x41, 0x42]),
            },
            VideoTrack {
                track_id: 2,
                codec: VideoCodec::Av1,
                composition_time: 0,
                data: Bytes::from_static(&[0x32]),
            },
        ]
    );
}

#[test]
fn enhanced_errors() {
    let err = |b: Bytes| VideoTag::parse(&b).unwrap_err();
    assert_eq!(
        err(Bytes::from_static(&[0x98])),
        MediaError::UnknownVideoPacketType(8)
    );
    assert_eq!(
        err(cat(&[&[0x81], b"avc1"])),
        MediaError::UnknownFrameType(0)
    );
    assert_eq!(
        err(cat(&[&[0xe1], b"avc1"])),
        MediaError::UnknownFrameType(6)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x90, b'h', b'v'])),
        MediaError::Truncated {
            what: "video FourCC"
        }
    );
    assert_eq!(
        err(cat(&[&[0x91], b"avc1", &[0x00]])),
        MediaError::Truncated {
            what: "composition time"
        }
    );
    assert_eq!(
        err(Bytes::from_static(&[0x96, 0x16])),
        MediaError::NestedMultitrack(6)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x96, 0x17])),
        MediaError::NestedMultitrack(7)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x96, 0x31])),
        MediaError::UnknownMultitrackType(3)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x96, 0x1f])),
        MediaError::UnknownVideoPacketType(15)
    );
    // A track size past the end of the message.
    assert_eq!(
        err(cat(&[&[0x96, 0x10], b"av01", &[0x00, 0, 0, 9, 0xaa]])),
        MediaError::Truncated { what: "track body" }
    );
    // No track at all.
    assert_eq!(
        err(cat(&[&[0x96, 0x10], b"av01"])),
        MediaError::Truncated { what: "track id" }
    );
    // A CodedFrames avc1 track too short for its composition time.
    assert_eq!(
        err(cat(&[&[0x96, 0x21], b"avc1", &[0x00, 0, 0, 2, 0, 0]])),
        MediaError::Truncated {
            what: "track composition time"
        }
    );
}

#[test]
fn encode_refuses_inconsistent_tags() {
    let base = VideoTag {
        frame_type: FrameType::Key,
        codec: VideoCodec::Av1,
        packet: VideoPacket::SequenceStart,
        timestamp_offset_nanos: None,
        enhanced: false,
        data: Bytes::from_static(&[1, 2]),
    };
    let refuse = |t: VideoTag| {
        let mut out = BytesMut::from(&b"keep"[..]);
        assert!(
            matches!(t.encode(&mut out), Err(MediaError::Unencodable(_))),
            "{t:?}"
        );
        assert_eq!(&out[..], b"keep", "nothing written on error");
    };
    // AV1 has no legacy id.
    refuse(base.clone());
    // H.263 has no FourCC.
    refuse(VideoTag {
        codec: VideoCodec::SorensonH263,
        enhanced: true,
        ..base.clone()
    });
    // Composition time outside SI24, or on a codec without one.
    refuse(VideoTag {
        codec: VideoCodec::Avc,
        packet: VideoPacket::CodedFrames {
            composition_time: 1 << 23,
        },
        ..base.clone()
    });
    refuse(VideoTag {
        enhanced: true,
        packet: VideoPacket::CodedFrames {
            composition_time: 5,
        },
        ..base.clone()
    });
    // Command packets and frame types must agree.
    refuse(VideoTag {
        codec: VideoCodec::Avc,
        packet: VideoPacket::Command(VideoCommand::StartSeek),
        ..base.clone()
    });
    refuse(VideoTag {
        enhanced: true,
        frame_type: FrameType::Command,
        ..base.clone()
    });
    // A legacy header carries no ModEx.
    refuse(VideoTag {
        codec: VideoCodec::Avc,
        timestamp_offset_nanos: Some(1),
        ..base.clone()
    });
    // A OneTrack tag with two tracks, and one with none.
    let track = VideoTrack {
        track_id: 0,
        codec: VideoCodec::Av1,
        composition_time: 0,
        data: Bytes::new(),
    };
    refuse(VideoTag {
        enhanced: true,
        packet: VideoPacket::Multitrack {
            multitrack_type: AvMultitrackType::OneTrack,
            packet_type: VideoPacketType::CodedFrames,
            tracks: vec![track.clone(), track.clone()],
        },
        ..base.clone()
    });
    refuse(VideoTag {
        enhanced: true,
        packet: VideoPacket::Multitrack {
            multitrack_type: AvMultitrackType::ManyTracks,
            packet_type: VideoPacketType::CodedFrames,
            tracks: vec![],
        },
        ..base.clone()
    });
    // A single-codec multitrack tag whose track has another codec.
    refuse(VideoTag {
        enhanced: true,
        packet: VideoPacket::Multitrack {
            multitrack_type: AvMultitrackType::ManyTracks,
            packet_type: VideoPacketType::CodedFrames,
            tracks: vec![VideoTrack {
                codec: VideoCodec::Vp9,
                ..track
            }],
        },
        ..base
    });
}

#[test]
fn codec_and_type_values_round_trip() {
    for id in 0..16u8 {
        let c = VideoCodec::from_legacy_id(id);
        assert_eq!(c.legacy_id(), Some(id));
    }
    for f in [
        FourCc::AVC1,
        FourCc::HVC1,
        FourCc::VVC1,
        FourCc::AV01,
        FourCc::VP09,
        FourCc::VP08,
        FourCc(*b"abcd"),
    ] {
        assert_eq!(VideoCodec::from_fourcc(f).fourcc(), Some(f));
    }
    for v in 0..16u8 {
        if let Some(t) = VideoPacketType::from_u8(v) {
            assert_eq!(t.to_u8(), v);
        } else {
            assert!(v >= 8);
        }
        if let Some(t) = FrameType::from_u8(v) {
            assert_eq!(t.to_u8(), v);
        } else {
            assert!(v == 0 || v >= 6);
        }
    }
    for v in 0..=255u8 {
        assert_eq!(VideoCommand::from_u8(v).to_u8(), v);
    }
}
