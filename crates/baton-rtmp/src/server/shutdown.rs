//! The server's lifecycle, shared by the accept loop and every connection
//! task through a `tokio::sync::watch` of [`ServerState`], and the drain's
//! counters.
//!
//! States only move forward: running, then (optionally) draining, then
//! closing. While draining, the accept loop is gone and every connection
//! asks its client to move (RTMP Go Away, Enhanced RTMP Reconnect Request)
//! and keeps serving it until it leaves; closing ends every connection.
//! Every `match` on the state is exhaustive, so a new state shows each place
//! that must decide what to do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::watch;

/// What the server is doing. A state never goes back to an earlier one
/// (see [`ServerState::rank`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerState {
    /// Accepting and serving connections.
    Running,
    /// No more accepts; connections ask their clients to move and keep
    /// serving them until they leave.
    Draining,
    /// Stopping: no more accepts; every connection writes what is queued
    /// (within `close_timeout`) and closes.
    Closing(Stop),
}

/// Why the server closes its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// [`ShutdownHandle::shutdown`] (during a drain too: it ends the drain
    /// at once).
    Shutdown,
    /// The drain deadline passed with connections still open.
    DrainDeadline,
}

impl ServerState {
    /// The order of states: a state moves only to one of a higher rank.
    fn rank(self) -> u8 {
        match self {
            ServerState::Running => 0,
            ServerState::Draining => 1,
            ServerState::Closing(_) => 2,
        }
    }
}

/// What the connections did about a drain, counted as they go: which
/// connected clients announced what (for the drain's first log line) and
/// whom the drain asked to move (for its last).
#[derive(Debug, Default)]
pub(crate) struct DrainCounters {
    /// Open connections whose connect was accepted.
    connected: AtomicUsize,
    /// Of those, the ones that announced `supportsGoAway`.
    connected_go_away: AtomicUsize,
    /// Of those, the ones that announced `capsEx` Reconnect.
    connected_reconnect: AtomicUsize,
    /// Of those, the ones that announced neither.
    connected_neither: AtomicUsize,
    /// Connections sent Go Away, a Reconnect Request, or both.
    asked: AtomicUsize,
    /// Connections sent Go Away.
    asked_go_away: AtomicUsize,
    /// Connections sent a Reconnect Request.
    asked_reconnect: AtomicUsize,
    /// Connections that announced neither (sent nothing).
    not_asked: AtomicUsize,
}

/// A snapshot of [`DrainCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DrainCounts {
    /// Open connections whose connect was accepted.
    pub(crate) connected: usize,
    /// Of those, the ones that announced `supportsGoAway`.
    pub(crate) connected_go_away: usize,
    /// Of those, the ones that announced `capsEx` Reconnect.
    pub(crate) connected_reconnect: usize,
    /// Of those, the ones that announced neither.
    pub(crate) connected_neither: usize,
    /// Connections sent Go Away, a Reconnect Request, or both.
    pub(crate) asked: usize,
    /// Connections sent Go Away.
    pub(crate) asked_go_away: usize,
    /// Connections sent a Reconnect Request.
    pub(crate) asked_reconnect: usize,
    /// Connections that announced neither.
    pub(crate) not_asked: usize,
}

impl DrainCounters {
    /// A snapshot.
    pub(crate) fn counts(&self) -> DrainCounts {
        let get = |n: &AtomicUsize| n.load(Ordering::Relaxed);
        DrainCounts {
            connected: get(&self.connected),
            connected_go_away: get(&self.connected_go_away),
            connected_reconnect: get(&self.connected_reconnect),
            connected_neither: get(&self.connected_neither),
            asked: get(&self.asked),
            asked_go_away: get(&self.asked_go_away),
            asked_reconnect: get(&self.asked_reconnect),
            not_asked: get(&self.not_asked),
        }
    }

    /// Counts what one connection was sent when the drain reached it.
    pub(crate) fn count_asked(&self, go_away: bool, reconnect: bool) {
        let add = |n: &AtomicUsize| n.fetch_add(1, Ordering::Relaxed);
        if go_away {
            add(&self.asked_go_away);
        }
        if reconnect {
            add(&self.asked_reconnect);
        }
        if go_away || reconnect {
            add(&self.asked);
        } else {
            add(&self.not_asked);
        }
    }
}

/// A connected client, counted in [`DrainCounters`] until dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    counters: Arc<DrainCounters>,
    go_away: bool,
    reconnect: bool,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let sub = |n: &AtomicUsize| n.fetch_sub(1, Ordering::Relaxed);
        sub(&self.counters.connected);
        if self.go_away {
            sub(&self.counters.connected_go_away);
        }
        if self.reconnect {
            sub(&self.counters.connected_reconnect);
        }
        if !self.go_away && !self.reconnect {
            sub(&self.counters.connected_neither);
        }
    }
}

