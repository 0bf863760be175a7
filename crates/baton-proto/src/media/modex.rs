//! ModEx, the "modify and extend" packet type (value 7 in both
//! `VideoPacketType` and `AudioPacketType`, Enhanced RTMP v2
//! ExVideoTagHeader / ExAudioTagHeader):
//!
//! ```text
//! while (packetType == ModEx) {
//!   modExDataSize = UI8 + 1; if (modExDataSize == 256) modExDataSize = UI16 + 1
//!   modExData     = UI8[modExDataSize]
//!   modExType     = UB[4]; packetType = UB[4]
//!   if (modExType == TimestampOffsetNano) offset = bytesToUI24(modExData)
//! }
//! ```
//!
//! The only ModEx type defined is TimestampOffsetNano (0). Blocks of other
//! types carry their own size, so they are skipped rather than refused.

use bytes::{BufMut, BytesMut};

use super::cursor::put_u24;
use super::{MAX_TIMESTAMP_OFFSET_NANOS, MediaError};

/// The ModEx packet type, the same value for audio and video.
pub(crate) const MODEX: u8 = 7;

/// The TimestampOffsetNano ModEx type.
const TIMESTAMP_OFFSET_NANO: u8 = 0;

/// What a run of ModEx blocks resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModEx {
    /// The packet type that follows the last block.
    pub(crate) packet_type: u8,
    /// Bytes the blocks took.
    pub(crate) consumed: usize,
    /// The TimestampOffsetNano, if a block carried one (the last one wins).
    pub(crate) nanos: Option<u32>,
}

/// Reads ModEx blocks from `buf`, which starts right after the header byte
/// whose packet type was ModEx. Each block takes at least 3 bytes, so the
/// loop ends within `buf.len() / 3` rounds.
pub(crate) fn read(buf: &[u8]) -> Result<ModEx, MediaError> {
    let byte = |pos: usize, what: &'static str| -> Result<u8, MediaError> {
        buf.get(pos).copied().ok_or(MediaError::Truncated { what })
    };
    let mut pos = 0usize;
    let mut nanos = None;
    loop {
        let mut size = usize::from(byte(pos, "ModEx data size")?) + 1;
        pos += 1;
        if size == 256 {
            let hi = byte(pos, "ModEx data size")?;
            let lo = byte(pos + 1, "ModEx data size")?;
            size = usize::from(u16::from_be_bytes([hi, lo])) + 1;
            pos += 2;
        }
        let data = buf
            .get(pos..pos.saturating_add(size))
            .ok_or(MediaError::Truncated { what: "ModEx data" })?;
        pos += size;
        let types = byte(pos, "ModEx type")?;
        pos += 1;
        if types >> 4 == TIMESTAMP_OFFSET_NANO {
            let [a, b, c] = match data {
                [a, b, c, ..] => [*a, *b, *c],
                _ => return Err(MediaError::ModExTooShort { len: data.len() }),
            };
            let n = u32::from_be_bytes([0, a, b, c]);
            if n > MAX_TIMESTAMP_OFFSET_NANOS {
                return Err(MediaError::TimestampOffsetOutOfRange(n));
            }
            nanos = Some(n);
        }
        let packet_type = types & 0x0f;
        if packet_type != MODEX {
            return Ok(ModEx {
                packet_type,
                consumed: pos,
                nanos,
            });
        }
    }
}

/// Writes one TimestampOffsetNano block followed by the real packet type;
/// the caller has written the header byte with packet type ModEx.
pub(crate) fn put_timestamp_offset(
    out: &mut BytesMut,
    nanos: u32,
    packet_type: u8,
) -> Result<(), MediaError> {
    if nanos > MAX_TIMESTAMP_OFFSET_NANOS {
        return Err(MediaError::Unencodable(
            "timestamp_offset_nanos is above 999999",
        ));
    }
    out.put_u8(3 - 1);
    put_u24(out, nanos);
    out.put_u8((TIMESTAMP_OFFSET_NANO << 4) | (packet_type & 0x0f));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_nano_offset() {
        // size-1 = 2, 0x0F423F = 999999, then [TimestampOffsetNano | CodedFrames].
        let m = read(&[0x02, 0x0f, 0x42, 0x3f, 0x01, 0xaa]).unwrap();
        assert_eq!(
            m,
            ModEx {
                packet_type: 1,
                consumed: 5,
                nanos: Some(999_999)
            }
        );
    }

    #[test]
    fn skips_unknown_types_and_chains_blocks() {
        // An unknown type-5 block of 1 byte chaining to ModEx, then a nano
        // offset of 4 bytes (only the first 3 count), then SequenceStart.
        let buf = [0x00, 0xee, 0x57, 0x03, 0x00, 0x00, 0x10, 0xff, 0x00];
        let m = read(&buf).unwrap();
        assert_eq!(m.packet_type, 0);
        assert_eq!(m.consumed, buf.len());
        assert_eq!(m.nanos, Some(16));
    }

    #[test]
    fn sixteen_bit_size() {
        let mut buf = vec![0xff, 0x01, 0x00]; // UI16 0x0100 + 1 = 257 bytes
        buf.extend(std::iter::repeat_n(0u8, 257));
        buf.push(0x13); // unknown ModEx type 1, packet type 3
        let m = read(&buf).unwrap();
        assert_eq!((m.packet_type, m.consumed, m.nanos), (3, buf.len(), None));
        assert_eq!(
            read(&buf[..100]),
            Err(MediaError::Truncated { what: "ModEx data" })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            read(&[]),
            Err(MediaError::Truncated {
                what: "ModEx data size"
            })
        );
        assert_eq!(
            read(&[0x01, 0, 0, 0x01]),
            Err(MediaError::ModExTooShort { len: 2 })
        );
        assert_eq!(
            read(&[0x02, 0x0f, 0x42, 0x40, 0x01]),
            Err(MediaError::TimestampOffsetOutOfRange(1_000_000))
        );
        assert_eq!(
            read(&[0x02, 0, 0, 0]),
            Err(MediaError::Truncated { what: "ModEx type" })
        );
    }

    #[test]
    fn writes_what_it_reads() {
        let mut out = BytesMut::new();
        put_timestamp_offset(&mut out, 123_456, 3).unwrap();
        assert_eq!(read(&out).unwrap().nanos, Some(123_456));
        assert!(put_timestamp_offset(&mut out, 1_000_000, 3).is_err());
    }
}
