//! Property tests of the chunk stream (RTMP 1.0 section 5.3): random message
//! sequences survive encode, interleaving across chunk streams, random input
//! splits and decode; arbitrary bytes never panic the decoder nor make it
//! hold more than its pending-bytes limit.

use bytes::BytesMut;
use proptest::prelude::*;

use super::tests::{decode_all, pattern};
use super::*;
use crate::limits::ChunkLimits;

/// Chunk stream IDs used by the generated messages: 1-, 2- and 3-byte basic
/// headers.
const CSIDS: [u32; 4] = [3, 4, 70, 400];

/// How a generated message's timestamp relates to the previous message on its
/// chunk stream.
#[derive(Clone, Debug)]
enum TsStep {
    /// An absolute value (often backward: a type 0 header).
    Abs(u32),
    /// A delta from the previous timestamp.
    Delta(u32),
    /// The previous delta again (what type 3 headers compress).
    Repeat,
}

#[derive(Clone, Debug)]
struct Step {
    csid: usize,
    ts: TsStep,
    /// `None` keeps the previous length, type, stream.
    len: Option<usize>,
    type_id: Option<u8>,
    stream_id: Option<u32>,
}

fn interesting_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..100,
        0xFF_FFF0u32..=0x100_0010,
        (u32::MAX - 100)..=u32::MAX,
        any::<u32>(),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let ts = prop_oneof![
        1 => interesting_u32().prop_map(TsStep::Abs),
        2 => prop_oneof![0u32..50, 0xFF_FFF0u32..=0x100_0010, any::<u32>()].prop_map(TsStep::Delta),
        3 => Just(TsStep::Repeat),
    ];
    let len = prop_oneof![
        3 => Just(None),
        1 => (0usize..20).prop_map(Some),
        2 => (0usize..5000).prop_map(Some),
    ];
    // Anything but the control types 1 and 2, which the decoder acts on.
    let type_id = prop_oneof![
        3 => Just(None),
        1 => prop_oneof![Just(8u8), Just(9), Just(18), Just(20), 3u8..=255].prop_map(Some),
    ];
    let stream_id = prop_oneof![
        6 => Just(None),
        1 => prop_oneof![Just(0u32), Just(1), Just(12345), any::<u32>()].prop_map(Some),
    ];
    (0..CSIDS.len(), ts, len, type_id, stream_id).prop_map(|(csid, ts, len, type_id, stream_id)| {
        Step {
            csid,
            ts,
            len,
            type_id,
            stream_id,
        }
    })
}

/// Turns steps into messages, tracking each chunk stream's last values.
fn messages(steps: &[Step]) -> Vec<RawMessage> {
    // (timestamp, delta, length, type, stream) per chunk stream.
    let mut last = [(0u32, 0u32, 0usize, 9u8, 1u32); CSIDS.len()];
    steps
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let l = &mut last[s.csid];
            let ts = match s.ts {
                TsStep::Abs(t) => t,
                TsStep::Delta(d) => l.0.wrapping_add(d),
                TsStep::Repeat => l.0.wrapping_add(l.1),
            };
            l.1 = ts.wrapping_sub(l.0);
            l.0 = ts;
            l.2 = s.len.unwrap_or(l.2);
            l.3 = s.type_id.unwrap_or(l.3);
            l.4 = s.stream_id.unwrap_or(l.4);
            RawMessage {
                chunk_stream_id: CSIDS[s.csid],
                timestamp: Timestamp(ts),
                type_id: l.3,
                stream_id: l.4,
                payload: pattern(l.2, n as u8),
            }
        })
        .collect()
}

fn chunk_size() -> impl Strategy<Value = u32> {
    prop_oneof![
        1u32..16,
        Just(DEFAULT_CHUNK_SIZE),
        100u32..300,
        1000u32..6000,
        Just(MAX_CHUNK_SIZE),
    ]
}

/// A small xorshift generator, so one seed drives many random choices.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Feeds `bytes` to `decoder` in pieces of random sizes up to `max_piece`.
fn decode_split(
    decoder: &mut ChunkDecoder,
    bytes: &[u8],
    rng: &mut Rng,
    max_piece: usize,
) -> Result<Vec<RawMessage>, ChunkError> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at((1 + rng.below(max_piece)).min(rest.len()));
        rest = tail;
        buf.extend_from_slice(piece);
        while let Some(m) = decoder.decode(&mut buf)? {
            out.push(m);
        }
    }
    assert!(buf.is_empty());
    Ok(out)
}

fn by_chunk_stream(msgs: &[RawMessage]) -> Vec<Vec<RawMessage>> {
    CSIDS
        .iter()
        .map(|&c| {
            msgs.iter()
                .filter(|m| m.chunk_stream_id == c)
                .cloned()
                .collect()
        })
        .collect()
}

