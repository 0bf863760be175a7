//! The connection core shared by both session roles: drives the handshake
//! (RTMP 1.0 section 5.2), the chunk stream (section 5.3) and the protocol
//! control messages that the protocol itself answers (section 5.4:
//! Acknowledgement, Window Acknowledgement Size, Set Peer Bandwidth; and the
//! ping of section 6.2), and queues typed messages for the role on top.
//!
//! Output is a queue of [`Bytes`]: messages the session builds are chunked into
//! a scratch buffer, while bytes chunked elsewhere (a fan-out that chunks a
//! media message once for many connections) are queued as they are, without a
//! copy.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::{SessionConfig, SessionError, UsageError};
use crate::Timestamp;
use crate::chunk::{ChunkDecoder, ChunkEncoder, MAX_MESSAGE_LENGTH, RawMessage};
use crate::handshake::{ClientHandshake, HandshakeOutcome, HandshakeStatus, ServerHandshake};
use crate::message::{BandwidthLimit, Message, UserControlEvent};

/// Chunk stream ids Baton sends on (the same split as nginx-rtmp, so that
/// control never waits behind media inside one chunk stream).
pub(crate) mod csid {
    /// Protocol control and user control messages (section 5.4 requires 2).
    pub(crate) const CONTROL: u32 = 2;
    /// Commands on message stream 0 (connect, createStream, results).
    pub(crate) const COMMAND: u32 = 3;
    /// Commands and data on media message streams (onStatus, metadata).
    pub(crate) const STREAM: u32 = 5;
    /// Audio messages.
    pub(crate) const AUDIO: u32 = 6;
    /// Video messages.
    pub(crate) const VIDEO: u32 = 7;

    /// The chunk stream and message type id of audio or video.
    pub(crate) fn media(kind: crate::session::MediaKind) -> (u32, u8) {
        use crate::message::type_id;
        match kind {
            crate::session::MediaKind::Audio => (AUDIO, type_id::AUDIO),
            crate::session::MediaKind::Video => (VIDEO, type_id::VIDEO),
        }
    }
}

/// A typed message encoded into the chunk layer's form.
fn raw_message(
    chunk_stream_id: u32,
    stream_id: u32,
    timestamp: Timestamp,
    message: &Message,
) -> RawMessage {
    let mut payload = BytesMut::new();
    message.encode_payload(&mut payload);
    RawMessage {
        chunk_stream_id,
        timestamp,
        type_id: message.type_id(),
        stream_id,
        payload: payload.freeze(),
    }
}

/// A message received from the peer, with its envelope.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Incoming {
    pub(crate) stream_id: u32,
    pub(crate) timestamp: Timestamp,
    pub(crate) message: Message,
}

enum Handshake {
    Server(Box<ServerHandshake>),
    Client(Box<ClientHandshake>),
    Done,
}

/// Protocol state of one connection, below the role-specific session.
pub(crate) struct Connection {
    handshake: Handshake,
    decoder: ChunkDecoder,
    encoder: ChunkEncoder,
    config: SessionConfig,
    input: BytesMut,
    scratch: BytesMut,
    output: VecDeque<Bytes>,
    output_len: usize,
    /// Bytes received since the start of the connection (handshake included),
    /// for the Acknowledgement sequence number (section 5.4.3).
    bytes_in: u64,
    bytes_in_at_last_ack: u64,
    /// Window the peer asked us to acknowledge at (its Window Acknowledgement
    /// Size, section 5.4.4).
    peer_ack_window: Option<u32>,
    /// Window Acknowledgement Size we last announced to the peer.
    announced_ack_window: Option<u32>,
    /// Set Peer Bandwidth received from the peer (section 5.4.5).
    peer_bandwidth: Option<(u32, BandwidthLimit)>,
    /// The peer's last Acknowledgement sequence number.
    peer_acked: u32,
    bytes_out: u64,
    closed: bool,
}

impl Connection {
    pub(crate) fn new_server(config: SessionConfig) -> Self {
        let hs = ServerHandshake::new(config.handshake);
        Self::new(Handshake::Server(Box::new(hs)), config)
    }

