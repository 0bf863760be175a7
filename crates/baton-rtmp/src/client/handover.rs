//! The pieces of a Go Away handover that do not touch the stream: its
//! settings and errors, where to go next, and the background task that
//! opens the new connection and publishes on it, retrying with exponential
//! backoff until it succeeds or is aborted.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use baton_proto::command::PublishType;

use super::{ClientConfig, Connection, Publisher};
use crate::{RtmpError, RtmpUrl};

/// Settings of a [`ReconnectingPublisher`](super::ReconnectingPublisher)'s
/// handovers. Every limit has a safe default.
#[derive(Clone, Debug)]
pub struct HandoverConfig {
    /// Most media time held while no connection can take it (the old one
    /// died before the new one was ready). Past it, sending fails.
    pub max_handover_buffer: Duration,
    /// Most payload bytes held for the same reason (and, while the old
    /// connection lives, for the frames since the last keyframe that a new
    /// connection would need if the old one died).
    pub max_handover_buffer_bytes: usize,
    /// First wait before trying again after a failed connection.
    pub retry_initial: Duration,
    /// Longest wait between attempts (the wait doubles up to it).
    pub retry_max: Duration,
    /// How long [`finish`](super::ReconnectingPublisher::finish) waits for
    /// a pending new connection when the old one is gone.
    pub finish_timeout: Duration,
}

impl Default for HandoverConfig {
    fn default() -> Self {
        HandoverConfig {
            max_handover_buffer: Duration::from_secs(30),
            max_handover_buffer_bytes: 64 << 20,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            finish_timeout: Duration::from_secs(10),
        }
    }
}

/// What can go wrong with a reconnecting publisher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandoverError {
    /// An error of the connection in use (the first connection, or a
    /// refusal that a handover cannot fix).
    #[error(transparent)]
    Rtmp(#[from] RtmpError),
    /// No URL was given.
    #[error("no URL to publish to")]
    NoUrl,
    /// The connection was lost, no new one could be made, and the media
    /// held meanwhile reached its bound.
    #[error(
        "lost the connection to {url} and could not reconnect in time ({media_ms} ms and {bytes} bytes of media held; last attempt: {last_error})"
    )]
    BufferFull {
        /// The URL of the lost connection.
        url: String,
        /// Media time held.
        media_ms: u64,
        /// Payload bytes held.
        bytes: usize,
        /// Why the last connection attempt failed.
        last_error: String,
    },
    /// The old connection is gone and no new one was made within
    /// `finish_timeout`.
    #[error("lost the connection to {url} and could not reconnect before finishing")]
    NotReconnected {
        /// The URL of the lost connection.
        url: String,
    },
    /// An earlier error left the publisher without a connection.
    #[error("the publisher failed earlier and has no connection")]
    Failed,
}

/// Where a handover stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandoverState {
    /// No handover: media goes to the current connection.
    Idle,
    /// A new connection is being made (media goes to the old connection,
    /// or is held if it died).
    Connecting,
    /// The new connection publishes; the switch happens at the next video
    /// keyframe (audio-only: the next audio frame). An encoder may send a
    /// keyframe now to make the switch sooner.
    Ready,
}

/// Counters of a reconnecting publisher.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandoverStats {
    /// Handovers started (signals, or a lost connection).
    pub started: u32,
    /// Handovers completed (media moved to a new connection).
    pub completed: u32,
    /// Connection attempts that failed during handovers.
    pub failed_attempts: u32,
    /// Messages sent again on a new connection because the old one died
    /// (from the last keyframe it was sent).
    pub resent: u64,
}

/// Why a handover started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    GoAway,
    ReconnectRequest,
    ConnectionLost(String),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::GoAway => f.write_str("Go Away"),
            Reason::ReconnectRequest => f.write_str("Reconnect Request"),
            Reason::ConnectionLost(e) => write!(f, "connection lost: {e}"),
        }
    }
}

/// The URLs to try, in order, cyclically: a Reconnect Request's target
/// first, then the list's URLs other than the one being left (starting
/// after it); the one being left only when there is no other.
pub(crate) fn candidates(
    list: &[RtmpUrl],
    current: &RtmpUrl,
    target: Option<RtmpUrl>,
) -> Vec<RtmpUrl> {
    let same = |a: &RtmpUrl, b: &RtmpUrl| a.tc_url() == b.tc_url();
    let mut out: Vec<RtmpUrl> = target.into_iter().collect();
    let start = list
        .iter()
        .position(|u| same(u, current))
        .map_or(0, |i| i + 1);
    for i in 0..list.len() {
        let url = &list[(start + i) % list.len()];
        if !same(url, current) && !out.iter().any(|u| same(u, url)) {
            out.push(url.clone());
        }
    }
    if out.is_empty() {
        out.push(current.clone());
    }
    out
}

/// The new connection, once it publishes.
pub(crate) struct Ready {
    pub(crate) publisher: Publisher<TcpStream>,
    pub(crate) url: RtmpUrl,
}

