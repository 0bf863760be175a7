//! Responses and status (RTMP 1.0 sections 7.2.1.1-7.2.2: `_result`,
//! `_error`, `onStatus` and their info objects), the Enhanced RTMP v2
//! Reconnect Request (`NetConnection.Connect.ReconnectRequest`), and builders
//! for the replies a server sends.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use super::connect::{CapsEx, caps_ex_value};
use super::value::{as_str, into_properties, into_string};
use super::{Command, CommandError, ObjectEncoding};
use crate::amf::amf0::{Properties, Value};

/// `level` of an info object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusLevel {
    /// `status`: something happened as asked.
    Status,
    /// `warning`.
    Warning,
    /// `error`: something failed.
    Error,
}

impl StatusLevel {
    /// The wire form: `status`, `warning` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusLevel::Status => "status",
            StatusLevel::Warning => "warning",
            StatusLevel::Error => "error",
        }
    }

    /// Reads a level (ASCII case ignored).
    pub fn parse(s: &str) -> Option<StatusLevel> {
        [
            StatusLevel::Status,
            StatusLevel::Warning,
            StatusLevel::Error,
        ]
        .into_iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for StatusLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! status_codes {
    ($($(#[$doc:meta])* $variant:ident => $s:literal,)*) => {
        /// `code` of an info object. Codes this library does not know are kept
        /// as [`StatusCode::Other`].
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum StatusCode {
            $($(#[$doc])* #[doc = concat!("`", $s, "`")] $variant,)*
            /// Any other code, as sent.
            Other(String),
        }

        impl StatusCode {
            /// Every known code, as written on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($s,)*];

            /// The wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $(StatusCode::$variant => $s,)*
                    StatusCode::Other(s) => s,
                }
            }

            /// Reads a code: a known one becomes its variant, anything else
            /// [`StatusCode::Other`].
            pub fn parse(s: &str) -> StatusCode {
                match s {
                    $($s => StatusCode::$variant,)*
                    other => StatusCode::Other(other.to_owned()),
                }
            }
        }
    };
}

status_codes! {
    /// The connection attempt succeeded.
    ConnectSuccess => "NetConnection.Connect.Success",
    /// The server refused the connection.
    ConnectRejected => "NetConnection.Connect.Rejected",
    /// The connection was closed.
    ConnectClosed => "NetConnection.Connect.Closed",
    /// The connection attempt failed.
    ConnectFailed => "NetConnection.Connect.Failed",
    /// The application is shutting down.
    ConnectAppShutdown => "NetConnection.Connect.AppShutdown",
    /// The application name is not valid.
    ConnectInvalidApp => "NetConnection.Connect.InvalidApp",
    /// Enhanced RTMP: the server asks the client to reconnect.
    ConnectReconnectRequest => "NetConnection.Connect.ReconnectRequest",
    /// A NetConnection.call failed.
    CallFailed => "NetConnection.Call.Failed",
    /// Publishing started.
    PublishStart => "NetStream.Publish.Start",
    /// The stream name is already being published (or not allowed).
    PublishBadName => "NetStream.Publish.BadName",
    /// The publisher has been idle too long.
    PublishIdle => "NetStream.Publish.Idle",
    /// Publishing was refused.
    PublishRejected => "NetStream.Publish.Rejected",
    /// Publishing stopped.
    UnpublishSuccess => "NetStream.Unpublish.Success",
    /// Playback started.
    PlayStart => "NetStream.Play.Start",
    /// The playlist was reset.
    PlayReset => "NetStream.Play.Reset",
    /// Playback stopped.
    PlayStop => "NetStream.Play.Stop",
    /// Playback failed.
    PlayFailed => "NetStream.Play.Failed",
    /// The stream to play does not exist.
    PlayStreamNotFound => "NetStream.Play.StreamNotFound",
    /// The publisher of the played stream stopped.
    PlayUnpublishNotify => "NetStream.Play.UnpublishNotify",
    /// The played stream started being published.
    PlayPublishNotify => "NetStream.Play.PublishNotify",
    /// The client is too slow to play the stream.
    PlayInsufficientBw => "NetStream.Play.InsufficientBW",
    /// Playback completed (recorded streams).
    PlayComplete => "NetStream.Play.Complete",
    /// The stream was paused.
    PauseNotify => "NetStream.Pause.Notify",
    /// The stream was resumed.
    UnpauseNotify => "NetStream.Unpause.Notify",
    /// A seek succeeded.
    SeekNotify => "NetStream.Seek.Notify",
    /// A seek failed.
    SeekFailed => "NetStream.Seek.Failed",
    /// Data messages start.
    DataStart => "NetStream.Data.Start",
    /// Recording started.
    RecordStart => "NetStream.Record.Start",
    /// Recording stopped.
    RecordStop => "NetStream.Record.Stop",
    /// Recording failed.
    RecordFailed => "NetStream.Record.Failed",
    /// A generic NetStream failure.
    StreamFailed => "NetStream.Failed",
}

impl FromStr for StatusCode {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(StatusCode::parse(s))
    }
}

impl From<&str> for StatusCode {
    fn from(s: &str) -> Self {
        StatusCode::parse(s)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Property names of info objects.
pub mod property {
    /// Severity.
    pub const LEVEL: &str = "level";
    /// What happened.
    pub const CODE: &str = "code";
    /// Human-readable text.
    pub const DESCRIPTION: &str = "description";
    /// Stream name, for NetStream events.
    pub const DETAILS: &str = "details";
    /// Client ID.
    pub const CLIENT_ID: &str = "clientid";
    /// Object encoding, in the connect `_result`.
    pub const OBJECT_ENCODING: &str = "objectEncoding";
    /// Where to reconnect, in a Reconnect Request.
    pub const TC_URL: &str = "tcUrl";
}

/// An info object: the argument of `onStatus`, `onFCPublish`, and of many
/// `_result` / `_error` responses.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusInfo {
    /// `level`.
    pub level: StatusLevel,
    /// `code`.
    pub code: StatusCode,
    /// `description`, if sent as a string.
    pub description: Option<String>,
    /// Every other property (`details`, `clientid`, `objectEncoding`,
    /// `tcUrl`, ...) in wire order.
    pub other: Properties,
}

impl StatusInfo {
    /// An info object with a level, a code and a description.
    pub fn new(level: StatusLevel, code: StatusCode, description: impl Into<String>) -> Self {
        StatusInfo {
            level,
            code,
            description: Some(description.into()),
            other: Vec::new(),
        }
    }

    /// Adds a property.
    #[must_use]
    pub fn with_property(mut self, name: impl Into<String>, value: Value) -> Self {
        self.other.push((name.into(), value));
        self
    }

    /// Adds `details` (conventionally the stream name).
    #[must_use]
    pub fn with_details(self, details: impl Into<String>) -> Self {
        self.with_property(property::DETAILS, Value::String(details.into()))
    }

    /// The first property called `name` among the others.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.other.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Enhanced RTMP Reconnect Request: level `status`, code
    /// `NetConnection.Connect.ReconnectRequest`, with `tcUrl` (where to
    /// reconnect; the current URL when absent) and `description` when given.
    pub fn reconnect_request(tc_url: Option<&str>, description: Option<&str>) -> Self {
        let mut info = StatusInfo {
            level: StatusLevel::Status,
            code: StatusCode::ConnectReconnectRequest,
            description: description.map(str::to_owned),
            other: Vec::new(),
        };
        if let Some(url) = tc_url {
            info.other
                .push((property::TC_URL.to_owned(), Value::string(url)));
        }
        info
    }

    /// The `tcUrl` of a Reconnect Request, if any.
    pub fn tc_url(&self) -> Option<&str> {
        self.get(property::TC_URL).and_then(as_str)
    }

    /// `NetStream.Publish.Start` for `stream_name`.
    pub fn publish_start(stream_name: &str) -> Self {
        StatusInfo::new(
            StatusLevel::Status,
            StatusCode::PublishStart,
            format!("{stream_name} is now published."),
        )
        .with_details(stream_name)
    }

    /// `NetStream.Publish.BadName` (error) for `stream_name`.
    pub fn publish_bad_name(stream_name: &str) -> Self {
        StatusInfo::new(
            StatusLevel::Error,
            StatusCode::PublishBadName,
            format!("{stream_name} is already being published."),
        )
        .with_details(stream_name)
    }

    /// `NetStream.Unpublish.Success` for `stream_name`.
    pub fn unpublish_success(stream_name: &str) -> Self {
        StatusInfo::new(
            StatusLevel::Status,
            StatusCode::UnpublishSuccess,
            format!("{stream_name} is now unpublished."),
        )
        .with_details(stream_name)
    }

    /// `NetStream.Play.Reset` for `stream_name`.
    pub fn play_reset(stream_name: &str) -> Self {
        StatusInfo::new(
            StatusLevel::Status,
            StatusCode::PlayReset,
            format!("Playing and resetting {stream_name}."),
        )
        .with_details(stream_name)
    }

    /// `NetStream.Play.Start` for `stream_name`.
    pub fn play_start(stream_name: &str) -> Self {
        StatusInfo::new(
            StatusLevel::Status,
            StatusCode::PlayStart,
            format!("Started playing {stream_name}."),
        )
        .with_details(stream_name)
    }

    /// `NetStream.Play.StreamNotFound` (error) for `stream_name`.
    pub fn play_stream_not_found(stream_name: &str) -> Self {
        StatusInfo::new(
            StatusLevel::Error,
            StatusCode::PlayStreamNotFound,
            format!("{stream_name} is not available."),
        )
        .with_details(stream_name)
    }

    /// The info object as an AMF0 object: `level`, `code`, `description`
    /// (when set), then the other properties.
    pub fn to_value(&self) -> Value {
        let mut p: Properties = Vec::with_capacity(3 + self.other.len());
        p.push((
            property::LEVEL.to_owned(),
            Value::string(self.level.as_str()),
        ));
        p.push((property::CODE.to_owned(), Value::string(self.code.as_str())));
        if let Some(d) = &self.description {
            p.push((property::DESCRIPTION.to_owned(), Value::string(d)));
        }
        p.extend(self.other.iter().cloned());
        Value::Object(p)
    }

    /// Reads an info object (an AMF0 object or ECMA array, or an AMF3 object).
    /// `code` and `level` must be strings, and the level one of the three
    /// levels; a `description` that is not a string stays among the others.
    pub fn from_value(value: Value) -> Result<StatusInfo, CommandError> {
        StatusInfo::read("info object", value)
    }

    pub(crate) fn read(command: &str, value: Value) -> Result<StatusInfo, CommandError> {
        let invalid = |reason: &'static str| CommandError::InvalidArgument {
            command: command.to_owned(),
            argument: "info object",
            reason,
        };
        let props = into_properties(value).map_err(|v| CommandError::WrongType {
            command: command.to_owned(),
            argument: "info object",
            expected: "an object",
            found: super::value::kind(&v),
        })?;
        let (mut level, mut code, mut description) = (None, None, None);
        let mut other = Vec::new();
        for (k, v) in props {
            match k.as_str() {
                property::LEVEL if level.is_none() => {
                    let s = into_string(v).map_err(|_| invalid("level is not a string"))?;
                    level = Some(StatusLevel::parse(&s).ok_or_else(|| {
                        invalid("level is not one of \"status\", \"warning\", \"error\"")
                    })?);
                }
                property::CODE if code.is_none() => {
                    let s = into_string(v).map_err(|_| invalid("code is not a string"))?;
                    code = Some(StatusCode::parse(&s));
                }
                property::DESCRIPTION if description.is_none() => match into_string(v) {
                    Ok(s) => description = Some(s),
                    Err(v) => other.push((k, v)),
                },
                _ => other.push((k, v)),
            }
        }
        Ok(StatusInfo {
            level: level.ok_or_else(|| invalid("level is missing"))?,
            code: code.ok_or_else(|| invalid("code is missing"))?,
            description,
            other,
        })
    }
}

/// An `onStatus` command: a NetConnection or NetStream status event.
#[derive(Clone, Debug, PartialEq)]
pub struct OnStatus {
    /// Transaction ID (0: no response expected).
    pub transaction_id: f64,
    /// The info object.
    pub info: StatusInfo,
}

/// A `_result` or `_error` response (RTMP 1.0 section 7.2.1.2: "The response
/// string is either _result, _error, or a method name").
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The transaction ID of the command this answers.
    pub transaction_id: f64,
    /// The command object (properties, or null).
    pub command_object: Value,
    /// The response values (the info object, a stream ID, ...).
    pub values: Vec<Value>,
}

impl Response {
    /// The first value, if it is an info object with a code and a level.
    pub fn info(&self) -> Option<StatusInfo> {
        let first = self.values.first()?;
        StatusInfo::from_value(first.clone()).ok()
    }

    /// The first value as a number (the stream ID of a `createStream`
    /// `_result`).
    pub fn number(&self) -> Option<f64> {
        self.values.first().and_then(super::value::as_number)
    }

    /// The property `name` of the command object (such as `fmsVer` or
    /// `capsEx` in the connect `_result`).
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.command_object.get(name)
    }
}

