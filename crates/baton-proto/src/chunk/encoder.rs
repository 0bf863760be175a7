//! Chunking (RTMP 1.0 section 5.3): messages in, chunks out, each header as
//! compact as the previous header of its chunk stream allows (section
//! 5.3.1.2: "An implementation SHOULD use the most compact representation
//! possible for each chunk message header").
//!
//! Header choice for the first chunk of a message:
//! - type 0 for the first message on a chunk stream, when the message stream
//!   ID changes, or when the timestamp goes backward (section 5.3.1.2.1);
//! - type 1 when the length or the type ID changed;
//! - type 2 when only the timestamp delta changed;
//! - type 3 when length, type, stream and delta all equal the previous
//!   header's, and that delta was sent in a type 1 or 2 header (a type 3 right
//!   after a type 0 is never sent: peers disagree on its delta).
//!
//! The other chunks of a message are type 3. When the last type 0, 1 or 2
//! header of the chunk stream had an extended timestamp, every type 3 chunk
//! repeats it, as Flash, FFmpeg and librtmp do (section 5.3.1.3).

use bytes::{BufMut, BytesMut};

use super::header::{HeaderBuf, write_header};
use super::{ChunkError, DEFAULT_CHUNK_SIZE, RawMessage, check_chunk_size};
use crate::Timestamp;

/// What the peer's decoder knows about one of our chunk streams.
#[derive(Clone, Copy, Debug)]
struct OutStream {
    chunk_stream_id: u32,
    timestamp: Timestamp,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The delta of the last type 1 or 2 header, while no type 0 header came
    /// after it: what a type 3 header may repeat.
    delta: Option<u32>,
    /// The extended timestamp field of the last type 0, 1 or 2 header.
    extended: Option<u32>,
}

/// The headers of one message's chunks.
#[derive(Clone, Copy, Debug)]
struct Headers {
    first: HeaderBuf,
    rest: HeaderBuf,
}

/// The header bytes of [`ChunkEncoder::encode_standalone`]'s output, for a
/// writer that sends the payload from its own buffer with vectored writes
/// instead of copying it into chunks: the output is [`first`], then the
/// payload cut at the chunk size with [`rest`] before every piece after the
/// first.
///
/// [`first`]: StandaloneHeaders::first
/// [`rest`]: StandaloneHeaders::rest
#[derive(Clone, Copy, Debug)]
pub struct StandaloneHeaders(Headers);

impl StandaloneHeaders {
    /// The type 0 header of the first chunk.
    pub fn first(&self) -> &[u8] {
        self.0.first.as_slice()
    }

    /// The type 3 header before each further chunk.
    pub fn rest(&self) -> &[u8] {
        self.0.rest.as_slice()
    }

    /// Bytes of the chunked message: a payload of `payload_len` at
    /// `chunk_size` (not 0).
    pub fn chunked_len(&self, chunk_size: u32, payload_len: usize) -> usize {
        let continuations = payload_len
            .div_ceil(chunk_size.max(1) as usize)
            .saturating_sub(1);
        self.first().len() + payload_len + continuations * self.rest().len()
    }
}

/// Cuts messages into chunks (RTMP 1.0 section 5.3) for one connection.
#[derive(Debug)]
pub struct ChunkEncoder {
    chunk_size: u32,
    streams: Vec<OutStream>,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        ChunkEncoder::new()
    }
}

impl ChunkEncoder {
    /// An encoder at the default chunk size of 128 bytes.
    pub fn new() -> Self {
        ChunkEncoder {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: Vec::new(),
        }
    }

