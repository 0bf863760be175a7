//! # baton-rtmp: RTMP over tokio
//!
//! Drives the sans-IO sessions of [`baton_proto`] over any
//! `AsyncRead + AsyncWrite` (plain TCP here; TLS slots in the same way). No
//! protocol logic lives here: only sockets, buffers, timeouts and tasks.
//!
//! - [`server`]: accept connections, drive a
//!   [`ServerSession`](baton_proto::session::ServerSession) per connection, and
//!   ask a [`server::Handler`] to decide connect, publish and play requests.
//!   Publishers' media goes to a [`server::MediaSink`]; players' media comes
//!   from a [`server::PlayFeed`] of [`SharedMessage`]s that are chunked once
//!   and shared by every player.
//! - [`client`]: connect to `rtmp://host[:port]/app[/instance]`, then publish
//!   or play.

#![forbid(unsafe_code)]

pub mod client;
mod error;
pub mod server;
mod shared;
mod url;

pub use error::{RtmpError, TimeoutPhase};
pub use shared::SharedMessage;
pub use url::{DEFAULT_PORT, RtmpUrl, UrlError, split_stream_query};

/// Re-exported protocol types that appear in this crate's API.
pub use baton_proto::{
    Timestamp,
    command::{Connect, DataMessage, PublishType, StatusCode},
    session::MediaKind,
};
