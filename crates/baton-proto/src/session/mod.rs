//! Server and client sessions: the NetConnection and NetStream state machines
//! of RTMP 1.0 section 7 (7.2 commands, 7.3 message exchange examples), with
//! RTMP Go Away and the Enhanced RTMP v2 Reconnect Request.
//!
//! A session is sans-IO, in the quinn-proto style: the I/O layer feeds it
//! received bytes with the current time (`handle_input`), takes the bytes to
//! write (`poll_transmit`), reads typed events (`poll_event`) and answers
//! requests with decisions (`accept_*` / `reject_*`). Acknowledgements, ping
//! responses and chunk size changes are handled inside.
//!
//! While the application has a connect, publish or play request undecided, the
//! session stops decoding input (it buffers it, up to
//! [`SessionConfig::max_buffered_input`]), so that nothing the peer sends after
//! the request is acted upon before the decision.

mod client;
mod connection;
mod server;

#[cfg(test)]
mod tests;

pub use client::{ClientConfig, ClientEvent, ClientSession};
pub use server::{RequestId, ServerConfig, ServerEvent, ServerSession, UnpublishReason};

use crate::Limits;
use crate::chunk::ChunkError;
use crate::handshake::{HandshakeConfig, HandshakeError};
use crate::message::MessageError;

/// Settings shared by both roles.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Handshake settings (epoch, random seed, digest handshake).
    pub handshake: HandshakeConfig,
    /// Limits on what the peer may send.
    pub limits: Limits,
    /// Chunk size for what this side sends (announced with Set Chunk Size).
    pub chunk_size: u32,
    /// Window Acknowledgement Size announced to the peer.
    pub window_ack_size: u32,
    /// Most received bytes held unprocessed (while a decision is pending).
    pub max_buffered_input: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            handshake: HandshakeConfig::default(),
            limits: Limits::default(),
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            max_buffered_input: 32 << 20,
        }
    }
}

/// What kind of media a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Audio (message type 8).
    Audio,
    /// Video (message type 9).
    Video,
}

/// Byte counters of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Bytes received, handshake included.
    pub bytes_received: u64,
    /// Bytes taken for sending with `poll_transmit`.
    pub bytes_sent: u64,
    /// The peer's last Acknowledgement sequence number.
    pub peer_acknowledged: u32,
    /// The Window Acknowledgement Size the peer asked for.
    pub peer_ack_window: Option<u32>,
    /// The output bandwidth limit the peer set (Set Peer Bandwidth).
    pub peer_bandwidth: Option<u32>,
}

/// The peer broke the protocol (or went past a limit): the connection should
/// be closed after writing what is queued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// The chunk stream was malformed.
    #[error("chunk stream: {0}")]
    Chunk(#[from] ChunkError),
    /// A message could not be decoded.
    #[error("message: {0}")]
    Message(#[from] MessageError),
    /// The peer sent more than the session holds while a decision is pending.
    #[error("peer sent more than {limit} bytes while a request was pending")]
    InputOverflow {
        /// The configured bound.
        limit: usize,
    },
    /// A message that is not allowed in the session's current state.
    #[error("protocol violation: {0}")]
    Protocol(#[from] ProtocolViolation),
    /// The application misused the API (kept apart from peer faults).
    #[error("API misuse: {0}")]
    Usage(#[from] UsageError),
}

/// A message the peer may not send in the session's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A command that needs a connection arrived before `connect` was
    /// accepted.
    #[error("`{0}` before the connection was accepted")]
    BeforeConnect(String),
    /// A second `connect` on a connected session.
    #[error("a second connect on one connection")]
    SecondConnect,
    /// A NetStream command or media on a message stream that was not created.
    #[error("message stream {0} was not created")]
    UnknownStream(u32),
    /// Media or data on a message stream that is not publishing.
    #[error("media on message stream {0}, which is not publishing")]
    MediaOnIdleStream(u32),
    /// publish or play on a stream that is already publishing or playing.
    #[error("message stream {0} is already publishing or playing")]
    StreamBusy(u32),
    /// createStream past the configured number of streams.
    #[error("more than {max} message streams on one connection")]
    TooManyStreams {
        /// The configured bound.
        max: u32,
    },
}

/// The application called the session API in a way that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The request id is unknown or was already decided.
    #[error("request {0} is not pending")]
    UnknownRequest(u64),
    /// The message stream is not in a state that allows this call.
    #[error("message stream {0} is not in a state that allows this call")]
    BadStreamState(u32),
    /// The call needs an established NetConnection.
    #[error("the NetConnection is not connected")]
    NotConnected,
    /// A chunk size outside 1..=0x7FFFFFFF.
    #[error("invalid chunk size {0}")]
    InvalidChunkSize(u32),
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
    /// A message payload longer than a chunk stream message can carry.
    #[error("message payload of {len} bytes exceeds the RTMP maximum of {max}")]
    PayloadTooLarge {
        /// The payload length.
        len: usize,
        /// The largest length the 24-bit message length field holds.
        max: u32,
    },
}
