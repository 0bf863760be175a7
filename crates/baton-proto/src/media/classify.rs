//! Fast classification of audio and video payloads for fan-out (FLV v10.1
//! annex E.4.2.1 / E.4.3.1 and Enhanced RTMP v2 ExAudioTagHeader /
//! ExVideoTagHeader), without a full parse.
//!
//! Each function reads the first byte and at most the next four (legacy
//! AVC/HEVC packet type and composition time; an enhanced multitrack
//! header). ModEx blocks, when present, sit between the first byte and the
//! packet type; they are skipped by their declared sizes without being
//! copied. Nothing is allocated.
//!
//! For every payload that [`VideoTag::parse`](super::VideoTag::parse) or
//! [`AudioTag::parse`](super::AudioTag::parse) accepts, these agree with
//! the parsed tag's methods. They do not validate the rest of the header
//! (a FourCC cut short, say), so a payload the parser rejects may still be
//! classified; a reserved frame type or a malformed ModEx gives `false`.

use super::modex::{self, MODEX};

/// What the packet type of a video payload says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VideoKind {
    Coded,
    SequenceStart,
    Other,
}

/// The frame type and kind of a video payload; `None` if the header is cut
/// short or malformed.
fn peek_video(payload: &[u8]) -> Option<(u8, VideoKind)> {
    let (&first, rest) = payload.split_first()?;
    // Bit 7 is IsExHeader, so a legacy frame type is 0-7 like an enhanced one.
    let frame_type = (first >> 4) & 0x07;
    if !(1..=5).contains(&frame_type) {
        return None;
    }
    if first & 0x80 == 0 {
        let kind = match (frame_type, first & 0x0f) {
            (5, _) => VideoKind::Other,
            // AVC and legacy HEVC: AVCPacketType then SI24 composition time.
            (_, 7 | 12) => match rest {
                [0, _, _, _, ..] => VideoKind::SequenceStart,
                [1, _, _, _, ..] => VideoKind::Coded,
                _ => VideoKind::Other,
            },
            _ => VideoKind::Coded,
        };
        return Some((frame_type, kind));
    }
    let mut packet_type = first & 0x0f;
    let mut rest = rest;
    if packet_type == MODEX {
        let m = modex::read(rest).ok()?;
        packet_type = m.packet_type;
        rest = rest.get(m.consumed..)?;
    }
    // A command frame (unless Metadata) carries a command, not video.
    if frame_type == 5 && packet_type != 4 {
        return Some((frame_type, VideoKind::Other));
    }
    if packet_type == 6 {
        // Multitrack: [AvMultitrackType | per-track packet type].
        packet_type = rest.first()? & 0x0f;
    }
    let kind = match packet_type {
        1 | 3 => VideoKind::Coded,
        0 | 5 => VideoKind::SequenceStart,
        _ => VideoKind::Other,
    };
    Some((frame_type, kind))
}

/// Whether a video payload is a keyframe a late joiner can start on: frame
/// type Key (1) carrying coded frames. Same answer as
/// [`VideoTag::is_keyframe`](super::VideoTag::is_keyframe): sequence headers
/// and generated keyframes (frame type 4) are not keyframes.
pub fn video_is_keyframe(payload: &[u8]) -> bool {
    matches!(peek_video(payload), Some((1, VideoKind::Coded)))
}

/// Whether a video payload is a sequence header (decoder configuration):
/// legacy AVC/HEVC packet type 0, enhanced SequenceStart or
/// MPEG2TSSequenceStart, also inside a multitrack tag. Same answer as
/// [`VideoTag::is_sequence_header`](super::VideoTag::is_sequence_header).
pub fn video_is_sequence_header(payload: &[u8]) -> bool {
    matches!(peek_video(payload), Some((_, VideoKind::SequenceStart)))
}

/// Whether an audio payload is a sequence header: legacy AAC packet type 0,
/// or enhanced SequenceStart (also inside a multitrack tag). Same answer as
/// [`AudioTag::is_sequence_header`](super::AudioTag::is_sequence_header).
pub fn audio_is_sequence_header(payload: &[u8]) -> bool {
    let Some((&first, rest)) = payload.split_first() else {
        return false;
    };
    match first >> 4 {
        // AAC: AACPacketType 0.
        10 => rest.first() == Some(&0),
        // ExHeader.
        9 => {
            let mut packet_type = first & 0x0f;
            let mut rest = rest;
            if packet_type == MODEX {
                let Ok(m) = modex::read(rest) else {
                    return false;
                };
                packet_type = m.packet_type;
                rest = rest.get(m.consumed..).unwrap_or_default();
            }
            if packet_type == 5 {
                // Multitrack: [AvMultitrackType | per-track packet type].
                match rest.first() {
                    Some(b) => packet_type = b & 0x0f,
                    None => return false,
                }
            }
            packet_type == 0
        }
        _ => false,
    }
}
