//! Writing FLV (v10.1 annex E.2-E.4.1): the file header with
//! PreviousTagSize0, then each tag followed by its PreviousTagSize.

use bytes::{BufMut, BytesMut};

use super::{FlvError, FlvHeader, FlvTag, HEADER_SIZE, SIGNATURE, TAG_HEADER_SIZE};

/// Largest DataSize (UI24).
const MAX_DATA_SIZE: usize = 0x00ff_ffff;

/// Writes FLV headers and tags.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlvWriter;

impl FlvWriter {
    /// Appends a version 1 header (DataOffset 9) and PreviousTagSize0.
    pub fn header(h: &FlvHeader, out: &mut BytesMut) {
        out.put_slice(&SIGNATURE);
        out.put_u8(1);
        out.put_u8((u8::from(h.has_audio) << 2) | u8::from(h.has_video));
        out.put_u32(HEADER_SIZE);
        out.put_u32(0);
    }

    /// Appends a tag header, the data and the PreviousTagSize. Fails, writing
    /// nothing, if the data does not fit the 24-bit DataSize.
    pub fn tag(tag: &FlvTag, out: &mut BytesMut) -> Result<(), FlvError> {
        let size = tag.data.len();
        if size > MAX_DATA_SIZE {
            return Err(FlvError::DataTooLarge { size });
        }
        let [_, s0, s1, s2] = (size as u32).to_be_bytes();
        let [t3, t0, t1, t2] = tag.timestamp.as_millis().to_be_bytes();
        out.reserve(TAG_HEADER_SIZE as usize + size + 4);
        out.put_slice(&[tag.tag_type.to_u8(), s0, s1, s2, t0, t1, t2, t3, 0, 0, 0]);
        out.put_slice(&tag.data);
        out.put_u32(TAG_HEADER_SIZE + size as u32);
        Ok(())
    }
}
