//! NetConnection and NetStream commands (RTMP 1.0 section 7.2) carried by
//! command messages (section 7.1.1, types 20 and 17), and data messages
//! (section 7.1.2, types 18 and 15).
//!
//! A command is its name, a transaction ID, a command object and arguments,
//! all AMF values. [`Command::decode`] turns them into one typed value, once:
//!
//! - a known command with the layout its section gives becomes its variant;
//!   trailing optional arguments left out take the spec defaults;
//! - a known command with a broken layout (`publish` without a stream name,
//!   `connect` whose command object is not an object) is a [`CommandError`]
//!   naming the command and what is wrong: the peer's fault;
//! - any other name becomes [`Command::Unknown`] with everything it carried,
//!   never dropped.
//!
//! AMF3 messages (types 17 and 15) start with a format byte 0x00 followed by
//! AMF0 values, any of which may switch to AMF3 with the AVM+ marker 0x11
//! (Enhanced RTMP v2, "Enabling AMF3 in RTMP"). The decoders skip the format
//! byte when it is there (some encoders leave it out) and read scalars alike
//! in either form; the encoders write the format byte, then AMF0.

mod connect;
mod data;
mod decode;
mod netstream;
mod status;
mod value;

#[cfg(test)]
pub(crate) mod tests;

pub use connect::{CapsEx, Connect, FourCcInfo, property as connect_property};
pub use data::{DataMessage, handler};
pub use netstream::{Play, Play2, Publish, PublishType};
pub use status::{
    FMS_CAPABILITIES, FMS_VERSION, OnStatus, Response, StatusCode, StatusInfo, StatusLevel,
    connect_result, create_stream_result, empty_result, error_response, on_status,
    property as info_property,
};

use bytes::{BufMut, BytesMut};

use crate::amf::AmfError;
use crate::amf::amf0::{self, Value};
use crate::limits::AmfLimits;
use value::{put_null, put_number, put_string};

/// How AMF values are encoded on a connection (the connect command's
/// `objectEncoding`), and so which message types carry commands and data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ObjectEncoding {
    /// AMF0 only: message types 20, 18 and 19 (`objectEncoding` 0, the
    /// default).
    #[default]
    Amf0,
    /// AMF0 and AMF3: message types 17, 15 and 16 (`objectEncoding` 3).
    Amf3,
}

impl ObjectEncoding {
    /// The `objectEncoding` number: 0 or 3.
    pub const fn as_number(self) -> f64 {
        match self {
            ObjectEncoding::Amf0 => 0.0,
            ObjectEncoding::Amf3 => 3.0,
        }
    }

    /// The encoding for an `objectEncoding` number (0 or 3).
    pub fn from_number(n: f64) -> Option<ObjectEncoding> {
        if n == 0.0 {
            Some(ObjectEncoding::Amf0)
        } else if n == 3.0 {
            Some(ObjectEncoding::Amf3)
        } else {
            None
        }
    }
}

/// Command names as written on the wire.
pub mod name {
    /// NetConnection.connect.
    pub const CONNECT: &str = "connect";
    /// NetConnection.close.
    pub const CLOSE: &str = "close";
    /// NetConnection.createStream.
    pub const CREATE_STREAM: &str = "createStream";
    /// A successful response.
    pub const RESULT: &str = "_result";
    /// A failed response.
    pub const ERROR: &str = "_error";
    /// A status event.
    pub const ON_STATUS: &str = "onStatus";
    /// NetStream.play.
    pub const PLAY: &str = "play";
    /// NetStream.play2.
    pub const PLAY2: &str = "play2";
    /// NetStream.deleteStream.
    pub const DELETE_STREAM: &str = "deleteStream";
    /// NetStream.closeStream.
    pub const CLOSE_STREAM: &str = "closeStream";
    /// NetStream.receiveAudio.
    pub const RECEIVE_AUDIO: &str = "receiveAudio";
    /// NetStream.receiveVideo.
    pub const RECEIVE_VIDEO: &str = "receiveVideo";
    /// NetStream.publish.
    pub const PUBLISH: &str = "publish";
    /// NetStream.seek.
    pub const SEEK: &str = "seek";
    /// NetStream.pause.
    pub const PAUSE: &str = "pause";
    /// FMLE/FFmpeg/OBS: release a stream name before publishing it.
    pub const RELEASE_STREAM: &str = "releaseStream";
    /// FMLE/FFmpeg/OBS: announce a publish.
    pub const FC_PUBLISH: &str = "FCPublish";
    /// FMLE/FFmpeg/OBS: announce the end of a publish.
    pub const FC_UNPUBLISH: &str = "FCUnpublish";
    /// FFmpeg: subscribe to a live stream before playing it.
    pub const FC_SUBSCRIBE: &str = "FCSubscribe";
    /// Server reply to `FCPublish`.
    pub const ON_FC_PUBLISH: &str = "onFCPublish";
    /// Server reply to `FCUnpublish`.
    pub const ON_FC_UNPUBLISH: &str = "onFCUnpublish";
    /// Ask the length of a recorded stream.
    pub const GET_STREAM_LENGTH: &str = "getStreamLength";
    /// Server: bandwidth detection is done.
    pub const ON_BW_DONE: &str = "onBWDone";
    /// Client (FFmpeg) answer to `onBWDone`.
    pub const CHECK_BW: &str = "_checkbw";
}

