//! The RTMP handshake (RTMP 1.0 section 5.2): C0/C1/C2 from the client,
//! S0/S1/S2 from the server, in both roles, in the simple form the spec
//! defines and in the Flash "digest" form that Flash Player, FFmpeg,
//! OBS/librtmp, Wowza and FMS use.
//!
//! ```text
//!  client                                   server
//!  start()     ── C0 C1 ─────────────────►  handle(): waits for C0 and C1 ("MAY wait until C1")
//!  handle()    ◄────────────── S0 S1 S2 ──  (S1 form picked from C1: digest or simple)
//!  (on S0 S1)  ── C2 ────────────────────►  handle() ─► Done
//!  (on S2) ─► Done
//! ```
//!
//! Both [`ServerHandshake`] and [`ClientHandshake`] are sans-IO: the caller
//! appends received bytes to a [`BytesMut`] and calls `handle`, which consumes
//! only complete packets (a packet that has not fully arrived is left in the
//! buffer, untouched) and appends what to send to `out`. Bytes that follow
//! the last handshake packet stay in the input buffer: they belong to the
//! chunk stream. Nothing here reads a clock or the OS random source: the
//! caller passes `now` and a [`HandshakeConfig`] with the epoch and a seed.
//!
//! # Version byte (section 5.2.2)
//!
//! Version 3 is RTMP. A server that receives 0-2 (deprecated) or 4-31
//! (reserved) answers with 3 and carries on, as the spec says it SHOULD, and
//! reports the requested value in [`HandshakeOutcome::peer_version_requested`].
//! Values 32-255 are not allowed, so that RTMP can be told apart from text
//! protocols: the server fails with [`HandshakeError::UnsupportedVersion`] as
//! soon as that first byte arrives. A client fails on any S0 other than 3.
//!
//! # Leniency on echoes
//!
//! Section 5.2.4 says C2 and S2 MUST echo S1 and C1. Real peers do not always
//! echo exactly (and many digest servers send an S2 that does not validate),
//! so neither role fails on a bad echo: it records the result in
//! [`HandshakeOutcome::echo_verified`] and completes. For the simple
//! handshake the check compares the 1528 random bytes (the time fields are
//! not compared); for the digest handshake it checks the HMAC-SHA256
//! signature in the last 32 bytes.
//!
//! # The digest handshake
//!
//! Not in the Adobe spec. C1 carries a nonzero Flash version in its "zero"
//! field and a 32-byte HMAC-SHA256 digest at a position picked by one of two
//! layouts ([`DigestSchema`]). A server that finds a valid digest in C1
//! answers with a digest S1 (same layout) and an S2 signed with a key
//! derived from C1's digest; otherwise it answers with the simple handshake.
//! A client that sent a digest C1 answers a digest S1 with a signed C2, and a
//! simple S1 with an echo.

mod client;
mod digest;
mod server;
mod simple;
#[cfg(test)]
mod tests;

pub use client::ClientHandshake;
pub use digest::DigestSchema;
pub use server::ServerHandshake;

use bytes::{Buf, BytesMut};

/// The RTMP version this crate speaks, sent in C0 and S0 (section 5.2.2).
pub const RTMP_VERSION: u8 = 3;

/// Length of C1, S1, C2 and S2 in bytes (sections 5.2.3 and 5.2.4).
pub const PACKET_LEN: usize = 1536;

/// Flash version field that [`ClientHandshake`] writes in a digest C1.
pub const CLIENT_FLASH_VERSION: u32 = 0x8000_0702;

/// Flash Media Server version field that [`ServerHandshake`] writes in a
/// digest S1.
pub const SERVER_FLASH_VERSION: u32 = 0x0D0E_0A0D;

/// Seed used by [`HandshakeConfig::default`].
pub const DEFAULT_SEED: u64 = 0x6261_746f_6e5f_6873; // "baton_hs"

/// One C1/S1/C2/S2 packet.
type Packet = [u8; PACKET_LEN];

/// What the caller supplies instead of a clock and a random source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeConfig {
    /// The time field of C1 or S1: the epoch of this endpoint's chunk
    /// timestamps (section 5.2.3; "may be 0, or some arbitrary value").
    pub epoch: u32,
    /// Seeds the internal non-cryptographic PRNG (splitmix64) that fills all
    /// random bytes. The spec asks only for "sufficiently random" data, "no
    /// need for cryptographically-secure randomness". The seed is mixed with
    /// the role, so a client and a server given the same seed still send
    /// different bytes.
    pub seed: u64,
    /// Client: send a digest C1. Server: answer a digest C1 with a digest
    /// S1/S2 (when false the server always answers with the simple form).
    pub digest: bool,
}

impl Default for HandshakeConfig {
    /// Digest on, epoch 0, seed [`DEFAULT_SEED`].
    fn default() -> Self {
        HandshakeConfig {
            epoch: 0,
            seed: DEFAULT_SEED,
            digest: true,
        }
    }
}

/// Which handshake the two endpoints ended up using.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandshakeKind {
    /// The handshake of RTMP 1.0 section 5.2: C2/S2 echo S1/C1.
    Simple,
    /// The Flash digest handshake: C1/S1 carry an HMAC-SHA256 digest and
    /// C2/S2 are signed with keys derived from them.
    Digest,
}

/// Result of `handle`: more bytes needed, or the handshake is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeStatus {
    /// More input is needed; send what was appended to `out` and call
    /// `handle` again when bytes arrive.
    InProgress,
    /// The handshake is complete; the bytes left in the input buffer (if
    /// any) belong to the chunk stream.
    Done(HandshakeOutcome),
}

