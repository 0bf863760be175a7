//! Shared object messages (RTMP 1.0 section 7.1.3, message types 19 and 16):
//! the shared object's name (UTF-8 with a u16 length), its current version
//! (u32), flags (u32 persistence flags and u32 reserved), then events, each
//! `[type u8, data length u32, data]`.
//!
//! Event data, by type: Request Change (3) and Change (4) hold `name value`
//! pairs (a u16-length name, then an AMF value); Send Message (6) holds AMF
//! values (handler name, arguments); Status (7) holds two u16-length strings,
//! code then level; Remove (9) and Request Remove (10) hold a u16-length name;
//! the others carry nothing (any data they do carry is ignored). Unknown event
//! types are kept as raw bytes.
//!
//! A type 16 (AMF3) message starts with a format byte; 0x00 (AMF0 values,
//! which may switch to AMF3 with the AVM+ marker) is the only one read.

use bytes::{BufMut, Bytes, BytesMut};

use super::{MessageError, ObjectEncoding};
use crate::amf::amf0::{self, Properties, Value};
use crate::limits::AmfLimits;

/// Shared object event types.
pub mod event_type {
    /// Use: the client uses a named shared object.
    pub const USE: u8 = 1;
    /// Release: the client deleted the shared object.
    pub const RELEASE: u8 = 2;
    /// Request Change: the client asks to change slots.
    pub const REQUEST_CHANGE: u8 = 3;
    /// Change: slots changed.
    pub const CHANGE: u8 = 4;
    /// Success: a Request Change was accepted.
    pub const SUCCESS: u8 = 5;
    /// Send Message: broadcast a message.
    pub const SEND_MESSAGE: u8 = 6;
    /// Status: an error condition.
    pub const STATUS: u8 = 7;
    /// Clear: clear the shared object.
    pub const CLEAR: u8 = 8;
    /// Remove: delete a slot.
    pub const REMOVE: u8 = 9;
    /// Request Remove: ask to delete a slot.
    pub const REQUEST_REMOVE: u8 = 10;
    /// Use Success: the Use succeeded.
    pub const USE_SUCCESS: u8 = 11;
}

/// A shared object message.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedObjectMessage {
    /// The shared object's name.
    pub name: String,
    /// Its current version.
    pub version: u32,
    /// The persistence flags, as sent.
    pub flags: u32,
    /// The reserved word after the flags, as sent.
    pub reserved: u32,
    /// The events, in order.
    pub events: Vec<SharedObjectEvent>,
}

/// A shared object event.
#[derive(Clone, Debug, PartialEq)]
pub enum SharedObjectEvent {
    /// 1.
    Use,
    /// 2.
    Release,
    /// 3: slot names and the values asked for.
    RequestChange(Properties),
    /// 4: slot names and their new values.
    Change(Properties),
    /// 5.
    Success,
    /// 6: the handler name and arguments of a broadcast message.
    SendMessage(Vec<Value>),
    /// 7: an error condition.
    Status {
        /// The status code.
        code: String,
        /// The level.
        level: String,
    },
    /// 8.
    Clear,
    /// 9: delete the named slot.
    Remove {
        /// The slot.
        name: String,
    },
    /// 10: ask to delete the named slot.
    RequestRemove {
        /// The slot.
        name: String,
    },
    /// 11.
    UseSuccess,
    /// Any other event type, kept as sent.
    Unknown {
        /// The event type.
        event_type: u8,
        /// The event data.
        data: Bytes,
    },
}

impl SharedObjectEvent {
    /// The event type.
    pub fn event_type(&self) -> u8 {
        use event_type as t;
        match self {
            SharedObjectEvent::Use => t::USE,
            SharedObjectEvent::Release => t::RELEASE,
            SharedObjectEvent::RequestChange(_) => t::REQUEST_CHANGE,
            SharedObjectEvent::Change(_) => t::CHANGE,
            SharedObjectEvent::Success => t::SUCCESS,
            SharedObjectEvent::SendMessage(_) => t::SEND_MESSAGE,
            SharedObjectEvent::Status { .. } => t::STATUS,
            SharedObjectEvent::Clear => t::CLEAR,
            SharedObjectEvent::Remove { .. } => t::REMOVE,
            SharedObjectEvent::RequestRemove { .. } => t::REQUEST_REMOVE,
            SharedObjectEvent::UseSuccess => t::USE_SUCCESS,
            SharedObjectEvent::Unknown { event_type, .. } => *event_type,
        }
    }

    fn decode(ty: u8, data: Bytes, limits: &AmfLimits) -> Result<Self, MessageError> {
        use event_type as t;
        let mut buf: &[u8] = &data;
        let event = match ty {
            t::USE => SharedObjectEvent::Use,
            t::RELEASE => SharedObjectEvent::Release,
            t::SUCCESS => SharedObjectEvent::Success,
            t::CLEAR => SharedObjectEvent::Clear,
            t::USE_SUCCESS => SharedObjectEvent::UseSuccess,
            t::REQUEST_CHANGE | t::CHANGE => {
                let mut slots = Vec::new();
                while !buf.is_empty() {
                    let name = read_str(&mut buf, limits, "slot name")?;
                    let value = amf0::decode(&mut buf, limits)?;
                    slots.push((name, value));
                }
                if ty == t::CHANGE {
                    SharedObjectEvent::Change(slots)
                } else {
                    SharedObjectEvent::RequestChange(slots)
                }
            }
            t::SEND_MESSAGE => SharedObjectEvent::SendMessage(amf0::decode_all(buf, limits)?),
            t::STATUS => SharedObjectEvent::Status {
                code: read_str(&mut buf, limits, "status code")?,
                level: read_str(&mut buf, limits, "status level")?,
            },
            t::REMOVE => SharedObjectEvent::Remove {
                name: read_str(&mut buf, limits, "slot name")?,
            },
            t::REQUEST_REMOVE => SharedObjectEvent::RequestRemove {
                name: read_str(&mut buf, limits, "slot name")?,
            },
            event_type => SharedObjectEvent::Unknown { event_type, data },
        };
        Ok(event)
    }

