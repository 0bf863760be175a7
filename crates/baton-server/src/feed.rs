//! A player's feed: its snapshot (metadata, sequence headers, GOP cache),
//! then the stream's queue from the position it joined at.
//!
//! A player that falls behind skips: its position was evicted from the
//! queue, or the frame at its position arrived at the server more than
//! `max_player_lag_ms` ago (the player is that far behind real time). Lag is
//! measured on the server's clock, never on media timestamps: a publisher
//! that sends faster than real time (a file pushed unpaced, a relay or an
//! encoder catching up) runs its timestamps far ahead of the wall clock, and
//! a player that keeps up with it must not be made to skip. A skipping
//! player resumes at the stream's last keyframe when that arrived recently
//! enough, otherwise at the next such keyframe as it arrives (audio-only
//! streams: at the next audio frame).
//! What it skips never includes an end of publication, a sequence header or
//! metadata: those are delivered (or re-sent) first. A player that skips
//! more often than the configured rule allows is disconnected.
//!
//! After an unpublish the feed yields [`FeedItem::End`] after every message
//! published before it (the end marker travels in the same queue), then
//! waits for the next publisher. A publisher's lost connection yields
//! nothing: the feed waits through the reconnect window, and goes on with
//! the publisher that takes over as if nothing happened (or gets the end
//! when the window passes with nobody back).

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use baton_proto::session::MediaKind;
use baton_rtmp::server::{FeedItem, PlayFeed};
use tokio::time::Instant;

use crate::config::StreamSettings;
use crate::hub::HubInner;
use crate::ring::{Entry, MediaClass, Slot};
use crate::stream::{Stream, StreamState};
use crate::waiters::{Generation, Registration};

/// Most entries a feed takes from its stream per lock (the rest wait in the
/// feed, so a player with a backlog locks the stream once per batch).
const READ_BATCH: usize = 32;

/// When a player lags and when it is cut off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LagRule {
    /// How long ago, at most, the entry a player reads may have arrived.
    max_lag: Duration,
    max_skips: usize,
    window: Duration,
}

impl LagRule {
    pub(crate) fn new(settings: &StreamSettings) -> LagRule {
        LagRule {
            max_lag: Duration::from_millis(settings.max_player_lag_ms.into()),
            max_skips: settings.player_lag_disconnect.max_skips as usize,
            window: Duration::from_secs(settings.player_lag_disconnect.window_secs),
        }
    }
}

/// The feed of one player (see the module docs). Leaves its stream when
/// dropped.
#[derive(Debug)]
pub struct StreamFeed {
    stream: Arc<Stream>,
    hub: Arc<HubInner>,
    cursor: Cursor,
    /// The stream's waiter list generation (read without the lock).
    generation: Generation,
    /// Set when the player registered at the end of the queue. While its
    /// registration is current, nothing was published and the feed is
    /// pending without locking the stream.
    parked: bool,
    /// The waker it last parked with (kept across parks: a player's task
    /// keeps its waker, so parking again clones nothing).
    parked_waker: Option<Waker>,
}

/// What one step under the stream lock found.
enum Step {
    Item(Entry),
    /// Items were queued in `pending` (a skip re-sent headers or an end).
    Queued,
    Wait,
    Close(String),
}

/// A player's read state.
#[derive(Debug)]
struct Cursor {
    /// Sent before the queue: the join snapshot, or what a skip re-sends.
    pending: VecDeque<Entry>,
    /// Next queue position to read.
    pos: u64,
    /// End markers delivered (or known to be before `pos`).
    ends_seen: u64,
    /// Dropping frames until a starting point (keyframe; audio frame for an
    /// audio-only stream).
    skipping: bool,
    registration: Registration,
    rule: LagRule,
    /// Times of the recent skips (at most `max_skips + 1`).
    recent_skips: VecDeque<Instant>,
    skips: u64,
    skipped_messages: u64,
    closed: Option<String>,
}

impl StreamFeed {
    pub(crate) fn new(stream: Arc<Stream>, hub: Arc<HubInner>, rule: LagRule) -> StreamFeed {
        let (join, generation) = {
            let mut state = stream.lock();
            (state.join(), state.waiters.generation())
        };
        StreamFeed {
            stream,
            hub,
            generation,
            parked: false,
            parked_waker: None,
            cursor: Cursor {
                pending: join.snapshot,
                pos: join.pos,
                ends_seen: join.ends_seen,
                skipping: join.wait_keyframe,
                registration: Registration::default(),
                rule,
                recent_skips: VecDeque::new(),
                skips: 0,
                skipped_messages: 0,
                closed: None,
            },
        }
    }

