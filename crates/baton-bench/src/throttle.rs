//! A transport that reads at most a given rate (token bucket on the bytes
//! read, sleeping when it is empty): the slow players.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::units::Bitrate;

/// A TCP stream whose reads are limited to a rate.
#[derive(Debug)]
pub(crate) struct Throttled {
    inner: TcpStream,
    /// Bytes per second.
    rate: f64,
    /// Most tokens kept (a tenth of a second, at least 4 KiB).
    burst: f64,
    tokens: f64,
    refilled: Instant,
    wait: Pin<Box<Sleep>>,
    waiting: bool,
}

impl Throttled {
    /// Wraps `inner`, reading at most `rate`.
    pub(crate) fn new(inner: TcpStream, rate: Bitrate) -> Throttled {
        let rate = rate.bytes_per_sec();
        let burst = (rate / 10.0).max(4096.0);
        let now = Instant::now();
        Throttled {
            inner,
            rate,
            burst,
            tokens: burst,
            refilled: now,
            wait: Box::pin(sleep_until(now)),
            waiting: false,
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refilled = now;
    }
}

impl AsyncRead for Throttled {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.waiting {
            ready!(this.wait.as_mut().poll(cx));
            this.waiting = false;
        }
        this.refill();
        if this.tokens < 1.0 {
            // Sleep until a read's worth (1 KiB at least) is back.
            let need = (1024.0f64).min(this.burst) - this.tokens;
            let at = Instant::now() + Duration::from_secs_f64(need / this.rate);
            this.wait.as_mut().reset(at);
            this.waiting = true;
            ready!(this.wait.as_mut().poll(cx));
            this.waiting = false;
            this.refill();
        }
        let allowed = (this.tokens as usize).clamp(1, buf.remaining());
        // A read into the first `allowed` unfilled bytes (initialized, so
        // that the outer buffer can be advanced without unsafe code).
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(allowed));
        ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
        let n = limited.filled().len();
        buf.advance(n);
        this.tokens -= n as f64;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Throttled {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn reads_at_the_rate() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            tcp.write_all(&[7u8; 100_000]).await.unwrap();
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        // 250 KB/s with a 25 KB burst: 100 KB take at least 0.3 s.
        let mut slow = Throttled::new(tcp, Bitrate::from_bps(2_000_000));
        let start = Instant::now();
        let mut buf = vec![0; 100_000];
        slow.read_exact(&mut buf).await.unwrap();
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(280), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert!(buf.iter().all(|&b| b == 7));
        writer.await.unwrap();
    }
}
