//! # baton-server: the Baton media server
//!
//! Publishers send streams in; players get them out. Built on the
//! [`baton_rtmp::server`] handler API:
//!
//! ```text
//!  publisher ──► StreamSink ──► Stream (metadata, sequence headers, GOP cache)
//!                                 │  one bounded queue of Arc<SharedMessage>,
//!                                 │  each chunked once for every player
//!                                 ├──► StreamFeed ──► player
//!                                 └──► StreamFeed ──► player
//! ```
//!
//! - [`config`]: the TOML configuration, every default embedded.
//! - [`StreamHub`]: streams by (application, stream key); one publisher per
//!   stream, players before or after it.
//! - [`StreamSink`] / [`StreamFeed`]: a publisher's and a player's side.
//! - A stream outlives its publisher's lost connection for
//!   `streams.reconnect_window_secs`; a new publisher of the same key takes
//!   it over without players noticing (timestamps mapped onto the stream's,
//!   unchanged headers not re-sent). A publisher sent Go Away
//!   ([`MediaSink::on_go_away`]) can be taken over while still connected.
//! - [`MediaServer`]: the [`Handler`] that routes connections to the hub;
//!   [`BoundServer`] binds and runs it.
//! - [`Relays`]: relay push of every published stream to upstream servers
//!   (`[relay] push`), Go Away-aware, ended without FCUnpublish when this
//!   server drains ([`relay`]).
//!
//! A joining player gets the metadata, the video and audio sequence headers,
//! then the GOP cache from its keyframe, then live messages, with nothing
//! missed or repeated in between. A publisher never waits for a player: a
//! player that falls behind skips to a keyframe, and is cut off past the
//! configured rule.

#![forbid(unsafe_code)]

pub mod config;
mod feed;
mod gop;
mod hub;
pub mod relay;
mod ring;
mod sink;
mod stream;
mod takeover;
mod waiters;

use std::future::{Future, ready};
use std::io;
use std::net::SocketAddr;

use baton_rtmp::server::{
    CloseSummary, ConnectionInfo, Handler, MediaSink, PlayFeed, PlayRequest, PublishRequest,
    Rejection, Server, ShutdownHandle,
};

pub use config::{Config, ConfigError};
pub use feed::StreamFeed;
pub use hub::{HubStats, StreamHub};
pub use relay::Relays;
pub use sink::StreamSink;
pub use stream::{StreamKey, StreamStats};

/// What can stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// A socket error while serving.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
}

/// The media server's [`Handler`]: any application is accepted, publish and
/// play go to the [`StreamHub`].
#[derive(Clone, Debug)]
pub struct MediaServer {
    hub: StreamHub,
    relays: Relays,
}

impl MediaServer {
    /// A server with an empty hub, relaying to `config.relay.push`.
    /// (`Config::validate` checks the URLs; one that does not parse is
    /// left out with a warning.)
    pub fn new(config: &Config) -> MediaServer {
        let hub = StreamHub::with_chunk_size(&config.streams, config.server.chunk_size);
        let relays = Relays::new(&config.relay, hub.clone());
        MediaServer { hub, relays }
    }

    /// Its streams.
    pub fn hub(&self) -> &StreamHub {
        &self.hub
    }

    /// Its relays.
    pub fn relays(&self) -> &Relays {
        &self.relays
    }
}

impl Handler for MediaServer {
    fn on_connect(
        &self,
        info: &ConnectionInfo,
    ) -> impl Future<Output = Result<(), Rejection>> + Send {
        tracing::debug!(conn = info.id, peer = %info.peer, app = info.app(), "connect accepted");
        ready(Ok(()))
    }

    fn on_publish(
        &self,
        info: &ConnectionInfo,
        request: &PublishRequest,
    ) -> impl Future<Output = Result<Box<dyn MediaSink>, Rejection>> + Send {
        let result = self.hub.publish(info.app(), &request.stream_name);
        if result.is_ok() {
            // Before the sink is returned: the relay misses no message.
            self.relays.on_publish(info.app(), &request.stream_name);
        }
        match &result {
            Ok(_) => tracing::debug!(
                conn = info.id,
                peer = %info.peer,
                app = info.app(),
                stream = stream_key(&request.stream_name),
                kind = ?request.publish_type,
                "publish"
            ),
            Err(rejection) => tracing::debug!(
                conn = info.id,
                peer = %info.peer,
                app = info.app(),
                stream = stream_key(&request.stream_name),
                code = %rejection.code,
                reason = %rejection.description,
                "publish refused"
            ),
        }
        ready(result.map(|sink| Box::new(sink) as Box<dyn MediaSink>))
    }

    fn on_play(
        &self,
        info: &ConnectionInfo,
        request: &PlayRequest,
    ) -> impl Future<Output = Result<Box<dyn PlayFeed>, Rejection>> + Send {
        let result = self.hub.play(info.app(), &request.stream_name);
        match &result {
            Ok(_) => tracing::debug!(
                conn = info.id,
                peer = %info.peer,
                app = info.app(),
                stream = stream_key(&request.stream_name),
                "play"
            ),
            Err(rejection) => tracing::debug!(
                conn = info.id,
                peer = %info.peer,
                app = info.app(),
                stream = stream_key(&request.stream_name),
                code = %rejection.code,
                reason = %rejection.description,
                "play refused"
            ),
        }
        ready(result.map(|feed| Box::new(feed) as Box<dyn PlayFeed>))
    }

    fn on_close(&self, info: Option<&ConnectionInfo>, summary: &CloseSummary) {
        tracing::debug!(
            conn = info.map(|i| i.id),
            peer = info.map(|i| tracing::field::display(i.peer)),
            app = info.map(|i| i.app()),
            bytes_received = summary.bytes_received,
            bytes_sent = summary.bytes_sent,
            reason = %summary.reason,
            "connection closed"
        );
    }
}

/// The stream name for logs: without its query string, which often
/// carries a secret.
fn stream_key(stream_name: &str) -> &str {
    baton_rtmp::split_stream_query(stream_name).0
}

/// A media server bound to its address, ready to run.
#[derive(Debug)]
pub struct BoundServer {
    server: Server<MediaServer>,
    hub: StreamHub,
    relays: Relays,
}

impl BoundServer {
    /// Validates the configuration and binds `config.server.listen`.
    pub async fn bind(config: Config) -> Result<BoundServer, ServerError> {
        config.validate()?;
        let handler = MediaServer::new(&config);
        let hub = handler.hub().clone();
        let relays = handler.relays().clone();
        let addr = config.server.listen;
        let server = Server::bind(addr, config.to_server_config(), handler)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        relays.attach(server.shutdown_handle());
        Ok(BoundServer {
            server,
            hub,
            relays,
        })
    }

    /// The address it listens on (with the port chosen when the
    /// configuration said port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        Ok(self.server.local_addr()?)
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.server.shutdown_handle()
    }

    /// Its streams (for stats).
    pub fn hub(&self) -> &StreamHub {
        &self.hub
    }

    /// Its relays (for stats).
    pub fn relays(&self) -> &Relays {
        &self.relays
    }

    /// Serves until shut down; then lets the relays send what they hold
    /// and end (bounded, see [`Relays::wait`]).
    pub async fn run(self) -> Result<(), ServerError> {
        let result = self.server.run().await;
        self.relays.wait().await;
        result?;
        Ok(())
    }
}
