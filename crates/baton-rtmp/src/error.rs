//! The error type of the async layer.

use std::io;

use baton_proto::command::StatusCode;
use baton_proto::session::{SessionError, UsageError};

use crate::url::UrlError;

/// Which step of a connection timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// TCP connect.
    Connect,
    /// The RTMP handshake.
    Handshake,
    /// Waiting for a reply to a command (connect, createStream, publish, play).
    Reply,
    /// Waiting for input from the peer.
    Read,
    /// Writing to the peer (it does not read).
    Write,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::Handshake => "handshake",
            TimeoutPhase::Reply => "reply",
            TimeoutPhase::Read => "read",
            TimeoutPhase::Write => "write",
        })
    }
}

/// What can go wrong in the async layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtmpError {
    /// A socket error.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// A step took longer than its configured timeout.
    #[error("{0} timed out")]
    Timeout(TimeoutPhase),
    /// The peer broke the protocol.
    #[error("{0}")]
    Session(#[from] SessionError),
    /// The API was misused.
    #[error("{0}")]
    Usage(#[from] UsageError),
    /// The URL is not a usable rtmp:// URL.
    #[error("{0}")]
    Url(#[from] UrlError),
    /// The server refused a request (connect, publish, play).
    #[error("refused by the server: {code}: {description}")]
    Rejected {
        /// The status code (for example NetStream.Publish.BadName).
        code: StatusCode,
        /// The server's description.
        description: String,
    },
    /// The peer closed the connection.
    #[error("connection closed by the peer")]
    Closed,
}
