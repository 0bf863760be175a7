//! A connected NetConnection (RTMP 1.0 section 7.2.1.1, message sequence of
//! 7.3.1): TCP connect, handshake, `connect`; then the command sequences
//! that turn it into a publisher (FMLE: releaseStream, FCPublish,
//! createStream, publish) or a player (createStream, play).

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use baton_proto::command::{
    CapsEx, Connect, Play, PublishType, Response, StatusCode, StatusInfo, StatusLevel,
};
use baton_proto::session::{ClientEvent, ClientSession, ConnectionStats};

use super::ClientConfig;
use super::driver::Driver;
use super::player::Player;
use super::publisher::Publisher;
use super::signal::{ServerSignal, SignalQueue, Sorted};
use crate::{RtmpError, RtmpUrl, TimeoutPhase};

/// A connected NetConnection (handshake done, connect accepted).
#[derive(Debug)]
pub struct Connection<S = TcpStream> {
    driver: Driver<S>,
    url: RtmpUrl,
    config: ClientConfig,
    /// Signals that arrived before the publisher or player existed.
    signals: SignalQueue,
}

impl Connection<TcpStream> {
    /// Opens a TCP connection to the URL's host, handshakes and connects to
    /// its application.
    pub async fn connect(url: &RtmpUrl, config: &ClientConfig) -> Result<Self, RtmpError> {
        let addr = url.socket_addr_string();
        let tcp = tokio::time::timeout(config.connect_timeout, TcpStream::connect(&addr))
            .await
            .map_err(|_| RtmpError::Timeout(TimeoutPhase::Connect))??;
        tcp.set_nodelay(true)?;
        tracing::debug!(peer = %addr, "tcp connected");
        Connection::connect_over(tcp, url, config).await
    }
}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection<S> {
    /// Handshakes and connects over an established transport.
    pub async fn connect_over(
        io: S,
        url: &RtmpUrl,
        config: &ClientConfig,
    ) -> Result<Self, RtmpError> {
        let mut session = ClientSession::new(config.session.clone());
        let connect =
            Connect::new(url.app.clone(), url.tc_url()).with_flash_ver(config.flash_ver.clone());
        session.connect(connect)?;
        let peer = url.socket_addr_string();
        let driver = Driver::new(io, session, config.read_buffer_size, peer);
        let mut conn = Connection {
            driver,
            url: url.clone(),
            config: config.clone(),
            signals: SignalQueue::new(config.max_pending_signals),
        };
        let signals = &mut conn.signals;
        let result = conn
            .driver
            .wait_for(config.reply_timeout, |event| match event {
                ClientEvent::Connected { .. } => Some(Ok(())),
                ClientEvent::ConnectRejected { response } => {
                    Some(Err(rejected(&response, StatusCode::ConnectRejected)))
                }
                other => {
                    keep_signal(signals, other);
                    None
                }
            })
            .await;
        match result {
            Ok(()) => {
                tracing::info!(
                    peer = %conn.driver.peer,
                    app = %url.app,
                    tc_url = %url.tc_url(),
                    caps_ex = conn.driver.session.server_caps_ex().0,
                    "rtmp connected"
                );
                Ok(conn)
            }
            Err(e) => {
                tracing::info!(peer = %conn.driver.peer, app = %url.app, reason = %e, "rtmp connect failed");
                Err(e)
            }
        }
    }

    /// The capabilities the server stated in its connect `_result`.
    pub fn server_caps_ex(&self) -> CapsEx {
        self.driver.session.server_caps_ex()
    }

    /// The URL this connection was opened with.
    pub fn url(&self) -> &RtmpUrl {
        &self.url
    }

    /// Byte counters.
    pub fn stats(&self) -> ConnectionStats {
        self.driver.stats()
    }

    /// releaseStream, FCPublish, createStream, publish; waits for
    /// NetStream.Publish.Start (an onStatus error becomes
    /// [`RtmpError::Rejected`]). The name is sent as given (it may carry a
    /// `?query`).
    pub async fn publish(
        mut self,
        stream_name: &str,
        publish_type: PublishType,
    ) -> Result<Publisher<S>, RtmpError> {
        let session = &mut self.driver.session;
        session.release_stream(stream_name)?;
        session.fc_publish(stream_name)?;
        let stream_id = self.create_stream().await?;
        self.driver
            .session
            .publish(stream_id, stream_name, publish_type)?;
        self.wait_status(stream_id, StatusCode::PublishStart, &[])
            .await
            .inspect_err(|e| {
                tracing::info!(peer = %self.driver.peer, app = %self.url.app, stream = stream_name, reason = %e, "publish refused");
            })?;
        tracing::info!(
            peer = %self.driver.peer,
            app = %self.url.app,
            stream = stream_name,
            %publish_type,
            stream_id,
            "publishing"
        );
        Ok(Publisher::new(
            self.driver,
            self.config,
            self.signals,
            stream_id,
            stream_name.to_owned(),
            self.url.app,
        ))
    }

    /// createStream, play (start -2, duration -1, reset); waits for
    /// NetStream.Play.Start (after NetStream.Play.Reset when the server
    /// sends it; an onStatus error becomes [`RtmpError::Rejected`]).
    pub async fn play(mut self, stream_name: &str) -> Result<Player<S>, RtmpError> {
        let stream_id = self.create_stream().await?;
        self.driver
            .session
            .play(stream_id, Play::new(stream_name))?;
        self.wait_status(stream_id, StatusCode::PlayStart, &[StatusCode::PlayReset])
            .await
            .inspect_err(|e| {
                tracing::info!(peer = %self.driver.peer, app = %self.url.app, stream = stream_name, reason = %e, "play refused");
            })?;
        tracing::info!(
            peer = %self.driver.peer,
            app = %self.url.app,
            stream = stream_name,
            stream_id,
            "playing"
        );
        Ok(Player::new(
            self.driver,
            self.config,
            self.signals,
            stream_id,
            stream_name.to_owned(),
            self.url.app,
        ))
    }

    /// Sends createStream and waits for the new message stream id.
    async fn create_stream(&mut self) -> Result<u32, RtmpError> {
        let transaction = self.driver.session.create_stream()?;
        let signals = &mut self.signals;
        self.driver
            .wait_for(self.config.reply_timeout, |event| match event {
                ClientEvent::StreamCreated {
                    transaction_id,
                    stream_id,
                } if transaction_id == transaction => Some(Ok(stream_id)),
                ClientEvent::CreateStreamFailed {
                    transaction_id,
                    response,
                } if transaction_id == transaction => {
                    Some(Err(rejected(&response, StatusCode::CallFailed)))
                }
                other => {
                    keep_signal(signals, other);
                    None
                }
            })
            .await
    }

    /// Waits for onStatus `expected` on `stream_id`; `interim` codes are
    /// passed over, an error-level status is a refusal.
    async fn wait_status(
        &mut self,
        stream_id: u32,
        expected: StatusCode,
        interim: &[StatusCode],
    ) -> Result<(), RtmpError> {
        let signals = &mut self.signals;
        self.driver
            .wait_for(self.config.reply_timeout, |event| match event {
                ClientEvent::Status {
                    stream_id: id,
                    info,
                } if id == stream_id => {
                    if info.code == expected {
                        Some(Ok(()))
                    } else if info.level == StatusLevel::Error {
                        Some(Err(refusal(info)))
                    } else {
                        if !interim.contains(&info.code) {
                            tracing::debug!(code = %info.code, "unexpected status while waiting");
                        }
                        None
                    }
                }
                other => {
                    keep_signal(signals, other);
                    None
                }
            })
            .await
    }
}

/// Keeps Go Away and Reconnect Request for the publisher or player; other
/// events before it exists are only logged.
fn keep_signal(signals: &mut SignalQueue, event: ClientEvent) {
    match ServerSignal::from_event(event) {
        Sorted::Signal(signal @ (ServerSignal::GoAway | ServerSignal::ReconnectRequest { .. })) => {
            signals.push(signal);
        }
        Sorted::Signal(signal) => tracing::debug!(?signal, "status before the stream started"),
        Sorted::Other(event) => tracing::debug!(?event, "event while waiting for a reply"),
    }
}

/// The refusal an `_error` carries (its info object's code and description).
fn rejected(response: &Response, fallback: StatusCode) -> RtmpError {
    match response.info() {
        Some(info) => refusal(info),
        None => RtmpError::Rejected {
            code: fallback,
            description: String::new(),
        },
    }
}

fn refusal(info: StatusInfo) -> RtmpError {
    RtmpError::Rejected {
        code: info.code,
        description: info.description.unwrap_or_default(),
    }
}
