//! A publishing NetStream: media and data go out through the session, the
//! server's input (acknowledgements, pings, Go Away, Reconnect Request,
//! status) is processed at every call, also while a send waits for the
//! socket.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use baton_proto::Timestamp;
use baton_proto::command::DataMessage;
use baton_proto::session::{ClientEvent, ConnectionStats, MediaKind};

use super::ClientConfig;
use super::driver::Driver;
use super::signal::{ServerSignal, SignalQueue, Sorted};
use crate::RtmpError;

/// A publishing stream.
#[derive(Debug)]
pub struct Publisher<S = TcpStream> {
    driver: Driver<S>,
    config: ClientConfig,
    signals: SignalQueue,
    stream_id: u32,
    stream_name: String,
    app: String,
}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> Publisher<S> {
    pub(crate) fn new(
        driver: Driver<S>,
        config: ClientConfig,
        signals: SignalQueue,
        stream_id: u32,
        stream_name: String,
        app: String,
    ) -> Self {
        Publisher {
            driver,
            config,
            signals,
            stream_id,
            stream_name,
            app,
        }
    }

    /// The message stream id the server gave this stream.
    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    /// The stream name as sent in publish.
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    /// Bytes queued and not yet written to the socket.
    pub fn queued_output(&self) -> usize {
        self.driver.queued()
    }

    /// Byte counters.
    pub fn stats(&self) -> ConnectionStats {
        self.driver.stats()
    }

    /// Sends audio or video. Waits only while more than
    /// `max_output_buffer` bytes are queued; reads what the server sends
    /// meanwhile (acknowledgements, pings, Go Away).
    ///
    /// The message is queued before the first wait: dropping the future
    /// (or a [`TimeoutPhase::Write`](crate::TimeoutPhase::Write) error)
    /// leaves it queued, and a later call or [`Publisher::flush`] writes it.
    pub async fn send(
        &mut self,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), RtmpError> {
        self.driver
            .session
            .send_media(self.stream_id, kind, timestamp, payload)?;
        self.drive(self.config.max_output_buffer).await
    }

    /// Sends a data message (`@setDataFrame onMetaData`).
    pub async fn send_data(
        &mut self,
        timestamp: Timestamp,
        data: DataMessage,
    ) -> Result<(), RtmpError> {
        self.driver
            .session
            .send_data(self.stream_id, timestamp, data)?;
        self.drive(self.config.max_output_buffer).await
    }

    /// Processes what the server sent (signals become available to
    /// [`Publisher::take_signal`]) and writes what the socket takes, without
    /// waiting. For a publisher with nothing to send for a while.
    pub async fn process_input(&mut self) -> Result<(), RtmpError> {
        self.drive(usize::MAX).await
    }

    /// The next signal the server sent, if any arrived (does not wait;
    /// input is read by [`Publisher::send`], [`Publisher::send_data`],
    /// [`Publisher::flush`] and [`Publisher::process_input`]).
    pub fn take_signal(&mut self) -> Option<ServerSignal> {
        self.signals.pop()
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), RtmpError> {
        self.drive(0).await
    }

    /// Ends the publication on purpose: FCUnpublish, deleteStream, then
    /// closes the connection after everything was written (waiting up to
    /// `close_timeout` for the server to close its side, so that no reset
    /// loses what it has not read yet).
    pub async fn finish(mut self) -> Result<(), RtmpError> {
        let queued = self
            .driver
            .session
            .fc_unpublish(&self.stream_name)
            .and_then(|()| self.driver.session.delete_stream(self.stream_id));
        let result = match queued {
            Ok(()) => {
                self.driver
                    .close(self.config.write_timeout, self.config.close_timeout)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        self.log_close("finished", &result);
        result
    }

    /// Closes the connection after writing what is queued, without
    /// FCUnpublish or deleteStream, so that the server keeps the stream for
    /// a reconnect (Go Away handover).
    pub async fn abandon(mut self) -> Result<(), RtmpError> {
        let result = self
            .driver
            .close(self.config.write_timeout, self.config.close_timeout)
            .await;
        self.log_close("abandoned", &result);
        result
    }

    /// Reads what is readable, then writes until at most `target` bytes
    /// stay queued.
    async fn drive(&mut self, target: usize) -> Result<(), RtmpError> {
        let signals = &mut self.signals;
        let stream_id = self.stream_id;
        self.driver
            .drive(target, self.config.write_timeout, true, &mut |event| {
                on_event(signals, stream_id, event)
            })
            .await
    }

    fn log_close(&self, how: &str, result: &Result<(), RtmpError>) {
        let stats = self.driver.stats();
        let reason = match result {
            Ok(()) => how.to_owned(),
            Err(e) => format!("{how}: {e}"),
        };
        tracing::info!(
            peer = %self.driver.peer,
            app = %self.app,
            stream = %self.stream_name,
            bytes_sent = stats.bytes_sent,
            bytes_received = stats.bytes_received,
            %reason,
            "publisher closed"
        );
    }
}

/// Queues what the application should see; the rest is logged.
fn on_event(signals: &mut SignalQueue, stream_id: u32, event: ClientEvent) {
    match ServerSignal::from_event(event) {
        Sorted::Signal(signal) => {
            tracing::debug!(stream_id, ?signal, "server signal");
            signals.push(signal);
        }
        Sorted::Other(event) => {
            tracing::debug!(stream_id, ?event, "event on a publishing connection")
        }
    }
}
