//! Codec identifiers of audio and video tags: the legacy FLV v10.1 annex
//! E.4.2.1 SoundFormat and E.4.3.1 CodecID values, and the Enhanced RTMP v2
//! `AudioFourCc` / `VideoFourCc` values.

use super::FourCc;
#[cfg(doc)]
use super::{AudioTag, AudioTrack, VideoTag, VideoTrack};

/// A video codec, from a legacy CodecID or an enhanced FourCC.
///
/// `Avc` and `Hevc` are reached both ways (legacy id 7 / `avc1`, legacy id
/// 12 / `hvc1`); [`VideoTag::enhanced`] tells which header carried them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// Legacy id 2: Sorenson H.263.
    SorensonH263,
    /// Legacy id 3: Screen video.
    ScreenVideo,
    /// Legacy id 4: On2 VP6.
    Vp6,
    /// Legacy id 5: On2 VP6 with alpha channel.
    Vp6Alpha,
    /// Legacy id 6: Screen video version 2.
    ScreenVideo2,
    /// Legacy id 7 or `avc1`: H.264 / AVC.
    Avc,
    /// Legacy id 12 (the Chinese FLV extension, see the module docs) or
    /// `hvc1`: H.265 / HEVC.
    Hevc,
    /// `vvc1`: H.266 / VVC.
    Vvc,
    /// `av01`: AV1.
    Av1,
    /// `vp09`: VP9.
    Vp9,
    /// `vp08`: VP8.
    Vp8,
    /// A legacy CodecID with no assigned codec (0, 1, 8-11, 13-15); the body
    /// is passed through without a packet type.
    OtherId(u8),
    /// A FourCC that Enhanced RTMP v2 does not list; the body is passed
    /// through (with no composition time).
    Other(FourCc),
    /// No codec for the tag as a whole: an enhanced command frame (which has
    /// no FourCC) or a ManyTracksManyCodecs multitrack tag (each
    /// [`VideoTrack`] has its own codec).
    Unspecified,
}

impl VideoCodec {
    /// The legacy CodecID some encoders use for HEVC.
    pub const LEGACY_HEVC_ID: u8 = 12;

    /// The codec for a legacy 4-bit CodecID.
    pub const fn from_legacy_id(id: u8) -> Self {
        match id {
            2 => VideoCodec::SorensonH263,
            3 => VideoCodec::ScreenVideo,
            4 => VideoCodec::Vp6,
            5 => VideoCodec::Vp6Alpha,
            6 => VideoCodec::ScreenVideo2,
            7 => VideoCodec::Avc,
            Self::LEGACY_HEVC_ID => VideoCodec::Hevc,
            other => VideoCodec::OtherId(other),
        }
    }

    /// The legacy CodecID, if the codec has one that fits in 4 bits.
    pub const fn legacy_id(&self) -> Option<u8> {
        match self {
            VideoCodec::SorensonH263 => Some(2),
            VideoCodec::ScreenVideo => Some(3),
            VideoCodec::Vp6 => Some(4),
            VideoCodec::Vp6Alpha => Some(5),
            VideoCodec::ScreenVideo2 => Some(6),
            VideoCodec::Avc => Some(7),
            VideoCodec::Hevc => Some(Self::LEGACY_HEVC_ID),
            VideoCodec::OtherId(id) if *id < 16 => Some(*id),
            _ => None,
        }
    }

    /// The codec for an enhanced FourCC.
    pub const fn from_fourcc(f: FourCc) -> Self {
        match &f.0 {
            b"avc1" => VideoCodec::Avc,
            b"hvc1" => VideoCodec::Hevc,
            b"vvc1" => VideoCodec::Vvc,
            b"av01" => VideoCodec::Av1,
            b"vp09" => VideoCodec::Vp9,
            b"vp08" => VideoCodec::Vp8,
            _ => VideoCodec::Other(f),
        }
    }

    /// The enhanced FourCC, if the codec has one.
    pub const fn fourcc(&self) -> Option<FourCc> {
        match self {
            VideoCodec::Avc => Some(FourCc::AVC1),
            VideoCodec::Hevc => Some(FourCc::HVC1),
            VideoCodec::Vvc => Some(FourCc::VVC1),
            VideoCodec::Av1 => Some(FourCc::AV01),
            VideoCodec::Vp9 => Some(FourCc::VP09),
            VideoCodec::Vp8 => Some(FourCc::VP08),
            VideoCodec::Other(f) => Some(*f),
            _ => None,
        }
    }

    /// Whether enhanced CodedFrames of this codec start with an SI24
    /// composition time (avc1, hvc1, vvc1).
    pub const fn has_composition_time(&self) -> bool {
        matches!(self, VideoCodec::Avc | VideoCodec::Hevc | VideoCodec::Vvc)
    }

    /// Whether a legacy header of this codec has AVCPacketType and
    /// CompositionTime (AVC, and HEVC as legacy id 12).
    pub(crate) const fn has_legacy_packet_type(&self) -> bool {
        matches!(self, VideoCodec::Avc | VideoCodec::Hevc)
    }
}

