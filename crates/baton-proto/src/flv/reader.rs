//! Reading FLV (v10.1 annex E.2-E.4.1) from a growing buffer, sans-IO: the
//! tokio-util decoder contract, `Ok(None)` for "need more bytes".
//!
//! The reader reads each PreviousTagSize together with the tag that follows
//! it, so a tag comes out as soon as its last byte arrives (no waiting for
//! the next four bytes), and a file whose final PreviousTagSize is missing
//! still yields every tag. Header fields are checked as soon as they are in
//! the buffer, so a bad or oversized tag is refused before its data is
//! buffered.

use bytes::{Buf, BytesMut};

use super::{FlvError, FlvHeader, FlvTag, HEADER_SIZE, SIGNATURE, TAG_HEADER_SIZE, TagType};
use crate::Timestamp;

/// The largest header DataOffset accepted. Version 1 headers are 9 bytes;
/// the field exists "to accommodate larger headers in future versions", and
/// the bytes between 9 and DataOffset are skipped, up to this bound.
pub const MAX_DATA_OFFSET: u32 = 1024;

/// PreviousTagSize (4 bytes) plus a tag header (11 bytes).
const PREFIX: usize = 4 + TAG_HEADER_SIZE as usize;

/// Reads an FLV header and tags from a buffer the caller fills.
#[derive(Debug, Clone)]
pub struct FlvReader {
    max_tag_size: u32,
    /// The PreviousTagSize the next tag must be preceded by.
    previous_tag_size: u32,
}

impl FlvReader {
    /// A reader that refuses tags with more than `max_tag_size` data bytes.
    pub fn new(max_tag_size: u32) -> Self {
        FlvReader {
            max_tag_size,
            previous_tag_size: 0,
        }
    }

    /// Reads the file header (and skips any bytes up to its DataOffset).
    /// `Ok(None)`: not enough bytes yet, nothing consumed. The
    /// PreviousTagSize0 that follows is read by the first
    /// [`FlvReader::read_tag`].
    pub fn read_header(&mut self, buf: &mut BytesMut) -> Result<Option<FlvHeader>, FlvError> {
        let seen = buf.len().min(SIGNATURE.len());
        if buf[..seen] != SIGNATURE[..seen] {
            return Err(FlvError::NotFlv);
        }
        if let Some(&version) = buf.get(3) {
            if version != 1 {
                return Err(FlvError::UnsupportedVersion(version));
            }
        }
        let Some(&[flags, a, b, c, d]) = buf.get(4..9) else {
            return Ok(None);
        };
        let data_offset = u32::from_be_bytes([a, b, c, d]);
        if !(HEADER_SIZE..=MAX_DATA_OFFSET).contains(&data_offset) {
            return Err(FlvError::BadHeaderSize(data_offset));
        }
        // Bounded by MAX_DATA_OFFSET just above.
        let data_offset = data_offset as usize;
        if buf.len() < data_offset {
            return Ok(None);
        }
        buf.advance(data_offset);
        self.previous_tag_size = 0;
        Ok(Some(FlvHeader {
            has_audio: flags & 0x04 != 0,
            has_video: flags & 0x01 != 0,
        }))
    }

    /// Reads the next PreviousTagSize and tag. `Ok(None)`: not enough bytes
    /// yet, nothing consumed (at the end of a file, call
    /// [`FlvReader::finish`] with what is left).
    pub fn read_tag(&mut self, buf: &mut BytesMut) -> Result<Option<FlvTag>, FlvError> {
        let Some(&[a, b, c, d]) = buf.get(0..4) else {
            return Ok(None);
        };
        let found = u32::from_be_bytes([a, b, c, d]);
        if found != self.previous_tag_size {
            return Err(FlvError::PreviousTagSizeMismatch {
                expected: self.previous_tag_size,
                found,
            });
        }
        let Some(&[kind, s0, s1, s2, t0, t1, t2, t3, i0, i1, i2]) = buf.get(4..PREFIX) else {
            return Ok(None);
        };
        if kind & 0x20 != 0 {
            return Err(FlvError::Encrypted);
        }
        // The two reserved bits are "reserved for FMS, should be 0": ignored.
        let tag_type =
            TagType::from_u8(kind & 0x1f).ok_or(FlvError::UnknownTagType(kind & 0x1f))?;
        let size = u32::from_be_bytes([0, s0, s1, s2]);
        if size > self.max_tag_size {
            return Err(FlvError::TagTooLarge {
                size,
                max: self.max_tag_size,
            });
        }
        let stream_id = u32::from_be_bytes([0, i0, i1, i2]);
        if stream_id != 0 {
            return Err(FlvError::NonZeroStreamId(stream_id));
        }
        // 24 bits: no overflow.
        let total = PREFIX + size as usize;
        if buf.len() < total {
            return Ok(None);
        }
        buf.advance(PREFIX);
        let data = buf.split_to(size as usize).freeze();
        self.previous_tag_size = TAG_HEADER_SIZE + size;
        Ok(Some(FlvTag {
            tag_type,
            timestamp: Timestamp(u32::from_be_bytes([t3, t0, t1, t2])),
            data,
        }))
    }

    /// Checks what is left when the input has ended: nothing, or the last
    /// tag's PreviousTagSize (which may be missing). Anything else is a
    /// truncated tag.
    pub fn finish(&self, rest: &[u8]) -> Result<(), FlvError> {
        match rest {
            [] => Ok(()),
            &[a, b, c, d] => {
                let found = u32::from_be_bytes([a, b, c, d]);
                if found == self.previous_tag_size {
                    Ok(())
                } else {
                    Err(FlvError::PreviousTagSizeMismatch {
                        expected: self.previous_tag_size,
                        found,
                    })
                }
            }
            _ => Err(FlvError::Truncated),
        }
    }

    /// Reads a whole FLV file held in memory (copied once into a shared
    /// buffer; the tags' data are slices of it). A missing final
    /// PreviousTagSize is accepted; a header or tag cut short is
    /// [`FlvError::Truncated`].
    pub fn read_all(data: &[u8], max_tag_size: u32) -> Result<(FlvHeader, Vec<FlvTag>), FlvError> {
        let mut buf = BytesMut::from(data);
        let mut reader = FlvReader::new(max_tag_size);
        let header = reader.read_header(&mut buf)?.ok_or(FlvError::Truncated)?;
        let mut tags = Vec::new();
        while let Some(tag) = reader.read_tag(&mut buf)? {
            tags.push(tag);
        }
        reader.finish(&buf)?;
        Ok((header, tags))
    }
}
