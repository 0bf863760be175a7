//! The `onMetaData` object: FLV v10.1 annex E.5 (onMetaData) and Enhanced
//! RTMP v2 "Enhancing onMetaData" (FourCC values in `videocodecid` and
//! `audiocodecid`).
//!
//! [`Metadata`] keeps every property exactly as received, in order, in
//! [`Metadata::properties`], so relaying it loses nothing; the typed fields
//! are a view of the well-known properties. [`Metadata::to_amf`] writes the
//! properties back, with any typed field the caller changed or added taking
//! the place of (or appended after) the property it names.

use crate::amf0::{Properties, Value};

use super::{AudioCodec, FourCc, MediaError, VideoCodec};

/// A `videocodecid` or `audiocodecid` value.
#[derive(Debug, Clone, PartialEq)]
pub enum CodecId {
    /// A legacy CodecID / SoundFormat: a whole number from 0 to 255 (FLV
    /// defines 0-15).
    Id(u8),
    /// A FourCC: a whole number above 255 that fits in a UI32 (Enhanced RTMP:
    /// `"av01" == 0x61763031 == 1635135537.0`) or a four-character string,
    /// as Flash Media Live Encoder and some hardware encoders send
    /// (`"avc1"`, `"mp4a"`).
    FourCc(FourCc),
    /// Any other number (fractional, negative, too large).
    Number(f64),
    /// Any other string (for example `"H264Avc"`).
    Name(String),
}

impl CodecId {
    /// Reads the id from an AMF value; `None` if it is neither a number nor a
    /// string.
    pub fn from_amf(value: &Value) -> Option<CodecId> {
        match value {
            Value::Number(n) => Some(Self::from_number(*n)),
            Value::String(s) => Some(match FourCc::from_str_exact(s) {
                Some(f) => CodecId::FourCc(f),
                None => CodecId::Name(s.clone()),
            }),
            _ => None,
        }
    }

    fn from_number(n: f64) -> CodecId {
        if n.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&n) {
            return CodecId::Number(n);
        }
        // A whole number in 0..=u32::MAX: the casts below are exact.
        if n <= 255.0 {
            CodecId::Id(n as u8)
        } else {
            CodecId::FourCc(FourCc::from_u32(n as u32))
        }
    }

    /// The AMF value: a number, the way FFmpeg and Enhanced RTMP write it
    /// (a FourCC as its UI32), or the string a [`CodecId::Name`] holds.
    pub fn to_amf(&self) -> Value {
        match self {
            CodecId::Id(id) => Value::Number(f64::from(*id)),
            CodecId::FourCc(f) => Value::Number(f64::from(f.to_u32())),
            CodecId::Number(n) => Value::Number(*n),
            CodecId::Name(s) => Value::String(s.clone()),
        }
    }

    /// The video codec this names, if any.
    pub fn video_codec(&self) -> Option<VideoCodec> {
        match self {
            CodecId::Id(id) if *id < 16 => Some(VideoCodec::from_legacy_id(*id)),
            CodecId::FourCc(f) => Some(VideoCodec::from_fourcc(*f)),
            _ => None,
        }
    }

    /// The audio codec this names, if any.
    pub fn audio_codec(&self) -> Option<AudioCodec> {
        match self {
            CodecId::Id(id) if *id < 16 => Some(AudioCodec::from_legacy_id(*id)),
            CodecId::FourCc(f) => Some(AudioCodec::from_fourcc(*f)),
            _ => None,
        }
    }
}

/// Stream metadata from `onMetaData` (or `@setDataFrame`'s argument).
///
/// A typed field is `None` when its property is absent or of an unexpected
/// type; the property is still kept in `properties`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// `duration`: seconds (0 for live streams).
    pub duration: Option<f64>,
    /// `filesize`: bytes.
    pub file_size: Option<f64>,
    /// `width`: pixels.
    pub width: Option<f64>,
    /// `height`: pixels.
    pub height: Option<f64>,
    /// `videodatarate`: kilobits per second.
    pub video_data_rate: Option<f64>,
    /// `framerate`: frames per second.
    pub frame_rate: Option<f64>,
    /// `videocodecid`.
    pub video_codec_id: Option<CodecId>,
    /// `audiodatarate`: kilobits per second.
    pub audio_data_rate: Option<f64>,
    /// `audiosamplerate`: Hz.
    pub audio_sample_rate: Option<f64>,
    /// `audiosamplesize`: bits per sample.
    pub audio_sample_size: Option<f64>,
    /// `audiochannels`: channel count (OBS and others send it).
    pub audio_channels: Option<f64>,
    /// `stereo` (a number is read as true when non-zero).
    pub stereo: Option<bool>,
    /// `audiocodecid`.
    pub audio_codec_id: Option<CodecId>,
    /// `audiodelay`: seconds of delay the audio codec introduces.
    pub audio_delay: Option<f64>,
    /// `canSeekToEnd`: whether the last video frame is a key frame.
    pub can_seek_to_end: Option<bool>,
    /// `creationdate`.
    pub creation_date: Option<String>,
    /// `encoder`: the software that produced the stream.
    pub encoder: Option<String>,
    /// Every property as received, in order (including the ones above and
    /// `videoTrackIdInfoMap` / `audioTrackIdInfoMap`).
    pub properties: Properties,
}