fn set_chunk_size(size: u32) -> RawMessage {
    RawMessage {
        chunk_stream_id: 2,
        timestamp: Timestamp(0),
        type_id: 1,
        stream_id: 0,
        payload: bytes::Bytes::copy_from_slice(&size.to_be_bytes()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Messages chunked by the stateful encoder, with the chunks of different
    /// chunk streams interleaved and the bytes fed in random pieces, decode
    /// to the same messages on each chunk stream.
    #[test]
    fn interleaved_round_trip(
        steps in proptest::collection::vec(step(), 1..16),
        size in chunk_size(),
        seed in any::<u64>(),
        max_piece in prop_oneof![Just(1usize), 1usize..64, 1usize..20_000],
    ) {
        let msgs = messages(&steps);
        let mut enc = ChunkEncoder::new();
        let mut wire = Vec::new();
        // Announce the chunk size the way a peer does.
        let mut head = BytesMut::new();
        enc.encode(&set_chunk_size(size), &mut head);
        wire.extend_from_slice(&head);
        enc.set_chunk_size(size).unwrap();

        let mut queues: Vec<std::collections::VecDeque<Vec<u8>>> = vec![Default::default(); CSIDS.len()];
        for m in &msgs {
            let q = CSIDS.iter().position(|&c| c == m.chunk_stream_id).unwrap_or(0);
            queues[q].extend(enc.encode_chunks(m));
        }
        let mut rng = Rng(seed | 1);
        while queues.iter().any(|q| !q.is_empty()) {
            let q = rng.below(queues.len());
            if let Some(chunk) = queues[q].pop_front() {
                wire.extend_from_slice(&chunk);
            }
        }

        let mut dec = ChunkDecoder::default();
        let got = decode_split(&mut dec, &wire, &mut rng, max_piece).unwrap();
        prop_assert_eq!(got.first(), Some(&set_chunk_size(size)));
        prop_assert_eq!(dec.chunk_size(), size);
        prop_assert_eq!(by_chunk_stream(&got[1..]), by_chunk_stream(&msgs));
        prop_assert_eq!(got.len(), msgs.len() + 1);
        prop_assert_eq!(dec.pending_bytes(), 0);
    }

    /// Without interleaving, `encode` writes exactly what `encode_chunks`
    /// splits, and decoding gives the messages back in order.
    #[test]
    fn sequential_round_trip(steps in proptest::collection::vec(step(), 1..16), size in chunk_size()) {
        let msgs = messages(&steps);
        let mut enc = ChunkEncoder::new();
        let mut twin = ChunkEncoder::new();
        enc.set_chunk_size(size).unwrap();
        twin.set_chunk_size(size).unwrap();
        let mut wire = BytesMut::new();
        for m in &msgs {
            let before = wire.len();
            enc.encode(m, &mut wire);
            prop_assert_eq!(&wire[before..], &twin.encode_chunks(m).concat()[..]);
        }
        let mut dec = ChunkDecoder::default();
        dec.set_chunk_size(size).unwrap();
        prop_assert_eq!(decode_all(&mut dec, &wire), msgs);
    }

    /// Standalone chunks (recorded with `note_standalone_sent`) mixed with
    /// stateful ones stay decodable, and each standalone encoding decodes on
    /// its own on a fresh connection.
    #[test]
    fn standalone_mixed_with_stateful(
        steps in proptest::collection::vec((step(), any::<bool>()), 1..16),
        size in chunk_size(),
    ) {
        let msgs = messages(&steps.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>());
        let mut enc = ChunkEncoder::new();
        enc.set_chunk_size(size).unwrap();
        let mut wire = BytesMut::new();
        for (m, (_, standalone)) in msgs.iter().zip(&steps) {
            if *standalone {
                let mut shared = BytesMut::new();
                ChunkEncoder::encode_standalone(size, m, &mut shared);
                let mut fresh = ChunkDecoder::default();
                fresh.set_chunk_size(size).unwrap();
                prop_assert_eq!(decode_all(&mut fresh, &shared), vec![m.clone()]);
                wire.extend_from_slice(&shared);
                enc.note_standalone_sent(m);
            } else {
                enc.encode(m, &mut wire);
            }
        }
        let mut dec = ChunkDecoder::default();
        dec.set_chunk_size(size).unwrap();
        prop_assert_eq!(decode_all(&mut dec, &wire), msgs);
    }
}

fn small_limits() -> ChunkLimits {
    ChunkLimits {
        max_message_size: 6000,
        max_chunk_streams: 3,
        max_pending_bytes: 3000,
    }
}

/// Feeds `bytes` in random pieces until an error, checking the limits after
/// every call.
fn feed_hostile(bytes: &[u8], seed: u64) -> Result<(), TestCaseError> {
    let limits = small_limits();
    let mut dec = ChunkDecoder::new(limits.clone());
    let mut rng = Rng(seed | 1);
    let mut buf = BytesMut::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at((1 + rng.below(300)).min(rest.len()));
        rest = tail;
        buf.extend_from_slice(piece);
        loop {
            let result = dec.decode(&mut buf);
            prop_assert!(dec.pending_bytes() <= limits.max_pending_bytes);
            match result {
                Ok(Some(m)) => prop_assert!(m.payload.len() <= limits.max_message_size as usize),
                Ok(None) => break,
                Err(e) => {
                    prop_assert!(e.is_peer_fault());
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never panic the decoder nor make it hold more than
    /// `max_pending_bytes`.
    #[test]
    fn arbitrary_bytes_are_safe(bytes in proptest::collection::vec(any::<u8>(), 0..4000), seed in any::<u64>()) {
        feed_hostile(&bytes, seed)?;
    }

    /// A valid chunk stream with random bytes overwritten: the decoder gets
    /// deep into its states before things go wrong.
    #[test]
    fn corrupted_chunk_streams_are_safe(
        steps in proptest::collection::vec(step(), 1..10),
        size in prop_oneof![1u32..8, 64u32..600],
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        seed in any::<u64>(),
    ) {
        let msgs = messages(&steps);
        let mut enc = ChunkEncoder::new();
        let mut wire = BytesMut::new();
        enc.encode(&set_chunk_size(size), &mut wire);
        enc.set_chunk_size(size).unwrap();
        for m in &msgs {
            enc.encode(m, &mut wire);
        }
        for (at, byte) in edits {
            let i = at.index(wire.len());
            wire[i] = byte;
        }
        feed_hostile(&wire, seed)?;
    }
}