    /// How many times this player skipped ahead because it lagged.
    pub fn skips(&self) -> u64 {
        self.cursor.skips
    }
}

impl PlayFeed for StreamFeed {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<FeedItem> {
        let cursor = &mut self.cursor;
        if let Some(reason) = &cursor.closed {
            return Poll::Ready(FeedItem::Close(reason.clone()));
        }
        if self.parked {
            // Nobody published since this player registered this waker.
            if cursor.pending.is_empty()
                && cursor.registration.generation() == Some(self.generation.current())
                && self
                    .parked_waker
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                return Poll::Pending;
            }
            self.parked = false;
        }
        loop {
            if let Some(entry) = cursor.pending.pop_front() {
                return Poll::Ready(entry.into_item());
            }
            // The clock, read once per batch outside the lock: entries
            // appended after this count as just arrived.
            let now = Instant::now();
            let mut expired = None;
            let mut woken = Vec::new();
            let mut park: bool;
            let step = {
                let mut state = self.stream.lock();
                if state.vacancy.is_some() {
                    // A reconnect window that passed with no timer to close
                    // it (the hub driven without a runtime): checked lazily.
                    expired = state.expire_due(now);
                    if expired.is_some() {
                        state.waiters.take_all(&mut woken);
                    }
                }
                let step = cursor.step(&mut state, Some(cx), now);
                // Waiting at the end of the queue (a vacancy is checked
                // lazily on every poll, so it never parks).
                park = matches!(step, Step::Wait)
                    && state.vacancy.is_none()
                    && cursor.pending.is_empty();
                if matches!(step, Step::Item(_)) {
                    // Take what else is ready while holding the lock once.
                    while cursor.pending.len() + 1 < READ_BATCH {
                        match cursor.step(&mut state, None, now) {
                            Step::Item(entry) => cursor.pending.push_back(entry),
                            _ => break,
                        }
                    }
                    // This was the last entry: register now, under the same
                    // lock, so that the poll right after this item parks
                    // without taking the lock again (one lock per frame per
                    // player instead of two).
                    if cursor.pending.is_empty()
                        && state.vacancy.is_none()
                        && cursor.pos >= state.ring.tail()
                    {
                        state.waiters.register(&mut cursor.registration, cx.waker());
                        park = true;
                    }
                }
                step
            };
            if park {
                self.parked = true;
                if !self
                    .parked_waker
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()))
                {
                    self.parked_waker = Some(cx.waker().clone());
                }
            }
            if let Some(waited) = expired {
                woken.into_iter().for_each(Waker::wake);
                crate::takeover::log_expired(&self.stream, waited);
            }
            match step {
                // The lock is released: a data message is cloned outside it.
                Step::Item(entry) => return Poll::Ready(entry.into_item()),
                Step::Queued => continue,
                Step::Wait => return Poll::Pending,
                Step::Close(reason) => {
                    tracing::debug!(stream = %self.stream.key, %reason, "player cut off");
                    cursor.closed = Some(reason.clone());
                    return Poll::Ready(FeedItem::Close(reason));
                }
            }
        }
    }
}

impl Drop for StreamFeed {
    fn drop(&mut self) {
        let idle = {
            let mut state = self.stream.lock();
            state.waiters.unregister(&mut self.cursor.registration);
            state.leave();
            state.is_idle()
        };
        tracing::debug!(
            stream = %self.stream.key,
            skips = self.cursor.skips,
            skipped_messages = self.cursor.skipped_messages,
            "player left"
        );
        if idle {
            self.hub.remove_if_idle(&self.stream);
        }
    }
}

