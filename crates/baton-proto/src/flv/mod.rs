//! The FLV file format (Adobe "Video File Format Specification" v10.1,
//! annex E.2 "The FLV header", E.3 "The FLV file body", E.4.1 "FLV tags").
//!
//! ```text
//! header:  "FLV" UI8 version (1) | UI8 flags (audio 0x04, video 0x01) | UI32 DataOffset (>= 9)
//! body:    PreviousTagSize0 UI32 (= 0)
//!          repeat { tag, PreviousTagSize UI32 (= 11 + DataSize) }
//! tag:     Reserved UB2 | Filter UB1 | TagType UB5 (8 audio, 9 video, 18 script)
//!          DataSize UI24 | Timestamp UI24 | TimestampExtended UI8 (bits 31-24)
//!          StreamID UI24 (= 0) | data
//! ```
//!
//! The tag data of audio and video tags is what [`crate::media`] parses, the
//! same bytes as an RTMP audio or video message payload; a script tag holds
//! AMF0 values (`onMetaData` and its ECMA array).
//!
//! [`FlvReader`] is sans-IO: feed it a `BytesMut` that grows as bytes arrive;
//! tag data comes out as `Bytes` split off that buffer, without copying.

mod reader;
mod writer;

pub use reader::{FlvReader, MAX_DATA_OFFSET};
pub use writer::FlvWriter;

use bytes::Bytes;

use crate::Timestamp;

/// The three signature bytes.
pub const SIGNATURE: [u8; 3] = *b"FLV";
/// The size of the header of FLV version 1 (and the smallest DataOffset).
pub const HEADER_SIZE: u32 = 9;
/// The size of a tag header.
pub const TAG_HEADER_SIZE: u32 = 11;

/// The FLV file header's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlvHeader {
    /// TypeFlagsAudio: the file has audio tags.
    pub has_audio: bool,
    /// TypeFlagsVideo: the file has video tags.
    pub has_video: bool,
}

/// The type of an FLV tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagType {
    /// 8: audio (AUDIODATA).
    Audio,
    /// 9: video (VIDEODATA).
    Video,
    /// 18: script data (SCRIPTDATA, AMF0).
    Script,
}

impl TagType {
    /// The tag type from its 5-bit value; `None` for any other value.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            8 => Some(TagType::Audio),
            9 => Some(TagType::Video),
            18 => Some(TagType::Script),
            _ => None,
        }
    }

    /// The wire value (also the RTMP message type id of the same data).
    pub const fn to_u8(self) -> u8 {
        match self {
            TagType::Audio => 8,
            TagType::Video => 9,
            TagType::Script => 18,
        }
    }
}

/// One FLV tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTag {
    /// The tag type.
    pub tag_type: TagType,
    /// Milliseconds, from Timestamp (bits 23-0) and TimestampExtended (bits
    /// 31-24).
    pub timestamp: Timestamp,
    /// The tag data (DataSize bytes).
    pub data: Bytes,
}

/// An FLV file or stream is malformed, or a tag cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlvError {
    /// The first bytes are not the "FLV" signature.
    #[error("not an FLV file: bad signature")]
    NotFlv,
    /// A version other than 1.
    #[error("unsupported FLV version {0}")]
    UnsupportedVersion(u8),
    /// A DataOffset below 9 or above [`MAX_DATA_OFFSET`].
    #[error("FLV header DataOffset {0} is outside 9..={max}", max = MAX_DATA_OFFSET)]
    BadHeaderSize(u32),
    /// A tag whose DataSize is above the configured maximum.
    #[error("FLV tag of {size} bytes exceeds the limit of {max}")]
    TagTooLarge {
        /// Declared DataSize.
        size: u32,
        /// Configured limit.
        max: u32,
    },
    /// A tag with the Filter bit set: its data is encrypted (FLV v10.1
    /// annex F), which this crate cannot read.
    #[error("FLV tag is encrypted (Filter bit set); encrypted FLV is not supported")]
    Encrypted,
    /// A TagType other than 8, 9 or 18.
    #[error("unknown FLV tag type {0}")]
    UnknownTagType(u8),
    /// A PreviousTagSize that is not 11 + the previous tag's DataSize (0
    /// before the first tag): the file is corrupt.
    #[error("FLV PreviousTagSize is {found}, expected {expected}: corrupt file")]
    PreviousTagSizeMismatch {
        /// 11 + DataSize of the previous tag, or 0.
        expected: u32,
        /// The value in the file.
        found: u32,
    },
    /// A tag whose StreamID is not 0.
    #[error("FLV tag StreamID is {0}, must be 0")]
    NonZeroStreamId(u32),
    /// The input ended inside the header or a tag.
    #[error("FLV input ended in the middle of the header or a tag")]
    Truncated,
    /// Tag data too large for the 24-bit DataSize field (writer).
    #[error("cannot write an FLV tag of {size} bytes: DataSize is 24 bits")]
    DataTooLarge {
        /// The data length.
        size: usize,
    },
}

#[cfg(test)]
mod tests;
