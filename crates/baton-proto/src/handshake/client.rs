//! The client side of the handshake (RTMP 1.0 section 5.2.1): send C0 and
//! C1, answer S1 with C2, complete on S2.
//!
//! "The handshake begins with the client sending the C0 and C1 chunks. The
//! client MUST wait until S1 has been received before sending C2. The client
//! MUST wait until S2 has been received before sending any other data." This
//! client sends C2 as soon as S0 and S1 are in, as real clients do.

use std::mem;

use bytes::{Buf, BufMut, BytesMut};

use super::digest::{self, DigestSchema};
use super::{
    CLIENT_FLASH_VERSION, Expect, HandshakeConfig, HandshakeError, HandshakeKind, HandshakeOutcome,
    HandshakeStatus, PACKET_LEN, Packet, Prng, RTMP_VERSION, Transition, second_field, simple,
    take_packet, time_field,
};

/// Mixed into the seed so that a client's bytes differ from a server's.
const ROLE: u64 = 0x434c_4945_4e54_0000; // "CLIENT"

/// The client role of the handshake, as a sans-IO state machine.
///
/// ```
/// use baton_proto::handshake::{ClientHandshake, HandshakeConfig, HandshakeStatus};
/// use bytes::BytesMut;
///
/// let mut client = ClientHandshake::new(HandshakeConfig::default());
/// let mut out = BytesMut::new();
/// client.start(&mut out);
/// assert_eq!(out.len(), 1 + 1536); // C0 and C1
/// assert_eq!(out[0], 3);
/// let mut input = BytesMut::new();
/// assert_eq!(client.handle(&mut input, 0, &mut out), Ok(HandshakeStatus::InProgress));
/// ```
#[derive(Debug)]
pub struct ClientHandshake {
    config: HandshakeConfig,
    rng: Prng,
    state: State,
    schema: DigestSchema,
    peer_schema: Option<DigestSchema>,
}

#[derive(Debug)]
enum State {
    /// `start` not called yet.
    Idle,
    /// C0 and C1 sent; waiting for S0 and S1.
    AwaitS0S1 {
        /// The C1 we sent.
        c1: Box<Packet>,
        /// Its digest, when we sent a digest C1.
        c1_digest: Option<[u8; digest::DIGEST_LEN]>,
    },
    /// C2 sent; waiting for S2.
    AwaitS2 {
        /// What a correct S2 looks like.
        expect: Expect,
        /// The outcome so far (`echo_verified` is set from S2).
        outcome: HandshakeOutcome,
    },
    /// `handle` returned `Done`.
    Done,
    /// `handle` returned this error.
    Failed(HandshakeError),
}

impl ClientHandshake {
    /// A client handshake; call [`start`](Self::start) first. A digest C1
    /// uses the [`DigestSchema::DigestFirst`] layout, like FFmpeg and
    /// librtmp; see [`with_digest_schema`](Self::with_digest_schema).
    pub fn new(config: HandshakeConfig) -> Self {
        ClientHandshake {
            config,
            rng: Prng::new(config.seed, ROLE),
            state: State::Idle,
            schema: DigestSchema::DigestFirst,
            peer_schema: None,
        }
    }

    /// Places the digest of C1 under `schema` (only used with
    /// [`HandshakeConfig::digest`]; call before [`start`](Self::start)).
    #[must_use]
    pub fn with_digest_schema(mut self, schema: DigestSchema) -> Self {
        self.schema = schema;
        self
    }

    /// Appends C0+C1 to `out` (call once, first). Calling it again does
    /// nothing.
    pub fn start(&mut self, out: &mut BytesMut) {
        if !matches!(self.state, State::Idle) {
            return;
        }
        let (c1, c1_digest) = if self.config.digest {
            let (c1, c1_digest) = digest::write_digest_packet(
                self.config.epoch,
                CLIENT_FLASH_VERSION,
                self.schema,
                digest::FP_KEY_C1,
                &mut self.rng,
            );
            (c1, Some(c1_digest))
        } else {
            (simple::write_plain(self.config.epoch, &mut self.rng), None)
        };
        out.reserve(1 + PACKET_LEN);
        out.put_u8(RTMP_VERSION);
        out.put_slice(&c1);
        self.state = State::AwaitS0S1 {
            c1: Box::new(c1),
            c1_digest,
        };
    }

