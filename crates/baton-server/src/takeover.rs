//! A stream that outlives its publisher's connection, and the publisher
//! that takes it over.
//!
//! When a publisher's connection ends without an unpublish, its stream
//! stays alive for the reconnect window (`streams.reconnect_window_secs`): a
//! [`Vacancy`]. Players are told nothing; a late joiner still gets the
//! stream's metadata, sequence headers and GOP cache. A new publisher of the
//! same key within the window takes over the stream; after the window with
//! nobody back the publication ends as an unpublish would.
//!
//! The window is enforced two ways. When the hub runs inside a tokio
//! runtime (always, when serving), a timer task sleeps until the deadline
//! and ends the publication if it is still vacant; a takeover aborts it,
//! and it only holds weak references, so it never keeps a stream or the hub
//! alive and always ends by the deadline. Without a runtime (the hub driven
//! by hand), the deadline is checked lazily: by the next publish of the key
//! and by every player poll.
//!
//! A publisher that takes over is mapped onto the stream's timeline
//! ([`Mapping`]): timestamps that continue the stream's (FFmpeg's Go Away
//! patch, Baton's client) pass unchanged; timestamps that start well before
//! the stream's last one (OBS restarts at 0) are shifted so that its first
//! frame lands one frame interval after the last one. Its metadata and
//! sequence headers reach players only when they differ from the stream's
//! current ones, and frames it re-sends (same kind, timestamp and bytes as
//! one just forwarded) are dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::session::MediaKind;
use baton_rtmp::SharedMessage;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::hub::HubInner;
use crate::ring::MediaClass;
use crate::stream::Stream;

/// A new publisher whose first frame is more than this before the stream's
/// last timestamp restarted its clock (OBS restarts at 0) and is rebased;
/// within it, its timestamps are taken as continuing the stream's.
pub(crate) const REBASE_THRESHOLD_MS: i32 = 1000;

/// Frames remembered to recognise a re-sent one.
const RECENT_FRAMES: usize = 16;

/// Largest frame interval used to place a rebased publisher's first frame
/// (a longer gap between two frames is a pause, not a frame rate).
const MAX_FRAME_INTERVAL_MS: u32 = 1000;

/// A stream waiting for its publisher to come back.
#[derive(Debug)]
pub(crate) struct Vacancy {
    /// When the window closes.
    pub(crate) deadline: Instant,
    /// Since when the stream waits.
    pub(crate) since: Instant,
    /// The timer task that closes it, when a runtime was there to run one.
    timer: Option<AbortHandle>,
}

impl Vacancy {
    /// Stops the timer (the stream was taken over or ended).
    pub(crate) fn cancel(self) {
        if let Some(timer) = self.timer {
            timer.abort();
        }
    }
}

/// Opens the window of a stream that lost its publisher: starts the timer
/// task when a tokio runtime is running.
pub(crate) fn vacancy(stream: &Arc<Stream>, hub: &Arc<HubInner>, window: Duration) -> Vacancy {
    let since = Instant::now();
    let deadline = since + window;
    let timer = tokio::runtime::Handle::try_current().ok().map(|runtime| {
        let (stream, hub) = (Arc::downgrade(stream), Arc::downgrade(hub));
        runtime
            .spawn(window_timer(stream, hub, deadline))
            .abort_handle()
    });
    Vacancy {
        deadline,
        since,
        timer,
    }
}

/// Sleeps until the deadline, then ends the publication if still vacant.
async fn window_timer(stream: Weak<Stream>, hub: Weak<HubInner>, deadline: Instant) {
    tokio::time::sleep_until(deadline).await;
    if let (Some(stream), Some(hub)) = (stream.upgrade(), hub.upgrade()) {
        expire_if_due(&stream, &hub);
    }
}

/// Ends the publication of a stream whose window has passed, wakes its
/// players (they get the end) and removes the stream if nobody is left.
pub(crate) fn expire_if_due(stream: &Arc<Stream>, hub: &HubInner) {
    let mut wake = Vec::new();
    let (expired, idle) = {
        let mut state = stream.lock();
        let expired = state.expire_due(Instant::now());
        if expired.is_some() {
            state.waiters.take_all(&mut wake);
        }
        (expired, state.is_idle())
    };
    for waker in wake {
        waker.wake();
    }
    if let Some(waited) = expired {
        log_expired(stream, waited);
        if idle {
            hub.remove_if_idle(stream);
        }
    }
}

/// The log line of a window that passed with nobody back.
pub(crate) fn log_expired(stream: &Stream, waited: Duration) {
    tracing::info!(
        stream = %stream.key,
        waited_ms = waited.as_millis() as u64,
        "reconnect window expired: publication ended"
    );
}

/// What the stream has forwarded, for placing and checking a publisher
/// that takes over.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    /// The latest frame timestamp forwarded.
    pub(crate) last: Option<Timestamp>,
    last_video: Option<Timestamp>,
    last_audio: Option<Timestamp>,
    video_interval: Option<u32>,
    audio_interval: Option<u32>,
    /// The last frames forwarded (not sequence headers), newest last.
    recent: VecDeque<Arc<SharedMessage>>,
}

