//! Chunk stream decoder: never panics, never holds more than its limits,
//! and every message it yields decodes to a typed message or a clean error.
#![no_main]

use baton_proto::chunk::ChunkDecoder;
use baton_proto::message::Message;
use baton_proto::{ChunkLimits, Limits};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let chunk_limits = ChunkLimits {
        max_message_size: 1 << 20,
        max_chunk_streams: 16,
        max_pending_bytes: 4 << 20,
    };
    let limits = Limits::default();
    let mut decoder = ChunkDecoder::new(chunk_limits);
    // Feed in two pieces to exercise partial input.
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut buf = BytesMut::from(&data[..split]);
    for piece in [&data[split..], &[][..]] {
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(msg)) => {
                    let _ = Message::decode(msg.type_id, msg.timestamp, msg.payload, &limits);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        buf.extend_from_slice(piece);
    }
});