/// A command message, typed.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `connect` (section 7.2.1.1). Boxed: it is much larger than the other
    /// commands.
    Connect(Box<Connect>),
    /// A remote procedure call that the application sends (section
    /// 7.2.1.2). It is written exactly like [`Command::Unknown`]; a received
    /// call of a procedure without a variant of its own decodes as
    /// [`Command::Unknown`]. Do not use it for names that have a variant.
    Call {
        /// The procedure name.
        name: String,
        /// Non-zero when a response is expected.
        transaction_id: f64,
        /// Command information, or null.
        command_object: Value,
        /// The arguments.
        args: Vec<Value>,
    },
    /// `close` (section 7.2.1).
    Close {
        /// Transaction ID.
        transaction_id: f64,
    },
    /// `createStream` (section 7.2.1.3).
    CreateStream {
        /// Transaction ID.
        transaction_id: f64,
        /// Command object (null, or properties).
        command_object: Value,
    },
    /// `_result`.
    Result(Response),
    /// `_error`.
    Error(Response),
    /// `onStatus`.
    OnStatus(OnStatus),
    /// `play` (section 7.2.2.1).
    Play(Play),
    /// `play2` (section 7.2.2.2).
    Play2(Play2),
    /// `deleteStream` (section 7.2.2.3).
    DeleteStream {
        /// Transaction ID.
        transaction_id: f64,
        /// The stream to delete.
        stream_id: f64,
    },
    /// `closeStream`.
    CloseStream {
        /// Transaction ID.
        transaction_id: f64,
    },
    /// `receiveAudio` (section 7.2.2.4); written with transaction ID 0.
    ReceiveAudio {
        /// Whether to receive audio.
        flag: bool,
    },
    /// `receiveVideo` (section 7.2.2.5); written with transaction ID 0.
    ReceiveVideo {
        /// Whether to receive video.
        flag: bool,
    },
    /// `publish` (section 7.2.2.6).
    Publish(Publish),
    /// `seek` (section 7.2.2.7).
    Seek {
        /// Transaction ID.
        transaction_id: f64,
        /// Where to seek to, in milliseconds.
        millis: f64,
    },
    /// `pause` (section 7.2.2.8).
    Pause {
        /// Transaction ID.
        transaction_id: f64,
        /// True to pause, false to resume.
        pause: bool,
        /// The client's stream time, in milliseconds (0 when left out).
        millis: f64,
    },
    /// `releaseStream`.
    ReleaseStream {
        /// Transaction ID.
        transaction_id: f64,
        /// The stream name.
        stream_name: String,
    },
    /// `FCPublish`.
    FcPublish {
        /// Transaction ID.
        transaction_id: f64,
        /// The stream name.
        stream_name: String,
    },
    /// `FCUnpublish`.
    FcUnpublish {
        /// Transaction ID.
        transaction_id: f64,
        /// The stream name.
        stream_name: String,
    },
    /// `FCSubscribe`.
    FcSubscribe {
        /// Transaction ID.
        transaction_id: f64,
        /// The stream name.
        stream_name: String,
    },
    /// `onFCPublish`, written with transaction ID 0.
    OnFcPublish(StatusInfo),
    /// `onFCUnpublish`, written with transaction ID 0.
    OnFcUnpublish(StatusInfo),
    /// `getStreamLength`.
    GetStreamLength {
        /// Transaction ID.
        transaction_id: f64,
        /// The stream name.
        stream_name: String,
    },
    /// `onBWDone`.
    OnBwDone {
        /// Transaction ID.
        transaction_id: f64,
        /// The measured bandwidth in kbit/s, when sent.
        bandwidth: Option<f64>,
    },
    /// `_checkbw`.
    CheckBw {
        /// Transaction ID.
        transaction_id: f64,
    },
    /// A command this library has no variant for, kept whole.
    Unknown {
        /// The command name.
        name: String,
        /// Transaction ID (0 when the command carried none).
        transaction_id: f64,
        /// Command object (null when the command carried none).
        command_object: Value,
        /// The remaining values.
        args: Vec<Value>,
    },
}

