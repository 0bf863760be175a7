//! Unit tests of the chunk stream: the worked examples of RTMP 1.0 section
//! 5.3.2, header forms, extended timestamps, control messages and errors.

use bytes::{Bytes, BytesMut};

use super::*;
use crate::limits::ChunkLimits;

/// A message with a payload whose bytes follow `seed` (never a run of the
/// bytes an extended timestamp of these tests would have).
pub(super) fn msg(csid: u32, ts: u32, type_id: u8, stream_id: u32, len: usize) -> RawMessage {
    RawMessage {
        chunk_stream_id: csid,
        timestamp: Timestamp(ts),
        type_id,
        stream_id,
        payload: pattern(len, ts as u8 ^ type_id),
    }
}

/// `len` bytes: `seed`, `seed + 7`, ... with 0x01 avoided.
pub(super) fn pattern(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| match seed.wrapping_add((i as u8).wrapping_mul(7)) {
            0x01 => 0x02,
            b => b,
        })
        .collect()
}

/// Decodes everything in `bytes` fed at once.
pub(super) fn decode_all(decoder: &mut ChunkDecoder, bytes: &[u8]) -> Vec<RawMessage> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(m) = decoder.decode(&mut buf).expect("valid input") {
        out.push(m);
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    out
}

/// Decodes `bytes` fed one byte at a time.
fn decode_bytewise(decoder: &mut ChunkDecoder, bytes: &[u8]) -> Vec<RawMessage> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for &b in bytes {
        buf.extend_from_slice(&[b]);
        while let Some(m) = decoder.decode(&mut buf).expect("valid input") {
            out.push(m);
        }
    }
    assert!(buf.is_empty());
    out
}

fn encode_all(enc: &mut ChunkEncoder, msgs: &[RawMessage]) -> BytesMut {
    let mut out = BytesMut::new();
    for m in msgs {
        enc.encode(m, &mut out);
    }
    out
}

fn control(type_id: u8, value: u32) -> RawMessage {
    RawMessage {
        chunk_stream_id: 2,
        timestamp: Timestamp(0),
        type_id,
        stream_id: 0,
        payload: Bytes::copy_from_slice(&value.to_be_bytes()),
    }
}

fn limits(
    max_message_size: u32,
    max_chunk_streams: usize,
    max_pending_bytes: usize,
) -> ChunkLimits {
    ChunkLimits {
        max_message_size,
        max_chunk_streams,
        max_pending_bytes,
    }
}

fn decode_err(decoder: &mut ChunkDecoder, bytes: &[u8]) -> ChunkError {
    let mut buf = BytesMut::from(bytes);
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error; {} bytes left", buf.len()),
            Err(e) => return e,
        }
    }
}

#[test]
fn spec_example_1_audio() {
    // Section 5.3.2.1: four 32-byte audio messages, 20 ms apart.
    let msgs: Vec<_> = [1000, 1020, 1040, 1060]
        .map(|t| msg(3, t, 8, 12345, 32))
        .to_vec();
    let out = encode_all(&mut ChunkEncoder::new(), &msgs);

    let mut expected = Vec::new();
    // Chunk 1: type 0, timestamp 1000, length 32, type 8, stream 12345 (LE).
    expected.extend_from_slice(&[
        0x03, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x20, 0x08, 0x39, 0x30, 0x00, 0x00,
    ]);
    expected.extend_from_slice(&msgs[0].payload);
    // Chunk 2: type 2, delta 20.
    expected.extend_from_slice(&[0x83, 0x00, 0x00, 0x14]);
    expected.extend_from_slice(&msgs[1].payload);
    // Chunks 3 and 4: type 3, no message header.
    expected.push(0xC3);
    expected.extend_from_slice(&msgs[2].payload);
    expected.push(0xC3);
    expected.extend_from_slice(&msgs[3].payload);
    assert_eq!(&out[..], &expected[..]);
    assert_eq!(out.len(), 44 + 36 + 33 + 33);

    assert_eq!(decode_all(&mut ChunkDecoder::default(), &out), msgs);
    assert_eq!(decode_bytewise(&mut ChunkDecoder::default(), &out), msgs);
}