/// A typed field's value, to compare and write them uniformly.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    Number(f64),
    Bool(bool),
    Text(String),
    Codec(CodecId),
}

/// What kind of value each well-known property holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Bool,
    Text,
    Codec,
}

/// The well-known properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Duration,
    Width,
    Height,
    VideoDataRate,
    FrameRate,
    VideoCodecId,
    AudioDataRate,
    AudioSampleRate,
    AudioSampleSize,
    AudioChannels,
    Stereo,
    AudioCodecId,
    AudioDelay,
    CanSeekToEnd,
    CreationDate,
    Encoder,
    FileSize,
}

/// Every key, in the order FFmpeg writes them (typed fields with no property
/// are appended in this order).
const KEYS: [Key; 17] = [
    Key::Duration,
    Key::Width,
    Key::Height,
    Key::VideoDataRate,
    Key::FrameRate,
    Key::VideoCodecId,
    Key::AudioDataRate,
    Key::AudioSampleRate,
    Key::AudioSampleSize,
    Key::AudioChannels,
    Key::Stereo,
    Key::AudioCodecId,
    Key::AudioDelay,
    Key::CanSeekToEnd,
    Key::CreationDate,
    Key::Encoder,
    Key::FileSize,
];

impl Key {
    /// The property name.
    const fn name(self) -> &'static str {
        match self {
            Key::Duration => "duration",
            Key::Width => "width",
            Key::Height => "height",
            Key::VideoDataRate => "videodatarate",
            Key::FrameRate => "framerate",
            Key::VideoCodecId => "videocodecid",
            Key::AudioDataRate => "audiodatarate",
            Key::AudioSampleRate => "audiosamplerate",
            Key::AudioSampleSize => "audiosamplesize",
            Key::AudioChannels => "audiochannels",
            Key::Stereo => "stereo",
            Key::AudioCodecId => "audiocodecid",
            Key::AudioDelay => "audiodelay",
            Key::CanSeekToEnd => "canSeekToEnd",
            Key::CreationDate => "creationdate",
            Key::Encoder => "encoder",
            Key::FileSize => "filesize",
        }
    }

    const fn kind(self) -> Kind {
        match self {
            Key::VideoCodecId | Key::AudioCodecId => Kind::Codec,
            Key::Stereo | Key::CanSeekToEnd => Kind::Bool,
            Key::CreationDate | Key::Encoder => Kind::Text,
            _ => Kind::Number,
        }
    }
}

fn read_field(kind: Kind, value: &Value) -> Option<Field> {
    match (kind, value) {
        (Kind::Number, Value::Number(n)) => Some(Field::Number(*n)),
        (Kind::Bool, Value::Boolean(b)) => Some(Field::Bool(*b)),
        (Kind::Bool, Value::Number(n)) => Some(Field::Bool(*n != 0.0)),
        (Kind::Text, Value::String(s)) => Some(Field::Text(s.clone())),
        (Kind::Codec, v) => CodecId::from_amf(v).map(Field::Codec),
        _ => None,
    }
}

fn write_field(field: &Field) -> Value {
    match field {
        Field::Number(n) => Value::Number(*n),
        Field::Bool(b) => Value::Boolean(*b),
        Field::Text(s) => Value::String(s.clone()),
        Field::Codec(c) => c.to_amf(),
    }
}

impl Metadata {
    /// Reads metadata from the `onMetaData` argument: an object or an ECMA
    /// array (Enhanced RTMP: "be prepared to handle either"), or a typed
    /// object. The first property of each well-known name fills its field.
    pub fn from_amf(value: &Value) -> Result<Metadata, MediaError> {
        let properties = match value {
            Value::Object(p) | Value::EcmaArray(p) => p,
            Value::TypedObject { properties, .. } => properties,
            _ => return Err(MediaError::MetadataNotObject),
        };
        let mut m = Metadata {
            properties: properties.clone(),
            ..Metadata::default()
        };
        for key in KEYS {
            let found = properties.iter().find(|(k, _)| k == key.name());
            if let Some(field) = found.and_then(|(_, v)| read_field(key.kind(), v)) {
                m.set(key, field);
            }
        }
        Ok(m)
    }

