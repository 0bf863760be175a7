//! Chunk headers (RTMP 1.0 section 5.3.1): the basic header (5.3.1.1), the
//! four message header formats (5.3.1.2) and the extended timestamp
//! (5.3.1.3).
//!
//! Parsing works on a byte slice and answers `None` when the slice is too
//! short; nothing here can fail otherwise, since every bit pattern of a
//! header is a valid header. Writing goes into a small stack buffer.

/// The value of the 24-bit timestamp (or delta) field that announces a 4-byte
/// extended timestamp (section 5.3.1.3).
pub(crate) const EXTENDED_TIMESTAMP: u32 = 0xFF_FFFF;

/// Longest chunk header: 3-byte basic header, type 0 message header,
/// extended timestamp.
pub(crate) const MAX_HEADER_LEN: usize = 3 + 11 + 4;

/// Length of the message header of chunk type `fmt` (section 5.3.1.2).
pub(crate) const fn message_header_len(fmt: u8) -> usize {
    match fmt {
        0 => 11,
        1 => 7,
        2 => 3,
        _ => 0,
    }
}

/// A parsed basic header (section 5.3.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BasicHeader {
    /// The chunk type, 0..=3: which message header follows.
    pub(crate) fmt: u8,
    /// The chunk stream ID, 2..=65599.
    pub(crate) chunk_stream_id: u32,
    /// How many bytes the basic header took (1, 2 or 3).
    pub(crate) len: usize,
}

impl BasicHeader {
    /// Parses the basic header at the front of `buf`; `None` if `buf` is too
    /// short. The 3-byte form is accepted for every ID it can hold, including
    /// 64..=319, which the 2-byte form could also carry.
    pub(crate) fn parse(buf: &[u8]) -> Option<BasicHeader> {
        let (&first, rest) = buf.split_first()?;
        let fmt = first >> 6;
        let header = match first & 0x3F {
            // "Value 0 indicates the 2 byte form and an ID in the range of
            // 64-319 (the second byte + 64)."
            0 => BasicHeader {
                fmt,
                chunk_stream_id: 64 + u32::from(*rest.first()?),
                len: 2,
            },
            // "Value 1 indicates the 3 byte form and an ID in the range of
            // 64-65599 ((the third byte)*256 + the second byte + 64)."
            1 => match rest {
                [low, high, ..] => BasicHeader {
                    fmt,
                    chunk_stream_id: 64 + u32::from(*low) + 256 * u32::from(*high),
                    len: 3,
                },
                _ => return None,
            },
            id => BasicHeader {
                fmt,
                chunk_stream_id: u32::from(id),
                len: 1,
            },
        };
        Some(header)
    }
}

/// The fields of a message header as they are on the wire (section
/// 5.3.1.2). Fields a chunk type does not carry are `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MessageHeader {
    /// The 24-bit timestamp (type 0) or timestamp delta (types 1, 2) field;
    /// `None` for type 3.
    pub(crate) timestamp: Option<u32>,
    /// Message length (types 0, 1).
    pub(crate) length: Option<u32>,
    /// Message type ID (types 0, 1).
    pub(crate) type_id: Option<u8>,
    /// Message stream ID, little-endian on the wire (type 0).
    pub(crate) stream_id: Option<u32>,
}

impl MessageHeader {
    /// Parses a message header of type `fmt` from the front of `buf`; `None`
    /// if `buf` is shorter than [`message_header_len`]`(fmt)`.
    pub(crate) fn parse(fmt: u8, buf: &[u8]) -> Option<MessageHeader> {
        let mut header = MessageHeader {
            timestamp: None,
            length: None,
            type_id: None,
            stream_id: None,
        };
        match fmt {
            0 => {
                let [t0, t1, t2, l0, l1, l2, ty, s0, s1, s2, s3, ..] = *buf else {
                    return None;
                };
                header.timestamp = Some(u24(t0, t1, t2));
                header.length = Some(u24(l0, l1, l2));
                header.type_id = Some(ty);
                header.stream_id = Some(u32::from_le_bytes([s0, s1, s2, s3]));
            }
            1 => {
                let [t0, t1, t2, l0, l1, l2, ty, ..] = *buf else {
                    return None;
                };
                header.timestamp = Some(u24(t0, t1, t2));
                header.length = Some(u24(l0, l1, l2));
                header.type_id = Some(ty);
            }
            2 => {
                let [t0, t1, t2, ..] = *buf else {
                    return None;
                };
                header.timestamp = Some(u24(t0, t1, t2));
            }
            _ => {}
        }
        Some(header)
    }
}

/// Reads a big-endian u32 from the front of `buf`; `None` if too short.
pub(crate) fn read_u32_be(buf: &[u8]) -> Option<u32> {
    match *buf {
        [a, b, c, d, ..] => Some(u32::from_be_bytes([a, b, c, d])),
        _ => None,
    }
}

fn u24(a: u8, b: u8, c: u8) -> u32 {
    u32::from_be_bytes([0, a, b, c])
}

/// A chunk header being written, on the stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderBuf {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
}

impl HeaderBuf {
    /// A header that starts with the basic header for `fmt` and
    /// `chunk_stream_id`, in its shortest form. The ID must already be checked
    /// to be in `MIN_CHUNK_STREAM_ID..=MAX_CHUNK_STREAM_ID`.
    pub(crate) fn basic(fmt: u8, chunk_stream_id: u32) -> HeaderBuf {
        let mut h = HeaderBuf {
            bytes: [0; MAX_HEADER_LEN],
            len: 0,
        };
        let fmt = fmt << 6;
        match chunk_stream_id {
            0..=63 => h.push(&[fmt | chunk_stream_id as u8]),
            64..=319 => h.push(&[fmt, (chunk_stream_id - 64) as u8]),
            _ => {
                let [low, high] = ((chunk_stream_id - 64) as u16).to_le_bytes();
                h.push(&[fmt | 1, low, high]);
            }
        }
        h
    }

