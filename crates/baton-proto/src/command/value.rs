//! Reading the arguments of a command (RTMP 1.0 section 7.2: command name,
//! transaction ID, command object, then the command's own arguments), and
//! writing them.
//!
//! Values may arrive as plain AMF0 or, on an AMF3 connection (message types
//! 17 and 15), behind the AVM+ switch marker (AMF0 0x11, E-RTMP "Enabling AMF3
//! in RTMP"): the readers here accept a scalar either way, so `"live"` and
//! `0x11 0x06 "live"` both read as the string `live`.

use bytes::{BufMut, BytesMut};

use super::CommandError;
use crate::amf::amf0::{self, Properties, Value};
use crate::amf::amf3;

/// The string held by `v`, plain or behind the AVM+ switch.
pub(crate) fn as_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) | Value::Avmplus(amf3::Value::String(s)) => Some(s),
        _ => None,
    }
}

/// The number held by `v`, plain or behind the AVM+ switch (an AMF3
/// integer or double).
pub(crate) fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) | Value::Avmplus(amf3::Value::Double(n)) => Some(*n),
        Value::Avmplus(amf3::Value::Integer(i)) => Some(f64::from(*i)),
        _ => None,
    }
}

/// The boolean held by `v`, plain or behind the AVM+ switch.
pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Boolean(b) | Value::Avmplus(amf3::Value::Boolean(b)) => Some(*b),
        _ => None,
    }
}

/// Whether `v` is null or undefined (an argument left out in the middle).
pub(crate) fn is_absent(v: &Value) -> bool {
    matches!(
        v,
        Value::Null | Value::Undefined | Value::Avmplus(amf3::Value::Null | amf3::Value::Undefined)
    )
}

/// Takes the string out of `v`, or gives `v` back.
pub(crate) fn into_string(v: Value) -> Result<String, Value> {
    match v {
        Value::String(s) | Value::Avmplus(amf3::Value::String(s)) => Ok(s),
        other => Err(other),
    }
}

/// Takes the members out of an object-like value (anonymous object, ECMA
/// array, typed object, or an AMF3 object or associative array behind the
/// AVM+ switch, whose scalar members are turned into AMF0 scalars), or gives
/// `v` back.
pub(crate) fn into_properties(v: Value) -> Result<Properties, Value> {
    match v {
        Value::Object(p) | Value::EcmaArray(p) => Ok(p),
        Value::TypedObject { properties, .. } => Ok(properties),
        Value::Avmplus(amf3::Value::Object(obj)) => Ok(obj
            .sealed
            .into_iter()
            .chain(obj.dynamic.unwrap_or_default())
            .map(|(k, v)| (k, from_amf3(v)))
            .collect()),
        Value::Avmplus(amf3::Value::Array { associative, dense }) if dense.is_empty() => {
            Ok(associative
                .into_iter()
                .map(|(k, v)| (k, from_amf3(v)))
                .collect())
        }
        other => Err(other),
    }
}

/// An AMF3 value as the closest AMF0 value: scalars become AMF0 scalars,
/// anything else stays behind the AVM+ switch.
pub(crate) fn from_amf3(v: amf3::Value) -> Value {
    match v {
        amf3::Value::Undefined => Value::Undefined,
        amf3::Value::Null => Value::Null,
        amf3::Value::Boolean(b) => Value::Boolean(b),
        amf3::Value::Integer(i) => Value::Number(f64::from(i)),
        amf3::Value::Double(d) => Value::Number(d),
        amf3::Value::String(s) => Value::String(s),
        other => Value::Avmplus(other),
    }
}

/// A short description of the kind of `v`, for error messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Number(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::String(_) => "a string",
        Value::Object(_) => "an object",
        Value::Null => "null",
        Value::Undefined => "undefined",
        Value::Reference(_) => "a reference",
        Value::EcmaArray(_) => "an ECMA array",
        Value::StrictArray(_) => "a strict array",
        Value::Date { .. } => "a date",
        Value::Unsupported => "unsupported",
        Value::XmlDocument(_) => "an XML document",
        Value::TypedObject { .. } => "a typed object",
        Value::Avmplus(_) => "an AMF3 value",
    }
}

/// The values of one command after its name, read in order.
pub(crate) struct Args {
    command: String,
    values: std::vec::IntoIter<Value>,
}

impl Args {
    /// The arguments of the command called `command`.
    pub(crate) fn new(command: String, values: std::vec::IntoIter<Value>) -> Self {
        Args { command, values }
    }

    /// The command's name.
    pub(crate) fn command(&self) -> &str {
        &self.command
    }

    /// The command's name and the values left.
    pub(crate) fn into_parts(self) -> (String, Vec<Value>) {
        (self.command, self.values.collect())
    }

    fn missing(&self, argument: &'static str, expected: &'static str) -> CommandError {
        CommandError::MissingArgument {
            command: self.command.clone(),
            argument,
            expected,
        }
    }

    fn wrong(&self, argument: &'static str, expected: &'static str, v: &Value) -> CommandError {
        CommandError::WrongType {
            command: self.command.clone(),
            argument,
            expected,
            found: kind(v),
        }
    }

