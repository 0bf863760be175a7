//! Audio tag headers: Adobe FLV v10.1 annex E.4.2.1 (AUDIODATA and
//! AACAUDIODATA) and Enhanced RTMP v2 "Enhanced Audio" (ExAudioTagHeader,
//! ExAudioTagBody).
//!
//! ```text
//! legacy:   SoundFormat UB4 | SoundRate UB2 | SoundSize UB1 | SoundType UB1
//!           [AACPacketType UI8]                       SoundFormat 10 (AAC)
//! enhanced: SoundFormat UB4 (= 9, ExHeader) | AudioPacketType UB4
//!           [ModEx blocks]                            AudioPacketType 7
//!           Multitrack header and tracks              AudioPacketType 5
//!           | FOURCC [multichannel config]            AudioPacketType 4
//! ```
//!
//! An empty audio message is the "audio silence message" Enhanced RTMP
//! documents; it parses as [`AudioPacket::Silence`].

use bytes::{BufMut, Bytes, BytesMut};

use super::cursor::Cursor;
use super::modex::{self, MODEX};
use super::multitrack::{self, AvMultitrackType};
use super::{AudioCodec, FourCc, MediaError};

/// The SoundFormat value that announces an ExAudioTagHeader.
pub(crate) const EX_HEADER: u8 = 9;

/// Legacy SoundRate (UB2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundRate {
    /// 0: 5.5 kHz.
    Khz5_5,
    /// 1: 11 kHz.
    Khz11,
    /// 2: 22 kHz.
    Khz22,
    /// 3: 44 kHz (also what AAC always signals).
    Khz44,
}

impl SoundRate {
    /// The rate from its 2-bit value (higher bits are ignored).
    pub const fn from_bits(v: u8) -> Self {
        match v & 0x03 {
            0 => SoundRate::Khz5_5,
            1 => SoundRate::Khz11,
            2 => SoundRate::Khz22,
            _ => SoundRate::Khz44,
        }
    }

    /// The 2-bit wire value.
    pub const fn to_bits(self) -> u8 {
        match self {
            SoundRate::Khz5_5 => 0,
            SoundRate::Khz11 => 1,
            SoundRate::Khz22 => 2,
            SoundRate::Khz44 => 3,
        }
    }
}

/// Legacy SoundSize (UB1): bits per sample of uncompressed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundSize {
    /// 0: 8-bit samples.
    Bits8,
    /// 1: 16-bit samples.
    Bits16,
}

/// Legacy SoundType (UB1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoundType {
    /// 0: mono.
    Mono,
    /// 1: stereo.
    Stereo,
}

/// Enhanced `AudioPacketType`, the low nibble of an ExAudioTagHeader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioPacketType {
    /// 0: codec configuration (AudioSpecificConfig, Opus ID header, FLAC
    /// STREAMINFO...).
    SequenceStart,
    /// 1: coded frames.
    CodedFrames,
    /// 2: end of sequence.
    SequenceEnd,
    /// 4: multichannel configuration.
    MultichannelConfig,
    /// 5: multitrack.
    Multitrack,
    /// 7: ModEx.
    ModEx,
}

impl AudioPacketType {
    /// The packet type from its 4-bit value; `None` for the reserved values
    /// 3, 6 and 8-15.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(AudioPacketType::SequenceStart),
            1 => Some(AudioPacketType::CodedFrames),
            2 => Some(AudioPacketType::SequenceEnd),
            4 => Some(AudioPacketType::MultichannelConfig),
            5 => Some(AudioPacketType::Multitrack),
            MODEX => Some(AudioPacketType::ModEx),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            AudioPacketType::SequenceStart => 0,
            AudioPacketType::CodedFrames => 1,
            AudioPacketType::SequenceEnd => 2,
            AudioPacketType::MultichannelConfig => 4,
            AudioPacketType::Multitrack => 5,
            AudioPacketType::ModEx => MODEX,
        }
    }
}

/// How the channels of a multichannel configuration map to speakers
/// (`AudioChannelOrder` and what follows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelLayout {
    /// 0: only the channel count is known.
    Unspecified,
    /// 1: native order; the `AudioChannelMask` bits of the channels present.
    Native(u32),
    /// 2: one `AudioChannel` byte per channel, in bitstream order.
    Custom(Bytes),
}

/// The body of a MultichannelConfig packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultichannelConfig {
    /// Number of channels.
    pub channel_count: u8,
    /// Channel order and mapping.
    pub layout: ChannelLayout,
}