    pub(crate) fn new_client(config: SessionConfig) -> Self {
        let mut hs = ClientHandshake::new(config.handshake);
        let mut out = BytesMut::new();
        hs.start(&mut out);
        let mut conn = Self::new(Handshake::Client(Box::new(hs)), config);
        conn.queue_bytes(out.freeze());
        conn
    }

    fn new(handshake: Handshake, config: SessionConfig) -> Self {
        Connection {
            handshake,
            decoder: ChunkDecoder::new(config.limits.chunk.clone()),
            encoder: ChunkEncoder::new(),
            config,
            input: BytesMut::new(),
            scratch: BytesMut::new(),
            output: VecDeque::new(),
            output_len: 0,
            bytes_in: 0,
            bytes_in_at_last_ack: 0,
            peer_ack_window: None,
            announced_ack_window: None,
            peer_bandwidth: None,
            peer_acked: 0,
            bytes_out: 0,
            closed: false,
        }
    }

    pub(crate) fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Appends received bytes. Fails when the unprocessed input would exceed
    /// the configured bound (a peer that keeps sending while the application
    /// holds a decision).
    pub(crate) fn push_input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        if self.closed {
            return Ok(());
        }
        let limit = self.config.max_buffered_input;
        if self.input.len().saturating_add(data.len()) > limit {
            return Err(SessionError::InputOverflow { limit });
        }
        self.input.extend_from_slice(data);
        self.bytes_in = self.bytes_in.wrapping_add(data.len() as u64);
        Ok(())
    }

    /// The input buffer, for a read straight into it (no copy): the caller
    /// appends at most `size` bytes (fewer near `max_buffered_input`: the
    /// returned buffer takes no more), then calls
    /// [`Connection::input_appended`] with their count.
    pub(crate) fn input_space(&mut self, size: usize) -> bytes::buf::Limit<&mut BytesMut> {
        let room = self
            .config
            .max_buffered_input
            .saturating_sub(self.input.len())
            .min(size);
        // One byte even at the limit: the read that fills it is refused by
        // `input_appended`, as `push_input` would refuse it.
        let room = room.max(1);
        self.input.reserve(room);
        bytes::BufMut::limit(&mut self.input, room)
    }

    /// Accounts for `n` bytes appended through [`Connection::input_space`]
    /// (dropped, like any input, once the connection is closed).
    pub(crate) fn input_appended(&mut self, n: usize) -> Result<(), SessionError> {
        if self.closed {
            let keep = self.input.len().saturating_sub(n);
            self.input.truncate(keep);
            return Ok(());
        }
        let limit = self.config.max_buffered_input;
        if self.input.len() > limit {
            return Err(SessionError::InputOverflow { limit });
        }
        self.bytes_in = self.bytes_in.wrapping_add(n as u64);
        Ok(())
    }

    /// Frees the input buffer once everything in it was decoded: a
    /// connection that only receives acknowledgements and pings (a player,
    /// an idle client) then holds no input memory between reads, instead of
    /// the capacity of its largest read. A publisher pays one allocation
    /// per read.
    pub(crate) fn release_input(&mut self) {
        if self.input.is_empty() && self.input.capacity() > 0 {
            self.input = BytesMut::new();
        }
    }

    /// Advances the handshake with the buffered input. Returns the outcome
    /// once, when it completes.
    pub(crate) fn drive_handshake(
        &mut self,
        now: u32,
    ) -> Result<Option<HandshakeOutcome>, SessionError> {
        let mut out = BytesMut::new();
        let status = match &mut self.handshake {
            Handshake::Done => return Ok(None),
            Handshake::Server(hs) => hs.handle(&mut self.input, now, &mut out)?,
            Handshake::Client(hs) => hs.handle(&mut self.input, now, &mut out)?,
        };
        if !out.is_empty() {
            self.queue_bytes(out.freeze());
        }
        match status {
            HandshakeStatus::InProgress => Ok(None),
            HandshakeStatus::Done(outcome) => {
                self.handshake = Handshake::Done;
                Ok(Some(outcome))
            }
        }
    }

    pub(crate) fn handshake_done(&self) -> bool {
        matches!(self.handshake, Handshake::Done)
    }

    /// Decodes the next complete message from the buffered input, answering
    /// the messages the protocol answers by itself. Returns `None` when more
    /// bytes are needed.
    pub(crate) fn next_message(&mut self) -> Result<Option<Incoming>, SessionError> {
        if !self.handshake_done() || self.closed {
            return Ok(None);
        }
        loop {
            let Some(raw) = self.decoder.decode(&mut self.input)? else {
                self.maybe_acknowledge();
                return Ok(None);
            };
            let message =
                Message::decode(raw.type_id, raw.timestamp, raw.payload, &self.config.limits)?;
            self.maybe_acknowledge();
            if let Some(message) = self.handle_control(message) {
                return Ok(Some(Incoming {
                    stream_id: raw.stream_id,
                    timestamp: raw.timestamp,
                    message,
                }));
            }
        }
    }

    /// Answers protocol-level messages. Returns the message when the session
    /// above should see it too.
    fn handle_control(&mut self, message: Message) -> Option<Message> {
        match &message {
            // Applied by the chunk decoder already.
            Message::SetChunkSize(_) | Message::Abort { .. } => None,
            Message::Acknowledgement { sequence_number } => {
                self.peer_acked = *sequence_number;
                None
            }
            Message::WindowAckSize(size) => {
                self.peer_ack_window = Some((*size).max(1));
                None
            }
            Message::SetPeerBandwidth { window_size, limit } => {
                // Section 5.4.5: Hard sets the limit; Soft lowers it; Dynamic
                // acts as Hard when the previous limit was Hard, and is
                // ignored otherwise -- except as the first limit, which every
                // server sends as Dynamic and clients take as given.
                let window = match (limit, self.peer_bandwidth) {
                    (BandwidthLimit::Hard, _) | (_, None) => *window_size,
                    (BandwidthLimit::Soft, Some((prev, _))) => (*window_size).min(prev),
                    (BandwidthLimit::Dynamic, Some((_, BandwidthLimit::Hard))) => *window_size,
                    (BandwidthLimit::Dynamic, Some((prev, _))) => prev,
                };
                self.peer_bandwidth = Some((window, *limit));
                // Section 5.4.5: answer with our Window Acknowledgement Size
                // when it differs from the last one sent.
                if self.announced_ack_window != Some(window) {
                    self.announced_ack_window = Some(window);
                    self.send_control(&Message::WindowAckSize(window));
                }
                None
            }
            Message::UserControl(UserControlEvent::PingRequest { timestamp }) => {
                let reply = Message::UserControl(UserControlEvent::PingResponse {
                    timestamp: *timestamp,
                });
                self.send_control(&reply);
                None
            }
            _ => Some(message),
        }
    }

    /// Sends an Acknowledgement when the peer's window has been received
    /// since the last one (section 5.4.3).
    fn maybe_acknowledge(&mut self) {
        let Some(window) = self.peer_ack_window else {
            return;
        };
        if self.bytes_in.wrapping_sub(self.bytes_in_at_last_ack) >= u64::from(window) {
            self.bytes_in_at_last_ack = self.bytes_in;
            let ack = Message::Acknowledgement {
                sequence_number: self.bytes_in as u32,
            };
            self.send_control(&ack);
        }
    }

    /// Announces our Window Acknowledgement Size.
    pub(crate) fn announce_ack_window(&mut self, size: u32) {
        self.announced_ack_window = Some(size);
        self.send_control(&Message::WindowAckSize(size));
    }

    /// Sends Set Chunk Size and switches the encoder to it.
    pub(crate) fn set_chunk_size(&mut self, size: u32) -> Result<(), SessionError> {
        if self.encoder.chunk_size() == size {
            return Ok(());
        }
        self.send_control(&Message::SetChunkSize(size));
        self.encoder
            .set_chunk_size(size)
            .map_err(|_| SessionError::Usage(UsageError::InvalidChunkSize(size)))
    }

    /// The chunk size of outgoing chunks.
    pub(crate) fn chunk_size(&self) -> u32 {
        self.encoder.chunk_size()
    }

    /// Encodes a typed message and queues it.
    pub(crate) fn send_message(
        &mut self,
        chunk_stream_id: u32,
        stream_id: u32,
        timestamp: Timestamp,
        message: &Message,
    ) -> Result<(), UsageError> {
        self.send_raw(raw_message(chunk_stream_id, stream_id, timestamp, message))
    }

    /// Sends a protocol control or user control message (a few bytes on
    /// chunk stream 2, message stream 0). Nothing is sent once closed.
    pub(crate) fn send_control(&mut self, message: &Message) {
        // Control messages are far below the size limit; the only failure is
        // a closed connection, where dropping them is right.
        let _ = self.send_message(csid::CONTROL, 0, Timestamp::ZERO, message);
    }

    /// Encodes a typed message with a full (fmt 0) header whatever was sent
    /// before on its chunk stream, so its bytes do not depend on the
    /// connection's history (used for Go Away, which clients handle in
    /// special code paths).
    pub(crate) fn send_message_fmt0(
        &mut self,
        chunk_stream_id: u32,
        stream_id: u32,
        timestamp: Timestamp,
        message: &Message,
    ) -> Result<(), UsageError> {
        let raw = raw_message(chunk_stream_id, stream_id, timestamp, message);
        let mut out = BytesMut::new();
        ChunkEncoder::encode_standalone(self.encoder.chunk_size(), &raw, &mut out);
        self.send_standalone(&raw, out.freeze())
    }

    /// Chunks a message whose payload is already encoded and queues it.
    pub(crate) fn send_raw(&mut self, raw: RawMessage) -> Result<(), UsageError> {
        if self.closed {
            return Err(UsageError::Closed);
        }
        if raw.payload.len() > MAX_MESSAGE_LENGTH as usize {
            return Err(UsageError::PayloadTooLarge {
                len: raw.payload.len(),
                max: MAX_MESSAGE_LENGTH,
            });
        }
        self.encoder.encode(&raw, &mut self.scratch);
        Ok(())
    }

    /// Queues bytes that `ChunkEncoder::encode_standalone(self.chunk_size(), raw)`
    /// produced elsewhere (shared by many connections), without copying them.
    pub(crate) fn send_standalone(
        &mut self,
        raw: &RawMessage,
        chunks: Bytes,
    ) -> Result<(), UsageError> {
        self.send_standalone_header(
            (raw.chunk_stream_id, raw.type_id),
            raw.stream_id,
            raw.timestamp,
            raw.payload.len() as u32,
            chunks,
        )
    }

    /// [`Connection::send_standalone`] for a message known by its header
    /// fields and payload length.
    pub(crate) fn send_standalone_header(
        &mut self,
        (chunk_stream_id, type_id): (u32, u8),
        stream_id: u32,
        timestamp: Timestamp,
        length: u32,
        chunks: Bytes,
    ) -> Result<(), UsageError> {
        if self.closed {
            return Err(UsageError::Closed);
        }
        self.encoder
            .note_standalone_header(chunk_stream_id, timestamp, type_id, stream_id, length);
        self.queue_bytes(chunks);
        Ok(())
    }

    fn flush_scratch(&mut self) {
        if !self.scratch.is_empty() {
            // The whole buffer goes (not `split`, whose remainder would
            // keep the allocation alive for as long as the connection).
            let bytes = std::mem::take(&mut self.scratch).freeze();
            self.output_len += bytes.len();
            self.output.push_back(bytes);
        }
    }

    fn queue_bytes(&mut self, bytes: Bytes) {
        self.flush_scratch();
        if !bytes.is_empty() {
            self.output_len += bytes.len();
            self.output.push_back(bytes);
        }
    }

    /// The next bytes to write to the peer, in order.
    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        self.flush_scratch();
        let bytes = self.output.pop_front()?;
        self.output_len -= bytes.len();
        self.bytes_out = self.bytes_out.wrapping_add(bytes.len() as u64);
        Some(bytes)
    }

    /// Bytes queued and not yet taken by [`Connection::poll_transmit`].
    pub(crate) fn pending_output(&self) -> usize {
        self.output_len + self.scratch.len()
    }

    pub(crate) fn stats(&self) -> super::ConnectionStats {
        super::ConnectionStats {
            bytes_received: self.bytes_in,
            bytes_sent: self.bytes_out,
            peer_acknowledged: self.peer_acked,
            peer_ack_window: self.peer_ack_window,
            peer_bandwidth: self.peer_bandwidth.map(|(w, _)| w),
        }
    }

    /// Marks the connection closed: no more input is processed, nothing more
    /// is queued (what is queued can still be written).
    pub(crate) fn close(&mut self) {
        self.flush_scratch();
        self.closed = true;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }
}
