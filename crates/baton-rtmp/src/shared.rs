//! A message chunked once and shared by many connections (the fan-out's unit,
//! RTMP 1.0 section 5.3.1: a fmt 0 chunk followed by fmt 3 continuations is
//! valid on any connection with the same chunk size, whatever was sent
//! before on that chunk stream).

use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};

use baton_proto::Timestamp;
use baton_proto::chunk::{ChunkEncoder, RawMessage};
use baton_proto::session::{MediaKind, ServerSession};

/// A media message chunked at most once per (chunk size, message stream id)
/// for all the connections that send it.
///
/// The first variant asked for is cached (in practice every player of a
/// server uses the server's chunk size and message stream 1); any other
/// variant is chunked on demand.
#[derive(Debug)]
pub struct SharedMessage {
    kind: MediaKind,
    timestamp: Timestamp,
    payload: Bytes,
    chunked: OnceLock<(u32, u32, Bytes)>,
}

impl SharedMessage {
    /// A media message; its payload is the FLV tag body.
    pub fn new(kind: MediaKind, timestamp: Timestamp, payload: Bytes) -> Self {
        SharedMessage {
            kind,
            timestamp,
            payload,
            chunked: OnceLock::new(),
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

    /// The FLV tag body.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The message as the chunk layer sees it, on message stream `stream_id`.
    pub fn raw(&self, stream_id: u32) -> RawMessage {
        let (chunk_stream_id, type_id) = ServerSession::media_chunk_stream(self.kind);
        RawMessage {
            chunk_stream_id,
            timestamp: self.timestamp,
            type_id,
            stream_id,
            payload: self.payload.clone(),
        }
    }

    /// The chunked bytes for a connection with this chunk size and message
    /// stream id.
    pub fn chunks(&self, chunk_size: u32, stream_id: u32) -> Bytes {
        let (size, id, bytes) = self
            .chunked
            .get_or_init(|| (chunk_size, stream_id, self.encode(chunk_size, stream_id)));
        if *size == chunk_size && *id == stream_id {
            bytes.clone()
        } else {
            self.encode(chunk_size, stream_id)
        }
    }

    fn encode(&self, chunk_size: u32, stream_id: u32) -> Bytes {
        let raw = self.raw(stream_id);
        let chunks = raw.payload.len() / chunk_size.max(1) as usize + 1;
        let mut out = BytesMut::with_capacity(raw.payload.len() + 12 + 4 + chunks * 5);
        ChunkEncoder::encode_standalone(chunk_size, &raw, &mut out);
        out.freeze()
    }
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
}
