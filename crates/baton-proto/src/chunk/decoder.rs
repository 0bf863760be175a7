//! Chunk stream reassembly (RTMP 1.0 section 5.3): chunks in, complete
//! messages out. Set Chunk Size (section 5.4.1) and Abort (section 5.4.2)
//! messages from the peer are applied as soon as they complete.
//!
//! # Extended timestamps in type 3 chunks
//!
//! Section 5.3.1.3 says the extended timestamp field "is present in Type 3
//! chunks when the most recent Type 0, 1, or 2 chunk for the same chunk stream
//! ID indicated the presence of an extended timestamp field". Flash, FFmpeg
//! and librtmp send it; some other peers leave it out. The decoder accepts
//! both with the usual heuristic: in a type 3 chunk on a chunk stream whose
//! last type 0/1/2 header had an extended timestamp, if the next 4 bytes
//! equal that extended value they are taken as the repeated field, otherwise
//! as payload. The decision waits (`Ok(None)`) until 4 bytes are there, so it
//! does not depend on how the input was split. A peer that leaves the field
//! out and whose payload happens to start with the same 4 bytes is
//! misread; no rule can tell those two apart.
//!
//! # Memory
//!
//! Nothing is reserved for bytes that have not arrived: a message that spans
//! several chunks is gathered into a buffer that grows with what arrived (at
//! most doubling, never past the declared length), and the memory reserved
//! for all partial messages together is kept within `max_pending_bytes`. A
//! message that fits in one chunk is split off the input without copying.

use bytes::{Buf, Bytes, BytesMut};

use super::header::{
    BasicHeader, EXTENDED_TIMESTAMP, MessageHeader, message_header_len, read_u32_be,
};
use super::{
    ChunkError, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, RawMessage, TYPE_ABORT, TYPE_SET_CHUNK_SIZE,
    check_chunk_size,
};
use crate::Timestamp;
use crate::limits::ChunkLimits;

/// The header state of one chunk stream: what the next chunk's header is
/// compressed against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    /// Timestamp of the current (or last) message.
    timestamp: Timestamp,
    /// What a type 3 chunk that starts a new message adds to the timestamp:
    /// the timestamp of a type 0 header, the delta of a type 1 or 2 header
    /// (FFmpeg semantics; section 5.3.1.2.4: "If a Type 3 chunk follows a
    /// Type 0 chunk, then the timestamp delta for this Type 3 chunk is the
    /// same as the timestamp of the Type 0 chunk").
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The extended timestamp field of the last type 0, 1 or 2 header, if it
    /// had one; type 3 chunks may repeat it.
    extended: Option<u32>,
}

/// One chunk stream: its header state and the message being received.
#[derive(Debug)]
struct InStream {
    header: Header,
    /// Payload received so far of a message that spans several chunks.
    partial: Option<Vec<u8>>,
}

/// Reassembles messages from the chunks a peer sends (RTMP 1.0 section 5.3).
///
/// Feed it the bytes read from the connection; it returns one message per
/// [`ChunkDecoder::decode`] call.
#[derive(Debug)]
pub struct ChunkDecoder {
    limits: ChunkLimits,
    chunk_size: u32,
    /// Chunk stream IDs, parallel to `streams` (a short list scanned
    /// linearly: connections use a handful of chunk streams).
    ids: Vec<u32>,
    streams: Vec<InStream>,
    /// Bytes reserved for partial messages over all chunk streams.
    pending: usize,
}

/// What one chunk produced.
enum Step {
    /// The input does not hold a whole chunk yet.
    NeedMore,
    /// A chunk was consumed; its message is not complete yet.
    Consumed,
    /// A chunk completed this message.
    Message(RawMessage),
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        ChunkDecoder::new(ChunkLimits::default())
    }
}

impl ChunkDecoder {
    /// A decoder at the default chunk size of 128 bytes.
    pub fn new(limits: ChunkLimits) -> Self {
        ChunkDecoder {
            limits,
            chunk_size: DEFAULT_CHUNK_SIZE,
            ids: Vec::new(),
            streams: Vec::new(),
            pending: 0,
        }
    }

