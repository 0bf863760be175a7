//! The RTMP client: connect to `rtmp://host[:port]/app[/instance]`, then
//! publish or play one stream.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use baton_proto::Timestamp;
use baton_proto::command::{CapsEx, DataMessage, PublishType, StatusInfo};
use baton_proto::session::MediaKind;

use crate::{RtmpError, RtmpUrl};

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
        }
    }
}

/// Something the server told a publisher or player besides media.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerSignal {
    /// RTMP Go Away: move to a new connection at the next media boundary.
    GoAway,
    /// Enhanced RTMP Reconnect Request; `tc_url` is where to go (absolute or
    /// relative), `None` for the same URL.
    ReconnectRequest {
        /// Where to reconnect.
        tc_url: Option<String>,
        /// The server's description.
        description: Option<String>,
    },
    /// onStatus on the stream (for example NetStream.Play.UnpublishNotify).
    Status(StatusInfo),
}

/// A connected NetConnection (handshake done, connect accepted).
#[derive(Debug)]
pub struct Connection<S = TcpStream> {
    _io: S,
}

impl Connection<TcpStream> {
    /// Opens a TCP connection to the URL's host, handshakes and connects to
    /// its application.
    pub async fn connect(url: &RtmpUrl, config: &ClientConfig) -> Result<Self, RtmpError> {
        let _ = (url, config);
        todo!("client")
    }
}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection<S> {
    /// Handshakes and connects over an established transport.
    pub async fn connect_over(
        io: S,
        url: &RtmpUrl,
        config: &ClientConfig,
    ) -> Result<Self, RtmpError> {
        let _ = (io, url, config);
        todo!("client")
    }

    /// The capabilities the server stated in its connect `_result`.
    pub fn server_caps_ex(&self) -> CapsEx {
        todo!("client")
    }

    /// releaseStream, FCPublish, createStream, publish; waits for
    /// NetStream.Publish.Start (an onStatus error becomes
    /// [`RtmpError::Rejected`]).
    pub async fn publish(
        self,
        stream_name: &str,
        publish_type: PublishType,
    ) -> Result<Publisher<S>, RtmpError> {
        let _ = (stream_name, publish_type);
        todo!("client")
    }

    /// createStream, play; waits for NetStream.Play.Start.
    pub async fn play(self, stream_name: &str) -> Result<Player<S>, RtmpError> {
        let _ = stream_name;
        todo!("client")
    }
}

/// A publishing stream.
#[derive(Debug)]
pub struct Publisher<S = TcpStream> {
    _io: S,
}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> Publisher<S> {
    /// Sends audio or video. Waits only while more than
    /// `max_output_buffer` bytes are queued; reads what the server sends
    /// meanwhile (acknowledgements, pings, Go Away).
    pub async fn send(
        &mut self,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), RtmpError> {
        let _ = (kind, timestamp, payload);
        todo!("client")
    }

    /// Sends a data message (`@setDataFrame onMetaData`).
    pub async fn send_data(
        &mut self,
        timestamp: Timestamp,
        data: DataMessage,
    ) -> Result<(), RtmpError> {
        let _ = (timestamp, data);
        todo!("client")
    }

    /// The next signal the server sent, if any arrived (does not wait).
    pub fn take_signal(&mut self) -> Option<ServerSignal> {
        todo!("client")
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), RtmpError> {
        todo!("client")
    }

    /// Ends the publication on purpose: FCUnpublish, deleteStream, then
    /// closes the connection after everything was written.
    pub async fn finish(self) -> Result<(), RtmpError> {
        todo!("client")
    }

    /// Closes the connection after writing what is queued, without
    /// FCUnpublish or deleteStream, so that the server keeps the stream for
    /// a reconnect (Go Away handover).
    pub async fn abandon(self) -> Result<(), RtmpError> {
        todo!("client")
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

/// A playing stream.
#[derive(Debug)]
pub struct Player<S = TcpStream> {
    _io: S,
}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> Player<S> {
    /// The next event; `None` when the connection closed.
    pub async fn next(&mut self) -> Result<Option<PlayerEvent>, RtmpError> {
        todo!("client")
    }

    /// deleteStream, then closes the connection.
    pub async fn close(self) -> Result<(), RtmpError> {
        todo!("client")
    }
}