    fn encode_data(&self, out: &mut BytesMut) {
        match self {
            SharedObjectEvent::Use
            | SharedObjectEvent::Release
            | SharedObjectEvent::Success
            | SharedObjectEvent::Clear
            | SharedObjectEvent::UseSuccess => {}
            SharedObjectEvent::RequestChange(slots) | SharedObjectEvent::Change(slots) => {
                for (name, value) in slots {
                    put_str(out, name);
                    amf0::encode(value, out);
                }
            }
            SharedObjectEvent::SendMessage(values) => amf0::encode_all(values, out),
            SharedObjectEvent::Status { code, level } => {
                put_str(out, code);
                put_str(out, level);
            }
            SharedObjectEvent::Remove { name } | SharedObjectEvent::RequestRemove { name } => {
                put_str(out, name)
            }
            SharedObjectEvent::Unknown { data, .. } => out.put_slice(data),
        }
    }
}

impl SharedObjectMessage {
    /// Decodes a shared object message payload. At most
    /// `limits.max_elements` events are read.
    pub fn decode(
        payload: &Bytes,
        encoding: ObjectEncoding,
        limits: &AmfLimits,
    ) -> Result<SharedObjectMessage, MessageError> {
        let mut pos = 0usize;
        if encoding == ObjectEncoding::Amf3 {
            match payload.first() {
                Some(0) => pos = 1,
                Some(&other) => return Err(MessageError::UnsupportedSharedObjectFormat(other)),
                None => return Err(so_truncated("format byte")),
            }
        }
        let mut buf = payload.get(pos..).unwrap_or_default();
        let name = read_str(&mut buf, limits, "name")?;
        let version = read_u32(&mut buf, "version")?;
        let flags = read_u32(&mut buf, "flags")?;
        let reserved = read_u32(&mut buf, "flags")?;
        let mut events = Vec::new();
        while !buf.is_empty() {
            if events.len() >= limits.max_elements {
                return Err(MessageError::TooManySharedObjectEvents {
                    max: limits.max_elements,
                });
            }
            let ty = read_u8(&mut buf, "event type")?;
            let len = read_u32(&mut buf, "event data length")? as usize;
            if len > buf.len() {
                return Err(so_truncated("event data"));
            }
            // Where the data starts in `payload`, to slice it without a copy.
            let start = payload.len() - buf.len();
            let data = payload.slice(start..start + len);
            buf = buf.get(len..).unwrap_or_default();
            events.push(SharedObjectEvent::decode(ty, data, limits)?);
        }
        Ok(SharedObjectMessage {
            name,
            version,
            flags,
            reserved,
            events,
        })
    }

    /// Appends the payload (with AMF3, the format byte 0x00 first).
    pub fn encode(&self, encoding: ObjectEncoding, out: &mut BytesMut) {
        if encoding == ObjectEncoding::Amf3 {
            out.put_u8(0);
        }
        put_str(out, &self.name);
        out.put_u32(self.version);
        out.put_u32(self.flags);
        out.put_u32(self.reserved);
        for event in &self.events {
            out.put_u8(event.event_type());
            let len_at = out.len();
            out.put_u32(0);
            event.encode_data(out);
            let len = (out.len() - len_at - 4) as u32;
            out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }
}

fn so_truncated(what: &'static str) -> MessageError {
    MessageError::SharedObjectTruncated { what }
}

fn read_u8(buf: &mut &[u8], what: &'static str) -> Result<u8, MessageError> {
    let (&b, rest) = buf.split_first().ok_or(so_truncated(what))?;
    *buf = rest;
    Ok(b)
}

fn read_u32(buf: &mut &[u8], what: &'static str) -> Result<u32, MessageError> {
    let (b, rest) = buf.split_first_chunk::<4>().ok_or(so_truncated(what))?;
    *buf = rest;
    Ok(u32::from_be_bytes(*b))
}

/// A UTF-8 string with a u16 length (no AMF marker).
fn read_str(
    buf: &mut &[u8],
    limits: &AmfLimits,
    what: &'static str,
) -> Result<String, MessageError> {
    let (len, rest) = buf.split_first_chunk::<2>().ok_or(so_truncated(what))?;
    let len = usize::from(u16::from_be_bytes(*len));
    if len > limits.max_string_len {
        return Err(crate::amf::AmfError::StringTooLong {
            len,
            max: limits.max_string_len,
        }
        .into());
    }
    if len > rest.len() {
        return Err(so_truncated(what));
    }
    let (raw, rest) = rest.split_at(len);
    let s = std::str::from_utf8(raw).map_err(|_| crate::amf::AmfError::InvalidUtf8)?;
    *buf = rest;
    Ok(s.to_owned())
}

/// Writes a u16-length string, cut at a character boundary past 65,535
/// bytes.
fn put_str(out: &mut BytesMut, s: &str) {
    let mut end = s.len().min(usize::from(u16::MAX));
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let s = s.get(..end).unwrap_or_default();
    out.put_u16(s.len() as u16);
    out.put_slice(s.as_bytes());
}
