//! Tests of the handshake of RTMP 1.0 section 5.2: both roles against each
//! other in memory, byte-at-a-time feeding, both digest layouts, the version
//! rules of section 5.2.2 and arbitrary input.

use bytes::BytesMut;
use proptest::prelude::*;

use super::digest::{self, DigestSchema};
use super::*;

const C0C1: usize = 1 + PACKET_LEN;
const S0S1S2: usize = 1 + 2 * PACKET_LEN;

fn config(epoch: u32, seed: u64, digest: bool) -> HandshakeConfig {
    HandshakeConfig {
        epoch,
        seed,
        digest,
    }
}

fn done(status: Result<HandshakeStatus, HandshakeError>) -> HandshakeOutcome {
    match status {
        Ok(HandshakeStatus::Done(outcome)) => outcome,
        other => panic!("expected Done, got {other:?}"),
    }
}

fn packet(bytes: &[u8]) -> Packet {
    bytes.try_into().expect("a whole packet")
}

/// Runs a client and a server against each other, handing over everything
/// each one writes in one piece. Returns (client outcome, server outcome).
fn run(client: ClientHandshake, server: ServerHandshake) -> (HandshakeOutcome, HandshakeOutcome) {
    let (mut client, mut server) = (client, server);
    let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
    client.start(&mut to_server);
    assert_eq!(to_server.len(), C0C1);
    assert_eq!(
        server.handle(&mut to_server, 10, &mut to_client),
        Ok(HandshakeStatus::InProgress)
    );
    assert!(to_server.is_empty());
    assert_eq!(to_client.len(), S0S1S2);
    let client_outcome = done(client.handle(&mut to_client, 20, &mut to_server));
    assert!(to_client.is_empty());
    assert_eq!(to_server.len(), PACKET_LEN);
    let server_outcome = done(server.handle(&mut to_server, 30, &mut to_client));
    assert!(to_server.is_empty() && to_client.is_empty());
    assert!(client.is_done() && server.is_done());
    (client_outcome, server_outcome)
}

#[test]
fn digest_client_and_digest_server() {
    let client = ClientHandshake::new(config(1000, 1, true));
    let server = ServerHandshake::new(config(2000, 2, true));
    let (c, s) = run(client, server);
    assert_eq!(
        c,
        HandshakeOutcome {
            kind: HandshakeKind::Digest,
            peer_version_requested: 3,
            peer_epoch: 2000,
            peer_flash_version: SERVER_FLASH_VERSION,
            echo_verified: true,
        }
    );
    assert_eq!(
        s,
        HandshakeOutcome {
            kind: HandshakeKind::Digest,
            peer_version_requested: 3,
            peer_epoch: 1000,
            peer_flash_version: CLIENT_FLASH_VERSION,
            echo_verified: true,
        }
    );
}

#[test]
fn digest_client_and_simple_only_server() {
    let client = ClientHandshake::new(config(5, 1, true));
    let mut server = ServerHandshake::new(config(6, 2, false));
    let (c, s) = run(client, ServerHandshake::new(config(6, 2, false)));
    assert_eq!(
        (c.kind, s.kind),
        (HandshakeKind::Simple, HandshakeKind::Simple)
    );
    assert!(c.echo_verified && s.echo_verified);
    assert_eq!((c.peer_epoch, c.peer_flash_version), (6, 0));
    assert_eq!(
        (s.peer_epoch, s.peer_flash_version),
        (5, CLIENT_FLASH_VERSION)
    );

    // The simple S2 echoes the digest C1 (time, then time2 = now).
    let mut c0c1 = BytesMut::new();
    ClientHandshake::new(config(5, 1, true)).start(&mut c0c1);
    let c1 = packet(&c0c1[1..]);
    let mut out = BytesMut::new();
    server.handle(&mut c0c1, 77, &mut out).unwrap();
    let s1 = packet(&out[1..C0C1]);
    let s2 = packet(&out[C0C1..]);
    assert_eq!(second_field(&s1), 0);
    assert_eq!(time_field(&s1), 6);
    assert_eq!(time_field(&s2), 5);
    assert_eq!(second_field(&s2), 77);
    assert_eq!(s2[8..], c1[8..]);
    assert_eq!(server.digest_schema(), None);
}