    /// Writes the metadata as an ECMA array, as FFmpeg writes `onMetaData`:
    /// every property of `properties` in order; a typed field that is `Some`
    /// and differs from what its property says replaces that property's
    /// value, and one with no property is appended. A typed field that is
    /// `None` leaves its property alone (remove it from `properties` to drop
    /// it).
    pub fn to_amf(&self) -> Value {
        let mut out = self.properties.clone();
        for key in KEYS {
            let Some(field) = self.get(key) else {
                continue;
            };
            match out.iter_mut().find(|(k, _)| k == key.name()) {
                Some((_, value)) => {
                    if read_field(key.kind(), value).as_ref() != Some(&field) {
                        *value = write_field(&field);
                    }
                }
                None => out.push((key.name().to_owned(), write_field(&field))),
            }
        }
        Value::EcmaArray(out)
    }

    /// The video codec `videocodecid` names, if any.
    pub fn video_codec(&self) -> Option<VideoCodec> {
        self.video_codec_id.as_ref()?.video_codec()
    }

    /// The audio codec `audiocodecid` names, if any.
    pub fn audio_codec(&self) -> Option<AudioCodec> {
        self.audio_codec_id.as_ref()?.audio_codec()
    }

    /// The value of a property as received (the first of that name).
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    fn get(&self, key: Key) -> Option<Field> {
        let num = |v: Option<f64>| v.map(Field::Number);
        match key {
            Key::Duration => num(self.duration),
            Key::FileSize => num(self.file_size),
            Key::Width => num(self.width),
            Key::Height => num(self.height),
            Key::VideoDataRate => num(self.video_data_rate),
            Key::FrameRate => num(self.frame_rate),
            Key::VideoCodecId => self.video_codec_id.clone().map(Field::Codec),
            Key::AudioDataRate => num(self.audio_data_rate),
            Key::AudioSampleRate => num(self.audio_sample_rate),
            Key::AudioSampleSize => num(self.audio_sample_size),
            Key::AudioChannels => num(self.audio_channels),
            Key::Stereo => self.stereo.map(Field::Bool),
            Key::AudioCodecId => self.audio_codec_id.clone().map(Field::Codec),
            Key::AudioDelay => num(self.audio_delay),
            Key::CanSeekToEnd => self.can_seek_to_end.map(Field::Bool),
            Key::CreationDate => self.creation_date.clone().map(Field::Text),
            Key::Encoder => self.encoder.clone().map(Field::Text),
        }
    }

    /// Stores a field read by `read_field(key.kind(), ..)`, which always
    /// matches the key's kind.
    fn set(&mut self, key: Key, field: Field) {
        match (key, field) {
            (Key::Duration, Field::Number(n)) => self.duration = Some(n),
            (Key::FileSize, Field::Number(n)) => self.file_size = Some(n),
            (Key::Width, Field::Number(n)) => self.width = Some(n),
            (Key::Height, Field::Number(n)) => self.height = Some(n),
            (Key::VideoDataRate, Field::Number(n)) => self.video_data_rate = Some(n),
            (Key::FrameRate, Field::Number(n)) => self.frame_rate = Some(n),
            (Key::VideoCodecId, Field::Codec(c)) => self.video_codec_id = Some(c),
            (Key::AudioDataRate, Field::Number(n)) => self.audio_data_rate = Some(n),
            (Key::AudioSampleRate, Field::Number(n)) => self.audio_sample_rate = Some(n),
            (Key::AudioSampleSize, Field::Number(n)) => self.audio_sample_size = Some(n),
            (Key::AudioChannels, Field::Number(n)) => self.audio_channels = Some(n),
            (Key::Stereo, Field::Bool(b)) => self.stereo = Some(b),
            (Key::AudioCodecId, Field::Codec(c)) => self.audio_codec_id = Some(c),
            (Key::AudioDelay, Field::Number(n)) => self.audio_delay = Some(n),
            (Key::CanSeekToEnd, Field::Bool(b)) => self.can_seek_to_end = Some(b),
            (Key::CreationDate, Field::Text(s)) => self.creation_date = Some(s),
            (Key::Encoder, Field::Text(s)) => self.encoder = Some(s),
            // A field of another kind than the key's: read_field never
            // produces one.
            _ => {}
        }
    }
}