    /// The peer's current chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Sets the peer's chunk size. A Set Chunk Size message decoded by this
    /// decoder is applied already; this is for sizes learned another way.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        check_chunk_size(size)?;
        self.chunk_size = size;
        Ok(())
    }

    /// Discards the partly received message on `chunk_stream_id`, if any
    /// (section 5.4.2). The chunk stream's header state is kept. An Abort
    /// message decoded by this decoder is applied already.
    pub fn abort(&mut self, chunk_stream_id: u32) {
        let Some(i) = self.find(chunk_stream_id) else {
            return;
        };
        if let Some(partial) = self.streams.get_mut(i).and_then(|s| s.partial.take()) {
            self.pending = self.pending.saturating_sub(partial.capacity());
        }
    }

    /// Bytes currently reserved for partly received messages; never more than
    /// the `max_pending_bytes` limit.
    pub fn pending_bytes(&self) -> usize {
        self.pending
    }

    /// Decodes the next complete message from the front of `buf`.
    ///
    /// Follows the tokio-util decoder contract: `Ok(None)` means more bytes
    /// are needed (whole chunks may have been taken from `buf` into the
    /// decoder, but nothing is lost); `Ok(Some(_))` returns one message, so
    /// call again until `Ok(None)`; `Err` means the peer broke the protocol
    /// (or went past a limit) and the connection should be closed.
    ///
    /// Set Chunk Size (type 1) and Abort (type 2) messages are applied before
    /// the next chunk is parsed, whatever chunk stream and message stream
    /// they came on, and are also returned.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<RawMessage>, ChunkError> {
        loop {
            match self.decode_chunk(buf)? {
                Step::NeedMore => return Ok(None),
                Step::Consumed => {}
                Step::Message(msg) => {
                    self.apply_control(&msg)?;
                    return Ok(Some(msg));
                }
            }
        }
    }

    fn find(&self, chunk_stream_id: u32) -> Option<usize> {
        self.ids.iter().position(|&id| id == chunk_stream_id)
    }

    /// Applies a Set Chunk Size or Abort message.
    fn apply_control(&mut self, msg: &RawMessage) -> Result<(), ChunkError> {
        if msg.type_id != TYPE_SET_CHUNK_SIZE && msg.type_id != TYPE_ABORT {
            return Ok(());
        }
        let value = match *msg.payload {
            [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
            _ => {
                return Err(ChunkError::BadControlPayload {
                    type_id: msg.type_id,
                    length: msg.payload.len(),
                });
            }
        };
        if msg.type_id == TYPE_SET_CHUNK_SIZE {
            // "0: This bit MUST be zero." ... "MUST be at least 1 byte."
            if value == 0 || value > MAX_CHUNK_SIZE {
                return Err(ChunkError::BadChunkSize { size: value });
            }
            self.chunk_size = value;
        } else {
            self.abort(value);
        }
        Ok(())
    }

    /// Consumes at most one whole chunk from `buf`.
    fn decode_chunk(&mut self, buf: &mut BytesMut) -> Result<Step, ChunkError> {
        let Some(basic) = BasicHeader::parse(buf) else {
            return Ok(Step::NeedMore);
        };
        let chunk_stream_id = basic.chunk_stream_id;
        let mut pos = basic.len;
        let header_len = message_header_len(basic.fmt);
        let Some(fields) = buf
            .get(pos..pos + header_len)
            .and_then(|b| MessageHeader::parse(basic.fmt, b))
        else {
            return Ok(Step::NeedMore);
        };
        pos += header_len;

        let index = self.find(chunk_stream_id);
        let prev = index.and_then(|i| self.streams.get(i));
        let in_progress = prev.is_some_and(|s| s.partial.is_some());

        let header = match (fields.timestamp, prev) {
            // Type 0, 1 or 2: a timestamp or delta field, maybe extended.
            (Some(field), prev) => {
                let value = if field == EXTENDED_TIMESTAMP {
                    let Some(ext) = buf.get(pos..).and_then(read_u32_be) else {
                        return Ok(Step::NeedMore);
                    };
                    pos += 4;
                    ext
                } else {
                    field
                };
                let extended = (field == EXTENDED_TIMESTAMP).then_some(value);
                match (fields.stream_id, prev) {
                    // Type 0: everything is in the header.
                    (Some(stream_id), _) => Header {
                        timestamp: Timestamp(value),
                        delta: value,
                        length: fields.length.unwrap_or(0),
                        type_id: fields.type_id.unwrap_or(0),
                        stream_id,
                        extended,
                    },
                    // Type 1 or 2: a delta against the previous header.
                    (None, Some(prev)) => Header {
                        timestamp: prev.header.timestamp.wrapping_add(value),
                        delta: value,
                        length: fields.length.unwrap_or(prev.header.length),
                        type_id: fields.type_id.unwrap_or(prev.header.type_id),
                        stream_id: prev.header.stream_id,
                        extended,
                    },
                    (None, None) => {
                        return Err(ChunkError::NoPreviousHeader {
                            chunk_stream_id,
                            fmt: basic.fmt,
                        });
                    }
                }
            }
            // Type 3: no message header.
            (None, Some(prev)) => {
                if let Some(ext) = prev.header.extended {
                    // The repeated extended timestamp, if the peer sends it
                    // (see the module docs).
                    let Some(next) = buf.get(pos..).and_then(read_u32_be) else {
                        return Ok(Step::NeedMore);
                    };
                    if next == ext {
                        pos += 4;
                    }
                }
                if in_progress {
                    prev.header
                } else {
                    // A new message with the previous header's length, type,
                    // stream and delta.
                    Header {
                        timestamp: prev.header.timestamp.wrapping_add(prev.header.delta),
                        ..prev.header
                    }
                }
            }
            (None, None) => {
                return Err(ChunkError::NoPreviousHeader {
                    chunk_stream_id,
                    fmt: basic.fmt,
                });
            }
        };

        if header.length > self.limits.max_message_size {
            return Err(ChunkError::MessageTooLarge {
                chunk_stream_id,
                length: header.length,
                max: self.limits.max_message_size,
            });
        }
        let received = match prev.and_then(|s| s.partial.as_ref()) {
            Some(partial) => {
                if header.length != prev.map_or(0, |s| s.header.length) {
                    return Err(ChunkError::LengthChangedMidMessage {
                        chunk_stream_id,
                        expected: prev.map_or(0, |s| s.header.length),
                        declared: header.length,
                    });
                }
                partial.len()
            }
            None => 0,
        };
        if index.is_none() && self.streams.len() >= self.limits.max_chunk_streams {
            return Err(ChunkError::TooManyChunkStreams {
                max: self.limits.max_chunk_streams,
            });
        }

        let remaining = (header.length as usize).saturating_sub(received);
        let chunk_len = remaining.min(self.chunk_size as usize);
        let Some(chunk) = buf.get(pos..pos + chunk_len) else {
            return Ok(Step::NeedMore);
        };

        // The whole chunk is here: commit.
        let index = match index {
            Some(i) => i,
            None => {
                self.ids.push(chunk_stream_id);
                self.streams.push(InStream {
                    header,
                    partial: None,
                });
                self.streams.len() - 1
            }
        };
        let Some(stream) = self.streams.get_mut(index) else {
            // `index` came from `find` or the push above.
            return Ok(Step::NeedMore);
        };
        stream.header = header;

        let payload = if !in_progress && chunk_len == remaining {
            // The whole message is in this chunk: no copy.
            buf.advance(pos);
            buf.split_to(chunk_len).freeze()
        } else {
            let partial = stream.partial.get_or_insert_with(Vec::new);
            reserve_partial(
                partial,
                chunk_len,
                header.length as usize,
                &mut self.pending,
                self.limits.max_pending_bytes,
            )?;
            partial.extend_from_slice(chunk);
            buf.advance(pos + chunk_len);
            if partial.len() < header.length as usize {
                return Ok(Step::Consumed);
            }
            let done = stream.partial.take().unwrap_or_default();
            self.pending = self.pending.saturating_sub(done.capacity());
            Bytes::from(done)
        };
        Ok(Step::Message(RawMessage {
            chunk_stream_id,
            timestamp: header.timestamp,
            type_id: header.type_id,
            stream_id: header.stream_id,
            payload,
        }))
    }
}

/// Makes room for `need` more bytes in a partial message of `declared` bytes,
/// doubling its capacity (never past `declared`), while keeping the total
/// reserved for all partial messages, `pending`, within `max`.
fn reserve_partial(
    partial: &mut Vec<u8>,
    need: usize,
    declared: usize,
    pending: &mut usize,
    max: usize,
) -> Result<(), ChunkError> {
    let len = partial.len();
    let cap = partial.capacity();
    let min_cap = len.saturating_add(need);
    if min_cap <= cap {
        return Ok(());
    }
    let others = pending.saturating_sub(cap);
    let mut target = cap
        .saturating_mul(2)
        .max(min_cap)
        .min(declared.max(min_cap));
    if others.saturating_add(target) > max {
        target = min_cap;
        if others.saturating_add(target) > max {
            return Err(ChunkError::PendingBytesExceeded { max });
        }
    }
    partial.reserve_exact(target - len);
    *pending = others + partial.capacity();
    Ok(())
}
