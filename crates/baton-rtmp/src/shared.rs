//! A message chunked once and shared by many connections (the fan-out's unit,
//! RTMP 1.0 section 5.3.1: a fmt 0 chunk followed by fmt 3 continuations is
//! valid on any connection with the same chunk size, whatever was sent
//! before on that chunk stream).
//!
//! A message made with [`SharedMessage::chunked`] keeps only its chunked
//! bytes: a stream's queue and GOP cache hold each payload once, and the
//! payload is read back out of the chunks when something needs it whole (a
//! relay; a player with another chunk size or message stream id).

use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};

use baton_proto::Timestamp;
use baton_proto::chunk::{ChunkEncoder, RawMessage, StandaloneHeaders};
use baton_proto::session::{MediaKind, ServerSession};

/// A media message chunked at most once per (chunk size, message stream id)
/// for all the connections that send it.
///
/// One variant is kept (in practice every player of a server uses the
/// server's chunk size and message stream 1); any other variant is chunked
/// on demand.
#[derive(Debug)]
pub struct SharedMessage {
    kind: MediaKind,
    timestamp: Timestamp,
    payload_len: usize,
    repr: Repr,
}

#[derive(Debug)]
enum Repr {
    /// The payload, chunked for the first variant asked for.
    Payload {
        payload: Bytes,
        chunked: OnceLock<(u32, u32, Bytes)>,
    },
    /// Only the chunked bytes of one variant.
    Chunked {
        chunk_size: u32,
        stream_id: u32,
        /// Bytes of the first chunk's header, and of each further one's.
        first_header: usize,
        rest_header: usize,
        bytes: Bytes,
    },
}

impl SharedMessage {
    /// A media message; its payload is the FLV tag body. It is chunked for
    /// the first connection that sends it, and keeps both.
    pub fn new(kind: MediaKind, timestamp: Timestamp, payload: Bytes) -> Self {
        SharedMessage {
            kind,
            timestamp,
            payload_len: payload.len(),
            repr: Repr::Payload {
                payload,
                chunked: OnceLock::new(),
            },
        }
    }

    /// A media message chunked now at `chunk_size` (128 to 65536) for
    /// message stream `stream_id`, keeping only the chunked bytes (half the
    /// memory of [`SharedMessage::new`] once sent).
    pub fn chunked(
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
        chunk_size: u32,
        stream_id: u32,
    ) -> Self {
        let raw = raw_message(kind, timestamp, stream_id, payload);
        let (bytes, headers) = encode(chunk_size, &raw);
        SharedMessage {
            kind,
            timestamp,
            payload_len: raw.payload.len(),
            repr: Repr::Chunked {
                chunk_size,
                stream_id,
                first_header: headers.first().len(),
                rest_header: headers.rest().len(),
                bytes,
            },
        }
    }

    /// Audio or video.
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// The message timestamp.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// Bytes of the payload.
    pub fn payload_len(&self) -> usize {
        self.payload_len
    }

    /// The FLV tag body (read back out of the chunks, a copy, when the
    /// message keeps only those and spans several chunks).
    pub fn payload(&self) -> Bytes {
        match &self.repr {
            Repr::Payload { payload, .. } => payload.clone(),
            Repr::Chunked {
                chunk_size,
                first_header,
                rest_header,
                bytes,
                ..
            } => {
                let size = *chunk_size as usize;
                if self.payload_len <= size {
                    return bytes.slice(*first_header..);
                }
                let mut out = BytesMut::with_capacity(self.payload_len);
                let mut at = *first_header;
                let mut left = self.payload_len;
                while left > 0 {
                    let piece = left.min(size);
                    out.extend_from_slice(&bytes[at..at + piece]);
                    left -= piece;
                    at += piece + *rest_header;
                }
                out.freeze()
            }
        }
    }

    /// The start of the payload, without a copy: all of it, or at least
    /// its first 128 bytes (enough for every media header check).
    pub fn payload_head(&self) -> &[u8] {
        match &self.repr {
            Repr::Payload { payload, .. } => payload,
            Repr::Chunked {
                chunk_size,
                first_header,
                bytes,
                ..
            } => {
                let end = *first_header + self.payload_len.min(*chunk_size as usize);
                &bytes[*first_header..end]
            }
        }
    }

    /// The message as the chunk layer sees it, on message stream `stream_id`
    /// (its payload as [`SharedMessage::payload`] gives it).
    pub fn raw(&self, stream_id: u32) -> RawMessage {
        raw_message(self.kind, self.timestamp, stream_id, self.payload())
    }