/// Progress of the connecting task, for logs and errors.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attempts {
    pub(crate) failed: u32,
    pub(crate) last_error: Option<String>,
}

/// A handover under way: the task making the new connection, or its
/// result.
pub(crate) struct Pending {
    pub(crate) reason: Reason,
    pub(crate) started: Instant,
    /// Whether the target came from a Reconnect Request's tcUrl.
    pub(crate) targeted: bool,
    task: JoinHandle<()>,
    result: oneshot::Receiver<Ready>,
    pub(crate) ready: Option<Ready>,
    pub(crate) attempts: watch::Receiver<Attempts>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("reason", &self.reason)
            .field("ready", &self.ready.as_ref().map(|r| r.url.to_string()))
            .finish_non_exhaustive()
    }
}

impl Pending {
    /// Starts the task that connects to `candidates` in turn (cyclically,
    /// with backoff) and publishes `stream_name`.
    pub(crate) fn start(
        reason: Reason,
        targeted: bool,
        candidates: Vec<RtmpUrl>,
        stream_name: String,
        config: ClientConfig,
        handover: &HandoverConfig,
    ) -> Pending {
        let (tx, result) = oneshot::channel();
        let (progress, attempts) = watch::channel(Attempts::default());
        let backoff = (handover.retry_initial, handover.retry_max);
        let task = tokio::spawn(connect_loop(
            candidates,
            stream_name,
            config,
            backoff,
            progress,
            tx,
        ));
        Pending {
            reason,
            started: Instant::now(),
            targeted,
            task,
            result,
            ready: None,
            attempts,
        }
    }

    /// Whether the new connection publishes (takes the task's result when
    /// it arrived).
    pub(crate) fn poll_ready(&mut self) -> bool {
        if self.ready.is_none() {
            if let Ok(ready) = self.result.try_recv() {
                self.ready = Some(ready);
            }
        }
        self.ready.is_some()
    }

    /// Waits up to `timeout` for the new connection.
    pub(crate) async fn wait_ready(&mut self, timeout: Duration) -> bool {
        if self.ready.is_none() {
            if let Ok(Ok(ready)) = tokio::time::timeout(timeout, &mut self.result).await {
                self.ready = Some(ready);
            }
        }
        self.ready.is_some()
    }

    /// Failed attempts so far.
    pub(crate) fn attempts(&self) -> Attempts {
        self.attempts.borrow().clone()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        // The task ends here if it still runs (its connection, if any, is
        // dropped with it).
        self.task.abort();
    }
}

async fn connect_loop(
    candidates: Vec<RtmpUrl>,
    stream_name: String,
    config: ClientConfig,
    (initial, max): (Duration, Duration),
    progress: watch::Sender<Attempts>,
    tx: oneshot::Sender<Ready>,
) {
    let mut wait = initial;
    for (attempt, url) in candidates.iter().cycle().enumerate() {
        let result = async {
            Connection::connect(url, &config)
                .await?
                .publish(&stream_name, PublishType::Live)
                .await
        }
        .await;
        match result {
            Ok(publisher) => {
                let _ = tx.send(Ready {
                    publisher,
                    url: url.clone(),
                });
                return;
            }
            Err(e) => {
                tracing::warn!(
                    url = %url,
                    attempt = attempt + 1,
                    retry_in_ms = wait.as_millis() as u64,
                    "handover: cannot publish on the new connection: {e}"
                );
                progress.send_modify(|a| {
                    a.failed += 1;
                    a.last_error = Some(format!("{url}: {e}"));
                });
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(max);
            }
        }
        if tx.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> RtmpUrl {
        RtmpUrl::parse(s).unwrap()
    }

    fn names(urls: &[RtmpUrl]) -> Vec<String> {
        urls.iter().map(|u| u.host.clone()).collect()
    }

    #[test]
    fn candidates_skip_the_url_being_left() {
        let list = [
            url("rtmp://a/live"),
            url("rtmp://b/live"),
            url("rtmp://c/live"),
        ];
        assert_eq!(names(&candidates(&list, &list[0], None)), ["b", "c"]);
        assert_eq!(names(&candidates(&list, &list[1], None)), ["c", "a"]);
        assert_eq!(
            names(&candidates(&list, &list[2], Some(url("rtmp://t/live")))),
            ["t", "a", "b"]
        );
        // A target that is in the list is not tried twice.
        assert_eq!(
            names(&candidates(&list, &list[0], Some(url("rtmp://c/live")))),
            ["c", "b"]
        );
        // One URL (a load balancer): the same again.
        let one = [url("rtmp://lb/live")];
        assert_eq!(names(&candidates(&one, &one[0], None)), ["lb"]);
        // A current URL outside the list (an earlier Reconnect Request).
        assert_eq!(
            names(&candidates(&one, &url("rtmp://x/live"), None)),
            ["lb"]
        );
    }
}