#[test]
fn simple_client_and_digest_server() {
    let (c, s) = run(
        ClientHandshake::new(config(0, 3, false)),
        ServerHandshake::new(config(0, 4, true)),
    );
    assert_eq!(
        (c.kind, s.kind),
        (HandshakeKind::Simple, HandshakeKind::Simple)
    );
    assert!(c.echo_verified && s.echo_verified);
    assert_eq!(s.peer_flash_version, 0);
}

#[test]
fn simple_client_and_simple_server() {
    let (c, s) = run(
        ClientHandshake::new(config(1, 3, false)),
        ServerHandshake::new(config(2, 4, false)),
    );
    assert_eq!(
        (c.kind, s.kind),
        (HandshakeKind::Simple, HandshakeKind::Simple)
    );
    assert!(c.echo_verified && s.echo_verified);
    assert_eq!((c.peer_epoch, s.peer_epoch), (2, 1));
}

#[test]
fn default_configs_complete_with_digest_and_distinct_bytes() {
    let mut c0c1 = BytesMut::new();
    ClientHandshake::new(HandshakeConfig::default()).start(&mut c0c1);
    let mut server = ServerHandshake::new(HandshakeConfig::default());
    let mut out = BytesMut::new();
    server.handle(&mut c0c1.clone(), 0, &mut out).unwrap();
    // Same seed, different roles: different random bytes.
    assert_ne!(c0c1[9..100], out[9..100]);
    let (c, s) = run(
        ClientHandshake::new(HandshakeConfig::default()),
        ServerHandshake::new(HandshakeConfig::default()),
    );
    assert_eq!(
        (c.kind, s.kind),
        (HandshakeKind::Digest, HandshakeKind::Digest)
    );
}

#[test]
fn both_schemas_detected_by_the_server_and_answered_in_kind() {
    for schema in DigestSchema::ALL {
        // A C1 built by hand under this schema.
        let mut rng = Prng::new(42, 0);
        let (c1, c1_digest) =
            digest::write_digest_packet(9, 0x0900_7c02, schema, digest::FP_KEY_C1, &mut rng);
        let mut input = BytesMut::new();
        input.extend_from_slice(&[3]);
        input.extend_from_slice(&c1);
        let mut server = ServerHandshake::new(config(0, 1, true));
        let mut out = BytesMut::new();
        server.handle(&mut input, 0, &mut out).unwrap();
        assert_eq!(server.digest_schema(), Some(schema));
        assert_eq!(out[0], 3);
        let s1 = packet(&out[1..C0C1]);
        let s2 = packet(&out[C0C1..]);
        assert_eq!(second_field(&s1), SERVER_FLASH_VERSION);
        let (s1_schema, _) = digest::find_digest(&s1, digest::FMS_KEY_S1).expect("digest S1");
        assert_eq!(s1_schema, schema);
        // The S2 signature verifies with the key derived from C1's digest.
        let key = digest::response_key(&c1_digest, &digest::FMS_KEY);
        assert!(digest::verify_response(&s2, &key));
        assert!(!digest::verify_response(
            &s2,
            &digest::response_key(&[0; 32], &digest::FMS_KEY)
        ));

        // And end to end with a client using this schema.
        let client = ClientHandshake::new(config(0, 7, true)).with_digest_schema(schema);
        let (c, s) = run(client, ServerHandshake::new(config(0, 8, true)));
        assert_eq!(
            (c.kind, s.kind),
            (HandshakeKind::Digest, HandshakeKind::Digest)
        );
        assert!(c.echo_verified && s.echo_verified);
    }
}

