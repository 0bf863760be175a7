//! A connection during the server's drain: once its connect is accepted,
//! a client that announced RTMP Go Away (`supportsGoAway`) is sent Go Away
//! (message type 32) and one that announced Enhanced RTMP `capsEx`
//! Reconnect is sent the Reconnect Request (onStatus
//! NetConnection.Connect.ReconnectRequest, with the configured `tcUrl`);
//! a client that announced neither is sent nothing. Either way it goes on
//! being served until it leaves or the drain's deadline closes it.
//!
//! The sinks of a publisher that was asked hear of it
//! ([`MediaSink::on_go_away`](crate::server::MediaSink::on_go_away)), so
//! that its stream may be taken over by the connection it moves to.

use tokio::io::{AsyncRead, AsyncWrite};
use tracing::info;

use super::Driver;
use crate::server::Handler;
use crate::server::shutdown::ServerState;

/// The description of the Reconnect Request.
const RECONNECT_DESCRIPTION: &str = "server is going away";

impl<H, S> Driver<H, S>
where
    H: Handler,
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    /// The connect was accepted: counts the client with what it announced,
    /// and asks it to move at once when the server is already draining.
    pub(super) fn on_connected(&mut self) {
        let go_away = self.session.supports_go_away();
        let reconnect = self.session.supports_reconnect_request();
        self.registration = Some(self.shutdown.register(go_away, reconnect));
        if *self.state.borrow() == ServerState::Draining {
            self.ask_to_move();
        }
    }

    /// Sends Go Away and/or the Reconnect Request (once, to a connected
    /// client, each only if announced) and tells the publications.
    pub(super) fn ask_to_move(&mut self) {
        if self.drain_asked.is_some() {
            return;
        }
        let go_away = self.session.send_go_away();
        let tc_url = self.config.reconnect_tc_url.as_deref();
        let reconnect = self
            .session
            .send_reconnect_request(tc_url, Some(RECONNECT_DESCRIPTION));
        let asked = go_away || reconnect;
        self.drain_asked = Some(asked);
        self.shutdown.counters().count_asked(go_away, reconnect);
        if asked {
            for (_, sink) in &mut self.sinks {
                sink.on_go_away();
            }
            info!(
                app = self.app(),
                go_away,
                reconnect_request = reconnect,
                tc_url = tc_url.map_or("-", |url| crate::split_stream_query(url).0),
                publishing = self.sinks.len(),
                "draining: asked the client to move"
            );
        } else {
            info!(
                app = self.app(),
                "draining: the client announced neither Go Away nor Reconnect; served until it leaves or the drain deadline"
            );
        }
    }
}