#[test]
fn spec_example_2_video() {
    // Section 5.3.2.2: a 307-byte video message at chunk size 128.
    let m = msg(4, 1000, 9, 12346, 307);
    let out = encode_all(&mut ChunkEncoder::new(), std::slice::from_ref(&m));

    let mut expected = Vec::new();
    expected.extend_from_slice(&[
        0x04, 0x00, 0x03, 0xE8, 0x00, 0x01, 0x33, 0x09, 0x3A, 0x30, 0x00, 0x00,
    ]);
    expected.extend_from_slice(&m.payload[..128]);
    expected.push(0xC4);
    expected.extend_from_slice(&m.payload[128..256]);
    expected.push(0xC4);
    expected.extend_from_slice(&m.payload[256..]);
    assert_eq!(&out[..], &expected[..]);
    assert_eq!(out.len(), 140 + 129 + 52);

    let mut decoder = ChunkDecoder::default();
    assert_eq!(decode_all(&mut decoder, &out), vec![m.clone()]);
    assert_eq!(decoder.pending_bytes(), 0);
    assert_eq!(decode_bytewise(&mut ChunkDecoder::default(), &out), vec![m]);
}

#[test]
fn two_and_three_byte_basic_headers() {
    for (csid, basic) in [
        (64u32, &[0x00, 0x00][..]),
        (319, &[0x00, 0xFF]),
        (320, &[0x01, 0x00, 0x01]),
        (65599, &[0x01, 0xFF, 0xFF]),
    ] {
        let msgs = vec![msg(csid, 5, 9, 1, 300), msg(csid, 45, 9, 1, 300)];
        let out = encode_all(&mut ChunkEncoder::new(), &msgs);
        assert_eq!(&out[..basic.len()], basic, "csid {csid}");
        // The first continuation chunk starts with the type 3 basic header.
        let cont = basic.len() + 11 + 128;
        assert_eq!(out[cont] >> 6, 3);
        assert_eq!(&out[cont + 1..cont + basic.len()], &basic[1..]);
        assert_eq!(decode_all(&mut ChunkDecoder::default(), &out), msgs);
        assert_eq!(decode_bytewise(&mut ChunkDecoder::default(), &out), msgs);
    }
}

#[test]
fn extended_timestamp_type_0_with_and_without_repeat() {
    let m = msg(4, 0x0100_0000, 9, 1, 300);
    let out = encode_all(&mut ChunkEncoder::new(), std::slice::from_ref(&m));
    let ext = [0x01, 0x00, 0x00, 0x00];
    let mut expected = vec![
        0x04, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x2C, 0x09, 0x01, 0x00, 0x00, 0x00,
    ];
    expected.extend_from_slice(&ext);
    expected.extend_from_slice(&m.payload[..128]);
    expected.push(0xC4);
    expected.extend_from_slice(&ext);
    expected.extend_from_slice(&m.payload[128..256]);
    expected.push(0xC4);
    expected.extend_from_slice(&ext);
    expected.extend_from_slice(&m.payload[256..]);
    assert_eq!(&out[..], &expected[..]);
    assert_eq!(
        decode_all(&mut ChunkDecoder::default(), &out),
        vec![m.clone()]
    );

    // A peer that does not repeat the field in type 3 chunks.
    let mut bare = vec![
        0x04, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x2C, 0x09, 0x01, 0x00, 0x00, 0x00,
    ];
    bare.extend_from_slice(&ext);
    bare.extend_from_slice(&m.payload[..128]);
    bare.push(0xC4);
    bare.extend_from_slice(&m.payload[128..256]);
    bare.push(0xC4);
    bare.extend_from_slice(&m.payload[256..]);
    assert_eq!(
        decode_all(&mut ChunkDecoder::default(), &bare),
        vec![m.clone()]
    );
    assert_eq!(
        decode_bytewise(&mut ChunkDecoder::default(), &bare),
        vec![m]
    );
}

#[test]
fn timestamp_0xffffff_is_extended() {
    let m = msg(3, 0xFF_FFFF, 8, 1, 4);
    let out = encode_all(&mut ChunkEncoder::new(), std::slice::from_ref(&m));
    assert_eq!(&out[1..4], &[0xFF, 0xFF, 0xFF]);
    assert_eq!(&out[12..16], &[0x00, 0xFF, 0xFF, 0xFF]);
    assert_eq!(out.len(), 1 + 11 + 4 + 4);
    assert_eq!(decode_all(&mut ChunkDecoder::default(), &out), vec![m]);
}