    /// Consumes S0, S1 and S2 from `input` as they complete (leaves bytes
    /// that follow S2 untouched: they belong to the chunk stream) and appends
    /// C2 to `out` once S1 is in. `now` = milliseconds on the caller's clock
    /// (for the time2 field of a simple C2).
    ///
    /// A packet is consumed only once it has fully arrived; until then the
    /// bytes stay in `input`. The S0 version byte is checked as soon as it
    /// arrives.
    pub fn handle(
        &mut self,
        input: &mut BytesMut,
        now: u32,
        out: &mut BytesMut,
    ) -> Result<HandshakeStatus, HandshakeError> {
        loop {
            match &self.state {
                State::Idle => return Err(HandshakeError::OutOfOrder),
                State::Done => return Err(HandshakeError::CalledAfterDone),
                State::Failed(error) => return Err(error.clone()),
                State::AwaitS0S1 { .. } | State::AwaitS2 { .. } => {}
            }
            let state = mem::replace(&mut self.state, State::Done);
            match self.advance(state, input, now, out) {
                Ok(Transition::Next(next)) => self.state = next,
                Ok(Transition::Wait(next)) => {
                    self.state = next;
                    return Ok(HandshakeStatus::InProgress);
                }
                Ok(Transition::Finish(outcome)) => return Ok(HandshakeStatus::Done(outcome)),
                Err(error) => {
                    self.state = State::Failed(error.clone());
                    return Err(error);
                }
            }
        }
    }

    /// Whether `handle` has returned `Done`.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The digest layout found in S1, once S1 has been read and if it held a
    /// valid digest (only checked when this client sent a digest C1).
    pub fn digest_schema(&self) -> Option<DigestSchema> {
        self.peer_schema
    }

    fn advance(
        &mut self,
        state: State,
        input: &mut BytesMut,
        now: u32,
        out: &mut BytesMut,
    ) -> Result<Transition<State>, HandshakeError> {
        match state {
            State::AwaitS0S1 { c1, c1_digest } => self.on_s0_s1(c1, c1_digest, input, now, out),
            State::AwaitS2 {
                expect,
                mut outcome,
            } => match take_packet(input) {
                None => Ok(Transition::Wait(State::AwaitS2 { expect, outcome })),
                Some(s2) => {
                    outcome.echo_verified = expect.verify(&s2);
                    Ok(Transition::Finish(outcome))
                }
            },
            // `handle` answers these before calling `advance`.
            State::Idle => Err(HandshakeError::OutOfOrder),
            State::Done => Err(HandshakeError::CalledAfterDone),
            State::Failed(error) => Err(error),
        }
    }

    /// Reads S0 and S1 once both are here, and sends C2.
    fn on_s0_s1(
        &mut self,
        c1: Box<Packet>,
        c1_digest: Option<[u8; digest::DIGEST_LEN]>,
        input: &mut BytesMut,
        now: u32,
        out: &mut BytesMut,
    ) -> Result<Transition<State>, HandshakeError> {
        let Some(&selected) = input.first() else {
            return Ok(Transition::Wait(State::AwaitS0S1 { c1, c1_digest }));
        };
        // Section 5.2.2: S0 "identifies the RTMP version selected by the
        // server"; this client speaks only 3.
        if selected != RTMP_VERSION {
            return Err(HandshakeError::ServerVersion(selected));
        }
        if input.len() < 1 + PACKET_LEN {
            return Ok(Transition::Wait(State::AwaitS0S1 { c1, c1_digest }));
        }
        input.advance(1);
        let Some(s1) = take_packet(input) else {
            return Ok(Transition::Wait(State::AwaitS0S1 { c1, c1_digest }));
        };
        let peer_flash_version = second_field(&s1);
        // A server that understood our digest answers with a digest S1 (a
        // nonzero version field); anything else is a simple S1.
        let s1_digest = match c1_digest {
            Some(c1_digest) if peer_flash_version != 0 => {
                digest::find_digest(&s1, digest::FMS_KEY_S1).map(|found| (c1_digest, found))
            }
            _ => None,
        };

        let (kind, expect) = match s1_digest {
            Some((c1_digest, (schema, s1_digest))) => {
                self.peer_schema = Some(schema);
                let c2_key = digest::response_key(&s1_digest, &digest::FP_KEY);
                out.put_slice(&digest::write_response(&c2_key, &mut self.rng));
                let s2_key = digest::response_key(&c1_digest, &digest::FMS_KEY);
                (HandshakeKind::Digest, Expect::Signed(s2_key))
            }
            None => {
                out.put_slice(&simple::echo(&s1, now));
                (HandshakeKind::Simple, Expect::Echo(c1))
            }
        };
        let outcome = HandshakeOutcome {
            kind,
            peer_version_requested: selected,
            peer_epoch: time_field(&s1),
            peer_flash_version,
            echo_verified: false,
        };
        Ok(Transition::Next(State::AwaitS2 { expect, outcome }))
    }
}