    /// The chunked bytes for a connection with this chunk size and message
    /// stream id: shared when that is the variant kept, made anew
    /// otherwise.
    pub fn chunks(&self, chunk_size: u32, stream_id: u32) -> Bytes {
        match &self.repr {
            Repr::Payload { payload, chunked } => {
                let (size, id, bytes) = chunked.get_or_init(|| {
                    (
                        chunk_size,
                        stream_id,
                        encode(chunk_size, &self.raw_with(stream_id, payload)).0,
                    )
                });
                if *size == chunk_size && *id == stream_id {
                    bytes.clone()
                } else {
                    encode(chunk_size, &self.raw_with(stream_id, payload)).0
                }
            }
            Repr::Chunked {
                chunk_size: size,
                stream_id: id,
                bytes,
                ..
            } => {
                if *size == chunk_size && *id == stream_id {
                    bytes.clone()
                } else {
                    encode(chunk_size, &self.raw(stream_id)).0
                }
            }
        }
    }

    fn raw_with(&self, stream_id: u32, payload: &Bytes) -> RawMessage {
        raw_message(self.kind, self.timestamp, stream_id, payload.clone())
    }
}

/// A media message on the session's chunk stream for its kind.
fn raw_message(
    kind: MediaKind,
    timestamp: Timestamp,
    stream_id: u32,
    payload: Bytes,
) -> RawMessage {
    let (chunk_stream_id, type_id) = ServerSession::media_chunk_stream(kind);
    RawMessage {
        chunk_stream_id,
        timestamp,
        type_id,
        stream_id,
        payload,
    }
}

/// `raw` chunked standalone at `chunk_size`, in one allocation, and the
/// headers around its payload.
fn encode(chunk_size: u32, raw: &RawMessage) -> (Bytes, StandaloneHeaders) {
    let chunks = raw.payload.len() / chunk_size.max(1) as usize + 1;
    let mut out = BytesMut::with_capacity(raw.payload.len() + 12 + 4 + chunks * 5);
    let headers = ChunkEncoder::encode_standalone(chunk_size, raw, &mut out);
    (out.freeze(), headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::ChunkLimits;
    use baton_proto::chunk::ChunkDecoder;

    #[test]
    fn chunks_are_cached_per_variant_and_decode_back() {
        let payload = Bytes::from(vec![7u8; 10_000]);
        let msg = SharedMessage::new(MediaKind::Video, Timestamp(90), payload.clone());
        let a = msg.chunks(4096, 1);
        let b = msg.chunks(4096, 1);
        assert_eq!(
            a.as_ptr(),
            b.as_ptr(),
            "the common variant is shared, not re-chunked"
        );
        let c = msg.chunks(128, 3);
        assert_ne!(a, c);
        for (bytes, size, stream) in [(a, 4096, 1), (c, 128, 3)] {
            let mut decoder = ChunkDecoder::new(ChunkLimits::default());
            decoder.set_chunk_size(size).unwrap();
            let mut buf = BytesMut::from(&bytes[..]);
            let raw = decoder.decode(&mut buf).unwrap().unwrap();
            assert_eq!(
                (raw.stream_id, raw.timestamp, raw.type_id),
                (stream, Timestamp(90), 9)
            );
            assert_eq!(raw.payload, payload);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn a_chunked_message_keeps_one_copy_and_gives_its_payload_back() {
        for (len, chunk_size, ts) in [
            (0usize, 128u32, 0u32),
            (100, 128, 40),
            (128, 128, 40),
            (10_000, 4096, 90),
            (9000, 128, 0x0100_0000),
        ] {
            let payload = Bytes::from((0..len).map(|i| (i * 7) as u8).collect::<Vec<u8>>());
            let msg = SharedMessage::chunked(
                MediaKind::Video,
                Timestamp(ts),
                payload.clone(),
                chunk_size,
                1,
            );
            assert_eq!(msg.payload_len(), len);
            assert_eq!(msg.payload(), payload, "{len} bytes at {chunk_size}");
            assert_eq!(msg.payload_head(), &payload[..len.min(chunk_size as usize)]);
            let kept = msg.chunks(chunk_size, 1);
            assert_eq!(
                kept.as_ptr(),
                msg.chunks(chunk_size, 1).as_ptr(),
                "shared, not re-chunked"
            );
            let reference = SharedMessage::new(MediaKind::Video, Timestamp(ts), payload.clone());
            assert_eq!(kept, reference.chunks(chunk_size, 1));
            // Another variant is made from the payload read back.
            assert_eq!(msg.chunks(4096, 3), reference.chunks(4096, 3));
            if len <= chunk_size as usize && len > 0 {
                assert_eq!(
                    msg.payload().as_ptr(),
                    kept[kept.len() - len..].as_ptr(),
                    "one chunk: the payload is a view of the chunks"
                );
            }
        }
    }
}
