//! A fixed log-linear histogram of microsecond values: exact below 64 µs,
//! then 32 buckets per power of two (under 3.2 % error), up to about 19
//! hours. Recording never allocates; histograms merge by adding counts.

/// Sub-buckets per power of two (2^5).
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Powers of two covered above the exact range.
const SHIFTS: usize = 31;
/// Total buckets.
const BUCKETS: usize = (SHIFTS + 2) * SUB as usize;

/// Counts of values by bucket, with the exact maximum.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("total", &self.total)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: 0,
        }
    }
}

/// The bucket of a value.
fn index(value: u64) -> usize {
    if value < 2 * SUB {
        return value as usize;
    }
    let msb = 63 - value.leading_zeros();
    let shift = (msb - SUB_BITS) as usize;
    if shift > SHIFTS {
        return BUCKETS - 1;
    }
    shift * SUB as usize + (value >> shift) as usize
}

/// The highest value of a bucket.
fn upper(index: usize) -> u64 {
    if index < 2 * SUB as usize {
        return index as u64;
    }
    let shift = index / SUB as usize - 1;
    let mantissa = (index % SUB as usize) as u64 + SUB;
    ((mantissa + 1) << shift) - 1
}

impl Histogram {
    /// Counts one value.
    #[inline]
    pub fn record(&mut self, value: u64) {
        self.counts[index(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0..=1): the upper bound of the bucket
    /// holding that rank, never above the maximum; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(upper(i).min(self.max));
            }
        }
        Some(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        let mut last = 0;
        for v in (0..5_000_000u64)
            .step_by(7)
            .chain([u32::MAX as u64, 1 << 36])
        {
            let i = index(v);
            assert!(i >= last, "monotonic at {v}");
            last = i;
            assert!(upper(i) >= v, "{v} within bucket {i}");
            if v >= 64 {
                assert!(
                    (upper(i) - v) as f64 / v as f64 <= 1.0 / 32.0,
                    "error at {v}"
                );
            }
        }
    }

    #[test]
    fn percentiles() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5).unwrap();
        assert!((500_000..=516_000).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99).unwrap();
        assert!((990_000..=1_000_000).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), Some(1_000_000));
        assert_eq!(h.max(), 1_000_000);

        let mut a = Histogram::default();
        let mut b = Histogram::default();
        for v in 0..10 {
            a.record(v);
            b.record(v + 10);
        }
        a.merge(&b);
        assert_eq!(a.count(), 20);
        assert_eq!(a.quantile(0.5), Some(9));
        assert_eq!(a.quantile(0.999), Some(19));
    }
}