#[test]
fn broken_or_unversioned_digest_gets_a_simple_answer() {
    let mut rng = Prng::new(3, 0);
    let (good, _) = digest::write_digest_packet(
        1,
        CLIENT_FLASH_VERSION,
        DigestSchema::DigestFirst,
        digest::FP_KEY_C1,
        &mut rng,
    );
    let mut tampered = good;
    tampered[1200] ^= 0xff;
    let mut unversioned = good;
    unversioned[4..8].fill(0);
    for c1 in [tampered, unversioned] {
        let mut input = BytesMut::from(&[3u8][..]);
        input.extend_from_slice(&c1);
        let mut server = ServerHandshake::new(config(0, 1, true));
        let mut out = BytesMut::new();
        server.handle(&mut input, 0, &mut out).unwrap();
        assert_eq!(server.digest_schema(), None);
        assert_eq!(second_field(&packet(&out[1..C0C1])), 0);
        assert_eq!(out[C0C1 + 8..], c1[8..]);
    }
}

#[test]
fn server_fed_one_byte_at_a_time() {
    let mut c0c1 = BytesMut::new();
    let mut client = ClientHandshake::new(config(0, 1, true));
    client.start(&mut c0c1);
    let mut bulk_out = BytesMut::new();
    ServerHandshake::new(config(0, 2, true))
        .handle(&mut c0c1.clone(), 5, &mut bulk_out)
        .unwrap();

    let mut server = ServerHandshake::new(config(0, 2, true));
    let mut input = BytesMut::new();
    let mut out = BytesMut::new();
    for (i, &byte) in c0c1.iter().enumerate() {
        input.extend_from_slice(&[byte]);
        let status = server.handle(&mut input, 5, &mut out).unwrap();
        assert_eq!(status, HandshakeStatus::InProgress);
        if i + 1 < C0C1 {
            // Nothing consumed, nothing sent before C1 is complete.
            assert_eq!(input.len(), i + 1);
            assert!(out.is_empty());
        }
    }
    assert!(input.is_empty());
    assert_eq!(out, bulk_out);

    let mut c2 = BytesMut::new();
    assert!(matches!(
        client.handle(&mut out, 6, &mut c2),
        Ok(HandshakeStatus::Done(_))
    ));
    let mut outcome = None;
    for (i, &byte) in c2.iter().enumerate() {
        input.extend_from_slice(&[byte]);
        let status = server.handle(&mut input, 7, &mut out).unwrap();
        if i + 1 < PACKET_LEN {
            assert_eq!(status, HandshakeStatus::InProgress);
            assert_eq!(input.len(), i + 1);
        } else {
            outcome = Some(done(Ok(status)));
        }
    }
    let outcome = outcome.expect("done after the last byte of C2");
    assert_eq!(outcome.kind, HandshakeKind::Digest);
    assert!(outcome.echo_verified);
}

#[test]
fn client_fed_one_byte_at_a_time() {
    for server_digest in [true, false] {
        let mut client = ClientHandshake::new(config(0, 1, true));
        let mut c0c1 = BytesMut::new();
        client.start(&mut c0c1);
        let mut s012 = BytesMut::new();
        let mut server = ServerHandshake::new(config(0, 2, server_digest));
        server.handle(&mut c0c1, 0, &mut s012).unwrap();

        let mut input = BytesMut::new();
        let mut c2 = BytesMut::new();
        let mut outcome = None;
        for (i, &byte) in s012.iter().enumerate() {
            input.extend_from_slice(&[byte]);
            let status = client.handle(&mut input, 0, &mut c2).unwrap();
            let fed = i + 1;
            // C2 goes out as soon as S1 is complete, not before.
            assert_eq!(c2.is_empty(), fed < C0C1);
            if fed < S0S1S2 {
                assert_eq!(status, HandshakeStatus::InProgress);
                assert_eq!(input.len(), if fed < C0C1 { fed } else { fed - C0C1 });
            } else {
                outcome = Some(done(Ok(status)));
            }
        }
        let outcome = outcome.expect("done after the last byte of S2");
        assert!(outcome.echo_verified);
        let s = done(server.handle(&mut c2, 0, &mut BytesMut::new()));
        assert!(s.echo_verified);
        assert_eq!(outcome.kind, s.kind);
    }
}

