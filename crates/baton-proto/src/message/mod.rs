//! RTMP messages, one typed value per message type: protocol control
//! (RTMP 1.0 section 5.4), user control (section 6.2), the message types of
//! section 7.1 (command, data, shared object, audio, video, aggregate), and
//! RTMP Go Away (type 32).
//!
//! A message is decoded from what the chunk stream hands over: its type id,
//! timestamp and payload. Media payloads are kept as [`Bytes`] without a
//! copy; commands and data are decoded by [`crate::command`].

mod aggregate;
mod control;
mod shared_object;
mod user_control;

#[cfg(test)]
mod tests;

pub use aggregate::AggregatePart;
pub use control::{BandwidthLimit, MAX_CHUNK_SIZE};
pub use shared_object::{SharedObjectEvent, SharedObjectMessage, event_type as so_event_type};
pub use user_control::{UserControlEvent, event_type as user_control_event_type};

pub use crate::command::ObjectEncoding;

use bytes::{BufMut, Bytes, BytesMut};

use crate::amf::AmfError;
use crate::command::{Command, CommandError, DataMessage};
use crate::limits::Limits;
use crate::time::Timestamp;

/// Message type ids (RTMP 1.0 sections 5.4, 6.2 and 7.1; 32 is RTMP Go
/// Away).
pub mod type_id {
    /// Set Chunk Size (section 5.4.1).
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort Message (section 5.4.2).
    pub const ABORT: u8 = 2;
    /// Acknowledgement (section 5.4.3).
    pub const ACKNOWLEDGEMENT: u8 = 3;
    /// User Control Message (section 6.2).
    pub const USER_CONTROL: u8 = 4;
    /// Window Acknowledgement Size (section 5.4.4).
    pub const WINDOW_ACK_SIZE: u8 = 5;
    /// Set Peer Bandwidth (section 5.4.5).
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    /// Audio (section 7.1.4).
    pub const AUDIO: u8 = 8;
    /// Video (section 7.1.5).
    pub const VIDEO: u8 = 9;
    /// Data message, AMF3 (section 7.1.2).
    pub const DATA_AMF3: u8 = 15;
    /// Shared object message, AMF3 (section 7.1.3).
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    /// Command message, AMF3 (section 7.1.1).
    pub const COMMAND_AMF3: u8 = 17;
    /// Data message, AMF0 (section 7.1.2).
    pub const DATA_AMF0: u8 = 18;
    /// Shared object message, AMF0 (section 7.1.3).
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    /// Command message, AMF0 (section 7.1.1).
    pub const COMMAND_AMF0: u8 = 20;
    /// Aggregate message (section 7.1.6).
    pub const AGGREGATE: u8 = 22;
    /// RTMP Go Away: the server is about to go away.
    pub const GO_AWAY: u8 = 32;
}

/// An RTMP message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// Set Chunk Size: the sender's new maximum chunk size (1 to
    /// [`MAX_CHUNK_SIZE`]).
    SetChunkSize(u32),
    /// Abort: discard the partly received message of a chunk stream.
    Abort {
        /// The chunk stream.
        chunk_stream_id: u32,
    },
    /// Acknowledgement: bytes received so far.
    Acknowledgement {
        /// Bytes received so far (wrapping).
        sequence_number: u32,
    },
    /// A user control event.
    UserControl(UserControlEvent),
    /// Window Acknowledgement Size.
    WindowAckSize(u32),
    /// Set Peer Bandwidth.
    SetPeerBandwidth {
        /// The window size.
        window_size: u32,
        /// How to apply it.
        limit: BandwidthLimit,
    },
    /// Audio data (an FLV audio tag body).
    Audio(Bytes),
    /// Video data (an FLV video tag body).
    Video(Bytes),
    /// A data message.
    Data {
        /// AMF0 (type 18) or AMF3 (type 15).
        encoding: ObjectEncoding,
        /// The message.
        data: DataMessage,
    },
    /// A shared object message.
    SharedObject {
        /// AMF0 (type 19) or AMF3 (type 16).
        encoding: ObjectEncoding,
        /// The message.
        message: SharedObjectMessage,
    },
    /// A command message.
    Command {
        /// AMF0 (type 20) or AMF3 (type 17).
        encoding: ObjectEncoding,
        /// The command.
        command: Command,
    },
    /// The sub-messages of an aggregate message, timestamps re-based.
    Aggregate(Vec<AggregatePart>),
    /// RTMP Go Away; the payload means nothing and is kept as sent.
    GoAway(Bytes),
    /// A message type this library does not know.
    Unknown {
        /// The type id.
        type_id: u8,
        /// The payload.
        payload: Bytes,
    },
}

