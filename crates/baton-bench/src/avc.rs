//! A real H.264 decoder configuration for the synthetic stream: a Baseline
//! SPS and PPS for the configured size, written with a small exp-Golomb bit
//! writer, wrapped in an AVCDecoderConfigurationRecord (ISO/IEC 14496-15
//! 5.2.4.1) and in the FLV video tag of an AVC sequence header.

use bytes::{BufMut, Bytes, BytesMut};

/// Baseline profile.
const PROFILE_BASELINE: u8 = 66;
/// constraint_set0_flag and constraint_set1_flag (Constrained Baseline).
const CONSTRAINTS: u8 = 0xC0;
/// Level 4.0 (1080p30 fits).
const LEVEL_4_0: u8 = 40;

/// Writes bits most significant first, with exp-Golomb codes.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 when it is full or absent).
    used: u8,
}

impl BitWriter {
    fn bit(&mut self, bit: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if bit {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    fn bits(&mut self, value: u32, count: u8) {
        for i in (0..count).rev() {
            self.bit(value >> i & 1 == 1);
        }
    }

    /// ue(v): unsigned exp-Golomb.
    fn ue(&mut self, value: u32) {
        let v = u64::from(value) + 1;
        let len = 64 - v.leading_zeros() as u8;
        for _ in 1..len {
            self.bit(false);
        }
        for i in (0..len).rev() {
            self.bit(v >> i & 1 == 1);
        }
    }

    /// se(v): signed exp-Golomb.
    fn se(&mut self, value: i32) {
        let mapped = if value > 0 {
            (value as u32) * 2 - 1
        } else {
            value.unsigned_abs() * 2
        };
        self.ue(mapped);
    }

    /// rbsp_trailing_bits, then the bytes.
    fn finish(mut self) -> Vec<u8> {
        self.bit(true);
        while self.used != 0 {
            self.bit(false);
        }
        self.bytes
    }
}

/// A NAL unit from its header byte and RBSP, with emulation prevention
/// bytes inserted.
fn nal(header: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// The sequence parameter set NAL unit (Baseline, 4:2:0, progressive,
/// cropped to `width` x `height`).
pub fn sps(width: u32, height: u32) -> Vec<u8> {
    let mbs_w = width.div_ceil(16).max(1);
    let mbs_h = height.div_ceil(16).max(1);
    let crop_right = (mbs_w * 16 - width) / 2;
    let crop_bottom = (mbs_h * 16 - height) / 2;
    let mut w = BitWriter::default();
    w.bits(u32::from(PROFILE_BASELINE), 8);
    w.bits(u32::from(CONSTRAINTS), 8);
    w.bits(u32::from(LEVEL_4_0), 8);
    w.ue(0); // seq_parameter_set_id
    w.ue(0); // log2_max_frame_num_minus4
    w.ue(2); // pic_order_cnt_type
    w.ue(1); // max_num_ref_frames
    w.bit(false); // gaps_in_frame_num_value_allowed_flag
    w.ue(mbs_w - 1); // pic_width_in_mbs_minus1
    w.ue(mbs_h - 1); // pic_height_in_map_units_minus1
    w.bit(true); // frame_mbs_only_flag
    w.bit(true); // direct_8x8_inference_flag
    let crop = crop_right != 0 || crop_bottom != 0;
    w.bit(crop); // frame_cropping_flag
    if crop {
        w.ue(0);
        w.ue(crop_right);
        w.ue(0);
        w.ue(crop_bottom);
    }
    w.bit(false); // vui_parameters_present_flag
    nal(0x67, &w.finish())
}

/// The picture parameter set NAL unit (CAVLC, one slice group).
pub fn pps() -> Vec<u8> {
    let mut w = BitWriter::default();
    w.ue(0); // pic_parameter_set_id
    w.ue(0); // seq_parameter_set_id
    w.bit(false); // entropy_coding_mode_flag
    w.bit(false); // bottom_field_pic_order_in_frame_present_flag
    w.ue(0); // num_slice_groups_minus1
    w.ue(0); // num_ref_idx_l0_default_active_minus1
    w.ue(0); // num_ref_idx_l1_default_active_minus1
    w.bit(false); // weighted_pred_flag
    w.bits(0, 2); // weighted_bipred_idc
    w.se(0); // pic_init_qp_minus26
    w.se(0); // pic_init_qs_minus26
    w.se(0); // chroma_qp_index_offset
    w.bit(true); // deblocking_filter_control_present_flag
    w.bit(false); // constrained_intra_pred_flag
    w.bit(false); // redundant_pic_cnt_present_flag
    nal(0x68, &w.finish())
}

/// The AVCDecoderConfigurationRecord (4-byte NAL lengths).
pub fn decoder_configuration(width: u32, height: u32) -> Vec<u8> {
    let sps = sps(width, height);
    let pps = pps();
    let mut out = Vec::with_capacity(11 + sps.len() + pps.len());
    out.push(1); // configurationVersion
    out.extend_from_slice(&sps[1..4]); // profile, compatibility, level
    out.push(0xFC | 3); // lengthSizeMinusOne = 3
    out.push(0xE0 | 1); // one SPS
    out.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    out.extend_from_slice(&sps);
    out.push(1); // one PPS
    out.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    out.extend_from_slice(&pps);
    out
}

/// The FLV video tag body of the AVC sequence header: keyframe + AVC,
/// AVCPacketType 0, composition time 0, the configuration record.
pub fn sequence_header_tag(width: u32, height: u32) -> Bytes {
    let record = decoder_configuration(width, height);
    let mut out = BytesMut::with_capacity(5 + record.len());
    out.put_slice(&[0x17, 0, 0, 0, 0]);
    out.put_slice(&record);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads bits back, removing emulation prevention bytes first.
    struct BitReader {
        bytes: Vec<u8>,
        pos: usize,
    }

    impl BitReader {
        fn from_nal(nal: &[u8]) -> BitReader {
            let mut bytes = Vec::new();
            let mut zeros = 0;
            for &b in &nal[1..] {
                if zeros >= 2 && b == 3 {
                    zeros = 0;
                    continue;
                }
                bytes.push(b);
                zeros = if b == 0 { zeros + 1 } else { 0 };
            }
            BitReader { bytes, pos: 0 }
        }
        fn bit(&mut self) -> u32 {
            let b = self.bytes[self.pos / 8] >> (7 - self.pos % 8) & 1;
            self.pos += 1;
            u32::from(b)
        }
        fn bits(&mut self, n: u32) -> u32 {
            (0..n).fold(0, |acc, _| acc << 1 | self.bit())
        }
        fn ue(&mut self) -> u32 {
            let mut zeros = 0;
            while self.bit() == 0 {
                zeros += 1;
            }
            (1 << zeros) - 1 + self.bits(zeros)
        }
    }

    /// Width and height from a Baseline SPS, as a decoder computes them.
    fn parse_size(sps: &[u8]) -> (u32, u32) {
        assert_eq!(sps[0] & 0x1F, 7, "an SPS NAL unit");
        let mut r = BitReader::from_nal(sps);
        assert_eq!(r.bits(8), u32::from(PROFILE_BASELINE));
        r.bits(16);
        assert_eq!(r.ue(), 0);
        r.ue();
        assert_eq!(r.ue(), 2);
        r.ue();
        r.bit();
        let w_mbs = r.ue() + 1;
        let h_mbs = r.ue() + 1;
        assert_eq!(r.bit(), 1, "frame_mbs_only");
        r.bit();
        let (mut cl, mut cr, mut ct, mut cb) = (0, 0, 0, 0);
        if r.bit() == 1 {
            cl = r.ue();
            cr = r.ue();
            ct = r.ue();
            cb = r.ue();
        }
        assert_eq!(r.bit(), 0, "no VUI");
        assert_eq!(r.bit(), 1, "stop bit");
        assert!(
            r.pos.div_ceil(8) == r.bytes.len(),
            "nothing after the stop bit"
        );
        (w_mbs * 16 - 2 * (cl + cr), h_mbs * 16 - 2 * (ct + cb))
    }

    #[test]
    fn sps_round_trip() {
        for (w, h) in [(1280, 720), (1920, 1080), (640, 360), (16, 16)] {
            assert_eq!(parse_size(&sps(w, h)), (w, h));
        }
    }

    #[test]
    fn exp_golomb() {
        let mut w = BitWriter::default();
        for v in [0, 1, 2, 3, 7, 79, 1000] {
            w.ue(v);
        }
        let bytes = w.finish();
        let mut r = BitReader { bytes, pos: 0 };
        for v in [0, 1, 2, 3, 7, 79, 1000] {
            assert_eq!(r.ue(), v);
        }
    }

    #[test]
    fn emulation_prevention() {
        assert_eq!(
            nal(0x67, &[0, 0, 1, 0, 0, 0]),
            vec![0x67, 0, 0, 3, 1, 0, 0, 3, 0]
        );
    }

    #[test]
    fn configuration_record() {
        let tag = sequence_header_tag(1280, 720);
        assert_eq!(&tag[..5], &[0x17, 0, 0, 0, 0]);
        let rec = &tag[5..];
        assert_eq!(rec[0], 1);
        assert_eq!(rec[1], PROFILE_BASELINE);
        assert_eq!(rec[4] & 3, 3);
        assert_eq!(rec[5] & 0x1F, 1);
        let sps_len = usize::from(u16::from_be_bytes([rec[6], rec[7]]));
        let sps = &rec[8..8 + sps_len];
        assert_eq!(parse_size(sps), (1280, 720));
        let pps_at = 8 + sps_len;
        assert_eq!(rec[pps_at], 1);
        let pps_len = usize::from(u16::from_be_bytes([rec[pps_at + 1], rec[pps_at + 2]]));
        assert_eq!(rec.len(), pps_at + 3 + pps_len);
        assert_eq!(rec[pps_at + 3] & 0x1F, 8, "a PPS NAL unit");
    }
}
