//! Video tag headers: Adobe FLV v10.1 annex E.4.3.1 (VIDEODATA and
//! AVCVIDEOPACKET) and Enhanced RTMP v2 "Enhanced Video" (ExVideoTagHeader,
//! ExVideoTagBody).
//!
//! ```text
//! legacy:   FrameType UB4 | CodecID UB4
//!           [AVCPacketType UI8, CompositionTime SI24]   CodecID 7 (AVC), 12 (HEVC)
//!           [VideoCommand UI8]                          FrameType 5
//! enhanced: IsExHeader UB1 (=1) | FrameType UB3 | VideoPacketType UB4
//!           [ModEx blocks]                              VideoPacketType 7
//!           VideoCommand UI8                            FrameType 5, unless Metadata
//!           | Multitrack header and tracks              VideoPacketType 6
//!           | FOURCC [CompositionTime SI24]             SI24 for CodedFrames of avc1/hvc1/vvc1
//! ```
//!
//! Legacy CodecID 12 is HEVC as Chinese encoders and CDNs have sent it since
//! before Enhanced RTMP existed (the "FLV extension" used by SRS, nginx-rtmp
//! forks and patched FFmpeg builds); it uses the AVC layout (packet type and
//! composition time). Other unassigned ids are kept as
//! [`VideoCodec::OtherId`] with no packet type.
//!
//! A legacy command frame (FrameType 5) is read as Enhanced RTMP's
//! pseudocode and FFmpeg read it: the command byte follows the first byte,
//! with no AVCPacketType even for AVC.

use bytes::{BufMut, Bytes, BytesMut};

use super::cursor::{Cursor, si24_to_bytes};
use super::modex::{self, MODEX};
use super::multitrack::{self, AvMultitrackType};
use super::{FourCc, MediaError, VideoCodec};

/// `VideoFrameType`: what kind of frame a video tag carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// 1: a key frame ("for AVC, a seekable frame").
    Key,
    /// 2: an inter frame ("for AVC, a non-seekable frame").
    Inter,
    /// 3: a disposable inter frame (H.263 only).
    DisposableInter,
    /// 4: a generated key frame ("reserved for server use only"). Not
    /// counted by [`VideoTag::is_keyframe`]: see there.
    GeneratedKey,
    /// 5: a video info/command frame; the tag carries a [`VideoCommand`]
    /// instead of video (or, in an enhanced header, may carry
    /// [`VideoPacket::Metadata`], whose frame type is ignored).
    Command,
}

impl FrameType {
    /// The frame type from its value; `None` for the reserved values (0, 6,
    /// 7, and 8-15 in a legacy header).
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(FrameType::Key),
            2 => Some(FrameType::Inter),
            3 => Some(FrameType::DisposableInter),
            4 => Some(FrameType::GeneratedKey),
            5 => Some(FrameType::Command),
            _ => None,
        }
    }

    /// The wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            FrameType::Key => 1,
            FrameType::Inter => 2,
            FrameType::DisposableInter => 3,
            FrameType::GeneratedKey => 4,
            FrameType::Command => 5,
        }
    }
}

/// Enhanced `VideoPacketType`, the low nibble of an ExVideoTagHeader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoPacketType {
    /// 0: decoder configuration record.
    SequenceStart,
    /// 1: coded frames (with composition time for avc1/hvc1/vvc1).
    CodedFrames,
    /// 2: end of sequence.
    SequenceEnd,
    /// 3: coded frames with an implied composition time of zero.
    CodedFramesX,
    /// 4: AMF-encoded metadata (`colorInfo`).
    Metadata,
    /// 5: MPEG-2 TS sequence start (an AV1 video descriptor).
    Mpeg2TsSequenceStart,
    /// 6: multitrack.
    Multitrack,
    /// 7: ModEx.
    ModEx,
}

impl VideoPacketType {
    /// The packet type from its 4-bit value; `None` for the reserved 8-15.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(VideoPacketType::SequenceStart),
            1 => Some(VideoPacketType::CodedFrames),
            2 => Some(VideoPacketType::SequenceEnd),
            3 => Some(VideoPacketType::CodedFramesX),
            4 => Some(VideoPacketType::Metadata),
            5 => Some(VideoPacketType::Mpeg2TsSequenceStart),
            6 => Some(VideoPacketType::Multitrack),
            MODEX => Some(VideoPacketType::ModEx),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            VideoPacketType::SequenceStart => 0,
            VideoPacketType::CodedFrames => 1,
            VideoPacketType::SequenceEnd => 2,
            VideoPacketType::CodedFramesX => 3,
            VideoPacketType::Metadata => 4,
            VideoPacketType::Mpeg2TsSequenceStart => 5,
            VideoPacketType::Multitrack => 6,
            VideoPacketType::ModEx => MODEX,
        }
    }

    const fn is_coded_frames(self) -> bool {
        matches!(
            self,
            VideoPacketType::CodedFrames | VideoPacketType::CodedFramesX
        )
    }

    const fn is_sequence_start(self) -> bool {
        matches!(
            self,
            VideoPacketType::SequenceStart | VideoPacketType::Mpeg2TsSequenceStart
        )
    }
}

