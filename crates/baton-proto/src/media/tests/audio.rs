//! Audio tag headers: golden bytes, errors, encoding.

use bytes::{Bytes, BytesMut};

use super::cat;
use crate::media::*;

/// Parses, checks the fast classifier agrees, and checks that encoding the
/// parsed tag gives back the same bytes.
fn parse(payload: &Bytes) -> AudioTag {
    let tag = AudioTag::parse(payload).unwrap();
    assert_eq!(
        audio_is_sequence_header(payload),
        tag.is_sequence_header(),
        "{tag:?}"
    );
    let mut out = BytesMut::new();
    tag.encode(&mut out).unwrap();
    assert_eq!(&out[..], &payload[..], "re-encoding {tag:?}");
    tag
}

#[test]
fn aac_sequence_header_and_raw() {
    // AAC, 44 kHz, 16-bit, stereo; AudioSpecificConfig 0x1210 (LC 44.1k 2ch).
    let t = parse(&Bytes::from_static(&[0xaf, 0x00, 0x12, 0x10]));
    assert_eq!(t.codec, AudioCodec::Aac);
    assert_eq!(t.sound_rate, Some(SoundRate::Khz44));
    assert_eq!(t.sound_size, Some(SoundSize::Bits16));
    assert_eq!(t.sound_type, Some(SoundType::Stereo));
    assert_eq!(t.packet, AudioPacket::SequenceStart);
    assert!(!t.enhanced);
    assert_eq!(&t.data[..], &[0x12, 0x10]);
    assert!(t.is_sequence_header());

    let t = parse(&Bytes::from_static(&[0xaf, 0x01, 0x21, 0x1b, 0x94]));
    assert_eq!(t.packet, AudioPacket::CodedFrames);
    assert_eq!(&t.data[..], &[0x21, 0x1b, 0x94]);
    assert!(!t.is_sequence_header());
}

#[test]
fn mp3_and_other_legacy_formats() {
    // MP3 (2), 22 kHz (2), 16-bit, mono: 0010 10 1 0.
    let t = parse(&Bytes::from_static(&[0x2a, 0xff, 0xfb, 0x90]));
    assert_eq!(t.codec, AudioCodec::Mp3);
    assert_eq!(t.sound_rate, Some(SoundRate::Khz22));
    assert_eq!(t.sound_size, Some(SoundSize::Bits16));
    assert_eq!(t.sound_type, Some(SoundType::Mono));
    assert_eq!(t.packet, AudioPacket::CodedFrames);
    assert_eq!(&t.data[..], &[0xff, 0xfb, 0x90]);

    // Speex, 5.5 kHz, 8-bit, mono.
    let t = parse(&Bytes::from_static(&[0xb0, 0x01]));
    assert_eq!(t.codec, AudioCodec::Speex);
    assert_eq!(t.sound_rate, Some(SoundRate::Khz5_5));
    assert_eq!(t.sound_size, Some(SoundSize::Bits8));

    let t = parse(&Bytes::from_static(&[0xe6]));
    assert_eq!(t.codec, AudioCodec::Mp3_8k);
    assert_eq!(t.sound_rate, Some(SoundRate::Khz11));
    assert!(t.data.is_empty());

    let t = parse(&Bytes::from_static(&[0x72, 0x00]));
    assert_eq!(t.codec, AudioCodec::G711ALaw);
    let t = parse(&Bytes::from_static(&[0xc2, 0x00]));
    assert_eq!(t.codec, AudioCodec::OtherId(12));
}

#[test]
fn empty_message_is_silence() {
    let t = parse(&Bytes::new());
    assert_eq!(t, AudioTag::silence());
    assert_eq!(t.packet, AudioPacket::Silence);
    assert!(!t.is_sequence_header());
}

