//! Data messages (RTMP 1.0 section 7.1.2, message types 18 and 15): a
//! handler name followed by values, such as `@setDataFrame "onMetaData"
//! {...}` from an encoder or `onMetaData {...}` to a player (RTMP 1.0
//! section 7.3.3).

use bytes::BytesMut;

use super::value::{Args, into_string, put_string};
use super::{CommandError, ObjectEncoding, decode_values, put_format_byte};
use crate::amf::amf0::{self, Value};
use crate::limits::AmfLimits;

/// Handler names of data messages.
pub mod handler {
    /// Stores a data frame (metadata) in the stream, sent by encoders.
    pub const SET_DATA_FRAME: &str = "@setDataFrame";
    /// Clears a stored data frame.
    pub const CLEAR_DATA_FRAME: &str = "@clearDataFrame";
    /// Stream metadata, as players receive it.
    pub const ON_META_DATA: &str = "onMetaData";
}

/// A data message.
#[derive(Clone, Debug, PartialEq)]
pub enum DataMessage {
    /// `@setDataFrame name value`: keep `value` as the stream's `name` data
    /// frame (the name is nearly always `onMetaData`).
    SetDataFrame {
        /// The frame's handler name, such as `onMetaData`.
        name: String,
        /// The frame (for metadata, an ECMA array or object).
        value: Value,
    },
    /// `@clearDataFrame name`.
    ClearDataFrame {
        /// The frame's handler name.
        name: String,
    },
    /// `onMetaData value` (null when the value was left out).
    OnMetaData(Value),
    /// Any other handler with its values, kept as sent.
    Other {
        /// The handler name (such as `|RtmpSampleAccess` or `onTextData`).
        handler: String,
        /// The values after it.
        values: Vec<Value>,
    },
}

impl DataMessage {
    /// Decodes the payload of a data message. With AMF3 (type 15) a leading
    /// format byte 0x00 is skipped when present.
    pub fn decode(
        payload: &[u8],
        encoding: ObjectEncoding,
        limits: &AmfLimits,
    ) -> Result<DataMessage, CommandError> {
        let values = decode_values(payload, encoding, limits)?;
        DataMessage::from_values(values)
    }

    /// Reads a data message from its values.
    pub fn from_values(values: Vec<Value>) -> Result<DataMessage, CommandError> {
        let mut values = values.into_iter();
        let handler = match values.next() {
            None => return Err(CommandError::Empty),
            Some(v) => into_string(v).map_err(|v| CommandError::NameNotString {
                found: super::value::kind(&v),
            })?,
        };
        let mut args = Args::new(handler, values);
        Ok(match args.command() {
            handler::SET_DATA_FRAME => {
                let name = args.required_string("data frame name")?;
                let value = args
                    .next_value()
                    .ok_or_else(|| CommandError::MissingArgument {
                        command: handler::SET_DATA_FRAME.to_owned(),
                        argument: "data frame value",
                        expected: "a value",
                    })?;
                DataMessage::SetDataFrame { name, value }
            }
            handler::CLEAR_DATA_FRAME => DataMessage::ClearDataFrame {
                name: args.required_string("data frame name")?,
            },
            handler::ON_META_DATA => {
                DataMessage::OnMetaData(args.next_value().unwrap_or(Value::Null))
            }
            _ => {
                let (handler, values) = args.into_parts();
                DataMessage::Other { handler, values }
            }
        })
    }

    /// The handler name.
    pub fn handler(&self) -> &str {
        match self {
            DataMessage::SetDataFrame { .. } => handler::SET_DATA_FRAME,
            DataMessage::ClearDataFrame { .. } => handler::CLEAR_DATA_FRAME,
            DataMessage::OnMetaData(_) => handler::ON_META_DATA,
            DataMessage::Other { handler, .. } => handler,
        }
    }

    /// The stream metadata this message carries: the value of
    /// `@setDataFrame "onMetaData"` or of `onMetaData`.
    pub fn metadata(&self) -> Option<&Value> {
        match self {
            DataMessage::SetDataFrame { name, value } if name == handler::ON_META_DATA => {
                Some(value)
            }
            DataMessage::OnMetaData(value) => Some(value),
            _ => None,
        }
    }

    /// Appends the payload: with AMF3, the format byte 0x00, then AMF0
    /// values.
    pub fn encode(&self, encoding: ObjectEncoding, out: &mut BytesMut) {
        put_format_byte(encoding, out);
        put_string(out, self.handler());
        match self {
            DataMessage::SetDataFrame { name, value } => {
                put_string(out, name);
                amf0::encode(value, out);
            }
            DataMessage::ClearDataFrame { name } => put_string(out, name),
            DataMessage::OnMetaData(value) => amf0::encode(value, out),
            DataMessage::Other { values, .. } => amf0::encode_all(values, out),
        }
    }
}