/// `VideoCommand`, the one-byte body of a command frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCommand {
    /// 0: start of client-side seeking video frame sequence.
    StartSeek,
    /// 1: end of client-side seeking video frame sequence.
    EndSeek,
    /// A reserved value, kept as sent.
    Other(u8),
}

impl VideoCommand {
    /// The command from its byte.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => VideoCommand::StartSeek,
            1 => VideoCommand::EndSeek,
            other => VideoCommand::Other(other),
        }
    }

    /// The wire byte.
    pub const fn to_u8(self) -> u8 {
        match self {
            VideoCommand::StartSeek => 0,
            VideoCommand::EndSeek => 1,
            VideoCommand::Other(v) => v,
        }
    }
}

/// One track of a multitrack video tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTrack {
    /// `videoTrackId` (0 is the default track by convention).
    pub track_id: u8,
    /// The track's codec: its own FourCC in a ManyTracksManyCodecs tag, the
    /// tag's FourCC otherwise.
    pub codec: VideoCodec,
    /// The track's composition time offset in ms, for CodedFrames of
    /// avc1/hvc1/vvc1; 0 otherwise.
    pub composition_time: i32,
    /// The track's body after its framing (and composition time).
    pub data: Bytes,
}

/// What a video tag carries, from its packet type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoPacket {
    /// A decoder configuration record (legacy AVC/HEVC packet type 0,
    /// enhanced SequenceStart).
    SequenceStart,
    /// Coded frames. `composition_time` is the SI24 offset in ms for AVC and
    /// HEVC (legacy) and avc1/hvc1/vvc1 (enhanced), 0 for other codecs. Every
    /// legacy codec without packet types (H.263, VP6, screen video) is read
    /// as this.
    CodedFrames {
        /// Composition time offset in milliseconds (SI24).
        composition_time: i32,
    },
    /// Enhanced CodedFramesX: coded frames whose composition time is zero
    /// and not sent.
    CodedFramesX,
    /// End of sequence (legacy AVC/HEVC packet type 2, enhanced SequenceEnd).
    SequenceEnd,
    /// Enhanced Metadata: the body is AMF-encoded `[name, value]` pairs such
    /// as `colorInfo`.
    Metadata,
    /// Enhanced MPEG2TSSequenceStart: the body is an AV1 video descriptor.
    Mpeg2TsSequenceStart,
    /// A command frame (frame type 5).
    Command(VideoCommand),
    /// Enhanced Multitrack.
    Multitrack {
        /// How the tracks are laid out.
        multitrack_type: AvMultitrackType,
        /// The packet type of every track (never Multitrack or ModEx).
        packet_type: VideoPacketType,
        /// The tracks, in message order (at least one).
        tracks: Vec<VideoTrack>,
    },
}

/// A parsed video tag header, with the body as a slice of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTag {
    /// The frame type.
    pub frame_type: FrameType,
    /// The codec ([`VideoCodec::Unspecified`] when the tag names none).
    pub codec: VideoCodec,
    /// What the tag carries.
    pub packet: VideoPacket,
    /// ModEx TimestampOffsetNano: nanoseconds (0..=999999) to add to this
    /// message's millisecond timestamp. Enhanced headers only.
    pub timestamp_offset_nanos: Option<u32>,
    /// Whether the tag used the Enhanced RTMP header (IsExHeader set).
    pub enhanced: bool,
    /// The body after the header: the configuration record, NAL units,
    /// OBUs, AMF metadata... For a multitrack tag, everything after the
    /// multitrack header (all tracks with their framing); the tracks'
    /// own bodies are in [`VideoPacket::Multitrack`], and
    /// [`VideoTag::encode`] writes those instead of this field.
    pub data: Bytes,
}

impl VideoTag {
    /// Parses the header of a video message payload (or FLV video tag body).
    /// Reads only the header bytes; the body is a slice of `payload`.
    pub fn parse(payload: &Bytes) -> Result<VideoTag, MediaError> {
        let mut c = Cursor::new(payload);
        let first = c.u8("video tag header")?;
        if first & 0x80 == 0 {
            parse_legacy(first, c)
        } else {
            parse_enhanced(first, c)
        }
    }

