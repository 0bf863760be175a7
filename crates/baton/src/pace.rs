//! Pacing by timestamps: a tag is sent when as much wall-clock time has
//! passed since the first tag as media time has. Pure arithmetic on the
//! `now` the caller passes in, so tests drive it with a fake clock.
//!
//! A forward jump in the timestamps larger than the cap (a gap in a
//! recording, a broken file) is not slept through: the wait is cut to the
//! cap and the clock is re-anchored there. A backward jump larger than the
//! cap re-anchors at once. Small backward steps (audio and video
//! interleaving) are sent at once without moving the anchor, and a sender
//! that fell behind catches up without sleeping.

use std::time::Duration;

use baton_proto::Timestamp;
use tokio::time::Instant;

/// The default longest sleep for one tag.
pub(crate) const DEFAULT_MAX_GAP: Duration = Duration::from_secs(1);

/// A jump in the timestamps that the pacer did not follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Jump {
    /// The timestamps leapt forward by this many ms past the cap.
    Forward(u64),
    /// The timestamps went back by this many ms.
    Backward(u64),
}

/// When to send one tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The instant to send at (at or before `now`: at once).
    pub(crate) send_at: Instant,
    /// A jump the pacer shortened or re-anchored on, to warn about.
    pub(crate) jump: Option<Jump>,
}

/// Maps timestamps to wall-clock instants.
#[derive(Clone, Debug)]
pub(crate) struct Pacer {
    /// The wall-clock instant of `anchor_ts`.
    anchor: Option<(Instant, Timestamp)>,
    max_gap: Duration,
}

impl Pacer {
    /// A pacer that never sleeps more than `max_gap` for one tag.
    pub(crate) fn new(max_gap: Duration) -> Self {
        Pacer {
            anchor: None,
            max_gap,
        }
    }

    /// When to send a tag with timestamp `ts`, given the current time.
    pub(crate) fn schedule(&mut self, ts: Timestamp, now: Instant) -> Decision {
        let Some((anchor_at, anchor_ts)) = self.anchor else {
            self.anchor = Some((now, ts));
            return Decision {
                send_at: now,
                jump: None,
            };
        };
        let max_gap_ms = u64::try_from(self.max_gap.as_millis()).unwrap_or(u64::MAX);
        let delta = i64::from(ts.signed_diff(anchor_ts));
        if delta < 0 {
            let back = delta.unsigned_abs();
            if back > max_gap_ms {
                self.anchor = Some((now, ts));
                return Decision {
                    send_at: now,
                    jump: Some(Jump::Backward(back)),
                };
            }
            return Decision {
                send_at: now,
                jump: None,
            };
        }
        let target = anchor_at + Duration::from_millis(delta.unsigned_abs());
        let wait = target.saturating_duration_since(now);
        if wait > self.max_gap {
            let send_at = now + self.max_gap;
            self.anchor = Some((send_at, ts));
            let extra = u64::try_from((wait - self.max_gap).as_millis()).unwrap_or(u64::MAX);
            return Decision {
                send_at,
                jump: Some(Jump::Forward(extra)),
            };
        }
        Decision {
            send_at: target.max(now),
            jump: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn sends_each_tag_when_its_media_time_has_passed() {
        let t0 = Instant::now();
        let mut p = Pacer::new(DEFAULT_MAX_GAP);
        // The first tag anchors the clock, whatever its timestamp.
        assert_eq!(p.schedule(Timestamp(5000), t0).send_at, t0);
        // 40 ms of media later, sent 40 ms after the first.
        let d = p.schedule(Timestamp(5040), t0 + ms(1));
        assert_eq!(
            d,
            Decision {
                send_at: t0 + ms(40),
                jump: None
            }
        );
        // Sent late (the clock is at 100 ms for a tag due at 80): at once.
        let d = p.schedule(Timestamp(5080), t0 + ms(100));
        assert_eq!(d.send_at, t0 + ms(100));
        // Falling behind does not move the anchor: the next tag is due at
        // 120 ms, not 100 + 40.
        assert_eq!(
            p.schedule(Timestamp(5120), t0 + ms(101)).send_at,
            t0 + ms(120)
        );
    }

    #[test]
    fn small_backward_steps_go_at_once_and_keep_the_anchor() {
        let t0 = Instant::now();
        let mut p = Pacer::new(DEFAULT_MAX_GAP);
        p.schedule(Timestamp(100), t0);
        // Audio 20 ms before the anchoring video tag.
        let d = p.schedule(Timestamp(80), t0 + ms(2));
        assert_eq!(
            d,
            Decision {
                send_at: t0 + ms(2),
                jump: None
            }
        );
        assert_eq!(p.schedule(Timestamp(600), t0 + ms(3)).send_at, t0 + ms(500));
    }

    #[test]
    fn a_forward_gap_is_capped_and_reanchored() {
        let t0 = Instant::now();
        let mut p = Pacer::new(DEFAULT_MAX_GAP);
        p.schedule(Timestamp(0), t0);
        // A 60 s hole in the timestamps: wait only 1 s, and warn.
        let d = p.schedule(Timestamp(60_000), t0 + ms(10));
        assert_eq!(d.send_at, t0 + ms(1010));
        assert_eq!(d.jump, Some(Jump::Forward(58_990)));
        // Later tags are paced from the capped point.
        let d = p.schedule(Timestamp(60_040), t0 + ms(1011));
        assert_eq!(
            d,
            Decision {
                send_at: t0 + ms(1050),
                jump: None
            }
        );
    }

    #[test]
    fn exactly_the_cap_is_waited_in_full() {
        let t0 = Instant::now();
        let mut p = Pacer::new(ms(500));
        p.schedule(Timestamp(0), t0);
        assert_eq!(
            p.schedule(Timestamp(500), t0),
            Decision {
                send_at: t0 + ms(500),
                jump: None
            }
        );
    }

    #[test]
    fn a_large_backward_jump_reanchors() {
        let t0 = Instant::now();
        let mut p = Pacer::new(DEFAULT_MAX_GAP);
        p.schedule(Timestamp(10_000), t0);
        let d = p.schedule(Timestamp(0), t0 + ms(5));
        assert_eq!(
            d,
            Decision {
                send_at: t0 + ms(5),
                jump: Some(Jump::Backward(10_000))
            }
        );
        assert_eq!(p.schedule(Timestamp(40), t0 + ms(6)).send_at, t0 + ms(45));
    }

    #[test]
    fn paces_across_the_32_bit_wrap() {
        let t0 = Instant::now();
        let mut p = Pacer::new(DEFAULT_MAX_GAP);
        p.schedule(Timestamp(u32::MAX - 9), t0);
        // 20 ms later in serial-number order.
        assert_eq!(p.schedule(Timestamp(10), t0).send_at, t0 + ms(20));
    }
}