#[test]
fn legacy_errors() {
    let err = |b: &'static [u8]| AudioTag::parse(&Bytes::from_static(b)).unwrap_err();
    assert_eq!(
        err(&[0xaf]),
        MediaError::Truncated {
            what: "AAC packet type"
        }
    );
    assert_eq!(err(&[0xaf, 0x02]), MediaError::UnknownAudioPacketType(2));
}

#[test]
fn enhanced_opus() {
    let head = b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
    let t = parse(&cat(&[&[0x90], b"Opus", head]));
    assert!(t.enhanced);
    assert_eq!(t.codec, AudioCodec::Opus);
    assert_eq!(t.packet, AudioPacket::SequenceStart);
    assert_eq!(
        (t.sound_rate, t.sound_size, t.sound_type),
        (None, None, None)
    );
    assert_eq!(&t.data[..], &head[..]);
    assert!(t.is_sequence_header());

    let t = parse(&cat(&[&[0x91], b"Opus", &[0xfc, 0xff, 0xfe]]));
    assert_eq!(t.packet, AudioPacket::CodedFrames);
    assert_eq!(t.data.len(), 3);

    let t = parse(&cat(&[&[0x92], b"Opus"]));
    assert_eq!(t.packet, AudioPacket::SequenceEnd);
}

#[test]
fn enhanced_flac_ac3_eac3_aac_mp3() {
    let t = parse(&cat(&[
        &[0x90],
        b"fLaC",
        b"fLaC",
        &[0x00, 0x00, 0x00, 0x22],
    ]));
    assert_eq!(t.codec, AudioCodec::Flac);
    assert_eq!(&t.data[..4], b"fLaC");
    let t = parse(&cat(&[&[0x91], b"ac-3", &[0x0b, 0x77, 0x01]]));
    assert_eq!(t.codec, AudioCodec::Ac3);
    assert_eq!(&t.data[..], &[0x0b, 0x77, 0x01]);
    let t = parse(&cat(&[&[0x91], b"ec-3", &[0x0b, 0x77]]));
    assert_eq!(t.codec, AudioCodec::Eac3);
    let t = parse(&cat(&[&[0x90], b"mp4a", &[0x12, 0x10]]));
    assert_eq!((t.codec, t.enhanced), (AudioCodec::Aac, true));
    assert!(t.is_sequence_header());
    let t = parse(&cat(&[&[0x91], b".mp3", &[0xff, 0xfb]]));
    assert_eq!(t.codec, AudioCodec::Mp3);
    let t = parse(&cat(&[&[0x91], b"zzzz"]));
    assert_eq!(t.codec, AudioCodec::Other(FourCc(*b"zzzz")));
}

#[test]
fn multichannel_config() {
    // Native order, 6 channels, mask 0x3f (5.1).
    let t = parse(&cat(&[
        &[0x94],
        b"Opus",
        &[0x01, 0x06, 0x00, 0x00, 0x00, 0x3f],
    ]));
    assert_eq!(
        t.packet,
        AudioPacket::MultichannelConfig(MultichannelConfig {
            channel_count: 6,
            layout: ChannelLayout::Native(0x3f),
        })
    );
    assert!(t.data.is_empty());
    assert!(!t.is_sequence_header());

    // Custom order: channel 1 is FrontRight, channel 2 is FrontLeft.
    let t = parse(&cat(&[&[0x94], b"Opus", &[0x02, 0x02, 0x01, 0x00]]));
    assert_eq!(
        t.packet,
        AudioPacket::MultichannelConfig(MultichannelConfig {
            channel_count: 2,
            layout: ChannelLayout::Custom(Bytes::from_static(&[0x01, 0x00])),
        })
    );

    let t = parse(&cat(&[&[0x94], b"fLaC", &[0x00, 0x08]]));
    assert_eq!(
        t.packet,
        AudioPacket::MultichannelConfig(MultichannelConfig {
            channel_count: 8,
            layout: ChannelLayout::Unspecified,
        })
    );

    let err = AudioTag::parse(&cat(&[&[0x94], b"Opus", &[0x03, 0x02]]));
    assert_eq!(err, Err(MediaError::UnknownChannelOrder(3)));
    let err = AudioTag::parse(&cat(&[&[0x94], b"Opus", &[0x02, 0x03, 0x00]]));
    assert_eq!(
        err,
        Err(MediaError::Truncated {
            what: "audio channel mapping"
        })
    );
    let err = AudioTag::parse(&cat(&[&[0x94], b"Opus", &[0x01, 0x02, 0x00]]));
    assert_eq!(
        err,
        Err(MediaError::Truncated {
            what: "audio channel flags"
        })
    );
}