#[test]
fn extended_delta_in_type_1_2_and_3() {
    let ext = [0x01, 0x00, 0x00, 0x00];
    let msgs = vec![
        msg(5, 0, 8, 1, 10),
        msg(5, 0x0100_0000, 8, 1, 10), // type 2, extended delta
        msg(5, 0x0200_0000, 8, 1, 10), // type 3, repeats the extended delta
        msg(5, 0x0300_0000, 8, 1, 12), // type 1, extended delta
    ];
    let out = encode_all(&mut ChunkEncoder::new(), &msgs);
    let mut expected = vec![0x05, 0, 0, 0, 0, 0, 10, 8, 1, 0, 0, 0];
    expected.extend_from_slice(&msgs[0].payload);
    expected.extend_from_slice(&[0x85, 0xFF, 0xFF, 0xFF]);
    expected.extend_from_slice(&ext);
    expected.extend_from_slice(&msgs[1].payload);
    expected.push(0xC5);
    expected.extend_from_slice(&ext);
    expected.extend_from_slice(&msgs[2].payload);
    expected.extend_from_slice(&[0x45, 0xFF, 0xFF, 0xFF, 0, 0, 12, 8]);
    expected.extend_from_slice(&ext);
    expected.extend_from_slice(&msgs[3].payload);
    assert_eq!(&out[..], &expected[..]);
    assert_eq!(decode_all(&mut ChunkDecoder::default(), &out), msgs);

    // Without the repeated field in the type 3 chunk.
    let mut bare = Vec::new();
    let type3 = 12 + 10 + 4 + 4 + 10;
    bare.extend_from_slice(&expected[..type3 + 1]);
    bare.extend_from_slice(&expected[type3 + 5..]);
    assert_eq!(decode_all(&mut ChunkDecoder::default(), &bare), msgs);
}

