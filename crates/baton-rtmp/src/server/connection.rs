//! One connection: a task that drives a
//! [`ServerSession`](baton_proto::session::ServerSession) over any
//! `AsyncRead + AsyncWrite`.
//!
//! One poll function over everything that can happen: bytes read, queued
//! output written, a play feed with an item, a handler decision, the timer
//! and the server's state. Each wake-up handles all that is ready: a player
//! woken for a frame takes every ready item of its feeds and writes them in
//! one vectored write, in one turn, without a `select!` re-polling every
//! source for each event. Reads and writes are polled independently, so
//! reads never wait behind writes: a publisher is read at full speed
//! whatever its socket's send side does, and a player that reads slowly
//! still has its acknowledgements, pings and commands processed. Play feeds
//! are polled only while the output queued (in the session and here) is
//! under `max_output_buffer`, so a slow player simply takes less and its
//! feed decides what it skips.
//!
//! With `write_merge` set, a player's output waits up to that long so that
//! several frames leave in one write ([`merge`]).
//!
//! The timers (handshake, idle, write, publisher idle, ping, merge) share one
//! `Sleep`, armed at the earliest deadline and moved only when a deadline
//! comes earlier; when it fires the deadlines are checked again (a read
//! records an `Instant`, a write only when it stalls).

mod dispatch;
mod drain;
mod filter;
mod merge;

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tracing::{Instrument, info, warn};

use baton_proto::session::{ServerSession, SessionError, UsageError};

use super::io::{OutputQueue, poll_read_scratch};
use super::shutdown::{Registration, ServerState, Stop};
use super::{
    CloseSummary, ConnectionInfo, Handler, MediaSink, PlayFeed, PublishEnd, ServerConfig,
    ShutdownHandle,
};
use crate::TimeoutPhase;
use dispatch::{DecisionFuture, poll_decision, poll_feeds};
use filter::PlayFilter;
use merge::WriteMerge;

/// Process-unique connection ids, for logs and [`ConnectionInfo::id`].
static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// Output the session may queue on its own (replies, pings, control) on top
/// of the media a feed may have queued, before the connection stops reading
/// until the peer takes some: a peer that sends requests without reading
/// the answers cannot grow the queue without bound.
const CONTROL_SLACK: usize = 256 << 10;

/// Serves one connection over any transport (TLS slots in here) until it
/// ends, and returns why it ended. [`Server::run`](super::Server::run) uses
/// this for every accepted TCP connection.
///
/// When it ends, for any reason, every publication still open on it gets
/// [`MediaSink::on_end`] with [`PublishEnd::ConnectionLost`], its play feeds
/// are dropped, what is queued is written (within
/// [`ServerConfig::close_timeout`]), [`Handler::on_close`] is called and one
/// log line says who it was, what it did and why it closed.
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
    let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("rtmp", conn = id, %peer);
    span.in_scope(|| tracing::debug!("connection accepted"));
    let mut driver = Driver::new(id, io, peer, config, handler, shutdown, span.clone());
    let close = driver.run().await;
    // (By reference: a `self` moved into `finish` would be a second copy of
    // the driver in this task's future.)
    driver.finish(close).instrument(span).await
}

/// Why a connection ended.
#[derive(Debug)]
enum Close {
    /// The peer closed its side (EOF).
    PeerClosed,
    /// The transport failed.
    Io(io::Error),
    /// A deadline passed.
    Timeout(TimeoutPhase),
    /// The peer broke the protocol.
    Protocol(SessionError),
    /// A session call failed (a bug here, not the peer's fault).
    Usage(UsageError),
    /// The handler refused the connect.
    ConnectRejected(String),
    /// The client sent the `close` command.
    ClientClosed,
    /// A play feed asked to disconnect the player.
    Feed(String),
    /// A publisher sent no media for `publisher_idle_timeout`.
    PublisherIdle(Duration),
    /// The server is stopping.
    Shutdown,
    /// The server's drain reached its deadline with this connection open.
    DrainDeadline,
    /// The session closed itself.
    SessionClosed,
}

impl Close {
    /// Whether the peer did something wrong (logged as a warning).
    fn is_peer_fault(&self) -> bool {
        matches!(self, Close::Protocol(_))
    }
}