impl MultichannelConfig {
    /// Parses a configuration from the front of `body` (for example the body
    /// of a multitrack MultichannelConfig track); bytes after it are ignored.
    pub fn parse(body: &Bytes) -> Result<MultichannelConfig, MediaError> {
        Self::read(&mut Cursor::new(body))
    }

    fn read(c: &mut Cursor<'_>) -> Result<MultichannelConfig, MediaError> {
        let order = c.u8("audio channel order")?;
        let channel_count = c.u8("audio channel count")?;
        let layout = match order {
            0 => ChannelLayout::Unspecified,
            1 => ChannelLayout::Native(c.u32("audio channel flags")?),
            2 => {
                ChannelLayout::Custom(c.take(usize::from(channel_count), "audio channel mapping")?)
            }
            other => return Err(MediaError::UnknownChannelOrder(other)),
        };
        Ok(MultichannelConfig {
            channel_count,
            layout,
        })
    }

    /// Appends the configuration to `out`; a custom mapping must have
    /// `channel_count` entries.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), MediaError> {
        match &self.layout {
            ChannelLayout::Unspecified => {
                out.put_u8(0);
                out.put_u8(self.channel_count);
            }
            ChannelLayout::Native(flags) => {
                out.put_u8(1);
                out.put_u8(self.channel_count);
                out.put_u32(*flags);
            }
            ChannelLayout::Custom(map) => {
                if map.len() != usize::from(self.channel_count) {
                    return Err(MediaError::Unencodable(
                        "a custom channel mapping has one entry per channel",
                    ));
                }
                out.put_u8(2);
                out.put_u8(self.channel_count);
                out.put_slice(map);
            }
        }
        Ok(())
    }
}

/// One track of a multitrack audio tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTrack {
    /// `audioTrackId` (0 is the default track by convention).
    pub track_id: u8,
    /// The track's codec: its own FourCC in a ManyTracksManyCodecs tag, the
    /// tag's FourCC otherwise.
    pub codec: AudioCodec,
    /// The track's body after its framing. For a MultichannelConfig packet,
    /// read it with [`MultichannelConfig::parse`].
    pub data: Bytes,
}

/// What an audio tag carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioPacket {
    /// Codec configuration: legacy AAC packet type 0 (AudioSpecificConfig),
    /// enhanced SequenceStart.
    SequenceStart,
    /// Coded frames: legacy AAC packet type 1, every other legacy format,
    /// enhanced CodedFrames.
    CodedFrames,
    /// Enhanced SequenceEnd.
    SequenceEnd,
    /// Enhanced MultichannelConfig; the tag's `data` is what follows it.
    MultichannelConfig(MultichannelConfig),
    /// Enhanced Multitrack.
    Multitrack {
        /// How the tracks are laid out.
        multitrack_type: AvMultitrackType,
        /// The packet type of every track (never Multitrack or ModEx).
        packet_type: AudioPacketType,
        /// The tracks, in message order (at least one).
        tracks: Vec<AudioTrack>,
    },
    /// An empty audio message: the audio silence message.
    Silence,
}

/// A parsed audio tag header, with the body as a slice of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTag {
    /// The codec ([`AudioCodec::Unspecified`] when the tag names none).
    pub codec: AudioCodec,
    /// Legacy SoundRate; `None` in an enhanced header (and for silence).
    pub sound_rate: Option<SoundRate>,
    /// Legacy SoundSize; `None` in an enhanced header (and for silence).
    pub sound_size: Option<SoundSize>,
    /// Legacy SoundType; `None` in an enhanced header (and for silence).
    pub sound_type: Option<SoundType>,
    /// What the tag carries.
    pub packet: AudioPacket,
    /// ModEx TimestampOffsetNano: nanoseconds (0..=999999) to add to this
    /// message's millisecond timestamp. Enhanced headers only.
    pub timestamp_offset_nanos: Option<u32>,
    /// Whether the tag used the Enhanced RTMP header (SoundFormat 9).
    pub enhanced: bool,
    /// The body after the header. For a multitrack tag, everything after the
    /// multitrack header (all tracks with their framing); the tracks' own
    /// bodies are in [`AudioPacket::Multitrack`], and [`AudioTag::encode`]
    /// writes those instead of this field.
    pub data: Bytes,
}

impl AudioTag {
    /// Parses the header of an audio message payload (or FLV audio tag
    /// body). Reads only the header bytes; the body is a slice of `payload`.
    pub fn parse(payload: &Bytes) -> Result<AudioTag, MediaError> {
        let mut c = Cursor::new(payload);
        let Ok(first) = c.u8("audio tag header") else {
            return Ok(AudioTag::silence());
        };
        if first >> 4 == EX_HEADER {
            parse_enhanced(first, c)
        } else {
            parse_legacy(first, c)
        }
    }