#[test]
fn type_3_waits_for_four_bytes_after_an_extended_header() {
    let mut decoder = ChunkDecoder::default();
    let first = msg(5, 0x0100_0000, 8, 1, 200);
    let mut chunks = ChunkEncoder::new().encode_chunks(&first);
    assert_eq!(chunks.len(), 2);
    assert_eq!(decode_all(&mut decoder, &chunks[0]), vec![]);
    // The continuation: basic header and two bytes; cannot tell yet whether
    // they start the repeated extended timestamp.
    let cont = chunks.pop().unwrap_or_default();
    let mut buf = BytesMut::from(&cont[..3]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(buf.len(), 3, "nothing consumed");
    buf.extend_from_slice(&cont[3..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(first)));
    assert!(buf.is_empty());
}

#[test]
fn timestamps_wrap_past_2_32() {
    let msgs = vec![
        msg(6, u32::MAX - 10, 9, 1, 20),
        msg(6, 9, 9, 1, 20),  // delta 20 across the wrap: type 2
        msg(6, 29, 9, 1, 20), // type 3
        msg(6, 49, 9, 1, 21), // type 1
    ];
    let mut enc = ChunkEncoder::new();
    let mut sizes = Vec::new();
    let mut out = BytesMut::new();
    for m in &msgs {
        let before = out.len();
        enc.encode(m, &mut out);
        sizes.push(out[before] >> 6);
    }
    assert_eq!(sizes, vec![0, 2, 3, 1]);
    assert_eq!(decode_all(&mut ChunkDecoder::default(), &out), msgs);
}

#[test]
fn type_3_after_type_0_adds_the_type_0_timestamp() {
    // FFmpeg semantics (section 5.3.1.2.4).
    let mut bytes = vec![
        0x03, 0x00, 0x03, 0xE8, 0, 0, 4, 8, 1, 0, 0, 0, 10, 11, 12, 13,
    ];
    bytes.extend_from_slice(&[0xC3, 20, 21, 22, 23]);
    bytes.extend_from_slice(&[0xC3, 30, 31, 32, 33]);
    let got = decode_all(&mut ChunkDecoder::default(), &bytes);
    let ts: Vec<_> = got.iter().map(|m| m.timestamp.as_millis()).collect();
    assert_eq!(ts, vec![1000, 2000, 3000]);
    assert_eq!(&got[2].payload[..], &[30, 31, 32, 33]);

    // The same with an extended type 0 timestamp, repeated in the type 3 chunk.
    let mut bytes = vec![
        0x03, 0xFF, 0xFF, 0xFF, 0, 0, 4, 8, 1, 0, 0, 0, 1, 0, 0, 0, 10, 11, 12, 13,
    ];
    bytes.extend_from_slice(&[0xC3, 1, 0, 0, 0, 20, 21, 22, 23]);
    let got = decode_all(&mut ChunkDecoder::default(), &bytes);
    assert_eq!(got[1].timestamp, Timestamp(0x0200_0000));
    assert_eq!(&got[1].payload[..], &[20, 21, 22, 23]);
}

#[test]
fn zero_length_messages() {
    let msgs = vec![
        msg(3, 0, 20, 0, 0),
        msg(3, 10, 20, 0, 0),
        msg(3, 20, 20, 0, 0),
        msg(3, 20, 20, 0, 5),
        msg(3, 20, 20, 0, 0),
    ];
    let out = encode_all(&mut ChunkEncoder::new(), &msgs);
    // 12 + 4 + 1 (type 3 of an empty message) + 8+5 + 8.
    assert_eq!(out.len(), 12 + 4 + 1 + 13 + 8);
    assert_eq!(decode_all(&mut ChunkDecoder::default(), &out), msgs);
    assert_eq!(decode_bytewise(&mut ChunkDecoder::default(), &out), msgs);
}

#[test]
fn encoder_picks_the_most_compact_header() {
    let mut enc = ChunkEncoder::new();
    let mut fmt_of = |m: RawMessage| {
        let mut out = BytesMut::new();
        enc.encode(&m, &mut out);
        out[0] >> 6
    };
    assert_eq!(
        fmt_of(msg(3, 100, 8, 1, 10)),
        0,
        "first on the chunk stream"
    );
    assert_eq!(fmt_of(msg(3, 100, 8, 1, 10)), 2, "delta 0 not sent before");
    assert_eq!(fmt_of(msg(3, 100, 8, 1, 10)), 3, "same delta 0");
    assert_eq!(fmt_of(msg(3, 120, 8, 1, 10)), 2, "delta changed");
    assert_eq!(fmt_of(msg(3, 140, 8, 1, 10)), 3, "same delta");
    assert_eq!(fmt_of(msg(3, 160, 8, 1, 11)), 1, "length changed");
    assert_eq!(
        fmt_of(msg(3, 180, 8, 1, 11)),
        3,
        "type 1 registered delta 20"
    );
    assert_eq!(fmt_of(msg(3, 200, 9, 1, 11)), 1, "type changed");
    assert_eq!(fmt_of(msg(3, 220, 9, 2, 11)), 0, "stream changed");
    assert_eq!(
        fmt_of(msg(3, 220, 9, 2, 11)),
        2,
        "no type 3 right after type 0"
    );
    assert_eq!(fmt_of(msg(3, 219, 9, 2, 11)), 0, "timestamp went back");
    assert_eq!(fmt_of(msg(4, 219, 9, 2, 11)), 0, "other chunk stream");
    // Section 5.3.1.2.4 would allow a type 3 here (delta 20 equals the type 0
    // timestamp 20), but peers disagree on it: a type 2 is sent.
    assert_eq!(fmt_of(msg(5, 20, 9, 2, 11)), 0);
    assert_eq!(
        fmt_of(msg(5, 40, 9, 2, 11)),
        2,
        "no type 3 right after type 0"
    );
    assert_eq!(fmt_of(msg(5, 60, 9, 2, 11)), 3);
}

#[test]
fn set_chunk_size_mid_stream() {
    let mut enc = ChunkEncoder::new();
    let mut dec = ChunkDecoder::default();
    // A 300-byte message on chunk stream 6 is in progress when the peer
    // raises its chunk size; its last 172 bytes then come in one chunk.
    let partial = msg(6, 0, 9, 1, 300);
    let chunks = enc.encode_chunks(&partial);
    let mut wire = BytesMut::from(&chunks[0][..]);
    enc.encode(&control(1, 4096), &mut wire);
    enc.set_chunk_size(4096).unwrap();
    wire.extend_from_slice(&[0xC6]);
    wire.extend_from_slice(&partial.payload[128..]);
    let big = msg(7, 0, 9, 1, 3000);
    let before = wire.len();
    enc.encode(&big, &mut wire);
    assert_eq!(wire.len() - before, 12 + 3000, "one chunk");

    let mut buf = wire.clone();
    assert_eq!(dec.decode(&mut buf), Ok(Some(control(1, 4096))));
    assert_eq!(dec.chunk_size(), 4096);
    assert_eq!(dec.decode(&mut buf), Ok(Some(partial.clone())));
    assert_eq!(dec.decode(&mut buf), Ok(Some(big.clone())));
    assert_eq!(dec.decode(&mut buf), Ok(None));
    assert_eq!(
        decode_bytewise(&mut ChunkDecoder::default(), &wire),
        vec![control(1, 4096), partial, big]
    );
}

#[test]
fn abort_discards_a_partial_message() {
    let mut dec = ChunkDecoder::default();
    let mut enc = ChunkEncoder::new();
    let first = msg(5, 0, 9, 1, 300);
    let chunks = enc.encode_chunks(&first);
    assert_eq!(decode_all(&mut dec, &chunks[0]), vec![]);
    assert!(dec.pending_bytes() >= 128);

    let mut wire = encode_all(&mut enc, &[control(2, 5)]);
    let second = msg(5, 40, 9, 1, 300);
    ChunkEncoder::encode_standalone(128, &second, &mut wire);
    assert_eq!(decode_all(&mut dec, &wire), vec![control(2, 5), second]);
    assert_eq!(dec.pending_bytes(), 0);

    // The same through the method, for a chunk stream that has no partial
    // message and for one that does not exist.
    assert_eq!(decode_all(&mut dec, &chunks[0]), vec![]);
    dec.abort(6);
    dec.abort(70_000);
    assert!(dec.pending_bytes() > 0);
    dec.abort(5);
    assert_eq!(dec.pending_bytes(), 0);
    // The next type 3 chunk starts a new message (delta 0 after the type 0
    // timestamp 0), it does not continue the aborted one.
    let mut bytes = vec![0xC5];
    bytes.extend_from_slice(&first.payload[..128]);
    assert_eq!(decode_all(&mut dec, &bytes), vec![]);
    assert_eq!(dec.pending_bytes(), 128);
}

#[test]
fn single_chunk_payload_is_not_copied() {
    let m = msg(3, 1, 8, 1, 100);
    let out = encode_all(&mut ChunkEncoder::new(), std::slice::from_ref(&m));
    let mut buf = out.clone();
    let start = buf.as_ptr() as usize;
    let got = ChunkDecoder::default().decode(&mut buf).unwrap().unwrap();
    assert_eq!(got, m);
    assert_eq!(got.payload.as_ptr() as usize, start + 12);
}

#[test]
fn standalone_and_stateful_mix() {
    let mut enc = ChunkEncoder::new();
    enc.set_chunk_size(1000).unwrap();
    let msgs: Vec<_> = (0..8u32)
        .map(|i| msg(6, i * 33, 9, 1, 700 + 300 * (i as usize % 2)))
        .collect();
    let mut wire = BytesMut::new();
    for (i, m) in msgs.iter().enumerate() {
        if i % 3 == 1 {
            let mut shared = BytesMut::new();
            ChunkEncoder::encode_standalone(1000, m, &mut shared);
            assert_eq!(shared[0] >> 6, 0);
            // Valid on its own, on a connection that never used chunk stream 6.
            let mut alone = ChunkDecoder::default();
            alone.set_chunk_size(1000).unwrap();
            assert_eq!(decode_all(&mut alone, &shared), vec![m.clone()]);
            wire.extend_from_slice(&shared);
            enc.note_standalone_sent(m);
        } else {
            enc.encode(m, &mut wire);
        }
    }
    let mut dec = ChunkDecoder::default();
    dec.set_chunk_size(1000).unwrap();
    assert_eq!(decode_all(&mut dec, &wire), msgs);
}

#[test]
fn every_prefix_needs_more_bytes() {
    let m = msg(70, 0x0100_0000, 9, 1, 300);
    let out = encode_all(&mut ChunkEncoder::new(), std::slice::from_ref(&m));
    for cut in 0..out.len() {
        let mut dec = ChunkDecoder::default();
        let mut buf = BytesMut::from(&out[..cut]);
        assert_eq!(dec.decode(&mut buf), Ok(None), "cut at {cut}");
        buf.extend_from_slice(&out[cut..]);
        assert_eq!(dec.decode(&mut buf), Ok(Some(m.clone())), "cut at {cut}");
    }
}

#[test]
fn message_over_the_size_limit() {
    let mut dec = ChunkDecoder::new(limits(100, 4, 1000));
    let out = encode_all(&mut ChunkEncoder::new(), &[msg(3, 0, 9, 1, 101)]);
    let err = decode_err(&mut dec, &out);
    assert_eq!(
        err,
        ChunkError::MessageTooLarge {
            chunk_stream_id: 3,
            length: 101,
            max: 100
        }
    );
    assert!(err.is_peer_fault());
    let out = encode_all(&mut ChunkEncoder::new(), &[msg(3, 0, 9, 1, 100)]);
    assert_eq!(
        decode_all(&mut ChunkDecoder::new(limits(100, 4, 1000)), &out).len(),
        1
    );
}

#[test]
fn too_many_chunk_streams() {
    let msgs = [msg(3, 0, 9, 1, 1), msg(4, 0, 9, 1, 1), msg(5, 0, 9, 1, 1)];
    let out = encode_all(&mut ChunkEncoder::new(), &msgs);
    let mut dec = ChunkDecoder::new(limits(100, 2, 1000));
    assert_eq!(
        decode_err(&mut dec, &out),
        ChunkError::TooManyChunkStreams { max: 2 }
    );
    let mut dec = ChunkDecoder::new(limits(100, 3, 1000));
    assert_eq!(decode_all(&mut dec, &out).len(), 3);
}

#[test]
fn continuation_without_a_header() {
    for (fmt, bytes) in [
        (1u8, &[0x43, 0, 0, 1, 0, 0, 1, 9, 0xAA][..]),
        (2, &[0x83, 0, 0, 1, 0xAA]),
        (3, &[0xC3, 0xAA]),
        (3, &[0xC0, 200, 0xAA]),
    ] {
        let chunk_stream_id = if bytes[0] & 0x3F == 0 { 264 } else { 3 };
        assert_eq!(
            decode_err(&mut ChunkDecoder::default(), bytes),
            ChunkError::NoPreviousHeader {
                chunk_stream_id,
                fmt
            }
        );
    }
}

#[test]
fn bad_set_chunk_size_and_control_payloads() {
    for size in [0, 0x8000_0000, u32::MAX] {
        let out = encode_all(&mut ChunkEncoder::new(), &[control(1, size)]);
        let err = decode_err(&mut ChunkDecoder::default(), &out);
        assert_eq!(err, ChunkError::BadChunkSize { size });
    }
    let out = encode_all(&mut ChunkEncoder::new(), &[control(1, MAX_CHUNK_SIZE)]);
    let mut dec = ChunkDecoder::default();
    assert_eq!(decode_all(&mut dec, &out).len(), 1);
    assert_eq!(dec.chunk_size(), MAX_CHUNK_SIZE);

    for (type_id, len) in [(1u8, 3usize), (1, 5), (2, 0), (2, 8)] {
        let mut m = msg(2, 0, type_id, 0, len);
        m.payload = Bytes::from(vec![0; len]);
        let out = encode_all(&mut ChunkEncoder::new(), &[m]);
        assert_eq!(
            decode_err(&mut ChunkDecoder::default(), &out),
            ChunkError::BadControlPayload {
                type_id,
                length: len
            }
        );
    }
}

#[test]
fn new_header_in_the_middle_of_a_message() {
    let first = msg(4, 0, 9, 1, 300);
    let chunks = ChunkEncoder::new().encode_chunks(&first);
    // Type 0 declaring 200 bytes while 172 bytes of a 300-byte message are due.
    let mut bytes = chunks[0].clone();
    bytes.extend_from_slice(&[0x04, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0]);
    assert_eq!(
        decode_err(&mut ChunkDecoder::default(), &bytes),
        ChunkError::LengthChangedMidMessage {
            chunk_stream_id: 4,
            expected: 300,
            declared: 200
        }
    );
    // A type 1 header with the same length continues the message; its delta
    // applies to the message.
    let mut bytes = chunks[0].clone();
    bytes.extend_from_slice(&[0x44, 0, 0, 5, 0, 0x01, 0x2C, 9]);
    bytes.extend_from_slice(&first.payload[128..256]);
    bytes.extend_from_slice(&chunks[2]);
    let got = decode_all(&mut ChunkDecoder::default(), &bytes);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, first.payload);
    assert_eq!(got[0].timestamp, Timestamp(5));
}

