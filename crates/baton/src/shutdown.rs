//! Stopping on request: Ctrl-C (SIGINT) and, on Unix, SIGTERM.
//!
//! Once a handler is installed the default "die at once" behaviour is gone,
//! so every command waits on [`Shutdown`] wherever it waits on anything
//! else, and turns the request into a clean end (unpublish, close the FLV
//! file, stop the server through its shutdown handle).

use std::future::Future;
use std::pin::Pin;

use tracing::warn;

/// A shutdown request that can be waited on any number of times.
pub(crate) struct Shutdown {
    signal: Pin<Box<dyn Future<Output = &'static str> + Send>>,
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
    /// Fires on Ctrl-C or SIGTERM. On Unix the handlers are installed now,
    /// so a signal that arrives before the first wait is not lost. Must be
    /// called inside the runtime.
    #[cfg(unix)]
    pub(crate) fn on_signals() -> Shutdown {
        use tokio::signal::unix::{SignalKind, signal};
        let watch = |kind: SignalKind, name: &'static str| {
            let installed = signal(kind);
            async move {
                match installed {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(e) => {
                        warn!("cannot watch for {name}: {e}");
                        std::future::pending::<()>().await;
                    }
                }
                name
            }
        };
        let int = watch(SignalKind::interrupt(), "Ctrl-C");
        let term = watch(SignalKind::terminate(), "SIGTERM");
        Shutdown::from_future(async move {
            tokio::select! {
                name = int => name,
                name = term => name,
            }
        })
    }

    /// Fires on Ctrl-C.
    #[cfg(not(unix))]
    pub(crate) fn on_signals() -> Shutdown {
        Shutdown::from_future(async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                warn!("cannot watch for Ctrl-C: {e}");
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        })
    }

    /// Fires when `signal` completes, with its name for the logs.
    pub(crate) fn from_future(signal: impl Future<Output = &'static str> + Send + 'static) -> Self {
        Shutdown {
            signal: Box::pin(signal),
            fired: None,
        }
    }

    /// Never fires.
    #[cfg(test)]
    pub(crate) fn never() -> Self {
        Shutdown::from_future(std::future::pending())
    }

    /// Waits for the request; returns at once if it already came. Cancel
    /// safe: dropping the wait loses nothing.
    pub(crate) async fn wait(&mut self) -> &'static str {
        if let Some(name) = self.fired {
            return name;
        }
        let name = self.signal.as_mut().await;
        self.fired = Some(name);
        name
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
    }
}
