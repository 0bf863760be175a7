//! Drives a [`ClientSession`] over a transport: reads feed
//! `handle_input`, `poll_transmit` output is written with vectored writes,
//! and every wait on the peer has a deadline. The publisher, the player and
//! the connection steps build their loops from these pieces.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, sleep};

use baton_proto::session::{ClientEvent, ClientSession, ConnectionStats};

use super::output::{MAX_IOVECS, OutputQueue};
use crate::{RtmpError, TimeoutPhase};

/// Most socket reads in one poll before output gets its turn (a peer that
/// floods cannot starve the writes; the task is woken to read on).
pub(crate) const MAX_READS_PER_POLL: usize = 16;

/// A session, its transport and the output taken from the session.
pub(crate) struct Driver<S> {
    io: S,
    pub(crate) session: ClientSession,
    out: OutputQueue,
    /// Bytes written since the last successful `poll_flush`.
    unflushed: bool,
    /// Most bytes one read takes.
    read_size: usize,
    started: Instant,
    eof: bool,
    handshake_done: bool,
    /// `host:port` of the server, for logs.
    pub(crate) peer: String,
}

impl<S> std::fmt::Debug for Driver<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("peer", &self.peer)
            .field("queued", &(self.out.len() + self.session.pending_output()))
            .field("eof", &self.eof)
            .field("stats", &self.session.stats())
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    pub(crate) fn new(
        io: S,
        session: ClientSession,
        read_buffer_size: usize,
        peer: String,
    ) -> Self {
        Driver {
            io,
            session,
            out: OutputQueue::default(),
            unflushed: false,
            read_size: read_buffer_size.max(1),
            started: Instant::now(),
            eof: false,
            handshake_done: false,
            peer,
        }
    }

    /// The session's millisecond clock (time since the driver started).
    fn now_ms(&self) -> u32 {
        self.started.elapsed().as_millis() as u32
    }

    /// Bytes queued for the peer, in the session and here.
    pub(crate) fn queued(&self) -> usize {
        self.out.len() + self.session.pending_output()
    }

    /// Whether the peer closed its side.
    pub(crate) fn is_eof(&self) -> bool {
        self.eof
    }

    /// Byte counters of the session.
    pub(crate) fn stats(&self) -> ConnectionStats {
        self.session.stats()
    }

    fn collect_output(&mut self) {
        while let Some(bytes) = self.session.poll_transmit() {
            self.out.push(bytes);
        }
    }

    /// One socket read, fed to the session. `Ok(0)` at end of stream.
    pub(crate) fn poll_read_input(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, RtmpError>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        // Straight into the session's input buffer: the bytes are not
        // copied again before they are decoded.
        let mut space = self.session.input_buffer(self.read_size);
        let n = ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut self.io),
            cx,
            &mut space
        ))?;
        if n == 0 {
            self.eof = true;
            return Poll::Ready(Ok(0));
        }
        let now = self.now_ms();
        self.session.handle_appended_input(n, now)?;
        Poll::Ready(Ok(n))
    }

    /// Writes queued output until at most `target` bytes remain and the
    /// socket would block, or everything is written and flushed. Sets
    /// `progressed` when bytes were written.
    pub(crate) fn poll_write_until(
        &mut self,
        cx: &mut Context<'_>,
        target: usize,
        progressed: &mut bool,
    ) -> Poll<Result<(), RtmpError>> {
        loop {
            self.collect_output();
            if self.out.is_empty() {
                if !self.unflushed {
                    return Poll::Ready(Ok(()));
                }
                // A transport that buffers (TLS) sends on flush.
                return match Pin::new(&mut self.io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => {
                        self.unflushed = false;
                        Poll::Ready(Ok(()))
                    }
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
                    Poll::Pending if target == 0 => Poll::Pending,
                    Poll::Pending => Poll::Ready(Ok(())),
                };
            }
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let n = self.out.io_slices(&mut slices);
            match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..n]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
                }
                Poll::Ready(Ok(written)) => {
                    self.out.advance(written);
                    self.unflushed = true;
                    *progressed = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending if self.queued() <= target => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Processes whatever input is readable now (events go to `on_event`)
    /// and writes until at most `target` bytes stay queued; waits only for
    /// that. A write that makes no progress for `write_timeout` fails with
    /// [`TimeoutPhase::Write`]. With `fail_on_eof`, the peer closing fails
    /// with [`RtmpError::Closed`].
    pub(crate) async fn drive(
        &mut self,
        target: usize,
        write_timeout: Duration,
        fail_on_eof: bool,
        on_event: &mut impl FnMut(ClientEvent),
    ) -> Result<(), RtmpError> {
        let mut stall = pin!(sleep(write_timeout));
        poll_fn(|cx| {
            while let Some(event) = self.session.poll_event() {
                on_event(event);
            }
            let mut more_input = false;
            for read in 0..=MAX_READS_PER_POLL {
                if read == MAX_READS_PER_POLL {
                    more_input = true;
                    break;
                }
                match self.poll_read_input(cx) {
                    Poll::Ready(Ok(0)) if fail_on_eof => {
                        return Poll::Ready(Err(RtmpError::Closed));
                    }
                    Poll::Ready(Ok(0)) => break,
                    Poll::Ready(Ok(_)) => {
                        while let Some(event) = self.session.poll_event() {
                            on_event(event);
                        }
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => break,
                }
            }
            let mut progressed = false;
            match self.poll_write_until(cx, target, &mut progressed) {
                Poll::Ready(result) => Poll::Ready(result),
                Poll::Pending => {
                    if progressed {
                        stall.as_mut().reset(Instant::now() + write_timeout);
                    }
                    if more_input {
                        cx.waker().wake_by_ref();
                    }
                    match stall.as_mut().poll(cx) {
                        Poll::Ready(()) => {
                            Poll::Ready(Err(RtmpError::Timeout(TimeoutPhase::Write)))
                        }
                        Poll::Pending => Poll::Pending,
                    }
                }
            }
        })
        .await
    }

    /// Writes what is queued and waits for the reply `on_event` recognises
    /// (it returns `Some` for it; the events after it stay in the session).
    /// Times out after `timeout` with [`TimeoutPhase::Handshake`] while the
    /// handshake is not done, [`TimeoutPhase::Reply`] after.
    pub(crate) async fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut on_event: impl FnMut(ClientEvent) -> Option<Result<T, RtmpError>>,
    ) -> Result<T, RtmpError> {
        let mut deadline = pin!(sleep(timeout));
        poll_fn(|cx| {
            let mut reads = 0;
            loop {
                while let Some(event) = self.session.poll_event() {
                    if let ClientEvent::HandshakeDone(_) = event {
                        self.handshake_done = true;
                        continue;
                    }
                    if let Some(result) = on_event(event) {
                        return Poll::Ready(result);
                    }
                }
                let mut progressed = false;
                if let Poll::Ready(Err(e)) = self.poll_write_until(cx, usize::MAX, &mut progressed)
                {
                    return Poll::Ready(Err(e));
                }
                if reads == MAX_READS_PER_POLL {
                    // A flood: let the deadline and other tasks run.
                    cx.waker().wake_by_ref();
                } else {
                    match self.poll_read_input(cx) {
                        Poll::Ready(Ok(0)) => return Poll::Ready(Err(RtmpError::Closed)),
                        Poll::Ready(Ok(_)) => {
                            reads += 1;
                            continue;
                        }
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => {}
                    }
                }
                if deadline.as_mut().poll(cx).is_ready() {
                    let phase = if self.handshake_done {
                        TimeoutPhase::Reply
                    } else {
                        TimeoutPhase::Handshake
                    };
                    return Poll::Ready(Err(RtmpError::Timeout(phase)));
                }
                return Poll::Pending;
            }
        })
        .await
    }

    /// Closes gracefully: writes everything queued (input read meanwhile is
    /// dropped, the peer closing is not an error), shuts the transport's
    /// write side, then reads and discards until the peer closes too, for
    /// at most `linger`. Closing a socket that holds unread input makes the
    /// kernel reset the connection instead of closing it, and the reset
    /// drops what the send buffer still held: the last media.
    pub(crate) async fn close(
        &mut self,
        write_timeout: Duration,
        linger: Duration,
    ) -> Result<(), RtmpError> {
        let peer = self.peer.clone();
        self.drive(0, write_timeout, false, &mut |event| {
            tracing::debug!(%peer, ?event, "event while closing, dropped");
        })
        .await?;
        // Nothing more is processed or answered.
        self.session.close();
        match tokio::time::timeout(write_timeout, self.io.shutdown()).await {
            Ok(result) => result?,
            Err(_) => return Err(RtmpError::Timeout(TimeoutPhase::Write)),
        }
        let until_eof = poll_fn(|cx| {
            for _ in 0..MAX_READS_PER_POLL {
                match ready!(self.poll_read_input(cx)) {
                    Ok(0) | Err(_) => return Poll::Ready(()),
                    Ok(_) => {}
                }
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        if tokio::time::timeout(linger, until_eof).await.is_err() {
            tracing::debug!(peer = %self.peer, "the server did not close in time");
        }
        Ok(())
    }
}
