//! NetStream commands with arguments of their own (RTMP 1.0 section 7.2.2):
//! `play` (7.2.2.1), `play2` (7.2.2.2) and `publish` (7.2.2.6).

use std::fmt;

use crate::amf::amf0::Properties;

/// A `play` command.
#[derive(Clone, Debug, PartialEq)]
pub struct Play {
    /// Transaction ID (the spec says 0).
    pub transaction_id: f64,
    /// The stream to play.
    pub stream_name: String,
    /// Start: -2 (the default) live then recorded, -1 live only, >= 0 a
    /// recorded stream from that time (seconds).
    pub start: f64,
    /// Duration: -1 (the default) until the end, 0 a single frame, > 0 that
    /// long (seconds).
    pub duration: f64,
    /// Whether to clear the playlist (default true).
    pub reset: bool,
}

impl Play {
    /// Spec default of [`Play::start`].
    pub const DEFAULT_START: f64 = -2.0;
    /// Spec default of [`Play::duration`].
    pub const DEFAULT_DURATION: f64 = -1.0;

    /// Plays `stream_name` with the spec defaults and transaction ID 0.
    pub fn new(stream_name: impl Into<String>) -> Self {
        Play {
            transaction_id: 0.0,
            stream_name: stream_name.into(),
            start: Play::DEFAULT_START,
            duration: Play::DEFAULT_DURATION,
            reset: true,
        }
    }
}

/// A `play2` command: switch streams without changing the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Play2 {
    /// Transaction ID (the spec says 0).
    pub transaction_id: f64,
    /// The properties of the NetStreamPlayOptions object (`streamName`,
    /// `oldStreamName`, `start`, `len`, `offset`, `transition`).
    pub parameters: Properties,
}

/// How a stream is published (the `publish` command's type argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PublishType {
    /// `live`: not recorded (the default when the argument is left out).
    #[default]
    Live,
    /// `record`: recorded to a new file.
    Record,
    /// `append`: appended to a file.
    Append,
    /// `appendWithGap`: appended, keeping the gap in time.
    AppendWithGap,
}

impl PublishType {
    /// The wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            PublishType::Live => "live",
            PublishType::Record => "record",
            PublishType::Append => "append",
            PublishType::AppendWithGap => "appendWithGap",
        }
    }

    /// Reads a publish type (exact wire spelling).
    pub fn parse(s: &str) -> Option<PublishType> {
        [
            PublishType::Live,
            PublishType::Record,
            PublishType::Append,
            PublishType::AppendWithGap,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

impl fmt::Display for PublishType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `publish` command.
#[derive(Clone, Debug, PartialEq)]
pub struct Publish {
    /// Transaction ID (the spec says 0; FFmpeg and OBS send a counter).
    pub transaction_id: f64,
    /// The name the stream is published under (often the stream key).
    pub stream_name: String,
    /// How it is published.
    pub publish_type: PublishType,
}

impl Publish {
    /// Publishes `stream_name` live, with transaction ID 0.
    pub fn new(stream_name: impl Into<String>) -> Self {
        Publish {
            transaction_id: 0.0,
            stream_name: stream_name.into(),
            publish_type: PublishType::Live,
        }
    }
}
