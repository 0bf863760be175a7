//! Chunk stream throughput (RTMP 1.0 section 5.3): encoding and decoding a
//! 1 MiB video message at chunk size 4096, next to a plain 1 MiB memcpy into
//! a preallocated buffer in the same group, so the figures read as a ratio to
//! the memory bandwidth. A second baseline copies into a fresh allocation
//! per message, which is what decoding into an owned message costs at least.
//!
//! Run: `cargo bench -p baton-proto --bench chunk`

use std::hint::black_box;
use std::time::{Duration, Instant};

use baton_proto::chunk::{ChunkDecoder, ChunkEncoder, RawMessage};
use baton_proto::{ChunkLimits, Timestamp};
use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_main};

const MESSAGE_LEN: usize = 1 << 20;
const CHUNK_SIZE: u32 = 4096;

fn video_message() -> RawMessage {
    let payload: Vec<u8> = (0..MESSAGE_LEN).map(|i| (i * 131 % 251) as u8).collect();
    RawMessage {
        chunk_stream_id: 6,
        timestamp: Timestamp(40),
        type_id: 9,
        stream_id: 1,
        payload: Bytes::from(payload),
    }
}

fn chunk_benches(c: &mut Criterion) {
    let msg = video_message();
    let mut group = c.benchmark_group("chunk_1MiB_video_cs4096");
    group.throughput(Throughput::Bytes(MESSAGE_LEN as u64));

    group.bench_function("memcpy_baseline", |b| {
        let src = msg.payload.to_vec();
        let mut dst = vec![0u8; MESSAGE_LEN];
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        });
    });

    // The floor for a decoder that hands out an owned message: a fresh
    // 1 MiB allocation filled by one copy, dropped before the next one (as
    // `decode` below).
    group.bench_function("memcpy_into_fresh_alloc_baseline", |b| {
        let src = msg.payload.to_vec();
        b.iter(|| {
            let mut dst = Vec::with_capacity(MESSAGE_LEN);
            dst.extend_from_slice(black_box(&src));
            black_box(dst)
        });
    });

    group.bench_function("encode_stateful", |b| {
        let mut enc = ChunkEncoder::new();
        enc.set_chunk_size(CHUNK_SIZE).expect("valid chunk size");
        let mut m = msg.clone();
        let mut out = BytesMut::with_capacity(MESSAGE_LEN + MESSAGE_LEN / 256);
        b.iter(|| {
            m.timestamp = m.timestamp.wrapping_add(33);
            out.clear();
            enc.encode(black_box(&m), &mut out);
            black_box(&out);
        });
    });

    group.bench_function("encode_standalone", |b| {
        let mut out = BytesMut::with_capacity(MESSAGE_LEN + MESSAGE_LEN / 256);
        b.iter(|| {
            out.clear();
            ChunkEncoder::encode_standalone(CHUNK_SIZE, black_box(&msg), &mut out);
            black_box(&out);
        });
    });

    group.bench_function("decode", |b| {
        let mut wire = BytesMut::new();
        ChunkEncoder::encode_standalone(CHUNK_SIZE, &msg, &mut wire);
        let mut dec = ChunkDecoder::new(ChunkLimits::default());
        dec.set_chunk_size(CHUNK_SIZE).expect("valid chunk size");
        // The steady state of a connection: one input buffer refilled (not
        // timed) and each message dropped before the next arrives.
        let mut buf = BytesMut::with_capacity(wire.len());
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                buf.clear();
                buf.extend_from_slice(&wire);
                let start = Instant::now();
                let m = dec.decode(black_box(&mut buf)).expect("valid chunks");
                total += start.elapsed();
                assert!(m.is_some_and(|m| m.payload.len() == MESSAGE_LEN));
            }
            total
        });
    });

    group.finish();
}

/// The benchmark group (written out rather than with `criterion_group!`,
/// whose generated function has no doc comment).
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    chunk_benches(&mut c);
}

criterion_main!(benches);