/// `fmsVer` that [`connect_result`] announces (what clients expect).
pub const FMS_VERSION: &str = "FMS/3,0,1,123";
/// `capabilities` that [`connect_result`] announces.
pub const FMS_CAPABILITIES: f64 = 31.0;

/// The server's `_result` to `connect`: properties `fmsVer`
/// ([`FMS_VERSION`]), `capabilities` ([`FMS_CAPABILITIES`]) and `capsEx`
/// when given (Enhanced RTMP: the server states its own support); info with
/// level `status`, code `NetConnection.Connect.Success`, a description and
/// `objectEncoding`.
pub fn connect_result(
    transaction_id: f64,
    object_encoding: ObjectEncoding,
    caps_ex: Option<CapsEx>,
) -> Command {
    let mut props = vec![
        ("fmsVer".to_owned(), Value::string(FMS_VERSION)),
        ("capabilities".to_owned(), Value::Number(FMS_CAPABILITIES)),
    ];
    if let Some(caps) = caps_ex {
        props.push((
            super::connect::property::CAPS_EX.to_owned(),
            caps_ex_value(caps),
        ));
    }
    let info = StatusInfo::new(
        StatusLevel::Status,
        StatusCode::ConnectSuccess,
        "Connection succeeded.",
    )
    .with_property(
        property::OBJECT_ENCODING,
        Value::Number(object_encoding.as_number()),
    );
    Command::Result(Response {
        transaction_id,
        command_object: Value::Object(props),
        values: vec![info.to_value()],
    })
}

/// The server's `_result` to `createStream`: null, then the new stream ID.
pub fn create_stream_result(transaction_id: f64, stream_id: u32) -> Command {
    Command::Result(Response {
        transaction_id,
        command_object: Value::Null,
        values: vec![Value::Number(f64::from(stream_id))],
    })
}

/// A plain `_result` with no command object and no value (the reply to
/// `releaseStream`, `FCPublish`, ...).
pub fn empty_result(transaction_id: f64) -> Command {
    Command::Result(Response {
        transaction_id,
        command_object: Value::Null,
        values: Vec::new(),
    })
}

/// An `onStatus` with transaction ID 0 (and a null command object).
pub fn on_status(info: StatusInfo) -> Command {
    Command::OnStatus(OnStatus {
        transaction_id: 0.0,
        info,
    })
}

/// An `_error` answering `transaction_id`: null, then the info object (for
/// example `NetConnection.Connect.Rejected` or `NetConnection.Call.Failed`).
pub fn error_response(transaction_id: f64, info: StatusInfo) -> Command {
    Command::Error(Response {
        transaction_id,
        command_object: Value::Null,
        values: vec![info.to_value()],
    })
}