#[test]
fn server_version_rules() {
    for version in 0..=31u8 {
        let mut c0c1 = BytesMut::new();
        ClientHandshake::new(config(0, 1, false)).start(&mut c0c1);
        c0c1[0] = version;
        let mut server = ServerHandshake::new(config(0, 2, true));
        let mut out = BytesMut::new();
        assert_eq!(
            server.handle(&mut c0c1, 0, &mut out),
            Ok(HandshakeStatus::InProgress)
        );
        // "A server that does not recognize the client's requested version
        // SHOULD respond with 3."
        assert_eq!(out[0], 3);
        let s1 = packet(&out[1..C0C1]);
        let mut c2 = BytesMut::from(&simple::echo(&s1, 0)[..]);
        let outcome = done(server.handle(&mut c2, 0, &mut out));
        assert_eq!(outcome.peer_version_requested, version);
        assert!(outcome.echo_verified);
    }
    for version in 32..=255u8 {
        let mut server = ServerHandshake::new(HandshakeConfig::default());
        let mut input = BytesMut::from(&[version][..]);
        let mut out = BytesMut::new();
        let error = server.handle(&mut input, 0, &mut out);
        assert_eq!(error, Err(HandshakeError::UnsupportedVersion(version)));
        assert!(out.is_empty());
        // The error sticks.
        input.extend_from_slice(&[0; PACKET_LEN]);
        assert_eq!(
            server.handle(&mut input, 0, &mut out),
            Err(HandshakeError::UnsupportedVersion(version))
        );
    }
}

#[test]
fn http_request_is_refused_with_a_clear_message() {
    let mut server = ServerHandshake::new(HandshakeConfig::default());
    let mut input = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
    let mut out = BytesMut::new();
    let error = server.handle(&mut input, 0, &mut out).unwrap_err();
    assert_eq!(error, HandshakeError::UnsupportedVersion(b'G'));
    let message = error.to_string();
    assert!(message.contains("71"), "{message}");
    assert!(message.contains("HTTP"), "{message}");
    assert!(message.contains("'G'"), "{message}");
    assert!(out.is_empty());
    let other = HandshakeError::UnsupportedVersion(b'~').to_string();
    assert!(other.contains("printable ASCII"), "{other}");
    assert!(
        !HandshakeError::UnsupportedVersion(200)
            .to_string()
            .contains("ASCII")
    );
}

#[test]
fn client_refuses_any_s0_but_3() {
    for version in (0..=255u8).filter(|&v| v != 3) {
        let mut client = ClientHandshake::new(HandshakeConfig::default());
        let mut out = BytesMut::new();
        client.start(&mut out);
        out.clear();
        let mut input = BytesMut::from(&[version][..]);
        assert_eq!(
            client.handle(&mut input, 0, &mut out),
            Err(HandshakeError::ServerVersion(version))
        );
        assert!(out.is_empty());
        assert_eq!(
            client.handle(&mut input, 0, &mut out),
            Err(HandshakeError::ServerVersion(version))
        );
    }
}

#[test]
fn bytes_after_the_handshake_stay_in_input() {
    let trailer = b"\x03\x00\x00\x00 chunk stream";
    let mut client = ClientHandshake::new(config(0, 1, true));
    let mut server = ServerHandshake::new(config(0, 2, true));
    let mut to_server = BytesMut::new();
    let mut to_client = BytesMut::new();
    client.start(&mut to_server);
    server.handle(&mut to_server, 0, &mut to_client).unwrap();
    to_client.extend_from_slice(trailer);
    done(client.handle(&mut to_client, 0, &mut to_server));
    assert_eq!(&to_client[..], trailer);
    to_server.extend_from_slice(trailer);
    done(server.handle(&mut to_server, 0, &mut BytesMut::new()));
    assert_eq!(&to_server[..], trailer);
}