    /// The transaction ID: a number that every command carries.
    pub(crate) fn transaction_id(&mut self) -> Result<f64, CommandError> {
        self.required_number("transaction ID")
    }

    /// The command object, or null when the command ends before it.
    pub(crate) fn command_object(&mut self) -> Value {
        self.values.next().unwrap_or(Value::Null)
    }

    /// The next value, if any.
    pub(crate) fn next_value(&mut self) -> Option<Value> {
        self.values.next()
    }

    /// Everything left.
    pub(crate) fn rest(self) -> Vec<Value> {
        self.values.collect()
    }

    /// A string that must be there.
    pub(crate) fn required_string(
        &mut self,
        argument: &'static str,
    ) -> Result<String, CommandError> {
        match self.values.next() {
            None => Err(self.missing(argument, "a string")),
            Some(v) => into_string(v).map_err(|v| self.wrong(argument, "a string", &v)),
        }
    }

    /// A string that may be left out (or sent as null/undefined).
    pub(crate) fn optional_string(
        &mut self,
        argument: &'static str,
    ) -> Result<Option<String>, CommandError> {
        match self.values.next() {
            None => Ok(None),
            Some(v) if is_absent(&v) => Ok(None),
            Some(v) => into_string(v)
                .map(Some)
                .map_err(|v| self.wrong(argument, "a string", &v)),
        }
    }

    /// A number that must be there.
    pub(crate) fn required_number(&mut self, argument: &'static str) -> Result<f64, CommandError> {
        match self.values.next() {
            None => Err(self.missing(argument, "a number")),
            Some(v) => as_number(&v).ok_or_else(|| self.wrong(argument, "a number", &v)),
        }
    }

    /// A number that may be left out (or sent as null/undefined).
    pub(crate) fn optional_number(
        &mut self,
        argument: &'static str,
    ) -> Result<Option<f64>, CommandError> {
        match self.values.next() {
            None => Ok(None),
            Some(v) if is_absent(&v) => Ok(None),
            Some(v) => as_number(&v)
                .map(Some)
                .ok_or_else(|| self.wrong(argument, "a number", &v)),
        }
    }

    /// A boolean that must be there. Old Flash clients send flags as
    /// numbers, so a number reads as `n != 0`.
    pub(crate) fn required_bool(&mut self, argument: &'static str) -> Result<bool, CommandError> {
        match self.values.next() {
            None => Err(self.missing(argument, "a boolean")),
            Some(v) => bool_of(&v).ok_or_else(|| self.wrong(argument, "a boolean", &v)),
        }
    }

    /// A boolean that may be left out (or sent as null/undefined).
    pub(crate) fn optional_bool(
        &mut self,
        argument: &'static str,
    ) -> Result<Option<bool>, CommandError> {
        match self.values.next() {
            None => Ok(None),
            Some(v) if is_absent(&v) => Ok(None),
            Some(v) => bool_of(&v)
                .map(Some)
                .ok_or_else(|| self.wrong(argument, "a boolean", &v)),
        }
    }

    /// An object's members, which must be there.
    pub(crate) fn required_object(
        &mut self,
        argument: &'static str,
    ) -> Result<Properties, CommandError> {
        match self.values.next() {
            None => Err(self.missing(argument, "an object")),
            Some(v) => into_properties(v).map_err(|v| self.wrong(argument, "an object", &v)),
        }
    }
}

fn bool_of(v: &Value) -> Option<bool> {
    as_bool(v).or_else(|| as_number(v).map(|n| n != 0.0))
}

/// Writes an AMF0 string (a long string past 65,535 bytes).
pub(crate) fn put_string(out: &mut BytesMut, s: &str) {
    if s.len() <= usize::from(u16::MAX) {
        out.put_u8(amf0::marker::STRING);
        out.put_u16(s.len() as u16);
        out.put_slice(s.as_bytes());
    } else {
        amf0::encode(&Value::string(s), out);
    }
}

/// Writes an AMF0 number.
pub(crate) fn put_number(out: &mut BytesMut, n: f64) {
    out.put_u8(amf0::marker::NUMBER);
    out.put_f64(n);
}

/// Writes an AMF0 boolean.
pub(crate) fn put_bool(out: &mut BytesMut, b: bool) {
    out.put_u8(amf0::marker::BOOLEAN);
    out.put_u8(u8::from(b));
}

/// Writes an AMF0 null.
pub(crate) fn put_null(out: &mut BytesMut) {
    out.put_u8(amf0::marker::NULL);
}

/// Writes an AMF0 anonymous object from borrowed members.
pub(crate) fn put_object<'a>(
    out: &mut BytesMut,
    props: impl IntoIterator<Item = (&'a str, &'a Value)>,
) {
    out.put_u8(amf0::marker::OBJECT);
    for (name, value) in props {
        if name.is_empty() || name.len() > usize::from(u16::MAX) {
            // Not representable as an AMF0 member name.
            continue;
        }
        out.put_u16(name.len() as u16);
        out.put_slice(name.as_bytes());
        amf0::encode(value, out);
    }
    out.put_u16(0);
    out.put_u8(amf0::marker::OBJECT_END);
}
