//! The RTMP server: accepts connections and drives one
//! [`ServerSession`](baton_proto::session::ServerSession) per connection in
//! its own task, asking a [`Handler`] for every decision.
//!
//! ```text
//!  Server::run ── accept (max_connections) ──► serve_connection (one task each)
//!                                                │ handshake, connect ──► Handler::on_connect
//!                      publisher's media ◄───────┤ publish ──► Handler::on_publish ──► MediaSink
//!                      player's feed ───────────►│ play    ──► Handler::on_play    ──► PlayFeed
//!                                                └ close   ──► MediaSink::on_end, Handler::on_close
//! ```
//!
//! Every wait on a peer is bounded: the handshake and connect by
//! `handshake_timeout`, silence by `idle_timeout` (the server pings every
//! `ping_interval`), a peer that stops reading by `write_timeout`, a closing
//! connection by `close_timeout`. A peer that breaks the protocol loses its
//! own connection only.
//!
//! [`ShutdownHandle::drain`] starts a drain (for rolling restarts behind a
//! load balancer): the listener closes, every client that announced RTMP Go
//! Away or Enhanced RTMP Reconnect is asked to move, everyone is served
//! until they leave, and what is left at `drain_deadline` is closed. See
//! [`Server::run`].
//!
//! ```no_run
//! use baton_rtmp::server::{Handler, Server, ServerConfig};
//!
//! /// Accepts every connect; refuses publish and play (the defaults).
//! struct Lobby;
//! impl Handler for Lobby {}
//!
//! # async fn example() -> std::io::Result<()> {
//! let server = Server::bind("0.0.0.0:1935", ServerConfig::default(), Lobby).await?;
//! let stop = server.shutdown_handle();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     stop.shutdown();
//! });
//! server.run().await
//! # }
//! ```

mod connection;
mod drain;
mod handler;
mod io;
mod shutdown;

pub use connection::serve_connection;
pub use handler::{
    CloseSummary, ConnectionInfo, FeedItem, Handler, MediaSink, PlayFeed, PlayRequest, PublishEnd,
    PublishRequest, Rejection,
};
pub use shutdown::ShutdownHandle;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use shutdown::ServerState;

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
    /// A publishing connection that sends no audio or video for this long
    /// is closed (an encoder that hangs while its connection stays up would
    /// otherwise hold its stream name forever).
    pub publisher_idle_timeout: Duration,
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
    /// The kernel send buffer (SO_SNDBUF) of each accepted connection, in
    /// bytes; `None` leaves it to the kernel's autotuning. A bound here makes
    /// a player that stops reading visible to the server sooner (the
    /// server's own queue and the feed's lag rule then decide), instead of
    /// megabytes disappearing into the kernel first.
    pub send_buffer_size: Option<usize>,
    /// Most bytes the kernel holds unsent on each accepted connection
    /// (`TCP_NOTSENT_LOWAT`, Linux and macOS; ignored elsewhere); `None`
    /// leaves it unbounded. Output the network has not taken then waits in
    /// the server's queue, where it counts against `max_output_buffer` and
    /// a lagging player is seen (and skipped ahead) seconds sooner. Unlike
    /// a small `send_buffer_size` it does not limit data in flight, so
    /// throughput on long paths is unaffected.
    pub unsent_limit: Option<usize>,
    /// How long a player's output may wait so that the frames that arrive
    /// meanwhile leave in one write (SRS's merged write, `mw_latency`);
    /// zero writes each frame at once. Merging divides the kernel's
    /// per-write work (most of a fan-out server's CPU) by the frames merged,
    /// and adds up to this much latency. Output waits only while the
    /// connection plays, and never past `max_output_buffer / 2` bytes.
    pub write_merge: Duration,
    /// Size of each socket read (into one buffer per runtime thread, so it
    /// costs no memory per connection).
    pub read_buffer_size: usize,
    /// Time a closing connection gets to write what is queued (an error
    /// reply, the last media) and see the peer close. After a shutdown, the
    /// server aborts connection tasks still running a second past it.
    pub close_timeout: Duration,
    /// How long a drain ([`ShutdownHandle::drain`]) waits for clients to
    /// leave by themselves before it closes the connections still open.
    pub drain_deadline: Duration,
    /// Where clients are told to go in the Enhanced RTMP Reconnect Request
    /// of a drain (its `tcUrl`: absolute, or relative to the client's own);
    /// `None` leaves it out, so clients reconnect to the URL they used (a
    /// load balancer in front of several servers).
    pub reconnect_tc_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            session: baton_proto::session::ServerConfig::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            publisher_idle_timeout: Duration::from_secs(20),
            ping_interval: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_output_buffer: 256 << 10,
            send_buffer_size: None,
            unsent_limit: Some(128 << 10),
            write_merge: Duration::ZERO,
            read_buffer_size: 64 << 10,
            close_timeout: Duration::from_secs(2),
            drain_deadline: Duration::from_secs(30),
            reconnect_tc_url: None,
        }
    }
}

/// How long past `close_timeout` the server waits for connection tasks to
/// end after a shutdown before it aborts them.
const ABORT_MARGIN: Duration = Duration::from_secs(1);