#[test]
fn modex_timestamp_offset_nano() {
    let p = cat(&[&[0x97, 0x02, 0x00, 0x00, 0x64, 0x01], b"Opus", &[0xfc]]);
    let t = parse(&p);
    assert_eq!(t.timestamp_offset_nanos, Some(100));
    assert_eq!(t.packet, AudioPacket::CodedFrames);
    assert_eq!(&t.data[..], &[0xfc]);

    let p = cat(&[&[0x97, 0x02, 0x00, 0x00, 0x01, 0x00], b"mp4a", &[0x12]]);
    assert!(parse(&p).is_sequence_header());

    let err = AudioTag::parse(&Bytes::from_static(&[0x97, 0x00, 0x00, 0x01]));
    assert_eq!(err, Err(MediaError::ModExTooShort { len: 1 }));
}

#[test]
fn multitrack() {
    // OneTrack, CodedFrames, mp4a, track 3.
    let t = parse(&cat(&[&[0x95, 0x01], b"mp4a", &[0x03, 0x21, 0x1b]]));
    assert_eq!(t.codec, AudioCodec::Aac);
    assert_eq!(
        t.packet,
        AudioPacket::Multitrack {
            multitrack_type: AvMultitrackType::OneTrack,
            packet_type: AudioPacketType::CodedFrames,
            tracks: vec![AudioTrack {
                track_id: 3,
                codec: AudioCodec::Aac,
                data: Bytes::from_static(&[0x21, 0x1b]),
            }],
        }
    );

    // ManyTracks, SequenceStart, Opus, two tracks.
    let t = parse(&cat(&[
        &[0x95, 0x10],
        b"Opus",
        &[0x00, 0, 0, 1, 0xaa, 0x01, 0, 0, 2, 0xbb, 0xcc],
    ]));
    assert!(t.is_sequence_header());
    let AudioPacket::Multitrack { tracks, .. } = &t.packet else {
        panic!("not multitrack: {t:?}");
    };
    assert_eq!(tracks.len(), 2);
    assert_eq!(&tracks[1].data[..], &[0xbb, 0xcc]);

    // ManyTracksManyCodecs, CodedFrames: AAC on track 0, Opus on track 1.
    let t = parse(&cat(&[
        &[0x95, 0x21],
        b"mp4a",
        &[0x00, 0, 0, 1, 0xaa],
        b"Opus",
        &[0x01, 0, 0, 1, 0xbb],
    ]));
    assert_eq!(t.codec, AudioCodec::Unspecified);
    let AudioPacket::Multitrack { tracks, .. } = &t.packet else {
        panic!("not multitrack: {t:?}");
    };
    let codecs: Vec<_> = tracks.iter().map(|t| (t.track_id, t.codec)).collect();
    assert_eq!(codecs, [(0, AudioCodec::Aac), (1, AudioCodec::Opus)]);

    // A multichannel config carried per track.
    let t = parse(&cat(&[&[0x95, 0x04], b"Opus", &[0x00, 0x00, 0x02]]));
    let AudioPacket::Multitrack { tracks, .. } = &t.packet else {
        panic!("not multitrack: {t:?}");
    };
    assert_eq!(
        MultichannelConfig::parse(&tracks[0].data),
        Ok(MultichannelConfig {
            channel_count: 2,
            layout: ChannelLayout::Unspecified
        })
    );
}