/// A message payload could not be decoded. All are peer faults.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// A fixed-size payload is too short.
    #[error("{kind} message too short: {len} bytes, needs {needed}")]
    Truncated {
        /// The message kind.
        kind: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        len: usize,
    },
    /// Set Chunk Size of 0 or with its reserved top bit set.
    #[error("invalid chunk size {0}: must be 1 to 2147483647")]
    InvalidChunkSize(u32),
    /// Set Peer Bandwidth with a limit type other than 0, 1 and 2.
    #[error("unknown Set Peer Bandwidth limit type {0}")]
    InvalidLimitType(u8),
    /// A command message could not be read.
    #[error("command message: {0}")]
    Command(#[source] CommandError),
    /// A data message could not be read.
    #[error("data message: {0}")]
    Data(#[source] CommandError),
    /// An aggregate sub-message runs past the end of the aggregate.
    #[error("aggregate sub-message {index}: {what} runs past the end of the message")]
    AggregateTruncated {
        /// Which sub-message (from 0).
        index: usize,
        /// Which part of it.
        what: &'static str,
    },
    /// An aggregate holds more sub-messages than allowed.
    #[error("aggregate message holds more than the limit of {max} sub-messages")]
    TooManyAggregateParts {
        /// Configured limit ([`Limits::max_aggregate_messages`]).
        max: usize,
    },
    /// A shared object message ends in the middle of a field.
    #[error("shared object message ends in the middle of its {what}")]
    SharedObjectTruncated {
        /// The field.
        what: &'static str,
    },
    /// A shared object message holds more events than allowed.
    #[error("shared object message holds more than the limit of {max} events")]
    TooManySharedObjectEvents {
        /// Configured limit (the AMF element limit).
        max: usize,
    },
    /// A type 16 message whose format byte is not 0 (AMF0).
    #[error("unsupported AMF3 shared object format byte 0x{0:02x}")]
    UnsupportedSharedObjectFormat(u8),
    /// Bad AMF in a shared object message.
    #[error("bad AMF in shared object message: {0}")]
    Amf(#[from] AmfError),
}

impl Message {
    /// Decodes the message of type `type_id` with `payload`, received with
    /// `timestamp` (used to re-base aggregate sub-messages).
    pub fn decode(
        type_id: u8,
        timestamp: Timestamp,
        payload: Bytes,
        limits: &Limits,
    ) -> Result<Message, MessageError> {
        use crate::message::type_id as t;
        let amf = &limits.amf;
        Ok(match type_id {
            t::SET_CHUNK_SIZE => Message::SetChunkSize(control::read_chunk_size(&payload)?),
            t::ABORT => Message::Abort {
                chunk_stream_id: control::read_u32("Abort", &payload)?,
            },
            t::ACKNOWLEDGEMENT => Message::Acknowledgement {
                sequence_number: control::read_u32("Acknowledgement", &payload)?,
            },
            t::USER_CONTROL => Message::UserControl(UserControlEvent::decode(payload)?),
            t::WINDOW_ACK_SIZE => {
                Message::WindowAckSize(control::read_u32("Window Acknowledgement Size", &payload)?)
            }
            t::SET_PEER_BANDWIDTH => {
                let (window_size, limit) = control::read_peer_bandwidth(&payload)?;
                Message::SetPeerBandwidth { window_size, limit }
            }
            t::AUDIO => Message::Audio(payload),
            t::VIDEO => Message::Video(payload),
            t::DATA_AMF0 | t::DATA_AMF3 => {
                let encoding = encoding_of(type_id == t::DATA_AMF3);
                let data =
                    DataMessage::decode(&payload, encoding, amf).map_err(MessageError::Data)?;
                Message::Data { encoding, data }
            }
            t::SHARED_OBJECT_AMF0 | t::SHARED_OBJECT_AMF3 => {
                let encoding = encoding_of(type_id == t::SHARED_OBJECT_AMF3);
                let message = SharedObjectMessage::decode(&payload, encoding, amf)?;
                Message::SharedObject { encoding, message }
            }
            t::COMMAND_AMF0 | t::COMMAND_AMF3 => {
                let encoding = encoding_of(type_id == t::COMMAND_AMF3);
                let command =
                    Command::decode(&payload, encoding, amf).map_err(MessageError::Command)?;
                Message::Command { encoding, command }
            }
            t::AGGREGATE => Message::Aggregate(aggregate::decode(
                timestamp,
                &payload,
                limits.max_aggregate_messages,
            )?),
            t::GO_AWAY => Message::GoAway(payload),
            type_id => Message::Unknown { type_id, payload },
        })
    }

    /// The message type id.
    pub fn type_id(&self) -> u8 {
        use crate::message::type_id as t;
        let amf3 = |e: &ObjectEncoding, amf0_id: u8, amf3_id: u8| match e {
            ObjectEncoding::Amf0 => amf0_id,
            ObjectEncoding::Amf3 => amf3_id,
        };
        match self {
            Message::SetChunkSize(_) => t::SET_CHUNK_SIZE,
            Message::Abort { .. } => t::ABORT,
            Message::Acknowledgement { .. } => t::ACKNOWLEDGEMENT,
            Message::UserControl(_) => t::USER_CONTROL,
            Message::WindowAckSize(_) => t::WINDOW_ACK_SIZE,
            Message::SetPeerBandwidth { .. } => t::SET_PEER_BANDWIDTH,
            Message::Audio(_) => t::AUDIO,
            Message::Video(_) => t::VIDEO,
            Message::Data { encoding, .. } => amf3(encoding, t::DATA_AMF0, t::DATA_AMF3),
            Message::SharedObject { encoding, .. } => {
                amf3(encoding, t::SHARED_OBJECT_AMF0, t::SHARED_OBJECT_AMF3)
            }
            Message::Command { encoding, .. } => amf3(encoding, t::COMMAND_AMF0, t::COMMAND_AMF3),
            Message::Aggregate(_) => t::AGGREGATE,
            Message::GoAway(_) => t::GO_AWAY,
            Message::Unknown { type_id, .. } => *type_id,
        }
    }

    /// Appends the payload. Audio, video, Go Away and unknown payloads are
    /// copied (a server fanning media out sends the shared [`Bytes`] instead
    /// of calling this); aggregate sub-messages are written with their
    /// timestamps as they are.
    pub fn encode_payload(&self, out: &mut BytesMut) {
        match self {
            Message::SetChunkSize(v)
            | Message::Abort { chunk_stream_id: v }
            | Message::Acknowledgement { sequence_number: v }
            | Message::WindowAckSize(v) => out.put_u32(*v),
            Message::UserControl(event) => event.encode(out),
            Message::SetPeerBandwidth { window_size, limit } => {
                out.put_u32(*window_size);
                out.put_u8(limit.as_u8());
            }
            Message::Audio(p)
            | Message::Video(p)
            | Message::GoAway(p)
            | Message::Unknown { payload: p, .. } => out.put_slice(p),
            Message::Data { encoding, data } => data.encode(*encoding, out),
            Message::SharedObject { encoding, message } => message.encode(*encoding, out),
            Message::Command { encoding, command } => command.encode(*encoding, out),
            Message::Aggregate(parts) => aggregate::encode(parts, out),
        }
    }

    /// The payload as a fresh buffer (see [`Message::encode_payload`]).
    pub fn to_payload(&self) -> Bytes {
        match self {
            Message::Audio(p)
            | Message::Video(p)
            | Message::GoAway(p)
            | Message::Unknown { payload: p, .. } => p.clone(),
            _ => {
                let mut out = BytesMut::new();
                self.encode_payload(&mut out);
                out.freeze()
            }
        }
    }

    /// A Go Away message to send. Its payload is not empty, since OBS's
    /// librtmp drops a message with an empty body; clients ignore its
    /// content.
    pub fn go_away() -> Message {
        Message::GoAway(Bytes::from_static(&[0, 0, 0, 0]))
    }

    /// A command message (AMF0 or AMF3 as the connection negotiated).
    pub fn command(encoding: ObjectEncoding, command: Command) -> Message {
        Message::Command { encoding, command }
    }

    /// A data message.
    pub fn data(encoding: ObjectEncoding, data: DataMessage) -> Message {
        Message::Data { encoding, data }
    }

    /// Whether this is a protocol control or user control message (types 1
    /// to 6), which go on chunk stream 2, message stream 0.
    pub fn is_control(&self) -> bool {
        (1..=6).contains(&self.type_id())
    }
}

fn encoding_of(amf3: bool) -> ObjectEncoding {
    if amf3 {
        ObjectEncoding::Amf3
    } else {
        ObjectEncoding::Amf0
    }
}
