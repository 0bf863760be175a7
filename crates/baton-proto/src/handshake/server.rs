//! The server side of the handshake (RTMP 1.0 section 5.2.1): wait for C0
//! and C1, send S0, S1 and S2 together, then wait for C2.
//!
//! "The server MUST wait until C0 has been received before sending S0 and
//! S1, and MAY wait until after C1 as well." This server waits for C1, since
//! C1 decides between a digest and a simple S1. "The server MUST wait until
//! C1 has been received before sending S2. The server MUST wait until C2 has
//! been received before sending any other data."

use std::mem;

use bytes::{Buf, BufMut, BytesMut};

use super::digest::{self, DigestSchema};
use super::{
    Expect, HandshakeConfig, HandshakeError, HandshakeKind, HandshakeOutcome, HandshakeStatus,
    PACKET_LEN, Prng, RTMP_VERSION, SERVER_FLASH_VERSION, Transition, check_requested_version,
    second_field, simple, take_packet, time_field,
};

/// Mixed into the seed so that a server's bytes differ from a client's.
const ROLE: u64 = 0x5345_5256_4552_0000; // "SERVER"

/// The server role of the handshake, as a sans-IO state machine.
///
/// ```
/// use baton_proto::handshake::{HandshakeConfig, HandshakeStatus, ServerHandshake};
/// use bytes::BytesMut;
///
/// let mut server = ServerHandshake::new(HandshakeConfig::default());
/// let mut input = BytesMut::from(&[3u8][..]); // C0 so far
/// let mut out = BytesMut::new();
/// assert_eq!(server.handle(&mut input, 0, &mut out), Ok(HandshakeStatus::InProgress));
/// assert!(out.is_empty()); // S0, S1 and S2 wait for C1
/// ```
#[derive(Debug)]
pub struct ServerHandshake {
    config: HandshakeConfig,
    rng: Prng,
    state: State,
    schema: Option<DigestSchema>,
}

#[derive(Debug)]
enum State {
    /// Waiting for C0 and C1.
    AwaitC0C1,
    /// S0, S1 and S2 sent; waiting for C2.
    AwaitC2 {
        /// What a correct C2 looks like.
        expect: Expect,
        /// The outcome so far (`echo_verified` is set from C2).
        outcome: HandshakeOutcome,
    },
    /// `handle` returned `Done`.
    Done,
    /// `handle` returned this error.
    Failed(HandshakeError),
}

impl ServerHandshake {
    /// A server handshake waiting for C0 and C1.
    pub fn new(config: HandshakeConfig) -> Self {
        ServerHandshake {
            config,
            rng: Prng::new(config.seed, ROLE),
            state: State::AwaitC0C1,
            schema: None,
        }
    }

    /// Consumes from `input` what it needs (leaves bytes that follow C2 in
    /// `input` untouched: they belong to the chunk stream), appends S0/S1/S2
    /// to `out`. `now` = milliseconds on the caller's clock (for the time2
    /// field of S2).
    ///
    /// A packet is consumed only once it has fully arrived; until then the
    /// bytes stay in `input`. The C0 version byte is checked as soon as it
    /// arrives.
    pub fn handle(
        &mut self,
        input: &mut BytesMut,
        now: u32,
        out: &mut BytesMut,
    ) -> Result<HandshakeStatus, HandshakeError> {
        loop {
            match &self.state {
                State::Done => return Err(HandshakeError::CalledAfterDone),
                State::Failed(error) => return Err(error.clone()),
                State::AwaitC0C1 | State::AwaitC2 { .. } => {}
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

    /// The digest layout found in C1, once C1 has been read and if it held a
    /// valid digest that this server answered (needs
    /// [`HandshakeConfig::digest`]).
    pub fn digest_schema(&self) -> Option<DigestSchema> {
        self.schema
    }

    fn advance(
        &mut self,
        state: State,
        input: &mut BytesMut,
        now: u32,
        out: &mut BytesMut,
    ) -> Result<Transition<State>, HandshakeError> {
        match state {
            State::AwaitC0C1 => self.on_c0_c1(input, now, out),
            State::AwaitC2 {
                expect,
                mut outcome,
            } => match take_packet(input) {
                None => Ok(Transition::Wait(State::AwaitC2 { expect, outcome })),
                Some(c2) => {
                    outcome.echo_verified = expect.verify(&c2);
                    Ok(Transition::Finish(outcome))
                }
            },
            // `handle` answers these before calling `advance`.
            State::Done => Err(HandshakeError::CalledAfterDone),
            State::Failed(error) => Err(error),
        }
    }

    /// Reads C0 and C1 once both are here, and sends S0, S1 and S2.
    fn on_c0_c1(
        &mut self,
        input: &mut BytesMut,
        now: u32,
        out: &mut BytesMut,
    ) -> Result<Transition<State>, HandshakeError> {
        let Some(&requested) = input.first() else {
            return Ok(Transition::Wait(State::AwaitC0C1));
        };
        // Section 5.2.2: "32-255 are not allowed"; "A server that does not
        // recognize the client's requested version SHOULD respond with 3."
        check_requested_version(requested)?;
        if input.len() < 1 + PACKET_LEN {
            return Ok(Transition::Wait(State::AwaitC0C1));
        }
        input.advance(1);
        let Some(c1) = take_packet(input) else {
            return Ok(Transition::Wait(State::AwaitC0C1));
        };
        let peer_flash_version = second_field(&c1);
        // A digest C1 carries a nonzero version where the spec has zeros.
        let c1_digest = if self.config.digest && peer_flash_version != 0 {
            digest::find_digest(&c1, digest::FP_KEY_C1)
        } else {
            None
        };

        out.reserve(1 + 2 * PACKET_LEN);
        out.put_u8(RTMP_VERSION);
        let (kind, expect) = match c1_digest {
            Some((schema, c1_digest)) => {
                self.schema = Some(schema);
                let (s1, s1_digest) = digest::write_digest_packet(
                    self.config.epoch,
                    SERVER_FLASH_VERSION,
                    schema,
                    digest::FMS_KEY_S1,
                    &mut self.rng,
                );
                let s2_key = digest::response_key(&c1_digest, &digest::FMS_KEY);
                let s2 = digest::write_response(&s2_key, &mut self.rng);
                out.put_slice(&s1);
                out.put_slice(&s2);
                let c2_key = digest::response_key(&s1_digest, &digest::FP_KEY);
                (HandshakeKind::Digest, Expect::Signed(c2_key))
            }
            None => {
                let s1 = simple::write_plain(self.config.epoch, &mut self.rng);
                let s2 = simple::echo(&c1, now);
                out.put_slice(&s1);
                out.put_slice(&s2);
                (HandshakeKind::Simple, Expect::Echo(Box::new(s1)))
            }
        };
        let outcome = HandshakeOutcome {
            kind,
            peer_version_requested: requested,
            peer_epoch: time_field(&c1),
            peer_flash_version,
            echo_verified: false,
        };
        Ok(Transition::Next(State::AwaitC2 { expect, outcome }))
    }
}
