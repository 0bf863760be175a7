//! The RTMP server: accepts connections and drives one
//! [`ServerSession`](baton_proto::session::ServerSession) per connection in
//! its own task, asking a [`Handler`] for every decision.

mod handler;

pub use handler::{
    CloseSummary, ConnectionInfo, FeedItem, Handler, MediaSink, PlayFeed, PlayRequest, PublishEnd,
    PublishRequest, Rejection,
};

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::ToSocketAddrs;

/// Server settings. Every limit has a safe default.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The protocol session settings (chunk size, window acknowledgement
    /// size, peer bandwidth, limits, streams per connection).
    pub session: baton_proto::session::ServerConfig,
    /// Time allowed for the handshake and connect.
    pub handshake_timeout: Duration,
    /// A connection that sends nothing for this long is closed (the server
    /// pings every `ping_interval`, so a live client always answers).
    pub idle_timeout: Duration,
    /// Interval of the server's Ping Requests.
    pub ping_interval: Duration,
    /// A connection whose queued output makes no progress for this long is
    /// closed (the peer stopped reading).
    pub write_timeout: Duration,
    /// Most connections at once; past it, new connections are closed at once.
    pub max_connections: usize,
    /// Output queued per connection past which a player's feed is not
    /// polled (the feed then decides what the player skips).
    pub max_output_buffer: usize,
    /// Size of each socket read.
    pub read_buffer_size: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            session: baton_proto::session::ServerConfig::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_output_buffer: 1 << 20,
            read_buffer_size: 64 << 10,
        }
    }
}

/// Stops a running [`Server`]: it stops accepting and closes its
/// connections. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    _private: (),
}

impl ShutdownHandle {
    /// Asks the server to stop.
    pub fn shutdown(&self) {
        todo!("server driver")
    }
}

/// A bound RTMP server.
#[derive(Debug)]
pub struct Server<H> {
    _handler: Arc<H>,
}

impl<H: Handler> Server<H> {
    /// Binds the listening socket.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        handler: H,
    ) -> io::Result<Server<H>> {
        let _ = (addr, config, handler);
        todo!("server driver")
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        todo!("server driver")
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        todo!("server driver")
    }

    /// Accepts and serves connections until shut down; then waits for the
    /// connection tasks to end.
    pub async fn run(self) -> io::Result<()> {
        todo!("server driver")
    }
}

/// Serves one connection over any transport (TLS slots in here) until it
/// ends. `run` uses this for every accepted TCP connection.
pub async fn serve_connection<H, S>(
    io: S,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    handler: Arc<H>,
    shutdown: ShutdownHandle,
) -> CloseSummary
where
    H: Handler,
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let _ = (io, peer, config, handler, shutdown);
    todo!("server driver")
}