    /// Whether a late joiner can start decoding here: frame type Key and a
    /// packet of coded frames. A sequence header sent with frame type Key is
    /// *not* a keyframe (see [`VideoTag::is_sequence_header`]), and neither
    /// is a [`FrameType::GeneratedKey`] frame, which the specification
    /// reserves for servers and which encoders do not send as a decodable
    /// random access point (see [`VideoTag::is_generated_keyframe`]).
    pub fn is_keyframe(&self) -> bool {
        self.frame_type == FrameType::Key && self.is_coded_frames()
    }

    /// Whether this carries coded frames with frame type GeneratedKey.
    pub fn is_generated_keyframe(&self) -> bool {
        self.frame_type == FrameType::GeneratedKey && self.is_coded_frames()
    }

    /// Whether this is a decoder configuration a late joiner needs before the
    /// first keyframe: legacy AVC/HEVC packet type 0, enhanced SequenceStart
    /// or MPEG2TSSequenceStart (also as the packet type of a multitrack tag).
    pub fn is_sequence_header(&self) -> bool {
        match &self.packet {
            VideoPacket::SequenceStart | VideoPacket::Mpeg2TsSequenceStart => true,
            VideoPacket::Multitrack { packet_type, .. } => packet_type.is_sequence_start(),
            _ => false,
        }
    }

    /// The composition time offset in ms (0 for anything but CodedFrames).
    pub fn composition_time(&self) -> i32 {
        match self.packet {
            VideoPacket::CodedFrames { composition_time } => composition_time,
            _ => 0,
        }
    }

    fn is_coded_frames(&self) -> bool {
        match &self.packet {
            VideoPacket::CodedFrames { .. } | VideoPacket::CodedFramesX => true,
            VideoPacket::Multitrack { packet_type, .. } => packet_type.is_coded_frames(),
            _ => false,
        }
    }

