//! The server's lifecycle, shared by the accept loop and every connection
//! task through a `tokio::sync::watch` of [`ServerState`].
//!
//! States only move forward. Today there are two (running, closing); the Go
//! Away drain adds a third between them, in which the accept loop stops and
//! connections send Go Away and keep serving until their clients leave: every
//! `match` on the state is exhaustive, so adding it shows each place that
//! must decide what to do.

use tokio::sync::watch;

/// What the server is doing. Ordered: a state never goes back to an earlier
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ServerState {
    /// Accepting and serving connections.
    Running,
    /// Stopping: no more accepts; every connection writes what is queued
    /// (within `close_timeout`) and closes.
    Closing,
}

/// Stops a running [`Server`](super::Server): it stops accepting and closes
/// its connections. Cheap to clone.
///
/// [`serve_connection`](super::serve_connection) takes one too, so that a
/// connection served outside [`Server::run`](super::Server::run) (a TLS
/// listener, a test) can be closed the same way.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    state: watch::Sender<ServerState>,
}

impl ShutdownHandle {
    /// A handle in the running state, not tied to any server yet.
    pub fn new() -> Self {
        let (state, _) = watch::channel(ServerState::Running);
        ShutdownHandle { state }
    }

    /// Asks the server to stop. Connections close after writing what is
    /// queued (bounded by `close_timeout`). Calling it again does nothing.
    pub fn shutdown(&self) {
        self.advance(ServerState::Closing);
    }

    /// Whether [`ShutdownHandle::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        *self.state.borrow() >= ServerState::Closing
    }

    /// Moves the state forward to `next` (never back).
    fn advance(&self, next: ServerState) {
        self.state.send_if_modified(|state| {
            if *state < next {
                *state = next;
                true
            } else {
                false
            }
        });
    }

    /// A receiver of the state for a task that must react to it.
    pub(crate) fn subscribe(&self) -> watch::Receiver<ServerState> {
        self.state.subscribe()
    }
}

impl Default for ShutdownHandle {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_moves_forward_once_and_wakes_receivers() {
        let handle = ShutdownHandle::new();
        let mut rx = handle.subscribe();
        assert_eq!(*rx.borrow_and_update(), ServerState::Running);
        assert!(!handle.is_shutdown());
        handle.clone().shutdown();
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), ServerState::Closing);
        assert!(handle.is_shutdown());
        handle.shutdown();
        assert!(
            !rx.has_changed().unwrap(),
            "a second shutdown is not a change"
        );
        handle.advance(ServerState::Running);
        assert_eq!(*rx.borrow(), ServerState::Closing, "states never go back");
    }
}