impl fmt::Display for Close {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Close::PeerClosed => f.write_str("closed by the peer"),
            Close::Io(error) => write!(f, "I/O error: {error}"),
            Close::Timeout(TimeoutPhase::Read) => f.write_str("idle timeout (nothing received)"),
            Close::Timeout(TimeoutPhase::Write) => {
                f.write_str("write timeout (the peer does not read)")
            }
            Close::Timeout(phase) => write!(f, "{phase} timed out"),
            Close::Protocol(error) => write!(f, "protocol error: {error}"),
            Close::Usage(error) => write!(f, "internal error: {error}"),
            Close::ConnectRejected(description) => write!(f, "connect rejected: {description}"),
            Close::ClientClosed => f.write_str("the client sent close"),
            Close::Feed(reason) => write!(f, "closed by the play feed: {reason}"),
            Close::PublisherIdle(after) => {
                write!(f, "publisher idle: no media for {} s", after.as_secs())
            }
            Close::Shutdown => f.write_str("server shutdown"),
            Close::DrainDeadline => f.write_str("drain deadline"),
            Close::SessionClosed => f.write_str("session closed"),
        }
    }
}

/// A wait long enough to mean never (a century).
const NEVER: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `start + duration`, saturating far in the future instead of overflowing
/// (a timeout of `Duration::MAX` means never).
pub(super) fn after(start: Instant, duration: Duration) -> Instant {
    start.checked_add(duration).unwrap_or_else(|| start + NEVER)
}

/// Milliseconds since `started`, wrapping at 32 bits (a session's clock).
fn now_ms(started: Instant) -> u32 {
    started.elapsed().as_millis() as u32
}

/// The stream names a connection published or played, for its close line:
/// the first [`StreamNames::KEPT`] distinct ones, then a count (a client
/// that publishes again and again cannot grow it without bound).
#[derive(Debug, Default)]
struct StreamNames {
    names: Vec<String>,
    more: usize,
}

impl StreamNames {
    const KEPT: usize = 8;

    fn add(&mut self, name: &str) {
        if self.names.iter().any(|n| n == name) {
            return;
        }
        if self.names.len() < Self::KEPT {
            self.names.push(name.to_owned());
        } else {
            self.more += 1;
        }
    }
}

impl fmt::Display for StreamNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names.join(","))?;
        if self.more > 0 {
            write!(f, " (+{} more)", self.more)?;
        }
        Ok(())
    }
}

/// The state of one connection.
struct Driver<H, S> {
    id: u64,
    peer: SocketAddr,
    /// The connection's span (`rtmp{conn, peer}`), entered around the work
    /// that may log (requests, decisions, timers, the server's state, the
    /// end of a feed), not for every frame: entering a span costs more than
    /// the rest of a player's turn for a frame.
    span: tracing::Span,
    config: Arc<ServerConfig>,
    handler: Arc<H>,
    started: Instant,
    session: ServerSession,

    // ---- the application side (see `dispatch`) ----
    /// Set when the client sent connect.
    info: Option<ConnectionInfo>,
    /// Publications, by message stream id.
    sinks: Vec<(u32, Box<dyn MediaSink>)>,
    /// Plays, by message stream id.
    feeds: Vec<(u32, Box<dyn PlayFeed>)>,
    /// What each playing stream asked not to receive (receiveAudio,
    /// receiveVideo, pause).
    filters: Vec<(u32, PlayFilter)>,
    /// Which feed is polled first next time (round robin).
    next_feed: usize,
    /// The handler decision in progress (the session holds at most one
    /// request at a time).
    decision: Option<DecisionFuture>,
    /// Stream names published and played, for the close line.
    published: StreamNames,
    played: StreamNames,
    /// A reason to close found in the input, acted upon once the events
    /// decoded before it are handled.
    close_after_events: Option<Close>,

    // ---- I/O ----
    /// The transport, read and written from this one task (never split:
    /// a split stream takes a lock on every read and write).
    io: S,
    out: OutputQueue,
    /// Merged writes while playing (`write_merge`; off by default).
    merge: WriteMerge,
    /// Output queued past which reading pauses.
    read_pause: usize,
    bytes_read: u64,
    pub(super) last_read: Instant,
    /// When the last audio or video arrived (or publishing started), for
    /// `publisher_idle_timeout` while the connection publishes.
    pub(super) last_media: Instant,