#[test]
fn whole_exchange_in_one_buffer() {
    // Server given C0, C1 and C2 in one call (C2 built in advance as a
    // simple echo of the S1 it will send, by running a twin server).
    let mut c0c1 = BytesMut::new();
    ClientHandshake::new(config(0, 1, false)).start(&mut c0c1);
    let mut twin_out = BytesMut::new();
    ServerHandshake::new(config(0, 2, false))
        .handle(&mut c0c1.clone(), 0, &mut twin_out)
        .unwrap();
    let c2 = simple::echo(&packet(&twin_out[1..C0C1]), 0);
    let mut input = c0c1.clone();
    input.extend_from_slice(&c2);
    input.extend_from_slice(b"rest");
    let mut out = BytesMut::new();
    let outcome = done(ServerHandshake::new(config(0, 2, false)).handle(&mut input, 0, &mut out));
    assert!(outcome.echo_verified);
    assert_eq!(out, twin_out);
    assert_eq!(&input[..], b"rest");
}

#[test]
fn bad_echoes_are_recorded_not_fatal() {
    for digest in [true, false] {
        // Server: a C2 of zeros.
        let mut client = ClientHandshake::new(config(0, 1, digest));
        let mut server = ServerHandshake::new(config(0, 2, digest));
        let mut to_server = BytesMut::new();
        let mut to_client = BytesMut::new();
        client.start(&mut to_server);
        server.handle(&mut to_server, 0, &mut to_client).unwrap();
        let mut zeros = BytesMut::from(&[0u8; PACKET_LEN][..]);
        let s = done(server.handle(&mut zeros, 0, &mut BytesMut::new()));
        assert!(!s.echo_verified);
        assert_eq!(s.kind == HandshakeKind::Digest, digest);

        // Client: an S2 with one byte changed (a bad signature or echo).
        let last = to_client.len() - 1;
        to_client[last] ^= 1;
        let c = done(client.handle(&mut to_client, 0, &mut to_server));
        assert!(!c.echo_verified);
        assert_eq!(c.kind == HandshakeKind::Digest, digest);
    }
}

#[test]
fn api_misuse_is_reported_apart_from_peer_faults() {
    let mut client = ClientHandshake::new(HandshakeConfig::default());
    let mut out = BytesMut::new();
    assert_eq!(
        client.handle(&mut BytesMut::new(), 0, &mut out),
        Err(HandshakeError::OutOfOrder)
    );
    client.start(&mut out);
    assert_eq!(out.len(), C0C1);
    client.start(&mut out);
    assert_eq!(out.len(), C0C1, "a second start writes nothing");

    let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
    let mut client = ClientHandshake::new(HandshakeConfig::default());
    let mut server = ServerHandshake::new(HandshakeConfig::default());
    client.start(&mut to_server);
    server.handle(&mut to_server, 0, &mut to_client).unwrap();
    done(client.handle(&mut to_client, 0, &mut to_server));
    done(server.handle(&mut to_server, 0, &mut to_client));
    to_client.extend_from_slice(b"x");
    to_server.extend_from_slice(b"x");
    assert_eq!(
        client.handle(&mut to_client, 0, &mut to_server),
        Err(HandshakeError::CalledAfterDone)
    );
    assert_eq!(
        server.handle(&mut to_server, 0, &mut to_client),
        Err(HandshakeError::CalledAfterDone)
    );
    assert!(client.is_done() && server.is_done());
    assert_eq!((&to_client[..], &to_server[..]), (&b"x"[..], &b"x"[..]));
}

