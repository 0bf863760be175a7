//! Multitrack framing shared by audio and video (Enhanced RTMP v2,
//! "Multitrack Streaming via Enhanced RTMP" and the ExVideoTagBody /
//! ExAudioTagBody loops):
//!
//! ```text
//! [AvMultitrackType UB4 | PacketType UB4]
//! [FOURCC]                      unless ManyTracksManyCodecs
//! repeat {
//!   [FOURCC]                    only for ManyTracksManyCodecs
//!   trackId UI8
//!   [sizeOfTrack UI24]          unless OneTrack; counts the bytes after it
//!   track body
//! }                             until the message ends (OneTrack: exactly once)
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use super::cursor::{Cursor, put_u24};
use super::{FourCc, MediaError};

/// Most tracks accepted in one message. Track ids are a UI8, so a message
/// that lists more than 256 tracks repeats ids; refusing it keeps a hostile
/// message of tiny tracks from costing more memory than its own size.
pub const MAX_TRACKS: usize = 256;

/// How the tracks of a multitrack message are laid out (`AvMultitrackType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AvMultitrackType {
    /// 0: one track; no size field, the track runs to the end of the message.
    OneTrack,
    /// 1: several tracks sharing one codec (one FourCC for all).
    ManyTracks,
    /// 2: several tracks, each with its own FourCC.
    ManyTracksManyCodecs,
}

impl AvMultitrackType {
    /// The type from its 4-bit value; `None` for the reserved values 3-15.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(AvMultitrackType::OneTrack),
            1 => Some(AvMultitrackType::ManyTracks),
            2 => Some(AvMultitrackType::ManyTracksManyCodecs),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            AvMultitrackType::OneTrack => 0,
            AvMultitrackType::ManyTracks => 1,
            AvMultitrackType::ManyTracksManyCodecs => 2,
        }
    }
}

/// One track as framed, before the media type interprets it.
#[derive(Debug)]
pub(crate) struct RawTrack {
    pub(crate) track_id: u8,
    /// The track's own FourCC (ManyTracksManyCodecs only).
    pub(crate) fourcc: Option<FourCc>,
    pub(crate) body: Bytes,
}

/// Reads the tracks that follow the multitrack header (and the shared FourCC
/// if there is one). At least one track must be present.
pub(crate) fn read_tracks(
    c: &mut Cursor<'_>,
    kind: AvMultitrackType,
) -> Result<Vec<RawTrack>, MediaError> {
    let mut tracks = Vec::new();
    loop {
        if tracks.len() >= MAX_TRACKS {
            return Err(MediaError::TooManyTracks { max: MAX_TRACKS });
        }
        let fourcc = match kind {
            AvMultitrackType::ManyTracksManyCodecs => Some(c.fourcc("track FourCC")?),
            _ => None,
        };
        let track_id = c.u8("track id")?;
        let body = match kind {
            AvMultitrackType::OneTrack => c.rest(),
            _ => {
                let size = c.u24("track size")?;
                c.take(size as usize, "track body")?
            }
        };
        tracks.push(RawTrack {
            track_id,
            fourcc,
            body,
        });
        if kind == AvMultitrackType::OneTrack || c.remaining() == 0 {
            return Ok(tracks);
        }
    }
}

/// Checks the track count a caller wants to write.
pub(crate) fn check_track_count(kind: AvMultitrackType, count: usize) -> Result<(), MediaError> {
    match (kind, count) {
        (_, 0) => Err(MediaError::Unencodable("a multitrack tag needs a track")),
        (AvMultitrackType::OneTrack, n) if n > 1 => Err(MediaError::Unencodable(
            "a OneTrack multitrack tag has exactly one track",
        )),
        (_, n) if n > MAX_TRACKS => Err(MediaError::Unencodable("more than MAX_TRACKS tracks")),
        _ => Ok(()),
    }
}

/// Writes one track: `[FourCC] trackId [size]`, then `prefix` and `body`.
pub(crate) fn put_track(
    out: &mut BytesMut,
    kind: AvMultitrackType,
    fourcc: Option<FourCc>,
    track_id: u8,
    prefix: &[u8],
    body: &[u8],
) -> Result<(), MediaError> {
    if kind == AvMultitrackType::ManyTracksManyCodecs {
        let f = fourcc.ok_or(MediaError::Unencodable(
            "a ManyTracksManyCodecs track needs a codec with a FourCC",
        ))?;
        out.put_slice(&f.0);
    }
    out.put_u8(track_id);
    if kind != AvMultitrackType::OneTrack {
        let size = prefix.len().saturating_add(body.len());
        let size = u32::try_from(size)
            .ok()
            .filter(|s| *s <= 0x00ff_ffff)
            .ok_or(MediaError::Unencodable("track larger than a UI24 size"))?;
        put_u24(out, size);
    }
    out.put_slice(prefix);
    out.put_slice(body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multitrack_type_values() {
        for v in 0..16u8 {
            match AvMultitrackType::from_u8(v) {
                Some(t) => assert_eq!(t.to_u8(), v),
                None => assert!(v >= 3),
            }
        }
    }

    #[test]
    fn reads_sized_tracks_and_stops_at_the_end() {
        let b = Bytes::from_static(&[1, 0, 0, 2, 0xaa, 0xbb, 7, 0, 0, 0]);
        let mut c = Cursor::new(&b);
        let t = read_tracks(&mut c, AvMultitrackType::ManyTracks).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].track_id, &t[0].body[..]), (1, &[0xaa, 0xbb][..]));
        assert_eq!((t[1].track_id, t[1].body.len()), (7, 0));
    }

    #[test]
    fn a_track_size_past_the_end_is_truncated() {
        let b = Bytes::from_static(&[1, 0, 0, 9, 0xaa]);
        let mut c = Cursor::new(&b);
        assert_eq!(
            read_tracks(&mut c, AvMultitrackType::ManyTracks).unwrap_err(),
            MediaError::Truncated { what: "track body" }
        );
    }

    #[test]
    fn a_trailing_byte_after_the_last_track_is_truncated() {
        // A second track that has an id but no size.
        let b = Bytes::from_static(&[1, 0, 0, 1, 0xaa, 2]);
        let mut c = Cursor::new(&b);
        assert_eq!(
            read_tracks(&mut c, AvMultitrackType::ManyTracks).unwrap_err(),
            MediaError::Truncated { what: "track size" }
        );
        // In ManyTracksManyCodecs, a FourCC cut short after a whole track.
        let b = Bytes::from_static(b"av01\x00\x00\x00\x01\xaaav");
        let mut c = Cursor::new(&b);
        assert_eq!(
            read_tracks(&mut c, AvMultitrackType::ManyTracksManyCodecs).unwrap_err(),
            MediaError::Truncated {
                what: "track FourCC"
            }
        );
    }

    #[test]
    fn too_many_tracks() {
        // 257 empty tracks of 4 bytes each.
        let b = Bytes::from(vec![0u8; 4 * (MAX_TRACKS + 1)]);
        let mut c = Cursor::new(&b);
        assert_eq!(
            read_tracks(&mut c, AvMultitrackType::ManyTracks).unwrap_err(),
            MediaError::TooManyTracks { max: MAX_TRACKS }
        );
        let b = Bytes::from(vec![0u8; 4 * MAX_TRACKS]);
        let mut c = Cursor::new(&b);
        assert_eq!(
            read_tracks(&mut c, AvMultitrackType::ManyTracks)
                .unwrap()
                .len(),
            MAX_TRACKS
        );
    }
}