/// Drains or stops a [`Server`](super::Server). Cheap to clone.
///
/// [`drain`](ShutdownHandle::drain) starts a graceful drain: the server
/// stops accepting, asks every client that announced support to move
/// elsewhere (RTMP Go Away, Enhanced RTMP Reconnect Request), keeps serving
/// everyone until they leave, and [`Server::run`](super::Server::run)
/// returns when the last one left or, at
/// [`ServerConfig::drain_deadline`](super::ServerConfig::drain_deadline),
/// after closing those still there. [`shutdown`](ShutdownHandle::shutdown)
/// closes every connection at once (during a drain too).
///
/// [`serve_connection`](super::serve_connection) takes one too, so that a
/// connection served outside [`Server::run`](super::Server::run) (a TLS
/// listener, a test) drains and closes the same way; such a caller enforces
/// its own drain deadline by calling `shutdown`.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    state: watch::Sender<ServerState>,
    counters: Arc<DrainCounters>,
}

impl ShutdownHandle {
    /// A handle in the running state, not tied to any server yet.
    pub fn new() -> Self {
        let (state, _) = watch::channel(ServerState::Running);
        ShutdownHandle {
            state,
            counters: Arc::default(),
        }
    }

    /// Starts a drain (see the type's documentation). Does nothing when the
    /// server is already draining or stopping.
    pub fn drain(&self) {
        self.advance(ServerState::Draining);
    }

    /// Asks the server to stop. Connections close after writing what is
    /// queued (bounded by `close_timeout`). During a drain, it ends the
    /// drain at once. Calling it again does nothing.
    pub fn shutdown(&self) {
        self.advance(ServerState::Closing(Stop::Shutdown));
    }

    /// Whether the server is draining (a drain started and nothing closed
    /// the connections yet).
    pub fn is_draining(&self) -> bool {
        *self.state.borrow() == ServerState::Draining
    }

    /// Whether the server is stopping: [`ShutdownHandle::shutdown`] was
    /// called or a drain reached its deadline.
    pub fn is_shutdown(&self) -> bool {
        matches!(*self.state.borrow(), ServerState::Closing(_))
    }

    /// Moves the state forward to `next` (never back, nor sideways).
    pub(crate) fn advance(&self, next: ServerState) -> bool {
        self.state.send_if_modified(|state| {
            if state.rank() < next.rank() {
                *state = next;
                true
            } else {
                false
            }
        })
    }

    /// A receiver of the state for a task that must react to it.
    pub(crate) fn subscribe(&self) -> watch::Receiver<ServerState> {
        self.state.subscribe()
    }

    /// The drain counters shared by every connection of this handle.
    pub(crate) fn counters(&self) -> &DrainCounters {
        &self.counters
    }

    /// Counts a client whose connect was accepted, with what it announced,
    /// until the registration drops.
    pub(crate) fn register(&self, go_away: bool, reconnect: bool) -> Registration {
        let add = |n: &AtomicUsize| n.fetch_add(1, Ordering::Relaxed);
        add(&self.counters.connected);
        if go_away {
            add(&self.counters.connected_go_away);
        }
        if reconnect {
            add(&self.counters.connected_reconnect);
        }
        if !go_away && !reconnect {
            add(&self.counters.connected_neither);
        }
        Registration {
            counters: Arc::clone(&self.counters),
            go_away,
            reconnect,
        }
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
        assert_eq!(
            *rx.borrow_and_update(),
            ServerState::Closing(Stop::Shutdown)
        );
        assert!(handle.is_shutdown());
        handle.shutdown();
        assert!(
            !rx.has_changed().unwrap(),
            "a second shutdown is not a change"
        );
        handle.advance(ServerState::Running);
        handle.drain();
        assert_eq!(
            *rx.borrow(),
            ServerState::Closing(Stop::Shutdown),
            "states never go back"
        );
        assert!(!handle.advance(ServerState::Closing(Stop::DrainDeadline)));
    }

    #[test]
    fn drain_comes_before_closing() {
        let handle = ShutdownHandle::new();
        let mut rx = handle.subscribe();
        rx.borrow_and_update();
        handle.drain();
        assert!(handle.is_draining() && !handle.is_shutdown());
        assert_eq!(*rx.borrow_and_update(), ServerState::Draining);
        handle.drain();
        assert!(!rx.has_changed().unwrap(), "a second drain is not a change");
        assert!(handle.advance(ServerState::Closing(Stop::DrainDeadline)));
        assert!(!handle.is_draining() && handle.is_shutdown());
        handle.shutdown();
        assert_eq!(
            *rx.borrow_and_update(),
            ServerState::Closing(Stop::DrainDeadline),
            "the first reason to close stays"
        );
    }

    #[test]
    fn registrations_count_while_they_live() {
        let handle = ShutdownHandle::new();
        let a = handle.register(true, false);
        let b = handle.register(true, true);
        let _c = handle.register(false, false);
        let counts = handle.counters().counts();
        assert_eq!(counts.connected, 3);
        assert_eq!(counts.connected_go_away, 2);
        assert_eq!(counts.connected_reconnect, 1);
        assert_eq!(counts.connected_neither, 1);
        drop((a, b));
        let counts = handle.counters().counts();
        assert_eq!((counts.connected, counts.connected_go_away), (1, 0));
        assert_eq!(counts.connected_neither, 1);

        handle.counters().count_asked(true, true);
        handle.counters().count_asked(false, true);
        handle.counters().count_asked(false, false);
        let counts = handle.clone().counters().counts();
        assert_eq!(
            (
                counts.asked,
                counts.asked_go_away,
                counts.asked_reconnect,
                counts.not_asked
            ),
            (2, 1, 2, 1)
        );
    }
}