impl Cursor {
    /// Reads the next entry to send, skipping what a lagging player drops.
    /// Runs under the stream lock: only `Arc` clones, no allocation. With
    /// no context (reading ahead in a batch) it stops, without registering
    /// or counting a lag, where the next entry is not plainly ready. `now`
    /// is the server's clock, read before the lock was taken.
    fn step(
        &mut self,
        state: &mut StreamState,
        cx: Option<&mut Context<'_>>,
        now: Instant,
    ) -> Step {
        loop {
            let lagging = self.pos < state.ring.head()
                || state
                    .ring
                    .get(self.pos)
                    .is_some_and(|slot| !self.skipping && self.is_behind(slot, now));
            if lagging && cx.is_none() {
                return Step::Wait;
            }
            if lagging {
                // The queue moved past this player, or it is too far
                // behind real time.
                if let Err(reason) = self.lag(state, now) {
                    return Step::Close(reason);
                }
                if !self.pending.is_empty() {
                    return Step::Queued;
                }
                continue;
            }
            let Some(slot) = state.ring.get(self.pos) else {
                if let Some(cx) = cx {
                    state.waiters.register(&mut self.registration, cx.waker());
                }
                return Step::Wait;
            };
            self.pos += 1;
            match &slot.entry {
                Entry::End => {
                    self.ends_seen = slot.ends_before + 1;
                    self.skipping = false;
                }
                Entry::Data(_) => {}
                Entry::Media { msg, class } => {
                    if self.skipping && slot.ends_before != state.ends_total {
                        // A publication that already ended: nothing in it
                        // is worth catching up on; its end comes next.
                        self.skipped_messages += 1;
                        continue;
                    }
                    if self.skipping {
                        match class {
                            // The player needs every decoder configuration.
                            MediaClass::SequenceHeader => {}
                            // Not on a keyframe that is itself too old.
                            MediaClass::Keyframe if !self.too_old(slot.arrived, now) => {
                                self.skipping = false;
                            }
                            MediaClass::Frame
                                if msg.kind() == MediaKind::Audio && !state.has_video =>
                            {
                                self.skipping = false;
                            }
                            MediaClass::Keyframe | MediaClass::Frame => {
                                self.skipped_messages += 1;
                                continue;
                            }
                        }
                    }
                }
            }
            return Step::Item(slot.entry.clone());
        }
    }

    /// Whether the player, about to read this entry, is more than the
    /// allowed lag behind real time. Only a frame makes it lag: sequence
    /// headers, data and end markers are never dropped, so they are read
    /// whatever their age (the frame after them decides). Arrival times,
    /// unlike timestamps, compare across publications: a frame of a
    /// publication that ended counts like any other.
    fn is_behind(&self, slot: &Slot, now: Instant) -> bool {
        match &slot.entry {
            Entry::Media { class, .. } if *class != MediaClass::SequenceHeader => {
                self.too_old(slot.arrived, now)
            }
            _ => false,
        }
    }

    /// Whether something that arrived at `arrived` is more than the allowed
    /// lag in the past.
    fn too_old(&self, arrived: Instant, now: Instant) -> bool {
        now.saturating_duration_since(arrived) > self.rule.max_lag
    }

    /// The player lagged: count it (or cut it off), then move it to where
    /// it resumes, queueing what it must not miss from the part it skips.
    fn lag(&mut self, state: &StreamState, now: Instant) -> Result<(), String> {
        self.skips += 1;
        while let Some(&t) = self.recent_skips.front() {
            if now.duration_since(t) > self.rule.window {
                self.recent_skips.pop_front();
            } else {
                break;
            }
        }
        self.recent_skips.push_back(now);
        if self.recent_skips.len() > self.rule.max_skips {
            return Err(format!(
                "player lagging: skipped {} times within {} s",
                self.recent_skips.len(),
                self.rule.window.as_secs()
            ));
        }

        let (head, tail) = (state.ring.head(), state.ring.tail());
        let from = self.pos;
        let (to, skipping) = if !state.has_video {
            // Audio only: resume at the next audio frame.
            (tail, false)
        } else {
            match state.last_keyframe {
                Some((seq, arrived))
                    if seq > from && seq >= head && seq < tail && !self.too_old(arrived, now) =>
                {
                    (seq, false)
                }
                // Drop frames until the next keyframe.
                _ => (from.max(head), true),
            }
        };
        // The end of a publication in the skipped part is still delivered.
        let ends_at = match state.ring.get(to) {
            Some(slot) => slot.ends_before,
            None => state.ends_total,
        };
        if ends_at > self.ends_seen {
            self.pending.push_back(Entry::End);
            self.ends_seen = ends_at;
        }
        // So are metadata and sequence headers published in it.
        for stored in [&state.metadata, &state.video_header, &state.audio_header]
            .into_iter()
            .flatten()
        {
            if (from..to).contains(&stored.seq) {
                self.pending.push_back(stored.entry.clone());
            }
        }
        self.skipped_messages += to - from;
        tracing::debug!(
            from,
            to,
            waiting_for_keyframe = skipping,
            skips = self.skips,
            "player lagging: skipped ahead"
        );
        self.pos = to;
        self.skipping = skipping;
        Ok(())
    }
}