    /// The audio silence message (an empty payload).
    pub fn silence() -> AudioTag {
        AudioTag {
            codec: AudioCodec::Unspecified,
            sound_rate: None,
            sound_size: None,
            sound_type: None,
            packet: AudioPacket::Silence,
            timestamp_offset_nanos: None,
            enhanced: false,
            data: Bytes::new(),
        }
    }

    /// Whether this is codec configuration a late joiner needs: legacy AAC
    /// packet type 0 or enhanced SequenceStart (also as the packet type of a
    /// multitrack tag). A MultichannelConfig packet is configuration too but
    /// not counted here.
    pub fn is_sequence_header(&self) -> bool {
        match &self.packet {
            AudioPacket::SequenceStart => true,
            AudioPacket::Multitrack { packet_type, .. } => {
                *packet_type == AudioPacketType::SequenceStart
            }
            _ => false,
        }
    }

    /// Appends the tag (header and body) to `out`. Fails, writing nothing,
    /// when the value cannot be represented: a legacy header without the
    /// sound rate/size/type fields or for a codec with only a FourCC, a
    /// packet type the header has no code for, and so on. The silence
    /// message writes nothing; enhanced headers ignore the legacy fields.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), MediaError> {
        let start = out.len();
        let result = match (&self.packet, self.enhanced) {
            (AudioPacket::Silence, _) => Ok(()),
            (_, true) => self.encode_enhanced(out),
            (_, false) => self.encode_legacy(out),
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_legacy(&self, out: &mut BytesMut) -> Result<(), MediaError> {
        if self.timestamp_offset_nanos.is_some() {
            return Err(MediaError::Unencodable(
                "a legacy audio header cannot carry a timestamp offset",
            ));
        }
        let id = self.codec.legacy_id().ok_or(MediaError::Unencodable(
            "codec has no legacy SoundFormat; use an enhanced header",
        ))?;
        let (Some(rate), Some(size), Some(kind)) =
            (self.sound_rate, self.sound_size, self.sound_type)
        else {
            return Err(MediaError::Unencodable(
                "a legacy audio header needs sound_rate, sound_size and sound_type",
            ));
        };
        let size = u8::from(size == SoundSize::Bits16);
        let kind = u8::from(kind == SoundType::Stereo);
        out.put_u8((id << 4) | (rate.to_bits() << 2) | (size << 1) | kind);
        match (&self.packet, self.codec) {
            (AudioPacket::SequenceStart, AudioCodec::Aac) => out.put_u8(0),
            (AudioPacket::CodedFrames, AudioCodec::Aac) => out.put_u8(1),
            (AudioPacket::CodedFrames, _) => {}
            _ => {
                return Err(MediaError::Unencodable(
                    "a legacy audio header carries coded frames, or an AAC sequence header",
                ));
            }
        }
        out.put_slice(&self.data);
        Ok(())
    }

    fn encode_enhanced(&self, out: &mut BytesMut) -> Result<(), MediaError> {
        let packet_type = match &self.packet {
            AudioPacket::SequenceStart => AudioPacketType::SequenceStart,
            AudioPacket::CodedFrames => AudioPacketType::CodedFrames,
            AudioPacket::SequenceEnd => AudioPacketType::SequenceEnd,
            AudioPacket::MultichannelConfig(_) => AudioPacketType::MultichannelConfig,
            AudioPacket::Multitrack { .. } => AudioPacketType::Multitrack,
            AudioPacket::Silence => return Ok(()),
        };
        let head = EX_HEADER << 4;
        match self.timestamp_offset_nanos {
            Some(nanos) => {
                out.put_u8(head | MODEX);
                modex::put_timestamp_offset(out, nanos, packet_type.to_u8())?;
            }
            None => out.put_u8(head | packet_type.to_u8()),
        }
        if let AudioPacket::Multitrack {
            multitrack_type,
            packet_type,
            tracks,
        } = &self.packet
        {
            return self.encode_tracks(out, *multitrack_type, *packet_type, tracks);
        }
        out.put_slice(&self.codec_fourcc()?.0);
        if let AudioPacket::MultichannelConfig(config) = &self.packet {
            config.encode(out)?;
        }
        out.put_slice(&self.data);
        Ok(())
    }

    fn encode_tracks(
        &self,
        out: &mut BytesMut,
        kind: AvMultitrackType,
        packet_type: AudioPacketType,
        tracks: &[AudioTrack],
    ) -> Result<(), MediaError> {
        if matches!(
            packet_type,
            AudioPacketType::Multitrack | AudioPacketType::ModEx
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
            multitrack::put_track(
                out,
                kind,
                track.codec.fourcc(),
                track.track_id,
                &[],
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

fn parse_legacy(first: u8, mut c: Cursor<'_>) -> Result<AudioTag, MediaError> {
    let codec = AudioCodec::from_legacy_id(first >> 4);
    let packet = if codec == AudioCodec::Aac {
        match c.u8("AAC packet type")? {
            0 => AudioPacket::SequenceStart,
            1 => AudioPacket::CodedFrames,
            other => return Err(MediaError::UnknownAudioPacketType(other)),
        }
    } else {
        AudioPacket::CodedFrames
    };
    Ok(AudioTag {
        codec,
        sound_rate: Some(SoundRate::from_bits(first >> 2)),
        sound_size: Some(if first & 0x02 != 0 {
            SoundSize::Bits16
        } else {
            SoundSize::Bits8
        }),
        sound_type: Some(if first & 0x01 != 0 {
            SoundType::Stereo
        } else {
            SoundType::Mono
        }),
        packet,
        timestamp_offset_nanos: None,
        enhanced: false,
        data: c.rest(),
    })
}

fn parse_enhanced(first: u8, mut c: Cursor<'_>) -> Result<AudioTag, MediaError> {
    let mut raw_type = first & 0x0f;
    let mut timestamp_offset_nanos = None;
    if raw_type == MODEX {
        let m = modex::read(c.unread())?;
        c.advance(m.consumed, "ModEx")?;
        raw_type = m.packet_type;
        timestamp_offset_nanos = m.nanos;
    }
    let packet_type =
        AudioPacketType::from_u8(raw_type).ok_or(MediaError::UnknownAudioPacketType(raw_type))?;
    let (codec, packet, data) = match packet_type {
        AudioPacketType::Multitrack => parse_multitrack(&mut c)?,
        other => {
            let codec = AudioCodec::from_fourcc(c.fourcc("audio FourCC")?);
            let packet = match other {
                AudioPacketType::SequenceStart => AudioPacket::SequenceStart,
                AudioPacketType::CodedFrames => AudioPacket::CodedFrames,
                AudioPacketType::SequenceEnd => AudioPacket::SequenceEnd,
                AudioPacketType::MultichannelConfig => {
                    AudioPacket::MultichannelConfig(MultichannelConfig::read(&mut c)?)
                }
                // Multitrack is the arm above and ModEx never survives
                // modex::read.
                AudioPacketType::Multitrack | AudioPacketType::ModEx => {
                    return Err(MediaError::UnknownAudioPacketType(raw_type));
                }
            };
            (codec, packet, c.rest())
        }
    };
    Ok(AudioTag {
        codec,
        sound_rate: None,
        sound_size: None,
        sound_type: None,
        packet,
        timestamp_offset_nanos,
        enhanced: true,
        data,
    })
}

/// Reads the multitrack header and tracks; returns the codec, the packet and
/// the whole track area (the tag's `data`).
fn parse_multitrack(c: &mut Cursor<'_>) -> Result<(AudioCodec, AudioPacket, Bytes), MediaError> {
    let b = c.u8("multitrack header")?;
    let multitrack_type =
        AvMultitrackType::from_u8(b >> 4).ok_or(MediaError::UnknownMultitrackType(b >> 4))?;
    let raw_type = b & 0x0f;
    let packet_type =
        AudioPacketType::from_u8(raw_type).ok_or(MediaError::UnknownAudioPacketType(raw_type))?;
    if matches!(
        packet_type,
        AudioPacketType::Multitrack | AudioPacketType::ModEx
    ) {
        return Err(MediaError::NestedMultitrack(raw_type));
    }
    let codec = match multitrack_type {
        AvMultitrackType::ManyTracksManyCodecs => AudioCodec::Unspecified,
        _ => AudioCodec::from_fourcc(c.fourcc("audio FourCC")?),
    };
    let data = c.rest();
    let mut tc = Cursor::new(&data);
    let tracks = multitrack::read_tracks(&mut tc, multitrack_type)?
        .into_iter()
        .map(|t| AudioTrack {
            track_id: t.track_id,
            codec: t.fourcc.map_or(codec, AudioCodec::from_fourcc),
            data: t.body,
        })
        .collect();
    let packet = AudioPacket::Multitrack {
        multitrack_type,
        packet_type,
        tracks,
    };
    Ok((codec, packet, data))
}
