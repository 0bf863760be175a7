//! The synthetic video frames: their sizes (a GOP adds up to the bitrate)
//! and their bytes, H.264-in-FLV framing around one NAL unit that carries
//! the bench header.
//!
//! ```text
//!  0x17|0x27  1 (NALU)  0 0 0 (cts)  NAL length (u32 BE)
//!  0x65|0x41  "BTNB"  publisher u32  seq u64  send time µs u64  0xA5...
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::units::Bitrate;

/// Marks a bench frame.
pub const MAGIC: [u8; 4] = *b"BTNB";
/// Bytes before the NAL unit: frame type, packet type, composition time,
/// NAL length.
const FLV_HEADER: usize = 9;
/// Offset of the magic: after the FLV header and the NAL header byte.
const MAGIC_AT: usize = FLV_HEADER + 1;
/// Smallest frame: everything up to the end of the send time.
pub const MIN_FRAME: usize = MAGIC_AT + 4 + 4 + 8 + 8;
/// Filler byte (non-zero, so that no start code appears).
const FILLER: u8 = 0xA5;

/// Frame sizes for a bitrate, frame rate, keyframe interval and ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameSizes {
    /// Frames per GOP (one keyframe, then inter frames).
    pub gop_frames: u64,
    /// Bytes of a keyframe's tag body.
    pub key: usize,
    /// Bytes of an inter frame's tag body.
    pub inter: usize,
}

impl FrameSizes {
    /// Sizes such that a GOP (`interval_secs` × `fps` frames) carries
    /// `bitrate` × `interval_secs` / 8 bytes, a keyframe being `ratio`
    /// inter frames.
    pub fn new(bitrate: Bitrate, fps: u32, interval_secs: f64, ratio: f64) -> FrameSizes {
        let gop_frames = (interval_secs * f64::from(fps)).round().max(1.0) as u64;
        let gop_bytes = bitrate.bytes_per_sec() * interval_secs;
        let units = (gop_frames - 1) as f64 + ratio;
        let inter = (gop_bytes / units).round() as usize;
        let key = (gop_bytes / units * ratio).round() as usize;
        FrameSizes {
            gop_frames,
            key: key.max(MIN_FRAME),
            inter: inter.max(MIN_FRAME),
        }
    }

    /// Whether frame `seq` starts a GOP.
    pub fn is_key(&self, seq: u64) -> bool {
        seq % self.gop_frames == 0
    }

    /// The size of frame `seq`.
    pub fn size(&self, seq: u64) -> usize {
        if self.is_key(seq) {
            self.key
        } else {
            self.inter
        }
    }
}

/// What a player reads from a bench frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// A keyframe (FLV frame type 1).
    pub key: bool,
    /// Index of the publisher that sent it.
    pub publisher: u32,
    /// Its sequence number in that publisher's stream (0: the first frame).
    pub seq: u64,
    /// When it was sent, in µs since the run's start.
    pub sent_us: u64,
}

impl FrameHeader {
    /// Reads the header of a bench frame; `None` for any other video tag
    /// (a sequence header, another source's frame).
    pub fn decode(payload: &[u8]) -> Option<FrameHeader> {
        if payload.len() < MIN_FRAME || payload[1] != 1 || payload[MAGIC_AT..MAGIC_AT + 4] != MAGIC
        {
            return None;
        }
        let key = match payload[0] {
            0x17 => true,
            0x27 => false,
            _ => return None,
        };
        let u32_at = |i: usize| u32::from_be_bytes(payload[i..i + 4].try_into().unwrap_or([0; 4]));
        let u64_at = |i: usize| u64::from_be_bytes(payload[i..i + 8].try_into().unwrap_or([0; 8]));
        let at = MAGIC_AT + 4;
        Some(FrameHeader {
            key,
            publisher: u32_at(at),
            seq: u64_at(at + 4),
            sent_us: u64_at(at + 12),
        })
    }

    /// Appends the frame's tag body, `size` bytes (at least [`MIN_FRAME`]).
    pub fn encode(&self, size: usize, out: &mut BytesMut) {
        let size = size.max(MIN_FRAME);
        out.reserve(size);
        out.put_u8(if self.key { 0x17 } else { 0x27 });
        out.put_u8(1); // AVCPacketType: NAL units
        out.put_slice(&[0, 0, 0]); // composition time
        out.put_u32((size - FLV_HEADER) as u32);
        out.put_u8(if self.key { 0x65 } else { 0x41 });
        out.put_slice(&MAGIC);
        out.put_u32(self.publisher);
        out.put_u64(self.seq);
        out.put_u64(self.sent_us);
        out.put_bytes(FILLER, size - MIN_FRAME);
    }
}

/// Builds frames into one buffer, split off as [`Bytes`] (no allocation per
/// frame while the server's copy of earlier frames is gone).
#[derive(Debug)]
pub struct FrameWriter {
    buf: BytesMut,
}

impl FrameWriter {
    /// A writer with room for a few keyframes.
    pub fn new(sizes: &FrameSizes) -> FrameWriter {
        FrameWriter {
            buf: BytesMut::with_capacity(sizes.key * 4),
        }
    }

    /// One frame's tag body.
    pub fn frame(&mut self, header: &FrameHeader, size: usize) -> Bytes {
        header.encode(size, &mut self.buf);
        self.buf.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_add_up_to_the_bitrate() {
        let s = FrameSizes::new(Bitrate::from_bps(2_000_000), 30, 2.0, 6.0);
        assert_eq!(s.gop_frames, 60);
        assert_eq!(s.inter, 7692);
        assert_eq!(s.key, 46154);
        let gop: usize = (0..60).map(|i| s.size(i)).sum();
        assert!((gop as i64 - 500_000).abs() < 60, "{gop}");
        assert!(s.is_key(0) && s.is_key(60) && !s.is_key(59));
        // Tiny bitrates still fit the header.
        let s = FrameSizes::new(Bitrate::from_bps(1000), 30, 1.0, 1.0);
        assert_eq!(s.inter, MIN_FRAME);
    }

    #[test]
    fn round_trip() {
        let mut w = FrameWriter::new(&FrameSizes::new(Bitrate::from_bps(1_000_000), 25, 1.0, 4.0));
        for (key, size) in [(true, 5000), (false, 40), (false, 1)] {
            let h = FrameHeader {
                key,
                publisher: 7,
                seq: 123_456_789_012,
                sent_us: 42,
            };
            let bytes = w.frame(&h, size);
            assert_eq!(bytes.len(), size.max(MIN_FRAME));
            assert_eq!(FrameHeader::decode(&bytes), Some(h));
            let nal_len = u32::from_be_bytes(bytes[5..9].try_into().unwrap()) as usize;
            assert_eq!(nal_len + 9, bytes.len());
            assert_eq!(bytes[9], if key { 0x65 } else { 0x41 });
            assert!(bytes[MIN_FRAME..].iter().all(|&b| b == FILLER));
        }
        assert_eq!(FrameHeader::decode(&[0x17, 0, 0, 0, 0, 1, 2, 3]), None);
        let mut other = vec![0x27, 1, 0, 0, 0, 0, 0, 0, 30, 0x41];
        other.resize(64, 0);
        assert_eq!(FrameHeader::decode(&other), None);
    }
}
