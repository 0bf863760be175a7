//! User control messages (RTMP 1.0 section 6.2, message type 4) and their
//! events (section 7.1.7): a 16-bit event type, then event data.

use bytes::{BufMut, Bytes, BytesMut};

use super::MessageError;

/// User control event types.
pub mod event_type {
    /// Stream Begin: a stream became functional.
    pub const STREAM_BEGIN: u16 = 0;
    /// Stream EOF: playback of a stream is over.
    pub const STREAM_EOF: u16 = 1;
    /// Stream Dry: no more data on a stream for now.
    pub const STREAM_DRY: u16 = 2;
    /// Set Buffer Length: the client's buffer for a stream.
    pub const SET_BUFFER_LENGTH: u16 = 3;
    /// Stream Is Recorded.
    pub const STREAM_IS_RECORDED: u16 = 4;
    /// Ping Request.
    pub const PING_REQUEST: u16 = 6;
    /// Ping Response.
    pub const PING_RESPONSE: u16 = 7;
    /// Buffer Empty (not in the spec; sent by Flash Media Server and others,
    /// kept as [`UserControlEvent::Unknown`](super::UserControlEvent::Unknown)).
    pub const BUFFER_EMPTY: u16 = 31;
    /// Buffer Ready (not in the spec; like [`BUFFER_EMPTY`]).
    pub const BUFFER_READY: u16 = 32;
}

/// A user control event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserControlEvent {
    /// 0: the stream became functional.
    StreamBegin {
        /// The stream.
        stream_id: u32,
    },
    /// 1: playback of the stream is over.
    StreamEof {
        /// The stream.
        stream_id: u32,
    },
    /// 2: there is no more data on the stream for now.
    StreamDry {
        /// The stream.
        stream_id: u32,
    },
    /// 3: the client buffers this much of the stream.
    SetBufferLength {
        /// The stream.
        stream_id: u32,
        /// Buffer length in milliseconds.
        buffer_ms: u32,
    },
    /// 4: the stream is a recorded stream.
    StreamIsRecorded {
        /// The stream.
        stream_id: u32,
    },
    /// 6: the server asks whether the client is reachable.
    PingRequest {
        /// The server's local time when it sent the request.
        timestamp: u32,
    },
    /// 7: the client answers a ping request with its timestamp.
    PingResponse {
        /// The timestamp of the request.
        timestamp: u32,
    },
    /// Any other event (including the non-spec 31 Buffer Empty and 32 Buffer
    /// Ready), kept as sent.
    Unknown {
        /// The event type.
        event_type: u16,
        /// The event data.
        data: Bytes,
    },
}

impl UserControlEvent {
    /// The event type.
    pub fn event_type(&self) -> u16 {
        use event_type as t;
        match self {
            UserControlEvent::StreamBegin { .. } => t::STREAM_BEGIN,
            UserControlEvent::StreamEof { .. } => t::STREAM_EOF,
            UserControlEvent::StreamDry { .. } => t::STREAM_DRY,
            UserControlEvent::SetBufferLength { .. } => t::SET_BUFFER_LENGTH,
            UserControlEvent::StreamIsRecorded { .. } => t::STREAM_IS_RECORDED,
            UserControlEvent::PingRequest { .. } => t::PING_REQUEST,
            UserControlEvent::PingResponse { .. } => t::PING_RESPONSE,
            UserControlEvent::Unknown { event_type, .. } => *event_type,
        }
    }

    /// Decodes a user control message payload. Data after an event's fields
    /// is ignored.
    pub fn decode(payload: Bytes) -> Result<UserControlEvent, MessageError> {
        use event_type as t;
        let Some((ty, data)) = payload.split_first_chunk::<2>() else {
            return Err(truncated(2, payload.len()));
        };
        let ty = u16::from_be_bytes(*ty);
        let word = |i: usize| -> Result<u32, MessageError> {
            data.get(i * 4..i * 4 + 4)
                .and_then(|b| b.first_chunk::<4>())
                .map(|b| u32::from_be_bytes(*b))
                .ok_or(truncated(2 + (i + 1) * 4, payload.len()))
        };
        Ok(match ty {
            t::STREAM_BEGIN => UserControlEvent::StreamBegin {
                stream_id: word(0)?,
            },
            t::STREAM_EOF => UserControlEvent::StreamEof {
                stream_id: word(0)?,
            },
            t::STREAM_DRY => UserControlEvent::StreamDry {
                stream_id: word(0)?,
            },
            t::SET_BUFFER_LENGTH => UserControlEvent::SetBufferLength {
                stream_id: word(0)?,
                buffer_ms: word(1)?,
            },
            t::STREAM_IS_RECORDED => UserControlEvent::StreamIsRecorded {
                stream_id: word(0)?,
            },
            t::PING_REQUEST => UserControlEvent::PingRequest {
                timestamp: word(0)?,
            },
            t::PING_RESPONSE => UserControlEvent::PingResponse {
                timestamp: word(0)?,
            },
            event_type => UserControlEvent::Unknown {
                event_type,
                data: payload.slice(2..),
            },
        })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.event_type());
        match self {
            UserControlEvent::StreamBegin { stream_id }
            | UserControlEvent::StreamEof { stream_id }
            | UserControlEvent::StreamDry { stream_id }
            | UserControlEvent::StreamIsRecorded { stream_id } => out.put_u32(*stream_id),
            UserControlEvent::SetBufferLength {
                stream_id,
                buffer_ms,
            } => {
                out.put_u32(*stream_id);
                out.put_u32(*buffer_ms);
            }
            UserControlEvent::PingRequest { timestamp }
            | UserControlEvent::PingResponse { timestamp } => out.put_u32(*timestamp),
            UserControlEvent::Unknown { data, .. } => out.put_slice(data),
        }
    }
}

fn truncated(needed: usize, len: usize) -> MessageError {
    MessageError::Truncated {
        kind: "User Control",
        needed,
        len,
    }
}
