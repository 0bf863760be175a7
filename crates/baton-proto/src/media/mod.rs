//! Audio and video tag headers: Adobe FLV v10.1 annex E.4.2.1 (AUDIODATA,
//! AACAUDIODATA) and E.4.3.1 (VIDEODATA, AVCVIDEOPACKET), and their Enhanced
//! RTMP v2 extensions (ExAudioTagHeader, ExVideoTagHeader, FourCC codecs,
//! ModEx, Multitrack), plus the `onMetaData` object.
//!
//! The payload of an RTMP audio (type 8) or video (type 9) message is exactly
//! the body of an FLV audio or video tag, so one parser serves both.
//!
//! # Cost
//!
//! This module sits on a server's per-frame path. [`VideoTag::parse`] and
//! [`AudioTag::parse`] read only the header bytes and hand the body back as a
//! [`Bytes`](bytes::Bytes) slice of the payload (a reference count increment,
//! no copy); only a multitrack tag allocates (one `Vec` of tracks). For
//! fan-out decisions, [`video_is_keyframe`], [`video_is_sequence_header`] and
//! [`audio_is_sequence_header`] answer from the first few bytes without
//! building anything.
//!
//! # Strictness
//!
//! Enhanced RTMP says a parser that meets an unknown *critical* signal
//! (frame type, packet type) "MUST fail in a controlled and predictable
//! manner": those give a [`MediaError`]. An unknown FourCC or legacy codec id
//! does not change how the header is laid out, so it is kept
//! ([`VideoCodec::Other`], [`AudioCodec::OtherId`], ...) and the body passed
//! through untouched, which is what a relay wants. Truncated or inconsistent
//! input is always an error, never a panic.

mod audio;
mod classify;
mod codec;
mod cursor;
mod fourcc;
mod metadata;
mod modex;
mod multitrack;
mod video;

pub use audio::{
    AudioPacket, AudioPacketType, AudioTag, AudioTrack, ChannelLayout, MultichannelConfig,
    SoundRate, SoundSize, SoundType,
};
pub use classify::{audio_is_sequence_header, video_is_keyframe, video_is_sequence_header};
pub use codec::{AudioCodec, VideoCodec};
pub use fourcc::FourCc;
pub use metadata::{CodecId, Metadata};
pub use multitrack::{AvMultitrackType, MAX_TRACKS};
pub use video::{FrameType, VideoCommand, VideoPacket, VideoPacketType, VideoTag, VideoTrack};

/// The largest `TimestampOffsetNano` a ModEx may carry: "storing values up to
/// 999,999 ns" (Enhanced RTMP v2, ExVideoTagHeader / ExAudioTagHeader).
pub const MAX_TIMESTAMP_OFFSET_NANOS: u32 = 999_999;

/// An audio or video tag header or an `onMetaData` object could not be
/// decoded (the peer sent bad bytes) or a tag could not be encoded (the
/// caller built an inconsistent value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The payload ended in the middle of a header field or of a sized
    /// element (a multitrack track, a ModEx block).
    #[error("media tag ended in the middle of {what}")]
    Truncated {
        /// The field that was being read.
        what: &'static str,
    },
    /// A video frame type the specifications do not define (0, 6, 7, or 8-15
    /// in a legacy header).
    #[error("unknown video frame type {0}")]
    UnknownFrameType(u8),
    /// A video packet type that is reserved: enhanced `VideoPacketType` 8-15,
    /// or a legacy AVC/HEVC `AVCPacketType` above 2.
    #[error("unknown video packet type {0}")]
    UnknownVideoPacketType(u8),
    /// An audio packet type that is reserved: enhanced `AudioPacketType` 3, 6
    /// or 8-15, or a legacy `AACPacketType` above 1.
    #[error("unknown audio packet type {0}")]
    UnknownAudioPacketType(u8),
    /// A multitrack header whose per-track packet type is itself Multitrack
    /// or ModEx ("This fetch MUST not result in a ...PacketType.Multitrack").
    #[error("multitrack packet type {0} may not be Multitrack or ModEx")]
    NestedMultitrack(u8),
    /// An `AvMultitrackType` the specification reserves (3-15).
    #[error("unknown multitrack type {0}")]
    UnknownMultitrackType(u8),
    /// More tracks in one message than [`MAX_TRACKS`].
    #[error("more than {max} tracks in one multitrack message")]
    TooManyTracks {
        /// The limit, [`MAX_TRACKS`].
        max: usize,
    },
    /// A TimestampOffsetNano ModEx block shorter than the 3 bytes the
    /// specification requires ("modExData MUST be at least 3 bytes").
    #[error("TimestampOffsetNano ModEx data is {len} bytes, needs at least 3")]
    ModExTooShort {
        /// The declared ModEx data size.
        len: usize,
    },
    /// A TimestampOffsetNano above 999,999 ns.
    #[error("TimestampOffsetNano of {0} ns is out of range (0..=999999)")]
    TimestampOffsetOutOfRange(u32),
    /// An `AudioChannelOrder` the specification reserves (3-255).
    #[error("unknown audio channel order {0}")]
    UnknownChannelOrder(u8),
    /// `onMetaData` whose argument is not an object or ECMA array.
    #[error("onMetaData argument is not an object or ECMA array")]
    MetadataNotObject,
    /// The value cannot be written as a tag (API misuse, not a peer fault):
    /// for example a legacy header for a codec that only has a FourCC.
    #[error("cannot encode media tag: {0}")]
    Unencodable(&'static str),
}

#[cfg(test)]
mod tests;
