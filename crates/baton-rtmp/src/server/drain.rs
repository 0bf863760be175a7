//! The drain phase of [`Server::run`](super::Server::run): the listener is
//! already closed; the connections ask their clients to move (each on its
//! own, see `connection/drain.rs`) and are served until they leave. This
//! waits for them, up to `drain_deadline`, then closes what is left, and
//! logs what happened.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{info, warn};

use super::connection::after;
use super::shutdown::{ServerState, Stop};
use super::{ServerConfig, ShutdownHandle, log_task_end};

/// How a drain ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Every connection left.
    AllLeft,
    /// The deadline passed.
    Deadline,
    /// A shutdown during the drain.
    Shutdown,
}

/// Runs the drain until every connection left, the deadline, or a
/// shutdown; on the last two, moves the state to closing (the connections
/// then close and the caller waits for them as after any shutdown).
pub(super) async fn drain(
    tasks: &mut JoinSet<()>,
    state: &mut watch::Receiver<ServerState>,
    config: &ServerConfig,
    shutdown: &ShutdownHandle,
) {
    let started = Instant::now();
    let deadline = after(started, config.drain_deadline);
    let open = tasks.len();
    let counts = shutdown.counters().counts();
    info!(
        connections = open,
        go_away = counts.connected_go_away,
        reconnect_request = counts.connected_reconnect,
        neither = counts.connected_neither,
        not_connected_yet = open.saturating_sub(counts.connected),
        deadline_secs = config.drain_deadline.as_secs_f64(),
        "draining: no new connections; asking {} clients with Go Away, {} with a Reconnect Request; {} announced neither",
        counts.connected_go_away,
        counts.connected_reconnect,
        counts.connected_neither,
    );
    let mut left = 0usize;
    let end = loop {
        if tasks.is_empty() {
            break End::AllLeft;
        }
        tokio::select! {
            Some(ended) = tasks.join_next() => {
                log_task_end(ended);
                left += 1;
            }
            () = tokio::time::sleep_until(deadline) => break End::Deadline,
            changed = state.changed() => {
                // The server holds a sender: `changed` never fails.
                if changed.is_err() || matches!(*state.borrow_and_update(), ServerState::Closing(_)) {
                    break End::Shutdown;
                }
            }
        }
    };
    let cut = tasks.len();
    if end == End::Deadline {
        shutdown.advance(ServerState::Closing(Stop::DrainDeadline));
    }
    let counts = shutdown.counters().counts();
    let duration_ms = started.elapsed().as_millis() as u64;
    let (asked, asked_go_away, asked_reconnect, not_asked) = (
        counts.asked,
        counts.asked_go_away,
        counts.asked_reconnect,
        counts.not_asked,
    );
    match end {
        End::AllLeft => info!(
            asked,
            asked_go_away,
            asked_reconnect,
            not_asked,
            left,
            cut,
            duration_ms,
            "drain ended: every client left ({asked} asked to move, {left} left by themselves, {cut} cut) in {:.1} s",
            secs(duration_ms)
        ),
        End::Deadline => warn!(
            asked,
            asked_go_away,
            asked_reconnect,
            not_asked,
            left,
            cut,
            duration_ms,
            "drain ended at the deadline: {asked} asked to move, {left} left by themselves, {cut} cut at the deadline, after {:.1} s",
            secs(duration_ms)
        ),
        End::Shutdown => warn!(
            asked,
            asked_go_away,
            asked_reconnect,
            not_asked,
            left,
            cut,
            duration_ms,
            "drain ended by a shutdown: {asked} asked to move, {left} left by themselves, {cut} closed now, after {:.1} s",
            secs(duration_ms)
        ),
    }
}

/// Milliseconds as seconds, for messages.
fn secs(ms: u64) -> f64 {
    Duration::from_millis(ms).as_secs_f64()
}
