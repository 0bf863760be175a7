//! Command-line quantities: a bitrate (`600k`, `2M`, `8000000`) and a
//! duration in seconds (`2`, `0.5`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// A bitrate in bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bitrate(u64);

/// A value that is not a usable quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not {expected}")]
pub struct UnitError {
    /// The text given.
    pub value: String,
    /// What was expected.
    pub expected: &'static str,
}

impl Bitrate {
    /// A bitrate of `bps` bits per second.
    pub const fn from_bps(bps: u64) -> Bitrate {
        Bitrate(bps)
    }

    /// Bits per second.
    pub const fn bps(self) -> u64 {
        self.0
    }

    /// Bytes per second.
    pub fn bytes_per_sec(self) -> f64 {
        self.0 as f64 / 8.0
    }
}

impl FromStr for Bitrate {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Bitrate, UnitError> {
        let err = || UnitError {
            value: s.to_owned(),
            expected: "a bitrate such as 600k, 2M or 8000000",
        };
        let t = s.trim();
        let (number, factor) = match t.char_indices().last() {
            Some((i, 'k' | 'K')) => (&t[..i], 1e3),
            Some((i, 'm' | 'M')) => (&t[..i], 1e6),
            Some((i, 'g' | 'G')) => (&t[..i], 1e9),
            _ => (t, 1.0),
        };
        let value: f64 = number.trim().parse().map_err(|_| err())?;
        let bps = value * factor;
        if !bps.is_finite() || !(1.0..=1e12).contains(&bps) {
            return Err(err());
        }
        Ok(Bitrate(bps.round() as u64))
    }
}

impl fmt::Display for Bitrate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bps = self.0 as f64;
        if bps >= 1e6 {
            write!(f, "{}M", bps / 1e6)
        } else if bps >= 1e3 {
            write!(f, "{}k", bps / 1e3)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Serialize for Bitrate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// A non-negative duration given in seconds.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Seconds(f64);

impl Seconds {
    /// `secs` seconds (negative or non-finite values become 0).
    pub fn new(secs: f64) -> Seconds {
        Seconds(if secs.is_finite() && secs > 0.0 {
            secs
        } else {
            0.0
        })
    }

    /// The value in seconds.
    pub fn secs(self) -> f64 {
        self.0
    }

    /// As a [`Duration`].
    pub fn duration(self) -> Duration {
        Duration::from_secs_f64(self.0)
    }
}

impl FromStr for Seconds {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Seconds, UnitError> {
        let err = || UnitError {
            value: s.to_owned(),
            expected: "a number of seconds (such as 2 or 0.5)",
        };
        let t = s.trim();
        let t = t.strip_suffix('s').unwrap_or(t);
        let value: f64 = t.parse().map_err(|_| err())?;
        if !value.is_finite() || !(0.0..=86_400.0).contains(&value) {
            return Err(err());
        }
        Ok(Seconds(value))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitrates() {
        assert_eq!("600k".parse::<Bitrate>().unwrap().bps(), 600_000);
        assert_eq!("2M".parse::<Bitrate>().unwrap().bps(), 2_000_000);
        assert_eq!("2.5m".parse::<Bitrate>().unwrap().bps(), 2_500_000);
        assert_eq!("8000000".parse::<Bitrate>().unwrap().bps(), 8_000_000);
        assert!("fast".parse::<Bitrate>().is_err());
        assert!("0".parse::<Bitrate>().is_err());
        assert!("-2M".parse::<Bitrate>().is_err());
        assert_eq!(Bitrate::from_bps(2_000_000).to_string(), "2M");
    }

    #[test]
    fn seconds() {
        assert_eq!("2".parse::<Seconds>().unwrap().secs(), 2.0);
        assert_eq!(
            "0.25s".parse::<Seconds>().unwrap().duration().as_millis(),
            250
        );
        assert!("-1".parse::<Seconds>().is_err());
        assert!("soon".parse::<Seconds>().is_err());
    }
}
