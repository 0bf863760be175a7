//! The write side of a connection: a queue of [`Bytes`] (what the session's
//! `poll_transmit` gave, media chunks shared with other players included)
//! written with vectored writes of up to [`MAX_SLICES`] buffers, partial
//! writes kept in place, nothing copied.
//!
//! The queue also keeps what the write timeout needs: since when queued
//! output has been waiting without any write progress.
//!
//! The read side reads into one scratch buffer per thread
//! ([`poll_read_scratch`]) and hands the bytes to the session before the
//! poll returns: a connection holds no read buffer of its own, so thousands
//! of idle or playing connections cost no read memory.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Most buffers handed to one `write_vectored` call (Linux takes up to 1024;
/// 64 already covers a GOP's worth of frames on a fast socket).
pub(crate) const MAX_SLICES: usize = 64;

thread_local! {
    /// The read buffer of every connection polled on this thread (grown to
    /// the largest `size` asked for).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One read of up to `size` bytes into this thread's scratch buffer; the
/// bytes read go to `consume` before the poll returns. Ready with the
/// number of bytes read and what `consume` returned (`(0, None)` at the end
/// of the stream, where `consume` is not called).
pub(crate) fn poll_read_scratch<R, T>(
    reader: &mut R,
    size: usize,
    cx: &mut Context<'_>,
    consume: impl FnOnce(&[u8]) -> T,
) -> Poll<io::Result<(usize, Option<T>)>>
where
    R: AsyncRead + Unpin,
{
    let size = size.max(1);
    SCRATCH.with(|scratch| {
        // `consume` cannot reach this function again, but stay correct (a
        // buffer of its own) rather than panic if it ever did.
        let mut own = Vec::new();
        let mut shared = scratch.try_borrow_mut();
        let buf = match shared.as_deref_mut() {
            Ok(buf) => buf,
            Err(_) => &mut own,
        };
        if buf.len() < size {
            buf.resize(size, 0);
        }
        let mut read = ReadBuf::new(&mut buf[..size]);
        ready!(Pin::new(reader).poll_read(cx, &mut read))?;
        let input = read.filled();
        if input.is_empty() {
            return Poll::Ready(Ok((0, None)));
        }
        Poll::Ready(Ok((input.len(), Some(consume(input)))))
    })
}

/// Bytes waiting to be written, in order.
#[derive(Debug)]
pub(crate) struct OutputQueue {
    bufs: VecDeque<Bytes>,
    len: usize,
    written: u64,
    /// Set while output is queued that a write could not take at once: the
    /// last time a write made progress (or first found the socket full).
    /// Output written out in the turn that queued it never reads the clock.
    stalled_since: Option<Instant>,
    /// `stalled_since` went from `None` to `Some` since
    /// [`OutputQueue::take_stall_started`] was last called.
    stall_started: bool,
    /// Everything was written but the transport was not flushed yet (TLS
    /// streams buffer inside; TCP flushes at once).
    needs_flush: bool,
}

impl OutputQueue {
    pub(crate) fn new() -> Self {
        OutputQueue {
            bufs: VecDeque::new(),
            len: 0,
            written: 0,
            stalled_since: None,
            stall_started: false,
            needs_flush: false,
        }
    }

    /// Bytes queued.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes written to the transport so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Since when queued output has made no progress (`None` when nothing
    /// is queued, or what is queued was not tried yet).
    pub(crate) fn stalled_since(&self) -> Option<Instant> {
        self.stalled_since
    }

    /// Whether a stall started since the last call (a write deadline that
    /// may come before the others).
    pub(crate) fn take_stall_started(&mut self) -> bool {
        std::mem::take(&mut self.stall_started)
    }

    fn mark_stalled(&mut self, now: Instant) {
        if self.stalled_since.is_none() {
            self.stall_started = true;
        }
        self.stalled_since = Some(now);
    }

    /// Whether [`OutputQueue::poll_write`] has something to do.
    pub(crate) fn wants_write(&self) -> bool {
        !self.bufs.is_empty() || self.needs_flush
    }

    /// Queues bytes (empty ones are skipped).
    pub(crate) fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.len += bytes.len();
        self.bufs.push_back(bytes);
    }

    /// One vectored write of the front of the queue (then a flush once the
    /// queue is empty). Ready with the number of bytes written (0 for a
    /// flush alone); a transport that accepts nothing is an error.
    pub(crate) fn poll_write<W>(
        &mut self,
        writer: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>>
    where
        W: AsyncWrite + Unpin,
    {
        if self.bufs.is_empty() {
            if self.needs_flush {
                ready!(Pin::new(writer).poll_flush(cx))?;
                self.needs_flush = false;
            }
            return Poll::Ready(Ok(0));
        }
        let written = if self.bufs.len() == 1 {
            // The common case of a player that keeps up: one message.
            Pin::new(&mut *writer).poll_write(cx, &self.bufs[0])
        } else {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut count = 0;
            for (slot, buf) in slices.iter_mut().zip(&self.bufs) {
                *slot = IoSlice::new(buf);
                count += 1;
            }
            Pin::new(&mut *writer).poll_write_vectored(cx, &slices[..count])
        };
        let n = match written {
            Poll::Ready(result) => result?,
            Poll::Pending => {
                if self.stalled_since.is_none() {
                    self.mark_stalled(Instant::now());
                }
                return Poll::Pending;
            }
        };
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        self.advance(n);
        if self.bufs.is_empty() {
            self.needs_flush = true;
            if let Poll::Ready(result) = Pin::new(writer).poll_flush(cx) {
                result?;
                self.needs_flush = false;
            }
        }
        Poll::Ready(Ok(n))
    }

    /// Writes and flushes everything queued.
    pub(crate) async fn write_all<W>(&mut self, writer: &mut W) -> io::Result<()>
    where
        W: AsyncWrite + Unpin,
    {
        while self.wants_write() {
            poll_fn(|cx| self.poll_write(writer, cx)).await?;
        }
        Ok(())
    }

    /// Drops `n` written bytes from the front (a partly written buffer keeps
    /// its tail, without a copy).
    fn advance(&mut self, mut n: usize) {
        self.written += n as u64;
        self.len -= n.min(self.len);
        while n > 0 {
            let Some(front) = self.bufs.front_mut() else {
                break;
            };
            if n < front.len() {
                front.advance(n);
                break;
            }
            n -= front.len();
            self.bufs.pop_front();
        }
        if self.bufs.is_empty() {
            self.stalled_since = None;
        } else {
            self.mark_stalled(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transport that takes at most `max` bytes per call, and is not
    /// ready every other call.
    struct Trickle {
        out: Vec<u8>,
        max: usize,
        calls: usize,
        most_slices: usize,
        flushes: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[IoSlice::new(buf)])
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.calls += 1;
            if self.calls % 2 == 0 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.most_slices = self.most_slices.max(bufs.len());
            let mut room = self.max;
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(room);
                self.out.extend_from_slice(&buf[..take]);
                room -= take;
                n += take;
                if room == 0 {
                    break;
                }
            }
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn partial_vectored_writes_keep_order_and_bytes() {
        let mut queue = OutputQueue::new();
        let mut expected = Vec::new();
        for i in 0..200u32 {
            let len = (i as usize * 37) % 300 + 1;
            let bytes: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
            expected.extend_from_slice(&bytes);
            queue.push(Bytes::from(bytes));
        }
        queue.push(Bytes::new());
        assert_eq!(queue.len(), expected.len());
        assert_eq!(queue.stalled_since(), None, "nothing tried yet");
        let mut writer = Trickle {
            out: Vec::new(),
            max: 1000,
            calls: 0,
            most_slices: 0,
            flushes: 0,
        };
        // A partial write: the rest waits, so a stall starts (once).
        assert_eq!(
            poll_fn(|cx| queue.poll_write(&mut writer, cx))
                .await
                .unwrap(),
            1000
        );
        assert!(queue.stalled_since().is_some());
        assert!(queue.take_stall_started());
        assert!(!queue.take_stall_started());
        queue.write_all(&mut writer).await.unwrap();
        assert_eq!(writer.out, expected);
        assert_eq!(queue.written(), expected.len() as u64);
        assert_eq!(queue.len(), 0);
        assert!(queue.bufs.is_empty() && !queue.wants_write());
        assert_eq!(queue.stalled_since(), None);
        assert_eq!(writer.most_slices, MAX_SLICES);
        assert_eq!(writer.flushes, 1);
    }

    #[tokio::test]
    async fn shared_bytes_are_not_copied() {
        let shared = Bytes::from(vec![9u8; 4096]);
        let mut queue = OutputQueue::new();
        queue.push(shared.clone());
        let front = queue.bufs.front().unwrap();
        assert_eq!(front.as_ptr(), shared.as_ptr());
        let mut writer = Trickle {
            out: Vec::new(),
            max: 100,
            calls: 0,
            most_slices: 0,
            flushes: 0,
        };
        poll_fn(|cx| queue.poll_write(&mut writer, cx))
            .await
            .unwrap();
        assert_eq!(queue.len(), 4096 - 100);
        let front = queue.bufs.front().unwrap();
        assert_eq!(
            front.as_ptr(),
            shared[100..].as_ptr(),
            "the tail is the same memory"
        );
    }

    #[tokio::test]
    async fn scratch_reads_hand_every_byte_over_then_eof() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = &data[..];
        let mut got = Vec::new();
        loop {
            let (n, seen) = poll_fn(|cx| {
                poll_read_scratch(&mut reader, 4096, cx, |input| {
                    got.extend_from_slice(input);
                    input.len()
                })
            })
            .await
            .unwrap();
            if n == 0 {
                assert_eq!(seen, None, "consume is not called at the end");
                break;
            }
            assert!(n <= 4096);
            assert_eq!(seen, Some(n));
        }
        assert_eq!(got, data);
    }

    #[tokio::test]
    async fn a_transport_that_takes_nothing_is_an_error() {
        struct Zero;
        impl AsyncWrite for Zero {
            fn poll_write(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                _: &[u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(Ok(0))
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
        let mut queue = OutputQueue::new();
        queue.push(Bytes::from_static(b"abc"));
        let err = queue.write_all(&mut Zero).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!(queue.len(), 3);
    }
}