impl Timeline {
    /// Forgets everything (the publication ended).
    pub(crate) fn reset(&mut self) {
        *self = Timeline::default();
    }

    /// A frame was forwarded to players.
    pub(crate) fn record(&mut self, msg: &Arc<SharedMessage>) {
        let ts = msg.timestamp();
        if self.last.is_none_or(|last| ts.is_after(last)) {
            self.last = Some(ts);
        }
        let (previous, interval) = match msg.kind() {
            MediaKind::Video => (&mut self.last_video, &mut self.video_interval),
            MediaKind::Audio => (&mut self.last_audio, &mut self.audio_interval),
        };
        if let Some(prev) = *previous {
            let delta = ts.signed_diff(prev);
            if delta > 0 && (delta as u32) <= MAX_FRAME_INTERVAL_MS {
                *interval = Some(delta as u32);
            }
        }
        *previous = Some(ts);
        if self.recent.len() == RECENT_FRAMES {
            self.recent.pop_front();
        }
        self.recent.push_back(msg.clone());
    }

    /// The interval of the last frames: video's when there is video, else
    /// audio's, else 1 ms.
    fn interval(&self) -> u32 {
        self.video_interval.or(self.audio_interval).unwrap_or(1)
    }

    /// Whether a frame with this kind, timestamp and payload was one of the
    /// last forwarded.
    fn contains(&self, kind: MediaKind, ts: Timestamp, payload: &[u8]) -> bool {
        self.recent
            .iter()
            .any(|m| m.kind() == kind && m.timestamp() == ts && m.payload()[..] == *payload)
    }
}

/// How one publication's timestamps land on the stream's timeline.
#[derive(Debug, Default)]
pub(crate) enum Mapping {
    /// The publication started the stream: timestamps unchanged.
    #[default]
    Fresh,
    /// The publication took the stream over; its first frame is still to
    /// come. Metadata and sequence headers sent before it are placed at the
    /// stream's last timestamp.
    Pending {
        /// The stream's last frame timestamp when it took over.
        last: Option<Timestamp>,
    },
    /// The publication took the stream over and its offset is known.
    Decided {
        /// Added (wrapping) to each of its timestamps.
        offset: u32,
        /// Frames up to this timestamp (mapped) may repeat forwarded ones.
        dedupe_until: Option<Timestamp>,
    },
}

/// What happened to a frame of a publisher that took over.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Placed {
    /// Forward it with this timestamp.
    At(Timestamp),
    /// It repeats a forwarded frame: drop it.
    Duplicate,
}

impl Mapping {
    /// The mapping of a publisher that takes over a stream.
    pub(crate) fn takeover(timeline: &Timeline) -> Mapping {
        Mapping::Pending {
            last: timeline.last,
        }
    }

    /// Whether this publication took the stream over.
    pub(crate) fn is_takeover(&self) -> bool {
        !matches!(self, Mapping::Fresh)
    }

    /// The timestamp of metadata, a sequence header or another data
    /// message.
    pub(crate) fn config_ts(&self, ts: Timestamp) -> Timestamp {
        match *self {
            Mapping::Fresh => ts,
            Mapping::Pending { last } => last.unwrap_or(ts),
            Mapping::Decided { offset, .. } => ts.wrapping_add(offset),
        }
    }

    /// Places a frame (decides the offset on the first one). Returns the
    /// offset when this frame decided a non-zero one, for the log.
    pub(crate) fn frame(
        &mut self,
        kind: MediaKind,
        ts: Timestamp,
        payload: &[u8],
        timeline: &Timeline,
    ) -> (Placed, Option<u32>) {
        let mut decided = None;
        if let Mapping::Pending { last } = *self {
            let offset = match last {
                Some(last) if last.signed_diff(ts) > REBASE_THRESHOLD_MS => {
                    // Its clock restarted: its first frame lands one frame
                    // interval after the stream's last.
                    last.wrapping_add(timeline.interval()).delta_since(ts)
                }
                _ => 0,
            };
            decided = (offset != 0).then_some(offset);
            *self = Mapping::Decided {
                offset,
                dedupe_until: last,
            };
        }
        let Mapping::Decided {
            offset,
            dedupe_until,
        } = self
        else {
            return (Placed::At(ts), None);
        };
        let mapped = ts.wrapping_add(*offset);
        match *dedupe_until {
            // Past what was forwarded before: nothing can repeat any more.
            Some(until) if mapped.is_after(until) => *dedupe_until = None,
            Some(_) if timeline.contains(kind, mapped, payload) => {
                return (Placed::Duplicate, decided);
            }
            _ => {}
        }
        (Placed::At(mapped), decided)
    }
}

