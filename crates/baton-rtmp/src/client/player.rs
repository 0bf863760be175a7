//! A playing NetStream: reads the server's messages and turns them into
//! [`PlayerEvent`]s; acknowledgements and ping responses are written as part
//! of every [`Player::next`].
//!
//! The end of a stream (onStatus NetStream.Play.UnpublishNotify or
//! NetStream.Play.Stop, or the Stream EOF user control event) is reported
//! once as [`PlayerEvent::End`]; the stream may resume (Stream Begin,
//! NetStream.Play.Start / PublishNotify, media), and a later end is reported
//! again.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::pin;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep};

use baton_proto::command::StatusCode;
use baton_proto::message::UserControlEvent;
use baton_proto::session::{ClientEvent, ConnectionStats};

use super::driver::{Driver, MAX_READS_PER_POLL};
use super::signal::{ServerSignal, SignalQueue, Sorted};
use super::{ClientConfig, PlayerEvent};
use crate::{RtmpError, TimeoutPhase};

/// A playing stream.
#[derive(Debug)]
pub struct Player<S = TcpStream> {
    driver: Driver<S>,
    config: ClientConfig,
    /// Events decoded and not yet returned (at most a few per session event,
    /// plus the signals that came before play started).
    pending: VecDeque<PlayerEvent>,
    stream_id: u32,
    stream_name: String,
    app: String,
    /// An end was reported and the stream has not resumed since.
    ended: bool,
}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> Player<S> {
    pub(crate) fn new(
        driver: Driver<S>,
        config: ClientConfig,
        mut signals: SignalQueue,
        stream_id: u32,
        stream_name: String,
        app: String,
    ) -> Self {
        let mut pending = VecDeque::new();
        while let Some(signal) = signals.pop() {
            pending.push_back(PlayerEvent::Signal(signal));
        }
        Player {
            driver,
            config,
            pending,
            stream_id,
            stream_name,
            app,
            ended: false,
        }
    }

    /// The message stream id the server gave this stream.
    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    /// The stream name as sent in play.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    /// Byte counters.
    pub fn stats(&self) -> ConnectionStats {
        self.driver.stats()
    }

    /// The next event; `None` when the connection closed. Fails with
    /// [`TimeoutPhase::Read`] when nothing arrives for `read_timeout`.
    ///
    /// Cancel-safe: dropping the future loses no event.
    pub async fn next(&mut self) -> Result<Option<PlayerEvent>, RtmpError> {
        let read_timeout = self.config.read_timeout;
        // Reads only note the time; the timer is moved when it fires (a
        // timer reset per read costs more than the read's bookkeeping).
        let mut last_read = Instant::now();
        let mut idle = pin!(sleep(read_timeout));
        poll_fn(|cx| {
            let mut reads = 0;
            loop {
                // Acknowledgements and ping responses go out without waiting
                // (not after the server closed: they would go nowhere).
                let mut progressed = false;
                if !self.driver.is_eof()
                    && let Poll::Ready(Err(e)) =
                        self.driver
                            .poll_write_until(cx, usize::MAX, &mut progressed)
                {
                    return Poll::Ready(Err(e));
                }
                if let Some(event) = self.pending.pop_front() {
                    return Poll::Ready(Ok(Some(event)));
                }
                while self.pending.is_empty() {
                    let Some(event) = self.driver.session.poll_event() else {
                        break;
                    };
                    self.on_event(event);
                }
                if !self.pending.is_empty() {
                    continue;
                }
                if self.driver.is_eof() {
                    return Poll::Ready(Ok(None));
                }
                if reads == MAX_READS_PER_POLL {
                    // Input that yields no event (a flood on another
                    // stream): let other tasks run.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                reads += 1;
                match self.driver.poll_read_input(cx) {
                    Poll::Ready(Ok(0)) => {
                        tracing::debug!(peer = %self.driver.peer, "server closed the connection");
                        continue;
                    }
                    Poll::Ready(Ok(_)) => {
                        last_read = Instant::now();
                        continue;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
                while idle.as_mut().poll(cx).is_ready() {
                    let deadline = last_read + read_timeout;
                    if Instant::now() >= deadline {
                        return Poll::Ready(Err(RtmpError::Timeout(TimeoutPhase::Read)));
                    }
                    idle.as_mut().reset(deadline);
                }
                return Poll::Pending;
            }
        })
        .await
    }

    /// deleteStream, then closes the connection.
    pub async fn close(mut self) -> Result<(), RtmpError> {
        let result = match self.driver.session.delete_stream(self.stream_id) {
            Ok(()) => {
                self.driver
                    .close(self.config.write_timeout, self.config.close_timeout)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        let stats = self.driver.stats();
        let reason = match &result {
            Ok(()) => "closed".to_owned(),
            Err(e) => format!("closed: {e}"),
        };
        tracing::info!(
            peer = %self.driver.peer,
            app = %self.app,
            stream = %self.stream_name,
            bytes_sent = stats.bytes_sent,
            bytes_received = stats.bytes_received,
            %reason,
            "player closed"
        );
        result
    }

    /// Turns a session event into what the application sees.
    fn on_event(&mut self, event: ClientEvent) {
        let ours = self.stream_id;
        match event {
            ClientEvent::Media {
                stream_id,
                kind,
                timestamp,
                payload,
            } if stream_id == ours => {
                self.ended = false;
                self.pending.push_back(PlayerEvent::Media {
                    kind,
                    timestamp,
                    payload,
                });
            }
            ClientEvent::Data {
                stream_id,
                timestamp,
                data,
            } if stream_id == ours => {
                self.pending
                    .push_back(PlayerEvent::Data { timestamp, data });
            }
            ClientEvent::Status { stream_id, info } => {
                let code = info.code.clone();
                self.pending
                    .push_back(PlayerEvent::Signal(ServerSignal::Status(info)));
                if stream_id == ours {
                    match code {
                        StatusCode::PlayUnpublishNotify | StatusCode::PlayStop => self.end(),
                        StatusCode::PlayStart
                        | StatusCode::PlayReset
                        | StatusCode::PlayPublishNotify => self.ended = false,
                        _ => {}
                    }
                }
            }
            ClientEvent::UserControl(UserControlEvent::StreamEof { stream_id })
                if stream_id == ours =>
            {
                self.end();
            }
            ClientEvent::UserControl(UserControlEvent::StreamBegin { stream_id })
                if stream_id == ours =>
            {
                self.ended = false;
            }
            event => match ServerSignal::from_event(event) {
                Sorted::Signal(signal) => self.pending.push_back(PlayerEvent::Signal(signal)),
                Sorted::Other(event) => {
                    tracing::debug!(stream_id = ours, ?event, "event not for the player")
                }
            },
        }
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            tracing::debug!(peer = %self.driver.peer, stream = %self.stream_name, "stream ended");
            self.pending.push_back(PlayerEvent::End);
        }
    }
}