    // ---- time ----
    timer: Pin<Box<Sleep>>,
    /// When `timer` fires.
    armed: Instant,
    /// When the next ping is due (`None`: pings are off).
    next_ping: Option<Instant>,
    /// The timer was polled since it was last reset, so its waker is
    /// registered: it needs polling again only once it has elapsed.
    timer_registered: bool,
    /// A deadline may have come earlier (a request was handled: publishing
    /// started, ...): the timer is checked in this turn. Reads, writes and
    /// media only move deadlines later, and a write stall says so itself
    /// ([`OutputQueue::take_stall_started`]), so a busy turn computes no
    /// deadline.
    rearm: bool,
    /// The state watch was polled and is waiting: it needs polling again
    /// only once the state changed.
    state_registered: bool,

    // ---- the server ----
    /// Keeps the state's sender alive, so the state watch never fails; the
    /// drain counters.
    shutdown: ShutdownHandle,
    /// Counts this client among the connected ones (set once connect is
    /// accepted).
    registration: Option<Registration>,
    /// What the drain did here: `None` before it reached this connection,
    /// then whether the client was asked to move (Go Away or Reconnect
    /// Request) or announced neither.
    drain_asked: Option<bool>,
    state: watch::Receiver<ServerState>,
    /// Completes when the state changes. Owned (it waits on a clone of
    /// `state`) and kept across loop turns, so the turns of a busy player do
    /// not register with the watch that every connection shares.
    state_changed: StateChanged,
}

/// The sources found pending in the current turn of
/// [`Driver::poll_run`] (their wakers are registered).
#[derive(Default)]
struct Pending {
    feeds: bool,
    write: bool,
    read: bool,
    decision: bool,
}

/// A wait for the server's state to change.
type StateChanged = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Waits for a change past what `state` has seen.
fn state_changed(state: &watch::Receiver<ServerState>) -> StateChanged {
    let mut state = state.clone();
    Box::pin(async move {
        if state.changed().await.is_err() {
            // No sender left: the state can never change again.
            std::future::pending::<()>().await;
        }
    })
}