/// Whether a sequence header or metadata of a publisher that took over is
/// worth sending to players: only when it differs from the current one.
pub(crate) fn header_changed(
    mapping: &Mapping,
    class: MediaClass,
    current: Option<&[u8]>,
    new: &[u8],
) -> bool {
    !(mapping.is_takeover() && class == MediaClass::SequenceHeader && current == Some(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn frame(kind: MediaKind, ts: u32, byte: u8) -> Arc<SharedMessage> {
        Arc::new(SharedMessage::new(
            kind,
            Timestamp(ts),
            Bytes::from(vec![byte; 4]),
        ))
    }

    fn timeline(video: &[u32]) -> Timeline {
        let mut t = Timeline::default();
        for &ts in video {
            t.record(&frame(MediaKind::Video, ts, ts as u8));
        }
        t
    }

    #[test]
    fn continuing_timestamps_pass_unchanged() {
        let t = timeline(&[0, 40, 80]);
        let mut m = Mapping::takeover(&t);
        assert_eq!(m.config_ts(Timestamp(120)), Timestamp(80));
        let placed = m.frame(MediaKind::Video, Timestamp(120), &[1], &t);
        assert_eq!(placed, (Placed::At(Timestamp(120)), None));
        // A little before the last one is still continuing (no rebase).
        let mut m = Mapping::takeover(&t);
        let placed = m.frame(MediaKind::Video, Timestamp(0), &[1], &t);
        assert_eq!(placed, (Placed::At(Timestamp(0)), None));
    }

    #[test]
    fn a_restart_at_zero_lands_one_interval_after_the_last_frame() {
        let t = timeline(&[5000, 5040, 5080]);
        let mut m = Mapping::takeover(&t);
        assert_eq!(m.config_ts(Timestamp(0)), Timestamp(5080));
        let (placed, decided) = m.frame(MediaKind::Video, Timestamp(0), &[1], &t);
        assert_eq!(placed, Placed::At(Timestamp(5120)));
        assert_eq!(decided, Some(5120));
        assert_eq!(m.config_ts(Timestamp(40)), Timestamp(5160));
        let (placed, decided) = m.frame(MediaKind::Audio, Timestamp(23), &[2], &t);
        assert_eq!((placed, decided), (Placed::At(Timestamp(5143)), None));
    }

    #[test]
    fn rebasing_works_across_the_wrap_and_without_an_interval() {
        let t = timeline(&[u32::MAX - 10]);
        let mut m = Mapping::takeover(&t);
        let (placed, _) = m.frame(MediaKind::Video, Timestamp(u32::MAX - 5000), &[1], &t);
        assert_eq!(placed, Placed::At(Timestamp(u32::MAX - 9)), "last + 1 ms");
        // No frame forwarded yet: nothing to continue, nothing changes.
        let empty = Timeline::default();
        let mut m = Mapping::takeover(&empty);
        assert_eq!(
            m.frame(MediaKind::Video, Timestamp(7), &[1], &empty),
            (Placed::At(Timestamp(7)), None)
        );
        assert_eq!(Mapping::Fresh.config_ts(Timestamp(9)), Timestamp(9));
    }

    #[test]
    fn a_re_sent_frame_is_dropped_until_the_stream_moves_on() {
        let t = timeline(&[0, 40, 80]);
        let mut m = Mapping::takeover(&t);
        // Same kind, timestamp and bytes as a forwarded frame.
        let (placed, _) = m.frame(MediaKind::Video, Timestamp(80), &[80; 4], &t);
        assert_eq!(placed, Placed::Duplicate);
        // Other bytes or another kind at the same timestamp is not.
        let (placed, _) = m.frame(MediaKind::Video, Timestamp(80), &[81; 4], &t);
        assert_eq!(placed, Placed::At(Timestamp(80)));
        let (placed, _) = m.frame(MediaKind::Audio, Timestamp(80), &[80; 4], &t);
        assert_eq!(placed, Placed::At(Timestamp(80)));
        // Once past the last forwarded timestamp, the check stops.
        m.frame(MediaKind::Video, Timestamp(120), &[1], &t);
        assert!(matches!(
            m,
            Mapping::Decided {
                dedupe_until: None,
                ..
            }
        ));
    }

    #[test]
    fn the_timeline_keeps_a_bounded_memory() {
        let t = timeline(&(0..100).map(|i| i * 40).collect::<Vec<_>>());
        assert_eq!(t.recent.len(), RECENT_FRAMES);
        assert_eq!(t.last, Some(Timestamp(99 * 40)));
        assert_eq!(t.interval(), 40);
    }

    #[test]
    fn only_an_identical_header_of_a_takeover_is_held_back() {
        let take = Mapping::Pending { last: None };
        let sh = MediaClass::SequenceHeader;
        assert!(!header_changed(&take, sh, Some(&[1, 2]), &[1, 2]));
        assert!(header_changed(&take, sh, Some(&[1, 2]), &[1, 3]));
        assert!(header_changed(&take, sh, None, &[1, 2]));
        assert!(header_changed(&Mapping::Fresh, sh, Some(&[1]), &[1]));
        assert!(header_changed(&take, MediaClass::Frame, Some(&[1]), &[1]));
    }
}