/// A command or data message could not be read: the AMF was bad, or the
/// values do not have the layout the command requires. All are peer faults.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The AMF values could not be decoded.
    #[error("bad AMF in command or data message: {0}")]
    Amf(#[from] AmfError),
    /// The message holds no value at all.
    #[error("command or data message is empty")]
    Empty,
    /// The first value, the command or handler name, is not a string.
    #[error("command or data message starts with {found} instead of its name string")]
    NameNotString {
        /// What the first value is.
        found: &'static str,
    },
    /// A required argument is missing.
    #[error("{command}: {argument} is missing (expected {expected})")]
    MissingArgument {
        /// The command name.
        command: String,
        /// The argument.
        argument: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// An argument has the wrong AMF type.
    #[error("{command}: {argument} should be {expected} but is {found}")]
    WrongType {
        /// The command name.
        command: String,
        /// The argument.
        argument: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// An argument has the right type but an invalid content.
    #[error("{command}: invalid {argument}: {reason}")]
    InvalidArgument {
        /// The command name.
        command: String,
        /// The argument.
        argument: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// `publish` with a publishing type other than live, record, append and
    /// appendWithGap. The server can answer it with an `onStatus` error.
    #[error("publish: unknown publishing type {publish_type:?} for stream {stream_name:?}")]
    UnknownPublishType {
        /// Transaction ID of the publish.
        transaction_id: f64,
        /// The stream name.
        stream_name: String,
        /// The type as sent.
        publish_type: String,
    },
}

/// The AMF0 values of a command or data payload, after the AMF3 format byte
/// when there is one.
pub(crate) fn decode_values(
    payload: &[u8],
    encoding: ObjectEncoding,
    limits: &AmfLimits,
) -> Result<Vec<Value>, CommandError> {
    let body = match (encoding, payload.split_first()) {
        // AMF3 format selector: 0 = AMF0 values (with AVM+ switches). A
        // payload without it starts with the name's string marker (0x02).
        (ObjectEncoding::Amf3, Some((0, rest))) => rest,
        _ => payload,
    };
    Ok(amf0::decode_all(body, limits)?)
}

/// Writes the AMF3 format byte (0x00: AMF0 values follow) for AMF3.
pub(crate) fn put_format_byte(encoding: ObjectEncoding, out: &mut BytesMut) {
    if encoding == ObjectEncoding::Amf3 {
        out.put_u8(0);
    }
}

impl Command {
    /// Decodes the payload of a command message. With AMF3 (type 17) a
    /// leading format byte 0x00 is skipped when present.
    pub fn decode(
        payload: &[u8],
        encoding: ObjectEncoding,
        limits: &AmfLimits,
    ) -> Result<Command, CommandError> {
        Command::from_values(decode_values(payload, encoding, limits)?)
    }

    /// The command name as written on the wire.
    pub fn name(&self) -> &str {
        match self {
            Command::Connect(_) => name::CONNECT,
            Command::Call { name, .. } | Command::Unknown { name, .. } => name,
            Command::Close { .. } => name::CLOSE,
            Command::CreateStream { .. } => name::CREATE_STREAM,
            Command::Result(_) => name::RESULT,
            Command::Error(_) => name::ERROR,
            Command::OnStatus(_) => name::ON_STATUS,
            Command::Play(_) => name::PLAY,
            Command::Play2(_) => name::PLAY2,
            Command::DeleteStream { .. } => name::DELETE_STREAM,
            Command::CloseStream { .. } => name::CLOSE_STREAM,
            Command::ReceiveAudio { .. } => name::RECEIVE_AUDIO,
            Command::ReceiveVideo { .. } => name::RECEIVE_VIDEO,
            Command::Publish(_) => name::PUBLISH,
            Command::Seek { .. } => name::SEEK,
            Command::Pause { .. } => name::PAUSE,
            Command::ReleaseStream { .. } => name::RELEASE_STREAM,
            Command::FcPublish { .. } => name::FC_PUBLISH,
            Command::FcUnpublish { .. } => name::FC_UNPUBLISH,
            Command::FcSubscribe { .. } => name::FC_SUBSCRIBE,
            Command::OnFcPublish(_) => name::ON_FC_PUBLISH,
            Command::OnFcUnpublish(_) => name::ON_FC_UNPUBLISH,
            Command::GetStreamLength { .. } => name::GET_STREAM_LENGTH,
            Command::OnBwDone { .. } => name::ON_BW_DONE,
            Command::CheckBw { .. } => name::CHECK_BW,
        }
    }

    /// The transaction ID (0 for the commands that carry none of their own).
    pub fn transaction_id(&self) -> f64 {
        match self {
            Command::Connect(c) => c.transaction_id,
            Command::Result(r) | Command::Error(r) => r.transaction_id,
            Command::OnStatus(s) => s.transaction_id,
            Command::Play(p) => p.transaction_id,
            Command::Play2(p) => p.transaction_id,
            Command::Publish(p) => p.transaction_id,
            Command::Call { transaction_id, .. }
            | Command::Unknown { transaction_id, .. }
            | Command::Close { transaction_id }
            | Command::CreateStream { transaction_id, .. }
            | Command::DeleteStream { transaction_id, .. }
            | Command::CloseStream { transaction_id }
            | Command::Seek { transaction_id, .. }
            | Command::Pause { transaction_id, .. }
            | Command::ReleaseStream { transaction_id, .. }
            | Command::FcPublish { transaction_id, .. }
            | Command::FcUnpublish { transaction_id, .. }
            | Command::FcSubscribe { transaction_id, .. }
            | Command::GetStreamLength { transaction_id, .. }
            | Command::OnBwDone { transaction_id, .. }
            | Command::CheckBw { transaction_id } => *transaction_id,
            Command::ReceiveAudio { .. }
            | Command::ReceiveVideo { .. }
            | Command::OnFcPublish(_)
            | Command::OnFcUnpublish(_) => 0.0,
        }
    }

    /// Appends the payload of the command message: with AMF3, the format
    /// byte 0x00, then AMF0 values (name, transaction ID, command object,
    /// arguments).
    pub fn encode(&self, encoding: ObjectEncoding, out: &mut BytesMut) {
        put_format_byte(encoding, out);
        put_string(out, self.name());
        put_number(out, self.transaction_id());
        match self {
            Command::Connect(c) => {
                amf0::encode(&c.to_command_object(), out);
                amf0::encode_all(&c.args, out);
            }
            Command::Call {
                command_object,
                args,
                ..
            }
            | Command::Unknown {
                command_object,
                args,
                ..
            } => {
                amf0::encode(command_object, out);
                amf0::encode_all(args, out);
            }
            Command::Close { .. } | Command::CloseStream { .. } | Command::CheckBw { .. } => {
                put_null(out);
            }
            Command::CreateStream { command_object, .. } => amf0::encode(command_object, out),
            Command::Result(r) | Command::Error(r) => {
                amf0::encode(&r.command_object, out);
                amf0::encode_all(&r.values, out);
            }
            Command::OnStatus(OnStatus { info, .. })
            | Command::OnFcPublish(info)
            | Command::OnFcUnpublish(info) => {
                put_null(out);
                amf0::encode(&info.to_value(), out);
            }
            Command::Play(p) => {
                put_null(out);
                put_string(out, &p.stream_name);
                put_number(out, p.start);
                put_number(out, p.duration);
                value::put_bool(out, p.reset);
            }
            Command::Play2(p) => {
                put_null(out);
                value::put_object(out, p.parameters.iter().map(|(k, v)| (k.as_str(), v)));
            }
            Command::DeleteStream { stream_id, .. } => {
                put_null(out);
                put_number(out, *stream_id);
            }
            Command::ReceiveAudio { flag } | Command::ReceiveVideo { flag } => {
                put_null(out);
                value::put_bool(out, *flag);
            }
            Command::Publish(p) => {
                put_null(out);
                put_string(out, &p.stream_name);
                put_string(out, p.publish_type.as_str());
            }
            Command::Seek { millis, .. } => {
                put_null(out);
                put_number(out, *millis);
            }
            Command::Pause { pause, millis, .. } => {
                put_null(out);
                value::put_bool(out, *pause);
                put_number(out, *millis);
            }
            Command::ReleaseStream { stream_name, .. }
            | Command::FcPublish { stream_name, .. }
            | Command::FcUnpublish { stream_name, .. }
            | Command::FcSubscribe { stream_name, .. }
            | Command::GetStreamLength { stream_name, .. } => {
                put_null(out);
                put_string(out, stream_name);
            }
            Command::OnBwDone { bandwidth, .. } => {
                put_null(out);
                if let Some(b) = bandwidth {
                    put_number(out, *b);
                }
            }
        }
    }

    /// The encoded payload as a fresh buffer.
    pub fn to_bytes(&self, encoding: ObjectEncoding) -> bytes::Bytes {
        let mut out = BytesMut::new();
        self.encode(encoding, &mut out);
        out.freeze()
    }
}

impl From<Connect> for Command {
    fn from(c: Connect) -> Self {
        Command::Connect(Box::new(c))
    }
}

impl From<Play> for Command {
    fn from(p: Play) -> Self {
        Command::Play(p)
    }
}

impl From<Play2> for Command {
    fn from(p: Play2) -> Self {
        Command::Play2(p)
    }
}

impl From<Publish> for Command {
    fn from(p: Publish) -> Self {
        Command::Publish(p)
    }
}

impl From<OnStatus> for Command {
    fn from(s: OnStatus) -> Self {
        Command::OnStatus(s)
    }
}