/// An audio codec, from a legacy SoundFormat or an enhanced FourCC.
///
/// `Aac` and `Mp3` are reached both ways (SoundFormat 10 / `mp4a`,
/// SoundFormat 2 / `.mp3`); [`AudioTag::enhanced`] tells which header
/// carried them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// SoundFormat 0: linear PCM, platform-endian.
    Pcm,
    /// SoundFormat 1: ADPCM.
    Adpcm,
    /// SoundFormat 2 or `.mp3`: MP3.
    Mp3,
    /// SoundFormat 3: linear PCM, little-endian.
    PcmLe,
    /// SoundFormat 4: Nellymoser 16 kHz mono.
    Nellymoser16k,
    /// SoundFormat 5: Nellymoser 8 kHz mono.
    Nellymoser8k,
    /// SoundFormat 6: Nellymoser.
    Nellymoser,
    /// SoundFormat 7: G.711 A-law.
    G711ALaw,
    /// SoundFormat 8: G.711 mu-law.
    G711MuLaw,
    /// SoundFormat 10 or `mp4a`: AAC.
    Aac,
    /// SoundFormat 11: Speex.
    Speex,
    /// SoundFormat 14: MP3 8 kHz.
    Mp3_8k,
    /// SoundFormat 15: device-specific sound.
    DeviceSpecific,
    /// `Opus`.
    Opus,
    /// `fLaC`.
    Flac,
    /// `ac-3`: Dolby AC-3.
    Ac3,
    /// `ec-3`: Dolby E-AC-3.
    Eac3,
    /// A reserved legacy SoundFormat (12, 13); the body is passed through.
    OtherId(u8),
    /// A FourCC that Enhanced RTMP v2 does not list; the body is passed
    /// through.
    Other(FourCc),
    /// No codec for the tag as a whole: the silence message, or a
    /// ManyTracksManyCodecs multitrack tag (each [`AudioTrack`] has its own).
    Unspecified,
}

impl AudioCodec {
    /// The codec for a legacy 4-bit SoundFormat (9 is the ExHeader marker,
    /// not a codec, and maps to `OtherId(9)`).
    pub const fn from_legacy_id(id: u8) -> Self {
        match id {
            0 => AudioCodec::Pcm,
            1 => AudioCodec::Adpcm,
            2 => AudioCodec::Mp3,
            3 => AudioCodec::PcmLe,
            4 => AudioCodec::Nellymoser16k,
            5 => AudioCodec::Nellymoser8k,
            6 => AudioCodec::Nellymoser,
            7 => AudioCodec::G711ALaw,
            8 => AudioCodec::G711MuLaw,
            10 => AudioCodec::Aac,
            11 => AudioCodec::Speex,
            14 => AudioCodec::Mp3_8k,
            15 => AudioCodec::DeviceSpecific,
            other => AudioCodec::OtherId(other),
        }
    }

    /// The legacy SoundFormat, if the codec has one.
    pub const fn legacy_id(&self) -> Option<u8> {
        match self {
            AudioCodec::Pcm => Some(0),
            AudioCodec::Adpcm => Some(1),
            AudioCodec::Mp3 => Some(2),
            AudioCodec::PcmLe => Some(3),
            AudioCodec::Nellymoser16k => Some(4),
            AudioCodec::Nellymoser8k => Some(5),
            AudioCodec::Nellymoser => Some(6),
            AudioCodec::G711ALaw => Some(7),
            AudioCodec::G711MuLaw => Some(8),
            AudioCodec::Aac => Some(10),
            AudioCodec::Speex => Some(11),
            AudioCodec::Mp3_8k => Some(14),
            AudioCodec::DeviceSpecific => Some(15),
            AudioCodec::OtherId(id) if *id < 16 && *id != super::audio::EX_HEADER => Some(*id),
            _ => None,
        }
    }

    /// The codec for an enhanced FourCC.
    pub const fn from_fourcc(f: FourCc) -> Self {
        match &f.0 {
            b"mp4a" => AudioCodec::Aac,
            b".mp3" => AudioCodec::Mp3,
            b"Opus" => AudioCodec::Opus,
            b"fLaC" => AudioCodec::Flac,
            b"ac-3" => AudioCodec::Ac3,
            b"ec-3" => AudioCodec::Eac3,
            _ => AudioCodec::Other(f),
        }
    }

    /// The enhanced FourCC, if the codec has one.
    pub const fn fourcc(&self) -> Option<FourCc> {
        match self {
            AudioCodec::Aac => Some(FourCc::MP4A),
            AudioCodec::Mp3 => Some(FourCc::MP3),
            AudioCodec::Opus => Some(FourCc::OPUS),
            AudioCodec::Flac => Some(FourCc::FLAC),
            AudioCodec::Ac3 => Some(FourCc::AC3),
            AudioCodec::Eac3 => Some(FourCc::EC3),
            AudioCodec::Other(f) => Some(*f),
            _ => None,
        }
    }
}