/// What a completed handshake learned about the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeOutcome {
    /// Simple or digest.
    pub kind: HandshakeKind,
    /// The version byte the peer sent in C0 (server) or S0 (client). A server
    /// answers 0-2 and 4-31 with 3, so this may differ from 3 there.
    pub peer_version_requested: u8,
    /// The time field of the peer's C1 or S1: the epoch of its timestamps.
    pub peer_epoch: u32,
    /// The peer's "zero" field of C1 or S1 (big-endian), which digest peers
    /// use for their Flash Player or server version; 0 for a spec peer.
    pub peer_flash_version: u32,
    /// Whether the peer's C2 or S2 correctly answered our C1 or S1: the
    /// random bytes echoed (simple), or a valid signature (digest). A `false`
    /// here does not fail the handshake: see the module docs.
    pub echo_verified: bool,
}

/// The handshake failed (a peer fault) or was driven wrongly (API misuse).
///
/// After an error the handshake is over: further calls return the same
/// error and the connection should be closed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Peer fault: the client's C0 asked for a version in 32-255, which
    /// section 5.2.2 does not allow.
    #[error(
        "RTMP version byte {0} (0x{0:02x}) in C0 is not allowed: 32-255 are reserved so that RTMP \
         can be told apart from text protocols{hint}",
        hint = text_protocol_hint(*.0)
    )]
    UnsupportedVersion(u8),
    /// Peer fault: the server's S0 selected a version other than 3.
    #[error("the server selected RTMP version {0} in S0; only version 3 is supported")]
    ServerVersion(u8),
    /// API misuse: `handle` was called after it had returned `Done`.
    #[error(
        "handshake handle() called after the handshake completed; the bytes that follow belong \
         to the chunk stream"
    )]
    CalledAfterDone,
    /// API misuse: [`ClientHandshake::handle`] was called before
    /// [`ClientHandshake::start`].
    #[error("ClientHandshake::handle() called before start() sent C0 and C1")]
    OutOfOrder,
}

/// Extra words for an error message when a disallowed version byte is a
/// printable ASCII character.
fn text_protocol_hint(byte: u8) -> String {
    match byte {
        b'G' | b'P' | b'H' | b'D' | b'O' | b'C' => format!(
            " ('{}' looks like the start of an HTTP request such as GET or POST: \
             is this an HTTP client on the RTMP port?)",
            char::from(byte)
        ),
        _ if byte.is_ascii_graphic() => format!(
            " ('{}' is printable ASCII: a text protocol on the RTMP port?)",
            char::from(byte)
        ),
        _ => String::new(),
    }
}

/// Checks the version byte of C0 (section 5.2.2): 0-31 are accepted (and
/// answered with 3), 32-255 fail.
fn check_requested_version(version: u8) -> Result<(), HandshakeError> {
    if version < 32 {
        Ok(())
    } else {
        Err(HandshakeError::UnsupportedVersion(version))
    }
}

/// Removes one whole packet from the front of `input`, or returns `None`
/// (leaving `input` untouched) when fewer than [`PACKET_LEN`] bytes are there.
fn take_packet(input: &mut BytesMut) -> Option<Box<Packet>> {
    let packet: Packet = input.get(..PACKET_LEN)?.try_into().ok()?;
    input.advance(PACKET_LEN);
    Some(Box::new(packet))
}

/// The big-endian u32 at `at` of a packet (`at` is a constant below 1532).
fn read_u32(packet: &Packet, at: usize) -> u32 {
    let mut field = [0u8; 4];
    if let Some(bytes) = packet.get(at..at + 4) {
        field.copy_from_slice(bytes);
    }
    u32::from_be_bytes(field)
}

/// The time field of C1/S1/C2/S2 (bytes 0..4).
fn time_field(packet: &Packet) -> u32 {
    read_u32(packet, 0)
}

/// The second field: zero (or Flash version) in C1/S1, time2 in C2/S2.
fn second_field(packet: &Packet) -> u32 {
    read_u32(packet, 4)
}

/// What a correct answer (C2 or S2) to the packet we sent looks like.
#[derive(Debug)]
enum Expect {
    /// The simple handshake: the packet we sent, whose random bytes the
    /// answer must echo.
    Echo(Box<Packet>),
    /// The digest handshake: the key the answer's signature is made with.
    Signed([u8; 32]),
}

impl Expect {
    /// Whether `answer` is a correct answer.
    fn verify(&self, answer: &Packet) -> bool {
        match self {
            Expect::Echo(sent) => simple::echo_matches(sent, answer),
            Expect::Signed(key) => digest::verify_response(answer, key),
        }
    }
}

/// One step of a handshake state machine: `S` is the role's state type.
enum Transition<S> {
    /// Not enough input: stay in this state.
    Wait(S),
    /// Moved on; try the next state with the input left.
    Next(S),
    /// Complete.
    Finish(HandshakeOutcome),
}

/// splitmix64 (Steele, Lea and Flood, 2014): a small, fast, seedable
/// non-cryptographic generator, enough for the handshake's random bytes.
#[derive(Clone, Debug)]
struct Prng(u64);

impl Prng {
    /// A generator for one role: the seed is mixed with a role constant.
    fn new(seed: u64, role: u64) -> Self {
        Prng(seed ^ role)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fills `buf` with pseudo-random bytes.
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            for (dst, src) in chunk.iter_mut().zip(word) {
                *dst = src;
            }
        }
    }
}