impl<H, S> Driver<H, S>
where
    H: Handler,
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    fn new(
        id: u64,
        io: S,
        peer: SocketAddr,
        config: Arc<ServerConfig>,
        handler: Arc<H>,
        shutdown: ShutdownHandle,
        span: tracing::Span,
    ) -> Self {
        let started = Instant::now();
        let state = shutdown.subscribe();
        let next_ping =
            (!config.ping_interval.is_zero()).then(|| after(started, config.ping_interval));
        let first_deadline = after(started, config.handshake_timeout.min(config.idle_timeout));
        let read_pause = config
            .max_output_buffer
            .saturating_add(config.session.session.limits.chunk.max_message_size as usize)
            .saturating_add(CONTROL_SLACK);
        Driver {
            id,
            peer,
            span,
            session: ServerSession::new(config.session.clone()),
            handler,
            started,
            info: None,
            sinks: Vec::new(),
            feeds: Vec::new(),
            filters: Vec::new(),
            next_feed: 0,
            decision: None,
            published: StreamNames::default(),
            played: StreamNames::default(),
            close_after_events: None,
            io,
            out: OutputQueue::new(),
            merge: WriteMerge::new(config.write_merge, config.max_output_buffer / 2),
            read_pause,
            bytes_read: 0,
            last_read: started,
            last_media: started,
            timer: Box::pin(tokio::time::sleep_until(first_deadline)),
            armed: first_deadline,
            next_ping,
            timer_registered: false,
            rearm: true,
            state_registered: false,
            state_changed: state_changed(&state),
            state,
            shutdown,
            registration: None,
            drain_asked: None,
            config,
        }
    }

    /// The session's clock: milliseconds since the connection started,
    /// wrapping at 32 bits.
    fn now_ms(&self) -> u32 {
        now_ms(self.started)
    }

    /// Runs the connection until something ends it.
    async fn run(&mut self) -> Close {
        if let Some(close) = self.check_state() {
            return close;
        }
        poll_fn(|cx| self.poll_run(cx)).await
    }

    /// One wake-up of the connection: everything that is ready is handled,
    /// each source polled until it is pending (its waker is then
    /// registered, so it is not polled again in this turn unless new input
    /// may have changed it). A player woken for a frame takes every ready
    /// item of its feeds, queues them and writes them with one vectored
    /// write, all in one turn. The transport's reads and writes draw on
    /// tokio's cooperative budget, so a busy connection yields in time.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Close> {
        let mut pending = Pending::default();
        loop {
            match self.process_events() {
                Err(close) => return Poll::Ready(close),
                // New requests may have added feeds or changed what is
                // polled: everything is looked at again.
                Ok(true) => {
                    pending = Pending::default();
                    self.rearm = true;
                }
                Ok(false) => {}
            }
            // Feeds first, while the output has room (a bound of 0 still
            // lets one message through at a time).
            if !pending.feeds && !self.merge_waiting() {
                while !self.feeds.is_empty() && self.queued() < self.config.max_output_buffer.max(1)
                {
                    match poll_feeds(&mut self.feeds, &mut self.next_feed, cx) {
                        Poll::Ready((stream_id, item)) => {
                            if let Some(close) = self.on_feed_item(stream_id, item) {
                                return Poll::Ready(close);
                            }
                            if self.open_merge_window() {
                                break;
                            }
                        }
                        Poll::Pending => {
                            pending.feeds = true;
                            break;
                        }
                    }
                }
            }
            self.collect_output();
            if std::mem::take(&mut self.rearm) {
                self.arm_timer();
            }
            let mut progressed = false;
            if !pending.write && self.out.wants_write() && !self.merge_waiting() {
                match self.out.poll_write(&mut self.io, cx) {
                    Poll::Ready(Ok(_)) => {
                        progressed = true;
                        if !self.out.wants_write() {
                            self.merge.close();
                        }
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Close::Io(error)),
                    Poll::Pending => pending.write = true,
                }
                if self.out.take_stall_started() {
                    // A write deadline now, maybe before the others.
                    self.arm_timer();
                }
            }
            if progressed {
                // Room for more of the feeds, or more to write.
                continue;
            }
            if !pending.read && self.queued() < self.read_pause {
                let (read_size, started) = (self.config.read_buffer_size, self.started);
                let session = &mut self.session;
                let read = poll_read_scratch(&mut self.io, read_size, cx, |input| {
                    session.handle_input(input, now_ms(started)).err()
                });
                match read {
                    Poll::Ready(Ok((0, _))) => return Poll::Ready(Close::PeerClosed),
                    Poll::Ready(Ok((n, error))) => {
                        self.on_input(n, error.flatten());
                        continue;
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Close::Io(error)),
                    Poll::Pending => pending.read = true,
                }
            }
            if !pending.decision && self.decision.is_some() {
                let span = self.span.clone();
                let _entered = span.enter();
                match poll_decision(&mut self.decision, cx) {
                    Poll::Ready(decision) => {
                        if let Some(close) = self.on_decision(decision) {
                            return Poll::Ready(close);
                        }
                        pending = Pending::default();
                        self.rearm = true;
                        continue;
                    }
                    Poll::Pending => pending.decision = true,
                }
            }
            if (!self.timer_registered || self.timer.is_elapsed())
                && self.timer.as_mut().poll(cx).is_ready()
            {
                let span = self.span.clone();
                let close = span.in_scope(|| self.on_timer());
                if let Some(close) = close {
                    return Poll::Ready(close);
                }
                continue;
            }
            self.timer_registered = true;
            if !self.state_registered || self.state.has_changed().unwrap_or(false) {
                if self.state_changed.as_mut().poll(cx).is_ready() {
                    if let Some(close) = self.check_state() {
                        return Poll::Ready(close);
                    }
                    self.state_changed = state_changed(&self.state);
                    self.state_registered = false;
                    self.rearm = true;
                    continue;
                }
                self.state_registered = true;
            }
            return Poll::Pending;
        }
    }

    /// Output queued, here and in the session.
    fn queued(&self) -> usize {
        self.out.len() + self.session.pending_output()
    }

    /// Merged writes: whether an open window holds the output (and the
    /// feeds) now. A connection that stopped playing holds nothing.
    fn merge_waiting(&mut self) -> bool {
        if !self.merge.enabled() {
            return false;
        }
        if self.feeds.is_empty() {
            self.merge.close();
            return false;
        }
        self.merge.waiting(Instant::now(), self.queued())
    }

    /// Merged writes: opens a window for a frame just queued on an empty
    /// queue, with the timer at its end; true if one opened.
    fn open_merge_window(&mut self) -> bool {
        if !self.merge.enabled() {
            return false;
        }
        match self.merge.open(Instant::now(), self.queued()) {
            Some(until) => {
                if until < self.armed {
                    self.set_timer(until);
                }
                true
            }
            None => false,
        }
    }

    /// Reacts to the server's state (and marks it seen, so that the next
    /// `state_changed` waits for a newer one).
    fn check_state(&mut self) -> Option<Close> {
        let span = self.span.clone();
        let _entered = span.enter();
        let state = *self.state.borrow_and_update();
        match state {
            ServerState::Running => None,
            ServerState::Draining => {
                // A client still in its handshake or connect is asked once
                // its connect is accepted.
                if self.registration.is_some() {
                    self.ask_to_move();
                }
                None
            }
            ServerState::Closing(Stop::Shutdown) => Some(Close::Shutdown),
            ServerState::Closing(Stop::DrainDeadline) => Some(Close::DrainDeadline),
        }
    }

    /// Bookkeeping after `n` bytes were read and fed to the session.
    fn on_input(&mut self, n: usize, error: Option<SessionError>) {
        self.last_read = Instant::now();
        self.bytes_read += n as u64;
        if let Some(error) = error {
            self.close_after_events = Some(Close::Protocol(error));
        }
    }

    /// Handles the session's events (up to a request, which waits for the
    /// handler's decision); whether there were any.
    fn process_events(&mut self) -> Result<bool, Close> {
        let mut handled = false;
        if self.decision.is_none()
            && let Some(first) = self.session.poll_event()
        {
            let span = self.span.clone();
            let _entered = span.enter();
            let mut next = Some(first);
            while let Some(event) = next {
                handled = true;
                if let Some(close) = self.on_event(event) {
                    return Err(close);
                }
                next = match self.decision {
                    None => self.session.poll_event(),
                    Some(_) => None,
                };
            }
        }
        if let Some(close) = self.close_after_events.take() {
            return Err(close);
        }
        if self.session.is_closed() {
            return Err(Close::SessionClosed);
        }
        Ok(handled)
    }

    /// Moves what the session has to send into the write queue.
    fn collect_output(&mut self) {
        while let Some(bytes) = self.session.poll_transmit() {
            self.out.push(bytes);
        }
    }

    /// The earliest deadline: handshake (until connected), write (while
    /// output makes no progress), idle.
    fn next_deadline(&self) -> Instant {
        let mut deadline = after(self.last_read, self.config.idle_timeout);
        if !self.session.is_connected() {
            deadline = deadline.min(after(self.started, self.config.handshake_timeout));
        }
        if let Some(since) = self.out.stalled_since() {
            deadline = deadline.min(after(since, self.config.write_timeout));
        }
        if !self.sinks.is_empty() {
            deadline = deadline.min(after(self.last_media, self.config.publisher_idle_timeout));
        }
        if let Some(ping) = self.next_ping {
            deadline = deadline.min(ping);
        }
        deadline
    }

    /// Moves the timer earlier when a deadline came earlier (a later one is
    /// found when the timer fires).
    fn arm_timer(&mut self) {
        let next = self.next_deadline();
        if next < self.armed {
            self.set_timer(next);
        }
    }

    /// Moves the timer to `deadline` (it is polled again, to register).
    fn set_timer(&mut self, deadline: Instant) {
        self.armed = deadline;
        self.timer.as_mut().reset(deadline);
        self.timer_registered = false;
    }

    /// The timer fired: close on a passed deadline, or re-arm.
    fn on_timer(&mut self) -> Option<Close> {
        let now = Instant::now();
        if !self.session.is_connected() && now >= after(self.started, self.config.handshake_timeout)
        {
            return Some(Close::Timeout(TimeoutPhase::Handshake));
        }
        if let Some(since) = self.out.stalled_since()
            && now >= after(since, self.config.write_timeout)
        {
            return Some(Close::Timeout(TimeoutPhase::Write));
        }
        if now >= after(self.last_read, self.config.idle_timeout) {
            return Some(Close::Timeout(TimeoutPhase::Read));
        }
        if !self.sinks.is_empty()
            && now >= after(self.last_media, self.config.publisher_idle_timeout)
        {
            return Some(Close::PublisherIdle(self.config.publisher_idle_timeout));
        }
        if let Some(ping) = self.next_ping
            && now >= ping
        {
            if self.session.is_connected() {
                let ms = self.now_ms();
                self.session.send_ping(ms);
            }
            // The next one a full period from now (a late ping does not
            // bring the following ones forward).
            self.next_ping = Some(after(now, self.config.ping_interval));
        }
        let mut next = self.next_deadline();
        if let Some(until) = self.merge.deadline_after(now) {
            next = next.min(until);
        }
        self.set_timer(next);
        None
    }

    /// Ends the connection: publications end, feeds go, what is queued is
    /// written (bounded by `close_timeout`), the handler and the log hear of
    /// it.
    async fn finish(&mut self, close: Close) -> CloseSummary {
        let reason = close.to_string();
        self.decision = None;
        self.registration = None;
        for (_, sink) in self.sinks.drain(..) {
            sink.on_end(PublishEnd::ConnectionLost(reason.clone()));
        }
        self.feeds.clear();
        self.filters.clear();
        // A failed transport takes nothing more, and neither does a peer
        // that stopped reading.
        if !matches!(close, Close::Io(_) | Close::Timeout(TimeoutPhase::Write)) {
            self.session.close();
            self.collect_output();
            let linger = !matches!(close, Close::PeerClosed);
            let deadline = after(Instant::now(), self.config.close_timeout);
            let closed = tokio::time::timeout_at(deadline, self.write_and_close(linger)).await;
            if let Ok(Err(error)) = closed {
                tracing::debug!(%error, "error while closing");
            }
        }
        let summary = CloseSummary {
            bytes_received: self.bytes_read,
            bytes_sent: self.out.written(),
            reason,
        };
        self.log_close(&close, &summary);
        self.handler.on_close(self.info.as_ref(), &summary);
        summary
    }

    /// Writes what is queued, closes the write side and, when the peer may
    /// still be sending, reads (and drops) until it closes too: closing a
    /// socket with unread input makes the kernel send a reset, which can
    /// destroy the last replies (a connect `_error`) before the peer reads
    /// them.
    async fn write_and_close(&mut self, linger: bool) -> io::Result<()> {
        self.out.write_all(&mut self.io).await?;
        self.io.shutdown().await?;
        if linger {
            let size = self.config.read_buffer_size;
            while poll_fn(|cx| poll_read_scratch(&mut self.io, size, cx, |_| ()))
                .await?
                .0
                > 0
            {}
        }
        Ok(())
    }

    /// The one line that says who the connection was, what it did and why
    /// it closed.
    fn log_close(&self, close: &Close, summary: &CloseSummary) {
        let app = self.info.as_ref().map_or("-", |info| info.app());
        let (published, played) = (&self.published, &self.played);
        let duration_ms = self.started.elapsed().as_millis() as u64;
        let (bytes_in, bytes_out, reason) =
            (summary.bytes_received, summary.bytes_sent, &summary.reason);
        if close.is_peer_fault() {
            warn!(peer = %self.peer, app, %published, %played, bytes_in, bytes_out, duration_ms,
                %reason, "connection closed");
        } else {
            info!(peer = %self.peer, app, %published, %played, bytes_in, bytes_out, duration_ms,
                %reason, "connection closed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_read_well() {
        assert_eq!(
            Close::Timeout(TimeoutPhase::Handshake).to_string(),
            "handshake timed out"
        );
        assert_eq!(
            Close::Timeout(TimeoutPhase::Write).to_string(),
            "write timeout (the peer does not read)"
        );
        assert_eq!(
            Close::ConnectRejected("no".into()).to_string(),
            "connect rejected: no"
        );
        assert!(Close::Protocol(SessionError::InputOverflow { limit: 1 }).is_peer_fault());
        assert!(!Close::PeerClosed.is_peer_fault());
    }

    #[test]
    fn stream_names_are_distinct_and_bounded() {
        let mut names = StreamNames::default();
        assert_eq!(names.to_string(), "");
        names.add("a");
        names.add("a");
        names.add("b");
        assert_eq!(names.to_string(), "a,b");
        for i in 0..20 {
            names.add(&format!("s{i}"));
        }
        assert_eq!(names.names.len(), StreamNames::KEPT);
        assert!(names.to_string().ends_with(",s5 (+14 more)"), "{names}");
    }

    #[test]
    fn deadlines_saturate() {
        let now = Instant::now();
        assert!(after(now, Duration::MAX) > after(now, Duration::from_secs(86_400 * 365)));
        assert_eq!(
            after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