#[test]
fn enhanced_errors() {
    let err = |b: Bytes| AudioTag::parse(&b).unwrap_err();
    assert_eq!(
        err(Bytes::from_static(&[0x93])),
        MediaError::UnknownAudioPacketType(3)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x96])),
        MediaError::UnknownAudioPacketType(6)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x9f])),
        MediaError::UnknownAudioPacketType(15)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x95, 0x05])),
        MediaError::NestedMultitrack(5)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x95, 0x07])),
        MediaError::NestedMultitrack(7)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x95, 0x41])),
        MediaError::UnknownMultitrackType(4)
    );
    assert_eq!(
        err(Bytes::from_static(&[0x90, b'O'])),
        MediaError::Truncated {
            what: "audio FourCC"
        }
    );
    assert_eq!(
        err(cat(&[&[0x95, 0x11], b"Opus", &[0x00, 0, 0]])),
        MediaError::Truncated { what: "track size" }
    );
}

#[test]
fn encode_refuses_inconsistent_tags() {
    let base = AudioTag {
        codec: AudioCodec::Opus,
        sound_rate: Some(SoundRate::Khz44),
        sound_size: Some(SoundSize::Bits16),
        sound_type: Some(SoundType::Stereo),
        packet: AudioPacket::CodedFrames,
        timestamp_offset_nanos: None,
        enhanced: false,
        data: Bytes::new(),
    };
    let refuse = |t: AudioTag| {
        let mut out = BytesMut::new();
        assert!(
            matches!(t.encode(&mut out), Err(MediaError::Unencodable(_))),
            "{t:?}"
        );
        assert!(out.is_empty());
    };
    // Opus has no legacy SoundFormat; Speex has no FourCC.
    refuse(base.clone());
    refuse(AudioTag {
        codec: AudioCodec::Speex,
        enhanced: true,
        ..base.clone()
    });
    // Legacy headers need the sound fields and carry no ModEx.
    refuse(AudioTag {
        codec: AudioCodec::Aac,
        sound_rate: None,
        ..base.clone()
    });
    refuse(AudioTag {
        codec: AudioCodec::Aac,
        timestamp_offset_nanos: Some(5),
        ..base.clone()
    });
    // Only AAC has a legacy sequence header.
    refuse(AudioTag {
        codec: AudioCodec::Mp3,
        packet: AudioPacket::SequenceStart,
        ..base.clone()
    });
    // A custom mapping with the wrong number of entries.
    refuse(AudioTag {
        enhanced: true,
        packet: AudioPacket::MultichannelConfig(MultichannelConfig {
            channel_count: 3,
            layout: ChannelLayout::Custom(Bytes::from_static(&[0])),
        }),
        ..base.clone()
    });
    // An out-of-range nano offset.
    refuse(AudioTag {
        enhanced: true,
        timestamp_offset_nanos: Some(1_000_000),
        ..base
    });
}

#[test]
fn codec_and_type_values_round_trip() {
    for id in (0..16u8).filter(|id| *id != 9) {
        assert_eq!(AudioCodec::from_legacy_id(id).legacy_id(), Some(id));
    }
    assert_eq!(AudioCodec::from_legacy_id(9).legacy_id(), None);
    for f in [
        FourCc::MP4A,
        FourCc::MP3,
        FourCc::OPUS,
        FourCc::FLAC,
        FourCc::AC3,
        FourCc::EC3,
        FourCc(*b"abcd"),
    ] {
        assert_eq!(AudioCodec::from_fourcc(f).fourcc(), Some(f));
    }
    for v in 0..16u8 {
        match AudioPacketType::from_u8(v) {
            Some(t) => assert_eq!(t.to_u8(), v),
            None => assert!(matches!(v, 3 | 6 | 8..=15)),
        }
    }
    for v in 0..4u8 {
        assert_eq!(SoundRate::from_bits(v).to_bits(), v);
    }
}
