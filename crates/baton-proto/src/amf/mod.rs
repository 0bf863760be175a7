//! Action Message Format: AMF0 (Adobe "AMF 0 Specification") and AMF3
//! (Adobe "AMF 3 Specification"), as RTMP 1.0 section 7.1.1 uses them for
//! command, data and shared object messages.
//!
//! Decoders read from a byte-slice cursor (`&mut &[u8]`) and never allocate
//! more than the [`AmfLimits`] allow: every declared length or count is
//! checked against the limits and against the bytes actually left before a
//! buffer is reserved.

pub mod amf0;
pub mod amf3;

use crate::limits::AmfLimits;

/// An AMF value could not be decoded (the peer sent bad bytes or went past a
/// limit) or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmfError {
    /// The input ended in the middle of a value.
    #[error("AMF input ended in the middle of a value")]
    UnexpectedEof,
    /// A type marker that the format does not define, or one that may not
    /// appear on the wire (AMF0 movieclip and recordset are reserved).
    #[error("unknown or reserved AMF{version} type marker 0x{marker:02x}")]
    UnknownMarker {
        /// 0 or 3.
        version: u8,
        /// The marker byte.
        marker: u8,
    },
    /// A string that is not UTF-8.
    #[error("AMF string is not valid UTF-8")]
    InvalidUtf8,
    /// A string, XML document or byte array longer than allowed.
    #[error("AMF string of {len} bytes exceeds the limit of {max}")]
    StringTooLong {
        /// Declared length.
        len: usize,
        /// Configured limit.
        max: usize,
    },
    /// Containers nested deeper than allowed.
    #[error("AMF nesting deeper than the limit of {max}")]
    TooDeep {
        /// Configured limit.
        max: usize,
    },
    /// More values than allowed in one top-level value.
    #[error("AMF value holds more than the limit of {max} elements")]
    TooManyElements {
        /// Configured limit.
        max: usize,
    },
    /// A reference to an entry that is not (yet) in its table.
    #[error("AMF{version} reference {index} is out of range")]
    BadReference {
        /// 0 or 3.
        version: u8,
        /// The index that was referenced.
        index: usize,
    },
    /// A reference table grew past its limit.
    #[error("AMF3 reference table exceeds the limit of {max} entries")]
    TooManyReferences {
        /// Configured limit.
        max: usize,
    },
    /// A structurally invalid value (for example an object without its end
    /// marker, or an AMF3 externalizable object, whose encoding only its class
    /// knows).
    #[error("malformed AMF: {0}")]
    Malformed(&'static str),
    /// A value that cannot be encoded (for example an AMF3 integer outside the
    /// 29-bit range, or a string too long for its length field).
    #[error("cannot encode AMF value: {0}")]
    Unencodable(&'static str),
}

/// How much of the limits a decode in progress has used: nesting depth and
/// element count are shared between AMF0 and the AMF3 values nested in it.
#[derive(Debug)]
pub(crate) struct Budget<'l> {
    pub(crate) limits: &'l AmfLimits,
    depth: usize,
    elements: usize,
}

impl<'l> Budget<'l> {
    pub(crate) fn new(limits: &'l AmfLimits) -> Self {
        Budget {
            limits,
            depth: 0,
            elements: 0,
        }
    }

    /// Enters a container; fails past `max_depth`.
    pub(crate) fn enter(&mut self) -> Result<(), AmfError> {
        if self.depth >= self.limits.max_depth {
            return Err(AmfError::TooDeep {
                max: self.limits.max_depth,
            });
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a container entered with [`Budget::enter`].
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Accounts for `n` more values; fails past `max_elements`.
    pub(crate) fn count(&mut self, n: usize) -> Result<(), AmfError> {
        self.elements = self.elements.saturating_add(n);
        if self.elements > self.limits.max_elements {
            return Err(AmfError::TooManyElements {
                max: self.limits.max_elements,
            });
        }
        Ok(())
    }

    /// Checks a declared string/byte length against the limit and the bytes
    /// left in `buf`, before anything is allocated.
    pub(crate) fn check_len(&self, len: usize, buf: &[u8]) -> Result<(), AmfError> {
        if len > self.limits.max_string_len {
            return Err(AmfError::StringTooLong {
                len,
                max: self.limits.max_string_len,
            });
        }
        if len > buf.len() {
            return Err(AmfError::UnexpectedEof);
        }
        Ok(())
    }

    /// Checks a declared element count: each element takes at least
    /// `min_bytes_each` bytes, so a count the input cannot hold is refused
    /// before a vector is reserved. Returns a safe capacity to reserve.
    pub(crate) fn check_count(
        &self,
        count: usize,
        min_bytes_each: usize,
        buf: &[u8],
    ) -> Result<usize, AmfError> {
        let left = self.limits.max_elements.saturating_sub(self.elements);
        if count > left {
            return Err(AmfError::TooManyElements {
                max: self.limits.max_elements,
            });
        }
        if count.saturating_mul(min_bytes_each) > buf.len() {
            return Err(AmfError::UnexpectedEof);
        }
        Ok(count.min(1024))
    }
}

/// Reads `n` bytes from the cursor.
pub(crate) fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], AmfError> {
    if buf.len() < n {
        return Err(AmfError::UnexpectedEof);
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

/// Reads one byte from the cursor.
pub(crate) fn take_u8(buf: &mut &[u8]) -> Result<u8, AmfError> {
    Ok(take(buf, 1)?[0])
}

/// Reads a UTF-8 string of `len` bytes (already checked against limits).
pub(crate) fn take_str(buf: &mut &[u8], len: usize) -> Result<String, AmfError> {
    let raw = take(buf, len)?;
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| AmfError::InvalidUtf8)
}
