//! Sequence accounting of one player: unique frames, duplicates and
//! reordered frames, with a 64-frame window of what was seen (plain
//! counters, no allocation).

/// What one received sequence number was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Not seen before, in order (possibly after a gap).
    New,
    /// Not seen before, older than the newest seen.
    Reordered,
    /// Seen before.
    Duplicate,
}

/// The counters of one player's stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqTracker {
    /// The first sequence number received.
    pub first: Option<u64>,
    /// The newest sequence number received.
    pub highest: u64,
    /// Bit i: `highest - i` was received.
    window: u64,
    /// Distinct frames received.
    pub unique: u64,
    /// Frames received again.
    pub duplicated: u64,
    /// Frames received after a newer one.
    pub reordered: u64,
}

impl SeqTracker {
    /// Counts one received frame.
    pub fn record(&mut self, seq: u64) -> Arrival {
        let Some(first) = self.first else {
            self.first = Some(seq);
            self.highest = seq;
            self.window = 1;
            self.unique = 1;
            return Arrival::New;
        };
        if seq > self.highest {
            let shift = seq - self.highest;
            self.window = if shift >= 64 { 0 } else { self.window << shift };
            self.window |= 1;
            self.highest = seq;
            self.unique += 1;
            return Arrival::New;
        }
        let back = self.highest - seq;
        if back < 64 && self.window >> back & 1 == 1 {
            self.duplicated += 1;
            return Arrival::Duplicate;
        }
        if back < 64 {
            self.window |= 1 << back;
        }
        if seq < first {
            self.first = Some(seq);
        }
        // Older than the window: assumed not seen (it cannot be told).
        self.unique += 1;
        self.reordered += 1;
        Arrival::Reordered
    }

    /// Frames lost when the publisher's last frame was `last_sent`: every
    /// frame from the first received to it that did not arrive.
    pub fn lost(&self, last_sent: u64) -> u64 {
        match self.first {
            Some(first) if last_sent >= first => {
                (last_sent - first + 1).saturating_sub(self.unique)
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order() {
        let mut t = SeqTracker::default();
        for s in 10..20 {
            assert_eq!(t.record(s), Arrival::New);
        }
        assert_eq!(
            (t.first, t.unique, t.duplicated, t.reordered),
            (Some(10), 10, 0, 0)
        );
        assert_eq!(t.lost(19), 0);
        assert_eq!(t.lost(24), 5, "the last five never came");
    }

    #[test]
    fn gaps_duplicates_reorders() {
        let mut t = SeqTracker::default();
        for s in [0, 1, 2, 5, 6] {
            t.record(s);
        }
        assert_eq!(t.lost(6), 2);
        assert_eq!(t.record(6), Arrival::Duplicate);
        assert_eq!(t.record(1), Arrival::Duplicate);
        assert_eq!(t.record(3), Arrival::Reordered);
        assert_eq!(t.record(3), Arrival::Duplicate);
        assert_eq!(t.lost(6), 1);
        assert_eq!((t.unique, t.duplicated, t.reordered), (6, 3, 1));
        // A jump past the window forgets the old bits.
        assert_eq!(t.record(500), Arrival::New);
        assert_eq!(t.record(499), Arrival::Reordered);
        assert_eq!(t.lost(500), 501 - 8);
    }
}