    /// The current outgoing chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Changes the outgoing chunk size. The caller sends the Set Chunk Size
    /// message first (encoded at the old size), then calls this.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        check_chunk_size(size)?;
        self.chunk_size = size;
        Ok(())
    }

    /// Appends `msg` to `out` as chunks, picking the most compact header
    /// (type 0/1/2/3) from this chunk stream's previous header.
    ///
    /// # Panics
    ///
    /// If `msg` fails [`RawMessage::check_encodable`] (a chunk stream ID
    /// outside 2..=65599 or a payload over 16 MiB - 1): a bug in the caller.
    pub fn encode(&mut self, msg: &RawMessage, out: &mut BytesMut) {
        let headers = self.plan(msg);
        write_chunks(self.chunk_size, &headers, &msg.payload, out);
    }

    /// Appends `msg` to `out` as a type 0 chunk and type 3 continuations at
    /// `chunk_size`: bytes valid on any connection whose outgoing chunk size
    /// is `chunk_size`, whatever was sent on it before. A media server chunks
    /// a message once this way and shares the bytes between connections,
    /// calling [`ChunkEncoder::note_standalone_sent`] on each.
    ///
    /// # Panics
    ///
    /// If `chunk_size` is 0 or over [`super::MAX_CHUNK_SIZE`], or `msg` fails
    /// [`RawMessage::check_encodable`]: bugs in the caller.
    /// Returns the headers it wrote ([`ChunkEncoder::standalone_headers`]).
    pub fn encode_standalone(
        chunk_size: u32,
        msg: &RawMessage,
        out: &mut BytesMut,
    ) -> StandaloneHeaders {
        if let Err(e) = check_chunk_size(chunk_size) {
            panic!("ChunkEncoder::encode_standalone: {e}");
        }
        let headers = Self::standalone_headers(msg);
        write_chunks(chunk_size, &headers.0, &msg.payload, out);
        headers
    }

    /// The headers [`ChunkEncoder::encode_standalone`] puts around `msg`'s
    /// payload (they do not depend on the chunk size).
    ///
    /// # Panics
    ///
    /// If `msg` fails [`RawMessage::check_encodable`]: a bug in the caller.
    pub fn standalone_headers(msg: &RawMessage) -> StandaloneHeaders {
        if let Err(e) = msg.check_encodable() {
            panic!("ChunkEncoder::standalone_headers: {e}");
        }
        let length = msg.payload.len() as u32;
        let (first, extended) = write_header(
            0,
            msg.chunk_stream_id,
            msg.timestamp.as_millis(),
            length,
            msg.type_id,
            msg.stream_id,
            None,
        );
        let (rest, _) = write_header(3, msg.chunk_stream_id, 0, 0, 0, 0, extended);
        StandaloneHeaders(Headers { first, rest })
    }

    /// Records that the bytes of [`ChunkEncoder::encode_standalone`]`(_, msg,
    /// _)` were written on this connection, so the next
    /// [`ChunkEncoder::encode`] on that chunk stream compresses against the
    /// right header.
    pub fn note_standalone_sent(&mut self, msg: &RawMessage) {
        self.note_standalone_header(
            msg.chunk_stream_id,
            msg.timestamp,
            msg.type_id,
            msg.stream_id,
            msg.payload.len() as u32,
        );
    }

    /// [`ChunkEncoder::note_standalone_sent`] from the message's header
    /// fields and payload length (for a sender that keeps only the chunked
    /// bytes).
    pub fn note_standalone_header(
        &mut self,
        chunk_stream_id: u32,
        timestamp: Timestamp,
        type_id: u8,
        stream_id: u32,
        length: u32,
    ) {
        let millis = timestamp.as_millis();
        self.store(OutStream {
            chunk_stream_id,
            timestamp,
            length,
            type_id,
            stream_id,
            delta: None,
            extended: (millis >= super::header::EXTENDED_TIMESTAMP).then_some(millis),
        });
    }

    /// Test helper: encodes `msg` like [`ChunkEncoder::encode`] but returns
    /// each chunk on its own, so tests can interleave chunk streams.
    #[cfg(test)]
    pub(crate) fn encode_chunks(&mut self, msg: &RawMessage) -> Vec<Vec<u8>> {
        let headers = self.plan(msg);
        let size = self.chunk_size as usize;
        let mut chunks = vec![headers.first.as_slice().to_vec()];
        for (i, piece) in msg.payload.chunks(size).enumerate() {
            if i > 0 {
                chunks.push(headers.rest.as_slice().to_vec());
            }
            if let Some(last) = chunks.last_mut() {
                last.extend_from_slice(piece);
            }
        }
        chunks
    }

    fn find(&self, chunk_stream_id: u32) -> Option<usize> {
        self.streams
            .iter()
            .position(|s| s.chunk_stream_id == chunk_stream_id)
    }

    fn store(&mut self, state: OutStream) {
        match self.find(state.chunk_stream_id) {
            Some(i) => self.streams[i] = state,
            None => self.streams.push(state),
        }
    }

    /// Chooses the headers of `msg`'s chunks and records the new state.
    fn plan(&mut self, msg: &RawMessage) -> Headers {
        if let Err(e) = msg.check_encodable() {
            panic!("ChunkEncoder::encode: {e}");
        }
        let csid = msg.chunk_stream_id;
        let length = msg.payload.len() as u32;
        let prev = self.find(csid).map(|i| self.streams[i]);
        let mut next = OutStream {
            chunk_stream_id: csid,
            timestamp: msg.timestamp,
            length,
            type_id: msg.type_id,
            stream_id: msg.stream_id,
            delta: None,
            extended: None,
        };
        let (fmt, field) = match prev {
            Some(prev)
                if prev.stream_id == msg.stream_id
                    && msg.timestamp.signed_diff(prev.timestamp) >= 0 =>
            {
                let delta = msg.timestamp.delta_since(prev.timestamp);
                if prev.length != length || prev.type_id != msg.type_id {
                    (1, delta)
                } else if prev.delta == Some(delta) {
                    (3, delta)
                } else {
                    (2, delta)
                }
            }
            _ => (0, msg.timestamp.as_millis()),
        };
        let extended = match (fmt, prev) {
            (3, Some(prev)) => {
                next.delta = prev.delta;
                prev.extended
            }
            _ => None,
        };
        let (first, extended) = write_header(
            fmt,
            csid,
            field,
            length,
            msg.type_id,
            msg.stream_id,
            extended,
        );
        if fmt == 1 || fmt == 2 {
            next.delta = Some(field);
        }
        next.extended = extended;
        let (rest, _) = write_header(3, csid, 0, 0, 0, 0, extended);
        self.store(next);
        Headers { first, rest }
    }
}

/// Writes the chunks of `payload`: the first header, then a chunk-size piece,
/// then the continuation header before each further piece. Reserves once.
fn write_chunks(chunk_size: u32, headers: &Headers, payload: &[u8], out: &mut BytesMut) {
    let size = chunk_size as usize;
    let first = headers.first.as_slice();
    let rest = headers.rest.as_slice();
    let continuations = payload.len().div_ceil(size).saturating_sub(1);
    out.reserve(first.len() + payload.len() + continuations * rest.len());
    out.put_slice(first);
    let mut pieces = payload.chunks(size);
    if let Some(piece) = pieces.next() {
        out.put_slice(piece);
    }
    for piece in pieces {
        out.put_slice(rest);
        out.put_slice(piece);
    }
}
