//! What the server tells a publisher or player besides media (RTMP Go Away,
//! the Enhanced RTMP Reconnect Request, onStatus), and the bounded queue
//! that holds them until the application looks.

use std::collections::VecDeque;

use baton_proto::command::StatusInfo;
use baton_proto::session::ClientEvent;

/// Something the server told a publisher or player besides media.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerSignal {
    /// RTMP Go Away: move to a new connection at the next media boundary.
    GoAway,
    /// Enhanced RTMP Reconnect Request; `tc_url` is where to go (absolute or
    /// relative), `None` for the same URL.
    ReconnectRequest {
        /// Where to reconnect.
        tc_url: Option<String>,
        /// The server's description.
        description: Option<String>,
    },
    /// onStatus on the stream (for example NetStream.Play.UnpublishNotify).
    Status(StatusInfo),
}

/// A session event sorted: a signal, or something else.
#[derive(Debug)]
pub(crate) enum Sorted {
    Signal(ServerSignal),
    Other(ClientEvent),
}

impl ServerSignal {
    /// The signal an event carries, or the event back when it is not one.
    pub(crate) fn from_event(event: ClientEvent) -> Sorted {
        match event {
            ClientEvent::GoAway => Sorted::Signal(ServerSignal::GoAway),
            ClientEvent::ReconnectRequested {
                tc_url,
                description,
            } => Sorted::Signal(ServerSignal::ReconnectRequest {
                tc_url,
                description,
            }),
            ClientEvent::Status { info, .. } => Sorted::Signal(ServerSignal::Status(info)),
            other => Sorted::Other(other),
        }
    }
}

/// Signals not yet taken, at most `max`. When full, the oldest status is
/// dropped first (Go Away and Reconnect Request are kept over status).
#[derive(Debug)]
pub(crate) struct SignalQueue {
    queue: VecDeque<ServerSignal>,
    max: usize,
}

impl SignalQueue {
    pub(crate) fn new(max: usize) -> Self {
        SignalQueue {
            queue: VecDeque::new(),
            max: max.max(1),
        }
    }

    pub(crate) fn push(&mut self, signal: ServerSignal) {
        if self.queue.len() >= self.max {
            let drop_at = self
                .queue
                .iter()
                .position(|s| matches!(s, ServerSignal::Status(_)))
                .unwrap_or(0);
            let dropped = self.queue.remove(drop_at);
            tracing::warn!(
                ?dropped,
                max = self.max,
                "signal queue full, dropped the oldest"
            );
        }
        self.queue.push_back(signal);
    }

    pub(crate) fn pop(&mut self) -> Option<ServerSignal> {
        self.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::command::{StatusCode, StatusLevel};

    fn status(n: u32) -> ServerSignal {
        ServerSignal::Status(StatusInfo::new(
            StatusLevel::Status,
            StatusCode::PlayStart,
            n.to_string(),
        ))
    }

    #[test]
    fn a_full_queue_drops_status_before_go_away() {
        let mut q = SignalQueue::new(3);
        q.push(ServerSignal::GoAway);
        q.push(status(1));
        q.push(status(2));
        q.push(status(3));
        assert_eq!(q.pop(), Some(ServerSignal::GoAway));
        assert_eq!(q.pop(), Some(status(2)));
        assert_eq!(q.pop(), Some(status(3)));
        assert_eq!(q.pop(), None);

        let mut q = SignalQueue::new(2);
        for _ in 0..3 {
            q.push(ServerSignal::GoAway);
        }
        assert_eq!(
            (q.pop(), q.pop(), q.pop()),
            (Some(ServerSignal::GoAway), Some(ServerSignal::GoAway), None)
        );
    }
}
