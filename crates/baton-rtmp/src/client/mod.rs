//! The RTMP client: connect to `rtmp://host[:port]/app[/instance]`, then
//! publish or play one stream.
//!
//! ```text
//!  Connection::connect(url)        TCP (TCP_NODELAY), handshake, connect
//!        |
//!        +-- publish(name, type) -> Publisher   send / send_data / take_signal
//!        |                                     finish | abandon
//!        +-- play(name)          -> Player      next() -> PlayerEvent
//!
//!  ReconnectingPublisher::connect(urls, name, ..)   follows Go Away and
//!        Reconnect Request to a new connection, no frame lost or doubled
//! ```
//!
//! A [`ClientSession`](baton_proto::session::ClientSession) speaks the
//! protocol; this module only moves its bytes: reads feed the session,
//! its output is written with vectored writes, and every wait on the server
//! has a deadline ([`ClientConfig`]). Acknowledgements and ping responses
//! are answered whenever the publisher or player is called, also while a
//! publisher waits for the socket.

mod connection;
mod driver;
mod handover;
mod output;
mod player;
mod publisher;
mod reconnecting;
mod replay;
mod signal;

#[cfg(test)]
mod tests;

use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::command::DataMessage;
use baton_proto::session::MediaKind;
use bytes::Bytes;

pub use connection::Connection;
pub use handover::{HandoverConfig, HandoverError, HandoverState, HandoverStats};
pub use player::Player;
pub use publisher::Publisher;
pub use reconnecting::ReconnectingPublisher;
pub use signal::ServerSignal;

/// Client settings. Every limit has a safe default.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The protocol session settings (chunk size, window acknowledgement
    /// size, Go Away and capsEx announcement, limits).
    pub session: baton_proto::session::ClientConfig,
    /// flashVer sent in connect.
    pub flash_ver: String,
    /// Time allowed for the TCP connect.
    pub connect_timeout: Duration,
    /// Time allowed for the handshake and for each command's reply.
    pub reply_timeout: Duration,
    /// A player that receives nothing for this long fails with a timeout.
    pub read_timeout: Duration,
    /// A write that makes no progress for this long fails with a timeout.
    pub write_timeout: Duration,
    /// Output queued past which `Publisher::send` waits for the socket.
    pub max_output_buffer: usize,
    /// After `finish`, `abandon` or `close` wrote everything and shut the
    /// write side, how long to wait for the server to close its side. What
    /// it sends meanwhile is read and dropped, so that closing does not
    /// reset the connection (a reset can lose data the server has not read
    /// yet).
    pub close_timeout: Duration,
    /// Size of each socket read (a player holds at most one read's worth of
    /// decoded events at a time).
    pub read_buffer_size: usize,
    /// Most signals a publisher keeps until [`Publisher::take_signal`]
    /// (past it the oldest status is dropped).
    pub max_pending_signals: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            session: baton_proto::session::ClientConfig::default(),
            flash_ver: "FMLE/3.0 (compatible; Baton)".to_owned(),
            connect_timeout: Duration::from_secs(10),
            reply_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_output_buffer: 1 << 20,
            close_timeout: Duration::from_secs(2),
            read_buffer_size: 64 << 10,
            max_pending_signals: 64,
        }
    }
}

/// What a player receives.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PlayerEvent {
    /// Audio or video.
    Media {
        /// Audio or video.
        kind: MediaKind,
        /// The message timestamp.
        timestamp: Timestamp,
        /// The FLV tag body.
        payload: Bytes,
    },
    /// A data message (onMetaData...).
    Data {
        /// Its timestamp.
        timestamp: Timestamp,
        /// The data message.
        data: DataMessage,
    },
    /// A signal from the server (Go Away, Reconnect Request, status).
    Signal(ServerSignal),
    /// The stream ended (UnpublishNotify, Play.Stop or Stream EOF).
    End,
}
