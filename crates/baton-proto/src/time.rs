//! RTMP timestamps (RTMP 1.0 section 5.3.1.2: "Timestamps in RTMP are given as
//! an integer number of milliseconds relative to an unspecified epoch ...
//! timestamps MUST be treated as modular, wrapping after 2^32 - 1").
//!
//! [`Timestamp`] is a 32-bit millisecond counter with serial-number arithmetic
//! (RFC 1982 style): two timestamps compare correctly as long as they are less
//! than 2^31 ms (about 24.8 days) apart, across the wrap.

use std::cmp::Ordering;
use std::fmt;

/// A 32-bit RTMP timestamp in milliseconds that wraps around at 2^32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timestamp(pub u32);

impl Timestamp {
    /// The zero timestamp.
    pub const ZERO: Timestamp = Timestamp(0);

    /// Creates a timestamp from a millisecond value (taken modulo 2^32).
    pub const fn from_millis(ms: u32) -> Self {
        Timestamp(ms)
    }

    /// The raw 32-bit value.
    pub const fn as_millis(self) -> u32 {
        self.0
    }

    /// `self + delta`, wrapping at 2^32.
    #[must_use]
    pub const fn wrapping_add(self, delta: u32) -> Self {
        Timestamp(self.0.wrapping_add(delta))
    }

    /// `self - delta`, wrapping at 2^32.
    #[must_use]
    pub const fn wrapping_sub(self, delta: u32) -> Self {
        Timestamp(self.0.wrapping_sub(delta))
    }

    /// The forward distance from `earlier` to `self`, modulo 2^32.
    pub const fn delta_since(self, earlier: Timestamp) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// Signed distance from `other` to `self` under serial-number arithmetic:
    /// positive when `self` is after `other`.
    pub const fn signed_diff(self, other: Timestamp) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// Serial-number comparison: correct across the wrap for timestamps less
    /// than 2^31 ms apart.
    pub fn serial_cmp(self, other: Timestamp) -> Ordering {
        self.signed_diff(other).cmp(&0)
    }

    /// Whether `self` is strictly after `other` (serial-number order).
    pub fn is_after(self, other: Timestamp) -> bool {
        self.serial_cmp(other) == Ordering::Greater
    }
}

impl From<u32> for Timestamp {
    fn from(ms: u32) -> Self {
        Timestamp(ms)
    }
}

impl From<Timestamp> for u32 {
    fn from(ts: Timestamp) -> Self {
        ts.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps_around() {
        let t = Timestamp(u32::MAX - 5);
        let u = t.wrapping_add(10);
        assert_eq!(u, Timestamp(4));
        assert_eq!(u.delta_since(t), 10);
        assert!(u.is_after(t));
        assert!(!t.is_after(u));
        assert_eq!(u.signed_diff(t), 10);
        assert_eq!(t.signed_diff(u), -10);
    }

    proptest! {
        #[test]
        fn add_then_delta_is_identity(base: u32, delta in 0u32..(1 << 31)) {
            let t = Timestamp(base);
            let u = t.wrapping_add(delta);
            prop_assert_eq!(u.delta_since(t), delta);
            prop_assert_eq!(u.wrapping_sub(delta), t);
            if delta > 0 {
                prop_assert!(u.is_after(t));
                prop_assert!(!t.is_after(u));
            }
        }
    }
}
