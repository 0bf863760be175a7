//! Protocol control messages (RTMP 1.0 section 5.4): Set Chunk Size (1),
//! Abort (2), Acknowledgement (3), Window Acknowledgement Size (5) and Set
//! Peer Bandwidth (6). Each payload is a 32-bit big-endian number; Set Peer
//! Bandwidth adds a one-byte limit type.

use std::fmt;

use super::MessageError;

/// Largest valid chunk size (section 5.4.1: "Valid sizes are 1 to
/// 2147483647 (0x7FFFFFFF) inclusive").
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;

/// The limit type of Set Peer Bandwidth (section 5.4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BandwidthLimit {
    /// 0: limit output bandwidth to the window size.
    Hard,
    /// 1: limit to the smaller of this window and the one in effect.
    Soft,
    /// 2: Hard if the previous limit was Hard, otherwise ignored.
    Dynamic,
}

impl BandwidthLimit {
    /// The wire value.
    pub const fn as_u8(self) -> u8 {
        match self {
            BandwidthLimit::Hard => 0,
            BandwidthLimit::Soft => 1,
            BandwidthLimit::Dynamic => 2,
        }
    }

    /// The limit type for a wire value.
    pub const fn from_u8(v: u8) -> Option<BandwidthLimit> {
        match v {
            0 => Some(BandwidthLimit::Hard),
            1 => Some(BandwidthLimit::Soft),
            2 => Some(BandwidthLimit::Dynamic),
            _ => None,
        }
    }
}

impl fmt::Display for BandwidthLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BandwidthLimit::Hard => "hard",
            BandwidthLimit::Soft => "soft",
            BandwidthLimit::Dynamic => "dynamic",
        })
    }
}

/// Reads the leading big-endian u32 of a control message payload. Bytes after
/// the fields are ignored.
pub(super) fn read_u32(kind: &'static str, payload: &[u8]) -> Result<u32, MessageError> {
    match payload.first_chunk::<4>() {
        Some(b) => Ok(u32::from_be_bytes(*b)),
        None => Err(MessageError::Truncated {
            kind,
            needed: 4,
            len: payload.len(),
        }),
    }
}

/// Reads a Set Chunk Size payload. Section 5.4.1: the first bit "MUST be
/// zero" and the size "MUST be at least 1 byte".
pub(super) fn read_chunk_size(payload: &[u8]) -> Result<u32, MessageError> {
    let size = read_u32("Set Chunk Size", payload)?;
    if size == 0 || size > MAX_CHUNK_SIZE {
        return Err(MessageError::InvalidChunkSize(size));
    }
    Ok(size)
}

/// Reads a Set Peer Bandwidth payload: window size, limit type.
pub(super) fn read_peer_bandwidth(payload: &[u8]) -> Result<(u32, BandwidthLimit), MessageError> {
    let Some((window, rest)) = payload.split_first_chunk::<4>() else {
        return Err(MessageError::Truncated {
            kind: "Set Peer Bandwidth",
            needed: 5,
            len: payload.len(),
        });
    };
    let Some(&limit) = rest.first() else {
        return Err(MessageError::Truncated {
            kind: "Set Peer Bandwidth",
            needed: 5,
            len: payload.len(),
        });
    };
    let limit = BandwidthLimit::from_u8(limit).ok_or(MessageError::InvalidLimitType(limit))?;
    Ok((u32::from_be_bytes(*window), limit))
}
