//! FOURCC codec identifiers (Enhanced RTMP v2, "Simple Data Types": a
//! "Four-character ASCII code, such as "av01", encoded as UI32"), with the
//! `VideoFourCc` and `AudioFourCc` values the specification defines.

use std::fmt;

/// A four-character code, as its four bytes in wire (big-endian) order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// `avc1`: H.264 / AVC.
    pub const AVC1: FourCc = FourCc(*b"avc1");
    /// `hvc1`: H.265 / HEVC.
    pub const HVC1: FourCc = FourCc(*b"hvc1");
    /// `vvc1`: H.266 / VVC.
    pub const VVC1: FourCc = FourCc(*b"vvc1");
    /// `av01`: AV1.
    pub const AV01: FourCc = FourCc(*b"av01");
    /// `vp09`: VP9.
    pub const VP09: FourCc = FourCc(*b"vp09");
    /// `vp08`: VP8.
    pub const VP08: FourCc = FourCc(*b"vp08");
    /// `mp4a`: AAC.
    pub const MP4A: FourCc = FourCc(*b"mp4a");
    /// `.mp3`: MP3.
    pub const MP3: FourCc = FourCc(*b".mp3");
    /// `Opus`: Opus.
    pub const OPUS: FourCc = FourCc(*b"Opus");
    /// `fLaC`: FLAC.
    pub const FLAC: FourCc = FourCc(*b"fLaC");
    /// `ac-3`: Dolby AC-3.
    pub const AC3: FourCc = FourCc(*b"ac-3");
    /// `ec-3`: Dolby E-AC-3.
    pub const EC3: FourCc = FourCc(*b"ec-3");

    /// The code as a UI32 (big-endian: `"av01"` is `0x61763031`), as
    /// `onMetaData` carries it in `videocodecid` / `audiocodecid`.
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// The code from its UI32 value.
    pub const fn from_u32(v: u32) -> Self {
        FourCc(v.to_be_bytes())
    }

    /// The code from a 4-byte string (`None` for any other length).
    pub fn from_str_exact(s: &str) -> Option<Self> {
        let bytes: [u8; 4] = s.as_bytes().try_into().ok()?;
        Some(FourCc(bytes))
    }

    /// The code as text, when all four bytes are printable ASCII.
    pub fn as_str(&self) -> Option<&str> {
        if self.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            std::str::from_utf8(&self.0).ok()
        } else {
            None
        }
    }
}

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => f.write_str(s),
            None => write!(f, "0x{:08x}", self.to_u32()),
        }
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({self})")
    }
}

impl From<[u8; 4]> for FourCc {
    fn from(b: [u8; 4]) -> Self {
        FourCc(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_matches_the_spec_examples() {
        // "av01" == 0x61763031 == 1635135537.0 and "Opus" == 0x4F707573.
        assert_eq!(FourCc::AV01.to_u32(), 0x6176_3031);
        assert_eq!(FourCc::AV01.to_u32(), 1_635_135_537);
        assert_eq!(FourCc::OPUS.to_u32(), 1_332_770_163);
        assert_eq!(FourCc::from_u32(0x4F70_7573), FourCc::OPUS);
    }

    #[test]
    fn text_forms() {
        assert_eq!(FourCc::MP3.as_str(), Some(".mp3"));
        assert_eq!(FourCc::FLAC.to_string(), "fLaC");
        assert_eq!(FourCc([0, 1, 2, 3]).to_string(), "0x00010203");
        assert_eq!(FourCc::from_str_exact("ec-3"), Some(FourCc::EC3));
        assert_eq!(FourCc::from_str_exact("h264"), Some(FourCc(*b"h264")));
        assert_eq!(FourCc::from_str_exact("avc"), None);
        assert_eq!(format!("{:?}", FourCc::HVC1), "FourCc(hvc1)");
    }
}
