//! The chunk stream (RTMP 1.0 section 5.3), with the two protocol control
//! messages that belong to it: Set Chunk Size (section 5.4.1) and Abort
//! (section 5.4.2).
//!
//! A connection multiplexes messages over chunk streams. Each message is cut
//! into chunks of at most the sender's chunk size; each chunk carries a header
//! compressed against the previous header of its chunk stream.
//!
//! - [`ChunkDecoder`] reassembles [`RawMessage`]s from the bytes a peer sent,
//!   following the tokio-util decoder contract (`Ok(None)` = need more bytes).
//!   It applies the peer's Set Chunk Size and Abort messages itself.
//! - [`ChunkEncoder`] cuts messages into chunks with the most compact headers.
//!   [`ChunkEncoder::encode_standalone`] chunks a message once into bytes that
//!   are valid on any connection, so a media server can share them between
//!   many subscribers.
//!
//! ```
//! use baton_proto::chunk::{ChunkDecoder, ChunkEncoder, RawMessage};
//! use baton_proto::{ChunkLimits, Timestamp};
//! use bytes::{Bytes, BytesMut};
//!
//! let msg = RawMessage {
//!     chunk_stream_id: 4,
//!     timestamp: Timestamp(1000),
//!     type_id: 9,
//!     stream_id: 1,
//!     payload: Bytes::from(vec![0x17; 300]),
//! };
//! let mut wire = BytesMut::new();
//! ChunkEncoder::new().encode(&msg, &mut wire);
//! let mut decoder = ChunkDecoder::new(ChunkLimits::default());
//! assert_eq!(decoder.decode(&mut wire).unwrap(), Some(msg));
//! assert_eq!(decoder.decode(&mut wire).unwrap(), None);
//! ```

mod decoder;
mod encoder;
mod header;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use decoder::ChunkDecoder;
pub use encoder::{ChunkEncoder, StandaloneHeaders};

use bytes::Bytes;

use crate::Timestamp;

/// Smallest chunk stream ID (section 5.3.1.1: 0 and 1 select the 2- and
/// 3-byte basic header forms; 2 is the control chunk stream).
pub const MIN_CHUNK_STREAM_ID: u32 = 2;
/// Largest chunk stream ID (the 3-byte basic header form: 65535 + 64).
pub const MAX_CHUNK_STREAM_ID: u32 = 65599;
/// The chunk size of both directions until a Set Chunk Size message changes
/// it (section 5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// Largest chunk size: the field is 31 bits (section 5.4.1).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// Longest message the 24-bit message length field can declare.
pub const MAX_MESSAGE_LENGTH: u32 = 0xFF_FFFF;

/// Message type ID of Set Chunk Size (section 5.4.1).
pub(crate) const TYPE_SET_CHUNK_SIZE: u8 = 1;
/// Message type ID of Abort Message (section 5.4.2).
pub(crate) const TYPE_ABORT: u8 = 2;

/// A complete message as the chunk layer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// The chunk stream it travels on (2..=65599).
    pub chunk_stream_id: u32,
    /// Its absolute timestamp.
    pub timestamp: Timestamp,
    /// The message type ID (section 5.4, 6, 7.1).
    pub type_id: u8,
    /// The message stream ID (0 is the control stream).
    pub stream_id: u32,
    /// The message body.
    pub payload: Bytes,
}

impl RawMessage {
    /// Checks that this message can be chunked: its chunk stream ID is in
    /// `MIN_CHUNK_STREAM_ID..=MAX_CHUNK_STREAM_ID` and its payload fits the
    /// 24-bit length field. The encoders panic on a message that fails this.
    pub fn check_encodable(&self) -> Result<(), ChunkError> {
        if !(MIN_CHUNK_STREAM_ID..=MAX_CHUNK_STREAM_ID).contains(&self.chunk_stream_id) {
            return Err(ChunkError::InvalidChunkStreamId(self.chunk_stream_id));
        }
        if self.payload.len() > MAX_MESSAGE_LENGTH as usize {
            return Err(ChunkError::PayloadTooLong(self.payload.len()));
        }
        Ok(())
    }
}