#[test]
fn pending_bytes_over_the_limit() {
    let mut enc = ChunkEncoder::new();
    let a = enc.encode_chunks(&msg(3, 0, 9, 1, 1000));
    let b = enc.encode_chunks(&msg(4, 0, 9, 1, 1000));
    let mut dec = ChunkDecoder::new(limits(10_000, 4, 300));
    let mut bytes = a[0].clone();
    bytes.extend_from_slice(&b[0]);
    assert_eq!(decode_all(&mut dec, &bytes), vec![]);
    assert!(dec.pending_bytes() <= 300);
    assert_eq!(
        decode_err(&mut dec, &a[1]),
        ChunkError::PendingBytesExceeded { max: 300 }
    );
    assert!(dec.pending_bytes() <= 300);
}

#[test]
fn api_misuse_is_not_a_peer_fault() {
    let mut dec = ChunkDecoder::default();
    let mut enc = ChunkEncoder::new();
    for size in [0, MAX_CHUNK_SIZE + 1] {
        assert_eq!(
            dec.set_chunk_size(size),
            Err(ChunkError::InvalidChunkSize(size))
        );
        assert_eq!(
            enc.set_chunk_size(size),
            Err(ChunkError::InvalidChunkSize(size))
        );
    }
    assert_eq!(dec.chunk_size(), DEFAULT_CHUNK_SIZE);
    assert_eq!(enc.chunk_size(), DEFAULT_CHUNK_SIZE);
    assert!(!ChunkError::InvalidChunkSize(0).is_peer_fault());
    for csid in [0, 1, MAX_CHUNK_STREAM_ID + 1] {
        let err = msg(csid, 0, 9, 1, 1).check_encodable().unwrap_err();
        assert_eq!(err, ChunkError::InvalidChunkStreamId(csid));
        assert!(!err.is_peer_fault());
    }
    let mut long = msg(3, 0, 9, 1, 0);
    long.payload = Bytes::from(vec![0; MAX_MESSAGE_LENGTH as usize + 1]);
    assert_eq!(
        long.check_encodable(),
        Err(ChunkError::PayloadTooLong(MAX_MESSAGE_LENGTH as usize + 1))
    );
    assert_eq!(
        msg(MIN_CHUNK_STREAM_ID, 0, 9, 1, 1).check_encodable(),
        Ok(())
    );
}