/// Splits `bytes` at the given points (taken modulo its length, sorted).
fn split(bytes: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
    cuts.push(0);
    cuts.push(bytes.len());
    cuts.sort_unstable();
    cuts.windows(2)
        .map(|w| bytes[w[0]..w[1]].to_vec())
        .collect()
}

proptest! {
    #[test]
    fn server_never_panics_on_arbitrary_input(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..2000), 0..4),
        digest: bool,
    ) {
        let mut server = ServerHandshake::new(config(0, 1, digest));
        let mut input = BytesMut::new();
        let mut out = BytesMut::new();
        for piece in pieces {
            input.extend_from_slice(&piece);
            let before = input.len();
            match server.handle(&mut input, 0, &mut out) {
                Ok(_) | Err(HandshakeError::CalledAfterDone) => {}
                Err(HandshakeError::UnsupportedVersion(v)) => prop_assert!(v >= 32),
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
            prop_assert!(input.len() <= before);
            prop_assert!(out.is_empty() || out.len() == S0S1S2);
        }
    }

    #[test]
    fn client_never_panics_on_arbitrary_input(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3500), 0..4),
        digest: bool,
    ) {
        let mut client = ClientHandshake::new(config(0, 1, digest));
        let mut out = BytesMut::new();
        client.start(&mut out);
        let mut input = BytesMut::new();
        for piece in pieces {
            input.extend_from_slice(&piece);
            match client.handle(&mut input, 0, &mut out) {
                Ok(_) | Err(HandshakeError::CalledAfterDone) => {}
                Err(HandshakeError::ServerVersion(v)) => prop_assert!(v != 3),
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }

    /// Any configs, any split of the byte streams: both sides complete,
    /// agree on the kind, verify each other, and learn each other's epoch.
    #[test]
    fn any_configs_and_splits_complete(
        client_epoch: u32, server_epoch: u32, client_seed: u64, server_seed: u64,
        client_digest: bool, server_digest: bool, key_first: bool,
        cuts_c in proptest::collection::vec(any::<usize>(), 0..4),
        cuts_s in proptest::collection::vec(any::<usize>(), 0..4),
    ) {
        let schema = if key_first { DigestSchema::KeyFirst } else { DigestSchema::DigestFirst };
        let mut client = ClientHandshake::new(config(client_epoch, client_seed, client_digest))
            .with_digest_schema(schema);
        let mut server = ServerHandshake::new(config(server_epoch, server_seed, server_digest));
        let mut c0c1 = BytesMut::new();
        client.start(&mut c0c1);
        let (mut input, mut s012) = (BytesMut::new(), BytesMut::new());
        for piece in split(&c0c1, &cuts_c) {
            input.extend_from_slice(&piece);
            prop_assert_eq!(server.handle(&mut input, 1, &mut s012), Ok(HandshakeStatus::InProgress));
        }
        let mut c2 = BytesMut::new();
        let mut client_outcome = None;
        for piece in split(&s012, &cuts_s) {
            if client_outcome.is_some() {
                // Only empty pieces can follow S2; calling after Done is misuse.
                prop_assert!(piece.is_empty());
                continue;
            }
            input.extend_from_slice(&piece);
            if let HandshakeStatus::Done(o) = client.handle(&mut input, 2, &mut c2).unwrap() {
                client_outcome = Some(o);
            }
        }
        let c = client_outcome.expect("client done");
        let s = done(server.handle(&mut c2, 3, &mut BytesMut::new()));
        let kind = if client_digest && server_digest { HandshakeKind::Digest } else { HandshakeKind::Simple };
        prop_assert_eq!((c.kind, s.kind), (kind, kind));
        prop_assert!(c.echo_verified && s.echo_verified);
        prop_assert_eq!((c.peer_epoch, s.peer_epoch), (server_epoch, client_epoch));
        prop_assert_eq!(server.digest_schema(), (kind == HandshakeKind::Digest).then_some(schema));
        prop_assert_eq!(client.digest_schema(), server.digest_schema());
    }
}
