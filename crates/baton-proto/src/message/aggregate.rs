//! Aggregate messages (RTMP 1.0 section 7.1.6, message type 22): a series of
//! sub-messages written as FLV tags, each
//! `[type UI8, size UI24, timestamp UI24, timestamp extension UI8, stream id
//! UI24, data, back pointer UI32]`.
//!
//! "The difference between the timestamps of the aggregate message and the
//! first sub-message is the offset used to renormalize the timestamps of the
//! sub-messages to the stream timescale": a part's timestamp here is the
//! aggregate's timestamp plus (its own timestamp minus the first one's), with
//! wrap-around. The sub-messages' stream ids are overridden by the
//! aggregate's and are not kept.

use bytes::{BufMut, Bytes, BytesMut};

use super::MessageError;
use crate::time::Timestamp;

/// Size of a sub-message header.
const HEADER_LEN: usize = 11;
/// Size of the back pointer after each sub-message.
const BACK_POINTER_LEN: usize = 4;

/// One sub-message of an aggregate message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregatePart {
    /// The message type id (8 audio, 9 video, 18 data, ...).
    pub type_id: u8,
    /// The timestamp, re-based on the aggregate's.
    pub timestamp: Timestamp,
    /// The payload (a slice of the aggregate's, not copied).
    pub payload: Bytes,
}

/// Splits an aggregate message body into its sub-messages.
///
/// The back pointers are not checked (they serve backward seeking in files);
/// the last one may be missing. Fails when a header or payload runs past the
/// end, when 1 to 3 stray bytes are left, or past `max_messages` parts.
pub(super) fn decode(
    timestamp: Timestamp,
    payload: &Bytes,
    max_messages: usize,
) -> Result<Vec<AggregatePart>, MessageError> {
    let mut parts = Vec::new();
    let mut first_ts = None;
    let mut pos = 0usize;
    while pos < payload.len() {
        let index = parts.len();
        if index >= max_messages {
            return Err(MessageError::TooManyAggregateParts { max: max_messages });
        }
        let header = payload
            .get(pos..)
            .and_then(|rest| rest.first_chunk::<HEADER_LEN>())
            .ok_or(MessageError::AggregateTruncated {
                index,
                what: "header",
            })?;
        let type_id = header[0];
        let size = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        let ts = u32::from_be_bytes([header[7], header[4], header[5], header[6]]);
        let data_start = pos + HEADER_LEN;
        let data_end = data_start
            .checked_add(size)
            .filter(|&end| end <= payload.len())
            .ok_or(MessageError::AggregateTruncated {
                index,
                what: "data",
            })?;
        let first = *first_ts.get_or_insert(ts);
        parts.push(AggregatePart {
            type_id,
            timestamp: timestamp.wrapping_add(ts.wrapping_sub(first)),
            payload: payload.slice(data_start..data_end),
        });
        let left = payload.len() - data_end;
        if left == 0 {
            // The last back pointer may be left out.
            break;
        }
        if left < BACK_POINTER_LEN {
            return Err(MessageError::AggregateTruncated {
                index,
                what: "back pointer",
            });
        }
        pos = data_end + BACK_POINTER_LEN;
    }
    Ok(parts)
}

/// Writes the sub-messages with their timestamps as they are (so the first
/// part's timestamp should be the aggregate message's), stream id 0 and
/// correct back pointers. A payload longer than 2^24 - 1 bytes cannot be
/// represented and is cut to that length.
pub(super) fn encode(parts: &[AggregatePart], out: &mut BytesMut) {
    const MAX_SIZE: usize = 0xFF_FFFF;
    for part in parts {
        let data = part.payload.get(..MAX_SIZE).unwrap_or(&part.payload);
        let size = data.len() as u32;
        let ts = part.timestamp.as_millis();
        out.put_u8(part.type_id);
        out.put_slice(&size.to_be_bytes()[1..]);
        out.put_slice(&ts.to_be_bytes()[1..]);
        out.put_u8((ts >> 24) as u8);
        out.put_slice(&[0, 0, 0]);
        out.put_slice(data);
        out.put_u32(size + HEADER_LEN as u32);
    }
}