/// The chunk stream is broken: the peer violated the protocol or went past a
/// limit, or the caller passed an invalid value.
///
/// [`ChunkError::is_peer_fault`] tells the two kinds apart. After a peer fault
/// the connection should be closed: the decoder's state is no longer in step
/// with the peer's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    // ---- peer faults ----
    /// The peer's Set Chunk Size message asked for 0 or set the reserved high
    /// bit (section 5.4.1: "This bit MUST be zero", size "MUST be at least 1").
    #[error("peer set an invalid chunk size {size} (must be 1..=2147483647)")]
    BadChunkSize {
        /// The 32-bit value received.
        size: u32,
    },
    /// A message header declared a length over `max_message_size`.
    #[error(
        "message of {length} bytes on chunk stream {chunk_stream_id} exceeds the limit of {max}"
    )]
    MessageTooLarge {
        /// The chunk stream.
        chunk_stream_id: u32,
        /// The declared length.
        length: u32,
        /// Configured limit.
        max: u32,
    },
    /// A new chunk stream would go past `max_chunk_streams`.
    #[error("more than {max} chunk streams in use")]
    TooManyChunkStreams {
        /// Configured limit.
        max: usize,
    },
    /// A type 1, 2 or 3 chunk on a chunk stream that never had a type 0 chunk
    /// (section 5.3.1.2.1: type 0 "MUST be used at the start of a chunk
    /// stream").
    #[error("type {fmt} chunk on chunk stream {chunk_stream_id}, which has no previous header")]
    NoPreviousHeader {
        /// The chunk stream.
        chunk_stream_id: u32,
        /// The chunk type (1, 2 or 3).
        fmt: u8,
    },
    /// A type 0 or 1 chunk declared a new length while a message was still
    /// being received on its chunk stream.
    #[error(
        "chunk stream {chunk_stream_id}: new header declares {declared} bytes in the middle of a {expected}-byte message"
    )]
    LengthChangedMidMessage {
        /// The chunk stream.
        chunk_stream_id: u32,
        /// The length of the message in progress.
        expected: u32,
        /// The length the new header declared.
        declared: u32,
    },
    /// Partly received messages would hold more than `max_pending_bytes`.
    #[error("partly received messages exceed the limit of {max} bytes")]
    PendingBytesExceeded {
        /// Configured limit.
        max: usize,
    },
    /// A Set Chunk Size or Abort message whose payload is not 4 bytes.
    #[error("protocol control message type {type_id} has a {length}-byte payload, expected 4")]
    BadControlPayload {
        /// The message type ID (1 or 2).
        type_id: u8,
        /// The payload length received.
        length: usize,
    },

    // ---- API misuse ----
    /// The caller gave a chunk stream ID outside
    /// `MIN_CHUNK_STREAM_ID..=MAX_CHUNK_STREAM_ID`.
    #[error("invalid chunk stream ID {0} (must be 2..=65599)")]
    InvalidChunkStreamId(u32),
    /// The caller gave a chunk size outside `1..=MAX_CHUNK_SIZE`.
    #[error("invalid chunk size {0} (must be 1..=2147483647)")]
    InvalidChunkSize(u32),
    /// The caller gave a payload longer than the 24-bit length field holds.
    #[error(
        "message payload of {0} bytes is longer than the 16777215 bytes a chunk header can declare"
    )]
    PayloadTooLong(usize),
}

impl ChunkError {
    /// Whether the peer caused this error (as opposed to the caller passing an
    /// invalid value).
    pub fn is_peer_fault(&self) -> bool {
        !matches!(
            self,
            ChunkError::InvalidChunkStreamId(_)
                | ChunkError::InvalidChunkSize(_)
                | ChunkError::PayloadTooLong(_)
        )
    }
}

/// Checks a chunk size given by the caller.
pub(crate) fn check_chunk_size(size: u32) -> Result<(), ChunkError> {
    if size == 0 || size > MAX_CHUNK_SIZE {
        return Err(ChunkError::InvalidChunkSize(size));
    }
    Ok(())
}