    /// Appends a 24-bit big-endian field (the value must fit).
    pub(crate) fn push_u24(&mut self, v: u32) {
        let [_, a, b, c] = v.to_be_bytes();
        self.push(&[a, b, c]);
    }

    /// Appends a byte.
    pub(crate) fn push_u8(&mut self, v: u8) {
        self.push(&[v]);
    }

    /// Appends a big-endian u32 (the extended timestamp).
    pub(crate) fn push_u32_be(&mut self, v: u32) {
        self.push(&v.to_be_bytes());
    }

    /// Appends a little-endian u32 (the message stream ID).
    pub(crate) fn push_u32_le(&mut self, v: u32) {
        self.push(&v.to_le_bytes());
    }

    fn push(&mut self, bytes: &[u8]) {
        // Headers are built by this module's callers in a fixed order whose
        // longest form is MAX_HEADER_LEN bytes.
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The header bytes written so far.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Writes a chunk header of type `fmt` (section 5.3.1.2): `timestamp` is the
/// absolute timestamp for type 0 and the delta for types 1 and 2, and goes
/// into an extended timestamp field when it does not fit 24 bits. A type 3
/// header carries `extended` (the extended field of the last type 0, 1 or 2
/// header of its chunk stream) when there is one.
///
/// Returns the header and the extended timestamp value written, if any.
pub(crate) fn write_header(
    fmt: u8,
    chunk_stream_id: u32,
    timestamp: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    extended: Option<u32>,
) -> (HeaderBuf, Option<u32>) {
    let mut h = HeaderBuf::basic(fmt, chunk_stream_id);
    let ext = match fmt {
        0..=2 => (timestamp >= EXTENDED_TIMESTAMP).then_some(timestamp),
        _ => extended,
    };
    if fmt <= 2 {
        h.push_u24(timestamp.min(EXTENDED_TIMESTAMP));
    }
    if fmt <= 1 {
        h.push_u24(length);
        h.push_u8(type_id);
    }
    if fmt == 0 {
        h.push_u32_le(stream_id);
    }
    if let Some(e) = ext {
        h.push_u32_be(e);
    }
    (h, ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_forms() {
        for (id, bytes) in [
            (2u32, vec![0x02]),
            (63, vec![0x3F]),
            (64, vec![0x00, 0x00]),
            (319, vec![0x00, 0xFF]),
            (320, vec![0x01, 0x00, 0x01]),
            (365, vec![0x01, 45, 1]),
            (65599, vec![0x01, 0xFF, 0xFF]),
        ] {
            for fmt in 0..4u8 {
                let h = HeaderBuf::basic(fmt, id);
                let mut expected = bytes.clone();
                expected[0] |= fmt << 6;
                assert_eq!(h.as_slice(), &expected[..], "id {id} fmt {fmt}");
                let parsed = BasicHeader::parse(&expected).unwrap();
                assert_eq!(
                    parsed,
                    BasicHeader {
                        fmt,
                        chunk_stream_id: id,
                        len: expected.len()
                    }
                );
                assert_eq!(BasicHeader::parse(&expected[..expected.len() - 1]), None);
            }
        }
    }

    #[test]
    fn three_byte_form_of_a_two_byte_id_is_accepted() {
        // 100 - 64 = 36 in the 16-bit field.
        let parsed = BasicHeader::parse(&[0x41, 36, 0]).unwrap();
        assert_eq!(
            (parsed.fmt, parsed.chunk_stream_id, parsed.len),
            (1, 100, 3)
        );
    }

    #[test]
    fn message_header_round_trip() {
        let (h, ext) = write_header(0, 3, 1000, 32, 8, 12345, None);
        assert_eq!(ext, None);
        let bytes = h.as_slice();
        assert_eq!(bytes.len(), 1 + message_header_len(0));
        let parsed = MessageHeader::parse(0, &bytes[1..]).unwrap();
        assert_eq!(parsed.timestamp, Some(1000));
        assert_eq!(parsed.length, Some(32));
        assert_eq!(parsed.type_id, Some(8));
        assert_eq!(parsed.stream_id, Some(12345));
        assert_eq!(MessageHeader::parse(0, &bytes[1..11]), None);

        let (h, ext) = write_header(1, 3, 0x0100_0000, 7, 9, 0, None);
        assert_eq!(ext, Some(0x0100_0000));
        let bytes = h.as_slice();
        assert_eq!(bytes.len(), 1 + 7 + 4);
        let parsed = MessageHeader::parse(1, &bytes[1..]).unwrap();
        assert_eq!(parsed.timestamp, Some(EXTENDED_TIMESTAMP));
        assert_eq!(parsed.length, Some(7));
        assert_eq!(parsed.stream_id, None);
        assert_eq!(read_u32_be(&bytes[8..]), Some(0x0100_0000));

        let (h, ext) = write_header(3, 3, 0, 0, 0, 0, Some(0x0100_0000));
        assert_eq!(ext, Some(0x0100_0000));
        assert_eq!(h.as_slice(), &[0xC3, 1, 0, 0, 0]);
    }
}