#[test]
#[should_panic(expected = "invalid chunk stream ID 1")]
fn encoding_an_invalid_chunk_stream_id_panics() {
    ChunkEncoder::new().encode(&msg(1, 0, 9, 1, 1), &mut BytesMut::new());
}

#[test]
#[should_panic(expected = "invalid chunk size 0")]
fn standalone_with_chunk_size_0_panics() {
    ChunkEncoder::encode_standalone(0, &msg(3, 0, 9, 1, 1), &mut BytesMut::new());
}

#[test]
fn standalone_headers_around_the_payload_are_encode_standalone() {
    for (timestamp, len, chunk_size) in [
        (0, 0, 128),
        (40, 1, 128),
        (40, 128, 128),
        (40, 129, 128),
        (90_000, 10_000, 4096),
        (0x00FF_FFFF, 8192, 4096),
        (0x0100_0000, 5000, 1000),
    ] {
        let mut m = msg(6, timestamp, 9, 1, 0);
        m.payload = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<u8>>());
        let mut expected = BytesMut::new();
        ChunkEncoder::encode_standalone(chunk_size, &m, &mut expected);
        let headers = ChunkEncoder::standalone_headers(&m);
        let mut built = headers.first().to_vec();
        for (i, piece) in m.payload.chunks(chunk_size as usize).enumerate() {
            if i > 0 {
                built.extend_from_slice(headers.rest());
            }
            built.extend_from_slice(piece);
        }
        assert_eq!(
            built, expected,
            "timestamp {timestamp}, {len} bytes at {chunk_size}"
        );
        assert_eq!(headers.chunked_len(chunk_size, len), expected.len());
    }
}
