//! Stopping on request: Ctrl-C (SIGINT) and, on Unix, SIGTERM.
//!
//! Once a handler is installed the default "die at once" behaviour is gone,
//! so every command waits on [`Shutdown`] wherever it waits on anything
//! else, and turns the request into a clean end (unpublish, close the FLV
//! file, drain or stop the server through its shutdown handle). A command
//! that reacts in two steps (`baton serve`: the first signal drains, the
//! second stops at once) waits for the next request with
//! [`Shutdown::again`].

use std::future::poll_fn;
use std::task::{Context, Poll};

use tracing::warn;

/// Polls for the next request: ready with the signal's name.
type PollRequest = Box<dyn FnMut(&mut Context<'_>) -> Poll<&'static str> + Send>;

/// Shutdown requests: the first can be waited on any number of times, and
/// later ones one by one.
pub(crate) struct Shutdown {
    poll: PollRequest,
    fired: Option<&'static str>,
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("fired", &self.fired)
            .finish_non_exhaustive()
    }
}

impl Shutdown {
    /// Fires on Ctrl-C or SIGTERM, each time one arrives. On Unix the
    /// handlers are installed now, so a signal that arrives before the
    /// first wait is not lost. Must be called inside the runtime.
    #[cfg(unix)]
    pub(crate) fn on_signals() -> Shutdown {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let install = |kind: SignalKind, name: &'static str| match signal(kind) {
            Ok(s) => Some((s, name)),
            Err(e) => {
                warn!("cannot watch for {name}: {e}");
                None
            }
        };
        let mut signals: Vec<(Signal, &'static str)> = [
            install(SignalKind::interrupt(), "Ctrl-C"),
            install(SignalKind::terminate(), "SIGTERM"),
        ]
        .into_iter()
        .flatten()
        .collect();
        Shutdown::from_poll(Box::new(move |cx| {
            for (signal, name) in &mut signals {
                // `None` (no more signals) never comes while the runtime runs.
                if let Poll::Ready(Some(())) = signal.poll_recv(cx) {
                    return Poll::Ready(*name);
                }
            }
            Poll::Pending
        }))
    }

    /// Fires on Ctrl-C, each time it is pressed.
    #[cfg(not(unix))]
    pub(crate) fn on_signals() -> Shutdown {
        type CtrlC =
            std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;
        let mut next: CtrlC = Box::pin(tokio::signal::ctrl_c());
        Shutdown::from_poll(Box::new(move |cx| match next.as_mut().poll(cx) {
            Poll::Ready(Ok(())) => {
                next = Box::pin(tokio::signal::ctrl_c());
                Poll::Ready("Ctrl-C")
            }
            Poll::Ready(Err(e)) => {
                warn!("cannot watch for Ctrl-C: {e}");
                next = Box::pin(std::future::pending());
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }))
    }

    /// Fires once, when `signal` completes, with its name for the logs.
    #[cfg(test)]
    pub(crate) fn from_future(
        signal: impl std::future::Future<Output = &'static str> + Send + 'static,
    ) -> Self {
        type Signal = std::pin::Pin<Box<dyn std::future::Future<Output = &'static str> + Send>>;
        let mut signal: Option<Signal> = Some(Box::pin(signal));
        Shutdown::from_poll(Box::new(move |cx| {
            let Some(future) = signal.as_mut() else {
                return Poll::Pending;
            };
            let name = std::task::ready!(future.as_mut().poll(cx));
            signal = None;
            Poll::Ready(name)
        }))
    }

    /// Fires once per name received (for tests of repeated signals).
    #[cfg(test)]
    pub(crate) fn from_channel(mut names: tokio::sync::mpsc::Receiver<&'static str>) -> Self {
        Shutdown::from_poll(Box::new(move |cx| match names.poll_recv(cx) {
            Poll::Ready(Some(name)) => Poll::Ready(name),
            // No sender left: no more requests.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }))
    }

    fn from_poll(poll: PollRequest) -> Self {
        Shutdown { poll, fired: None }
    }

    /// Never fires.
    #[cfg(test)]
    pub(crate) fn never() -> Self {
        Shutdown::from_future(std::future::pending())
    }

    /// Waits for the first request; returns at once if it already came.
    /// Cancel safe: dropping the wait loses nothing.
    pub(crate) async fn wait(&mut self) -> &'static str {
        if let Some(name) = self.fired {
            return name;
        }
        let name = poll_fn(|cx| (self.poll)(cx)).await;
        self.fired = Some(name);
        name
    }

    /// Waits for a request after the first (waits for the first too when it
    /// has not come yet). Cancel safe.
    pub(crate) async fn again(&mut self) -> &'static str {
        if self.fired.is_none() {
            self.wait().await;
        }
        poll_fn(|cx| (self.poll)(cx)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn fires_once_and_stays_fired() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut s = Shutdown::from_future(async move {
            let _ = rx.await;
            "test"
        });
        // Not yet: a bounded wait times out.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), s.wait())
                .await
                .is_err()
        );
        tx.send(()).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), s.wait()).await;
        assert_eq!(got, Ok("test"));
        // Again, without polling the finished future.
        let got = tokio::time::timeout(Duration::from_secs(5), s.wait()).await;
        assert_eq!(got, Ok("test"));
        // A one-shot request never fires again.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), s.again())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn later_requests_come_one_by_one() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut s = Shutdown::from_channel(rx);
        tx.send("first").await.unwrap();
        let bounded = Duration::from_secs(5);
        assert_eq!(tokio::time::timeout(bounded, s.wait()).await, Ok("first"));
        assert_eq!(tokio::time::timeout(bounded, s.wait()).await, Ok("first"));
        // `again` waits for a new one.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), s.again())
                .await
                .is_err()
        );
        tx.send("second").await.unwrap();
        assert_eq!(tokio::time::timeout(bounded, s.again()).await, Ok("second"));
        assert_eq!(tokio::time::timeout(bounded, s.wait()).await, Ok("first"));
    }

    #[tokio::test]
    async fn again_before_the_first_waits_for_two() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut s = Shutdown::from_channel(rx);
        tx.send("a").await.unwrap();
        tx.send("b").await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), s.again()).await;
        assert_eq!(got, Ok("b"));
        assert_eq!(s.wait().await, "a");
    }
}