/// Pause after a failed accept (out of file descriptors, ...), so that a
/// persistent failure does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A bound RTMP server.
pub struct Server<H> {
    listener: TcpListener,
    config: Arc<ServerConfig>,
    handler: Arc<H>,
    shutdown: ShutdownHandle,
}

impl<H> fmt::Debug for Server<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("config", &self.config)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl<H: Handler> Server<H> {
    /// Binds the listening socket.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        handler: H,
    ) -> std::io::Result<Server<H>> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server {
            listener,
            config: Arc::new(config),
            handler: Arc::new(handler),
            shutdown: ShutdownHandle::new(),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle that drains or stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Accepts and serves connections until drained or shut down; then
    /// waits for the connection tasks to end.
    ///
    /// Past `max_connections`, a new connection is closed at once (and a
    /// warning logged). A failed accept is logged and retried. After
    /// [`ShutdownHandle::shutdown`], the listener closes, every connection
    /// writes what is queued and closes (within `close_timeout`), and the
    /// tasks still running a second later are aborted.
    ///
    /// After [`ShutdownHandle::drain`], the listener closes (new
    /// connections are refused) and every connection asks its client to
    /// move (see [`ShutdownHandle`]) and keeps serving it. `run` returns
    /// `Ok` as soon as every connection has left, or at `drain_deadline`
    /// after closing the connections still open (reason "drain deadline"),
    /// or, on a `shutdown` during the drain, after closing them all at
    /// once. The drain's first and last log lines say how many clients were
    /// asked to move, how many left by themselves and how many were cut.
    pub async fn run(self) -> std::io::Result<()> {
        let Server {
            listener,
            config,
            handler,
            shutdown,
        } = self;
        let mut state = shutdown.subscribe();
        let permits = Arc::new(Semaphore::new(
            config.max_connections.min(Semaphore::MAX_PERMITS),
        ));
        let mut tasks = JoinSet::new();
        info!(addr = ?listener.local_addr().ok(), "listening");
        loop {
            match *state.borrow_and_update() {
                ServerState::Running => {}
                ServerState::Draining | ServerState::Closing(_) => break,
            }
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => match Arc::clone(&permits).try_acquire_owned() {
                        Ok(permit) => {
                            // Spawned as is: a wrapping `async` block would
                            // hold a second copy of the connection's state.
                            tasks.spawn(serve(
                                stream,
                                peer,
                                Arc::clone(&config),
                                Arc::clone(&handler),
                                shutdown.clone(),
                                permit,
                            ));
                        }
                        Err(_) => {
                            warn!(%peer, max_connections = config.max_connections,
                                "too many connections: closing the new one");
                            drop(stream);
                        }
                    },
                    Err(error) => {
                        warn!(%error, "accept failed");
                        tokio::select! {
                            () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                            _ = state.changed() => {}
                        }
                    }
                },
                // The server holds a sender: this never fails.
                _ = state.changed() => {}
                Some(ended) = tasks.join_next(), if !tasks.is_empty() => log_task_end(ended),
            }
        }
        // Closed at once, so that a load balancer sees the node gone.
        drop(listener);
        if *state.borrow_and_update() == ServerState::Draining {
            drain::drain(&mut tasks, &mut state, &config, &shutdown).await;
        }
        info!(connections = tasks.len(), "shutting down");
        let grace = config.close_timeout.saturating_add(ABORT_MARGIN);
        let drained = tokio::time::timeout(grace, async {
            while let Some(ended) = tasks.join_next().await {
                log_task_end(ended);
            }
        })
        .await;
        if drained.is_err() {
            warn!(
                connections = tasks.len(),
                "connections still open after the grace period: aborting them"
            );
            tasks.shutdown().await;
        }
        info!("server stopped");
        Ok(())
    }
}

/// Sets `TCP_NOTSENT_LOWAT` where the platform has it.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn set_unsent_limit(stream: &TcpStream, peer: SocketAddr, limit: usize) {
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    if let Err(error) = socket2::SockRef::from(stream).set_tcp_notsent_lowat(limit) {
        debug!(%peer, %error, limit, "cannot set TCP_NOTSENT_LOWAT");
    }
}

/// Elsewhere the kernel's buffer is left as it is.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn set_unsent_limit(_: &TcpStream, _: SocketAddr, _: usize) {}

/// Serves one accepted TCP connection.
async fn serve<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    handler: Arc<H>,
    shutdown: ShutdownHandle,
    permit: OwnedSemaphorePermit,
) {
    if let Err(error) = stream.set_nodelay(true) {
        debug!(%peer, %error, "cannot set TCP_NODELAY");
    }
    if let Some(size) = config.send_buffer_size
        && let Err(error) = socket2::SockRef::from(&stream).set_send_buffer_size(size)
    {
        debug!(%peer, %error, size, "cannot set SO_SNDBUF");
    }
    if let Some(limit) = config.unsent_limit {
        set_unsent_limit(&stream, peer, limit);
    }
    serve_connection(stream, peer, config, handler, shutdown).await;
    // Counted among the open connections until here.
    drop(permit);
}

/// Logs a connection task that panicked (one that ended normally has
/// logged its own close line).
pub(super) fn log_task_end(ended: Result<(), tokio::task::JoinError>) {
    if let Err(error) = ended
        && error.is_panic()
    {
        error!(%error, "a connection task panicked");
    }
}