    /// Appends the tag (header and body) to `out`. Fails, writing nothing,
    /// when the value cannot be represented: a legacy header for a codec
    /// without a legacy id, a composition time outside SI24, a command packet
    /// without frame type Command, and so on.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), MediaError> {
        let start = out.len();
        let result = if self.enhanced {
            self.encode_enhanced(out)
        } else {
            self.encode_legacy(out)
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_legacy(&self, out: &mut BytesMut) -> Result<(), MediaError> {
        if self.timestamp_offset_nanos.is_some() {
            return Err(MediaError::Unencodable(
                "a legacy video header cannot carry a timestamp offset",
            ));
        }
        let id = self.codec.legacy_id().ok_or(MediaError::Unencodable(
            "codec has no legacy CodecID; use an enhanced header",
        ))?;
        out.put_u8((self.frame_type.to_u8() << 4) | id);
        match (&self.packet, self.frame_type) {
            (VideoPacket::Command(cmd), FrameType::Command) => out.put_u8(cmd.to_u8()),
            (_, FrameType::Command) | (VideoPacket::Command(_), _) => {
                return Err(MediaError::Unencodable(
                    "a command packet goes with frame type Command, and only it",
                ));
            }
            (packet, _) if self.codec.has_legacy_packet_type() => {
                let (packet_type, cts) = match packet {
                    VideoPacket::SequenceStart => (0, 0),
                    VideoPacket::CodedFrames { composition_time } => (1, *composition_time),
                    VideoPacket::SequenceEnd => (2, 0),
                    _ => {
                        return Err(MediaError::Unencodable(
                            "packet type not available in a legacy AVC/HEVC header",
                        ));
                    }
                };
                out.put_u8(packet_type);
                put_composition_time(out, cts)?;
            }
            (
                VideoPacket::CodedFrames {
                    composition_time: 0,
                },
                _,
            ) => {}
            _ => {
                return Err(MediaError::Unencodable(
                    "legacy codecs other than AVC/HEVC carry only coded frames",
                ));
            }
        }
        out.put_slice(&self.data);
        Ok(())
    }

    fn encode_enhanced(&self, out: &mut BytesMut) -> Result<(), MediaError> {
        let packet_type = match &self.packet {
            VideoPacket::SequenceStart => VideoPacketType::SequenceStart,
            VideoPacket::CodedFrames { .. } => VideoPacketType::CodedFrames,
            VideoPacket::CodedFramesX => VideoPacketType::CodedFramesX,
            VideoPacket::SequenceEnd => VideoPacketType::SequenceEnd,
            VideoPacket::Metadata => VideoPacketType::Metadata,
            VideoPacket::Mpeg2TsSequenceStart => VideoPacketType::Mpeg2TsSequenceStart,
            VideoPacket::Multitrack { .. } => VideoPacketType::Multitrack,
            // Any type but Metadata reads as a command with frame type 5.
            VideoPacket::Command(_) => VideoPacketType::CodedFrames,
        };
        let is_command = matches!(self.packet, VideoPacket::Command(_));
        let command_frame = self.frame_type == FrameType::Command;
        if is_command != command_frame && packet_type != VideoPacketType::Metadata {
            return Err(MediaError::Unencodable(
                "frame type Command goes with a command packet or Metadata",
            ));
        }
        let head = 0x80 | (self.frame_type.to_u8() << 4);
        match self.timestamp_offset_nanos {
            Some(nanos) => {
                out.put_u8(head | MODEX);
                modex::put_timestamp_offset(out, nanos, packet_type.to_u8())?;
            }
            None => out.put_u8(head | packet_type.to_u8()),
        }
        match &self.packet {
            VideoPacket::Command(cmd) => out.put_u8(cmd.to_u8()),
            VideoPacket::Multitrack {
                multitrack_type,
                packet_type,
                tracks,
            } => return self.encode_tracks(out, *multitrack_type, *packet_type, tracks),
            packet => {
                out.put_slice(&self.codec_fourcc()?.0);
                if let VideoPacket::CodedFrames { composition_time } = packet {
                    if self.codec.has_composition_time() {
                        put_composition_time(out, *composition_time)?;
                    } else if *composition_time != 0 {
                        return Err(MediaError::Unencodable(
                            "only avc1/hvc1/vvc1 coded frames carry a composition time",
                        ));
                    }
                }
            }
        }
        out.put_slice(&self.data);
        Ok(())
    }

    fn encode_tracks(
        &self,
        out: &mut BytesMut,
        kind: AvMultitrackType,
        packet_type: VideoPacketType,
        tracks: &[VideoTrack],
    ) -> Result<(), MediaError> {
        if matches!(
            packet_type,
            VideoPacketType::Multitrack | VideoPacketType::ModEx
        ) {
            return Err(MediaError::Unencodable(
                "a multitrack packet type may not be Multitrack or ModEx",
            ));
        }
        multitrack::check_track_count(kind, tracks.len())?;
        out.put_u8((kind.to_u8() << 4) | packet_type.to_u8());
        let shared = kind != AvMultitrackType::ManyTracksManyCodecs;
        if shared {
            out.put_slice(&self.codec_fourcc()?.0);
        }
        for track in tracks {
            if shared && track.codec != self.codec {
                return Err(MediaError::Unencodable(
                    "tracks of a single-codec multitrack tag have the tag's codec",
                ));
            }
            let cts = composition_time_bytes(track.composition_time)?;
            let prefix: &[u8] = if packet_type == VideoPacketType::CodedFrames
                && track.codec.has_composition_time()
            {
                &cts
            } else if track.composition_time == 0 {
                &[]
            } else {
                return Err(MediaError::Unencodable(
                    "only avc1/hvc1/vvc1 coded frames carry a composition time",
                ));
            };
            multitrack::put_track(
                out,
                kind,
                track.codec.fourcc(),
                track.track_id,
                prefix,
                &track.data,
            )?;
        }
        Ok(())
    }

    fn codec_fourcc(&self) -> Result<FourCc, MediaError> {
        self.codec.fourcc().ok_or(MediaError::Unencodable(
            "codec has no FourCC; use a legacy header",
        ))
    }
}

/// The SI24 bytes of a composition time; fails outside the SI24 range.
fn composition_time_bytes(cts: i32) -> Result<[u8; 3], MediaError> {
    si24_to_bytes(cts).ok_or(MediaError::Unencodable(
        "composition time outside the SI24 range",
    ))
}

fn put_composition_time(out: &mut BytesMut, cts: i32) -> Result<(), MediaError> {
    out.put_slice(&composition_time_bytes(cts)?);
    Ok(())
}

fn parse_legacy(first: u8, mut c: Cursor<'_>) -> Result<VideoTag, MediaError> {
    let frame_type =
        FrameType::from_u8(first >> 4).ok_or(MediaError::UnknownFrameType(first >> 4))?;
    let codec = VideoCodec::from_legacy_id(first & 0x0f);
    let packet = if frame_type == FrameType::Command {
        VideoPacket::Command(VideoCommand::from_u8(c.u8("video command")?))
    } else if codec.has_legacy_packet_type() {
        let packet_type = c.u8("AVC packet type")?;
        let composition_time = c.si24("composition time")?;
        match packet_type {
            0 => VideoPacket::SequenceStart,
            1 => VideoPacket::CodedFrames { composition_time },
            2 => VideoPacket::SequenceEnd,
            other => return Err(MediaError::UnknownVideoPacketType(other)),
        }
    } else {
        VideoPacket::CodedFrames {
            composition_time: 0,
        }
    };
    Ok(VideoTag {
        frame_type,
        codec,
        packet,
        timestamp_offset_nanos: None,
        enhanced: false,
        data: c.rest(),
    })
}

fn parse_enhanced(first: u8, mut c: Cursor<'_>) -> Result<VideoTag, MediaError> {
    let mut raw_type = first & 0x0f;
    let mut timestamp_offset_nanos = None;
    if raw_type == MODEX {
        let m = modex::read(c.unread())?;
        c.advance(m.consumed, "ModEx")?;
        raw_type = m.packet_type;
        timestamp_offset_nanos = m.nanos;
    }
    let packet_type =
        VideoPacketType::from_u8(raw_type).ok_or(MediaError::UnknownVideoPacketType(raw_type))?;
    let raw_frame = (first >> 4) & 0x07;
    let frame_type =
        FrameType::from_u8(raw_frame).ok_or(MediaError::UnknownFrameType(raw_frame))?;
    let tag = |codec, packet, data| VideoTag {
        frame_type,
        codec,
        packet,
        timestamp_offset_nanos,
        enhanced: true,
        data,
    };

    if frame_type == FrameType::Command && packet_type != VideoPacketType::Metadata {
        let cmd = VideoCommand::from_u8(c.u8("video command")?);
        return Ok(tag(
            VideoCodec::Unspecified,
            VideoPacket::Command(cmd),
            c.rest(),
        ));
    }
    if packet_type == VideoPacketType::Multitrack {
        let (codec, packet, data) = parse_multitrack(&mut c)?;
        return Ok(tag(codec, packet, data));
    }
    let codec = VideoCodec::from_fourcc(c.fourcc("video FourCC")?);
    let packet = match packet_type {
        VideoPacketType::SequenceStart => VideoPacket::SequenceStart,
        VideoPacketType::CodedFrames => VideoPacket::CodedFrames {
            composition_time: if codec.has_composition_time() {
                c.si24("composition time")?
            } else {
                0
            },
        },
        VideoPacketType::SequenceEnd => VideoPacket::SequenceEnd,
        VideoPacketType::CodedFramesX => VideoPacket::CodedFramesX,
        VideoPacketType::Metadata => VideoPacket::Metadata,
        VideoPacketType::Mpeg2TsSequenceStart => VideoPacket::Mpeg2TsSequenceStart,
        // Multitrack is handled above and ModEx never survives modex::read.
        VideoPacketType::Multitrack | VideoPacketType::ModEx => {
            return Err(MediaError::UnknownVideoPacketType(raw_type));
        }
    };
    Ok(tag(codec, packet, c.rest()))
}

fn parse_multitrack(c: &mut Cursor<'_>) -> Result<(VideoCodec, VideoPacket, Bytes), MediaError> {
    let b = c.u8("multitrack header")?;
    let multitrack_type =
        AvMultitrackType::from_u8(b >> 4).ok_or(MediaError::UnknownMultitrackType(b >> 4))?;
    let raw_type = b & 0x0f;
    let packet_type =
        VideoPacketType::from_u8(raw_type).ok_or(MediaError::UnknownVideoPacketType(raw_type))?;
    if matches!(
        packet_type,
        VideoPacketType::Multitrack | VideoPacketType::ModEx
    ) {
        return Err(MediaError::NestedMultitrack(raw_type));
    }
    let codec = match multitrack_type {
        AvMultitrackType::ManyTracksManyCodecs => VideoCodec::Unspecified,
        _ => VideoCodec::from_fourcc(c.fourcc("video FourCC")?),
    };
    let data = c.rest();
    let mut tc = Cursor::new(&data);
    let raw = multitrack::read_tracks(&mut tc, multitrack_type)?;
    let mut tracks = Vec::with_capacity(raw.len());
    for t in raw {
        let codec = t.fourcc.map_or(codec, VideoCodec::from_fourcc);
        let mut body = Cursor::new(&t.body);
        let composition_time =
            if packet_type == VideoPacketType::CodedFrames && codec.has_composition_time() {
                body.si24("track composition time")?
            } else {
                0
            };
        tracks.push(VideoTrack {
            track_id: t.track_id,
            codec,
            composition_time,
            data: body.rest(),
        });
    }
    let packet = VideoPacket::Multitrack {
        multitrack_type,
        packet_type,
        tracks,
    };
    Ok((codec, packet, data))
}
