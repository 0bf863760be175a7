//! A bounds-checked reader over a tag payload, for the big-endian simple
//! types of Enhanced RTMP v2 "Simple Data Types" (UI8, UI16, UI24, SI24,
//! UI32, FOURCC). Every read checks the bytes left; sub-slices share the
//! payload's buffer.

use bytes::{BufMut, Bytes, BytesMut};

use super::{FourCc, MediaError};

/// Reads fields from the front of a payload.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    buf: &'a Bytes,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a Bytes) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The unread bytes, as a slice.
    pub(crate) fn unread(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Skips `n` bytes already validated by the caller (for example by
    /// [`super::modex::read`]).
    pub(crate) fn advance(&mut self, n: usize, what: &'static str) -> Result<(), MediaError> {
        if n > self.remaining() {
            return Err(MediaError::Truncated { what });
        }
        self.pos += n;
        Ok(())
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], MediaError> {
        let end = self
            .pos
            .checked_add(N)
            .ok_or(MediaError::Truncated { what })?;
        let src = self
            .buf
            .get(self.pos..end)
            .ok_or(MediaError::Truncated { what })?;
        let mut out = [0u8; N];
        out.copy_from_slice(src);
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, MediaError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u24(&mut self, what: &'static str) -> Result<u32, MediaError> {
        let [a, b, c] = self.array::<3>(what)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    pub(crate) fn si24(&mut self, what: &'static str) -> Result<i32, MediaError> {
        let [a, b, c] = self.array::<3>(what)?;
        Ok(si24_from_bytes([a, b, c]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, MediaError> {
        Ok(u32::from_be_bytes(self.array::<4>(what)?))
    }

    pub(crate) fn fourcc(&mut self, what: &'static str) -> Result<FourCc, MediaError> {
        Ok(FourCc(self.array::<4>(what)?))
    }

    /// The next `n` bytes, sharing the payload's buffer.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, MediaError> {
        if n > self.remaining() {
            return Err(MediaError::Truncated { what });
        }
        let out = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(out)
    }

    /// Everything not read yet, sharing the payload's buffer.
    pub(crate) fn rest(&mut self) -> Bytes {
        let start = self.pos.min(self.buf.len());
        self.pos = self.buf.len();
        self.buf.slice(start..)
    }
}

/// Sign-extends a big-endian SI24.
pub(crate) fn si24_from_bytes([a, b, c]: [u8; 3]) -> i32 {
    // Put the 24 bits at the top of an i32, then shift back arithmetically.
    i32::from_be_bytes([a, b, c, 0]) >> 8
}

/// The smallest and largest values an SI24 holds.
const SI24_MIN: i32 = -(1 << 23);
const SI24_MAX: i32 = (1 << 23) - 1;

/// The big-endian SI24 bytes of `v`; `None` outside the SI24 range.
pub(crate) fn si24_to_bytes(v: i32) -> Option<[u8; 3]> {
    if !(SI24_MIN..=SI24_MAX).contains(&v) {
        return None;
    }
    let [_, a, b, c] = v.to_be_bytes();
    Some([a, b, c])
}

/// Writes a UI24; the caller has checked the range.
pub(crate) fn put_u24(out: &mut BytesMut, v: u32) {
    let [_, a, b, c] = v.to_be_bytes();
    out.put_slice(&[a, b, c]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si24_sign_extends() {
        assert_eq!(si24_from_bytes([0xff, 0xff, 0xff]), -1);
        assert_eq!(si24_from_bytes([0x80, 0x00, 0x00]), SI24_MIN);
        assert_eq!(si24_from_bytes([0x7f, 0xff, 0xff]), SI24_MAX);
        assert_eq!(si24_from_bytes([0x00, 0x01, 0x00]), 256);
        assert_eq!(si24_to_bytes(-2), Some([0xff, 0xff, 0xfe]));
        assert_eq!(si24_to_bytes(SI24_MAX), Some([0x7f, 0xff, 0xff]));
        assert_eq!(si24_to_bytes(SI24_MIN), Some([0x80, 0, 0]));
        assert_eq!(si24_to_bytes(SI24_MAX + 1), None);
        assert_eq!(si24_to_bytes(SI24_MIN - 1), None);
    }

    #[test]
    fn reads_are_bounded() {
        let b = Bytes::from_static(&[1, 2, 3]);
        let mut c = Cursor::new(&b);
        assert_eq!(c.u8("a"), Ok(1));
        assert_eq!(c.u24("b"), Err(MediaError::Truncated { what: "b" }));
        assert_eq!(c.take(3, "c"), Err(MediaError::Truncated { what: "c" }));
        assert_eq!(c.take(2, "d").as_deref(), Ok(&[2u8, 3][..]));
        assert_eq!(c.remaining(), 0);
        assert!(c.rest().is_empty());
    }
}
