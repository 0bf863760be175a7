//! The server side of a NetConnection (RTMP 1.0 sections 7.2.1 and 7.2.2,
//! message sequences of 7.3): connect, createStream, publish, play and the
//! FMLE commands, with the application deciding every request; Go Away (RTMP
//! Go Away, message type 32) and the Enhanced RTMP v2 Reconnect Request.

mod command;
mod event;
mod send;

pub use event::{RequestId, ServerEvent, UnpublishReason};

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use super::connection::{Connection, Incoming};
use super::{MediaKind, ProtocolViolation, SessionConfig, SessionError, UsageError};
use crate::Timestamp;
use crate::amf0;
use crate::command::{
    CapsEx, Connect, DataMessage, ObjectEncoding, StatusCode, StatusInfo, StatusLevel,
    connect_result, error_response,
};
use crate::message::{BandwidthLimit, Message, UserControlEvent};

/// Settings of a server session.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Settings shared with the client role.
    pub session: SessionConfig,
    /// Set Peer Bandwidth sent to clients after connect.
    pub peer_bandwidth: u32,
    /// Most message streams (createStream) one connection may hold.
    pub max_streams: u32,
    /// The Enhanced RTMP capabilities this server states in the connect
    /// `_result` (to clients that sent `capsEx`).
    pub caps_ex: CapsEx,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            session: SessionConfig::default(),
            peer_bandwidth: 2_500_000,
            max_streams: 16,
            caps_ex: CapsEx::RECONNECT,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum StreamState {
    Idle,
    Publishing(String),
    Playing(String),
}

#[derive(Debug)]
enum Pending {
    Connect {
        id: RequestId,
        transaction_id: f64,
    },
    Publish {
        id: RequestId,
        stream_id: u32,
        stream_name: String,
    },
    Play {
        id: RequestId,
        stream_id: u32,
        stream_name: String,
        reset: bool,
    },
}

impl Pending {
    fn id(&self) -> RequestId {
        match self {
            Pending::Connect { id, .. }
            | Pending::Publish { id, .. }
            | Pending::Play { id, .. } => *id,
        }
    }
}

/// A server-side RTMP session.
pub struct ServerSession {
    conn: Connection,
    config: ServerConfig,
    events: VecDeque<ServerEvent>,
    pending: Option<Pending>,
    next_request: u64,
    connect: Option<Box<Connect>>,
    connected: bool,
    /// Encoding of the connect command (type 20 or 17), used for replies.
    encoding: ObjectEncoding,
    streams: BTreeMap<u32, StreamState>,
    next_stream_id: u32,
    last_now: u32,
}

impl ServerSession {
    /// A session waiting for the client's C0/C1.
    pub fn new(config: ServerConfig) -> Self {
        ServerSession {
            conn: Connection::new_server(config.session.clone()),
            config,
            events: VecDeque::new(),
            pending: None,
            next_request: 1,
            connect: None,
            connected: false,
            encoding: ObjectEncoding::Amf0,
            streams: BTreeMap::new(),
            next_stream_id: 1,
            last_now: 0,
        }
    }

    // ---- getters -------------------------------------------------------

    /// The client's connect command, once received.
    pub fn connect_command(&self) -> Option<&Connect> {
        self.connect.as_deref()
    }

    /// Whether connect was accepted.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Whether the client announced `supportsGoAway` (boolean true or 1).
    pub fn supports_go_away(&self) -> bool {
        self.connect.as_ref().is_some_and(|c| c.supports_go_away)
    }

    /// The Enhanced RTMP capabilities the client announced (`capsEx`).
    pub fn client_caps_ex(&self) -> CapsEx {
        self.connect
            .as_ref()
            .map_or(CapsEx::default(), |c| c.caps_ex)
    }

    /// Whether the client can follow a Reconnect Request.
    pub fn supports_reconnect_request(&self) -> bool {
        self.client_caps_ex().contains(CapsEx::RECONNECT)
    }

    /// The stream name a message stream publishes, if it does.
    pub fn publishing_name(&self, stream_id: u32) -> Option<&str> {
        match self.streams.get(&stream_id) {
            Some(StreamState::Publishing(name)) => Some(name),
            _ => None,
        }
    }

    /// The stream name a message stream plays, if it does.
    pub fn playing_name(&self, stream_id: u32) -> Option<&str> {
        match self.streams.get(&stream_id) {
            Some(StreamState::Playing(name)) => Some(name),
            _ => None,
        }
    }

    /// Byte counters.
    pub fn stats(&self) -> super::ConnectionStats {
        self.conn.stats()
    }

    /// The chunk size of what this session sends.
    pub fn chunk_size(&self) -> u32 {
        self.conn.chunk_size()
    }

    /// Whether the session is closed (rejected, or failed): write what
    /// [`ServerSession::poll_transmit`] still gives, then close the socket.
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Bytes queued for sending.
    pub fn pending_output(&self) -> usize {
        self.conn.pending_output()
    }

    // ---- input and output -----------------------------------------------

    /// Feeds bytes received from the client. `now` is a millisecond clock
    /// of the caller's (used for handshake time fields).
    ///
    /// On error the session is closed: write out what is queued (it may hold
    /// an error reply), then close the connection.
    pub fn handle_input(&mut self, data: &[u8], now: u32) -> Result<(), SessionError> {
        self.last_now = now;
        let result = self.conn.push_input(data).and_then(|()| self.process());
        if result.is_err() {
            self.conn.close();
        }
        self.conn.release_input();
        result
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        if self.events.is_empty() {
            if self.events.capacity() > 0 {
                // An idle connection keeps no event buffer.
                self.events = VecDeque::new();
            }
            return None;
        }
        self.events.pop_front()
    }

    /// The next bytes to write to the client.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.conn.poll_transmit()
    }

    fn process(&mut self) -> Result<(), SessionError> {
        if !self.conn.handshake_done() {
            match self.conn.drive_handshake(self.last_now)? {
                Some(outcome) => self.events.push_back(ServerEvent::HandshakeDone(outcome)),
                None => return Ok(()),
            }
        }
        while self.pending.is_none() {
            let Some(incoming) = self.conn.next_message()? else {
                break;
            };
            self.dispatch(incoming)?;
        }
        Ok(())
    }

    fn dispatch(&mut self, incoming: Incoming) -> Result<(), SessionError> {
        let Incoming {
            stream_id,
            timestamp,
            message,
        } = incoming;
        match message {
            Message::Command { encoding, command } => self.on_command(stream_id, encoding, command),
            Message::Audio(payload) => {
                self.on_media(stream_id, MediaKind::Audio, timestamp, payload)
            }
            Message::Video(payload) => {
                self.on_media(stream_id, MediaKind::Video, timestamp, payload)
            }
            Message::Data { data, .. } if self.publishing_name(stream_id).is_some() => {
                self.events.push_back(ServerEvent::Data {
                    stream_id,
                    timestamp,
                    data,
                });
                Ok(())
            }
            Message::Aggregate(parts) => {
                for part in parts {
                    let limits = &self.conn.config().limits;
                    match Message::decode(part.type_id, part.timestamp, part.payload, limits)? {
                        Message::Audio(p) => {
                            self.on_media(stream_id, MediaKind::Audio, part.timestamp, p)?
                        }
                        Message::Video(p) => {
                            self.on_media(stream_id, MediaKind::Video, part.timestamp, p)?
                        }
                        other => self.dispatch(Incoming {
                            stream_id,
                            timestamp: part.timestamp,
                            message: other,
                        })?,
                    }
                }
                Ok(())
            }
            message => {
                self.events.push_back(ServerEvent::Message {
                    stream_id,
                    timestamp,
                    message,
                });
                Ok(())
            }
        }
    }

    fn on_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), SessionError> {
        if self.publishing_name(stream_id).is_none() {
            return Err(ProtocolViolation::MediaOnIdleStream(stream_id).into());
        }
        self.events.push_back(ServerEvent::Media {
            stream_id,
            kind,
            timestamp,
            payload,
        });
        Ok(())
    }

    fn new_request(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    fn take_pending(&mut self, request: RequestId) -> Result<Pending, UsageError> {
        match &self.pending {
            Some(p) if p.id() == request => Ok(self.pending.take().expect("checked above")),
            _ => Err(UsageError::UnknownRequest(request.0)),
        }
    }

    fn resume(&mut self) -> Result<(), SessionError> {
        let result = self.process();
        if result.is_err() {
            self.conn.close();
        }
        result
    }

    // ---- decisions ------------------------------------------------------

    /// Accepts a connect: sends Window Acknowledgement Size, Set Peer
    /// Bandwidth, Set Chunk Size and the `_result` (with `capsEx` when the
    /// client sent one), then resumes processing input.
    pub fn accept_connect(&mut self, request: RequestId) -> Result<(), SessionError> {
        let Pending::Connect { transaction_id, .. } = self.take_pending(request)? else {
            return Err(UsageError::UnknownRequest(request.0).into());
        };
        let window = self.config.session.window_ack_size;
        self.conn.announce_ack_window(window);
        let bandwidth = Message::SetPeerBandwidth {
            window_size: self.config.peer_bandwidth,
            limit: BandwidthLimit::Dynamic,
        };
        self.conn.send_control(&bandwidth);
        self.conn.set_chunk_size(self.config.session.chunk_size)?;
        let announced_caps = self
            .connect
            .as_ref()
            .is_some_and(|c| c.caps_ex != CapsEx::default());
        let caps = announced_caps.then_some(self.config.caps_ex);
        let object_encoding = self
            .connect
            .as_ref()
            .map_or(ObjectEncoding::Amf0, |c| c.object_encoding);
        let reply = connect_result(transaction_id, object_encoding, caps);
        self.send_command(0, &reply)?;
        self.connected = true;
        self.resume()
    }

    /// Rejects a connect with `_error` NetConnection.Connect.Rejected and the
    /// description, and closes the session.
    pub fn reject_connect(
        &mut self,
        request: RequestId,
        description: &str,
    ) -> Result<(), SessionError> {
        let Pending::Connect { transaction_id, .. } = self.take_pending(request)? else {
            return Err(UsageError::UnknownRequest(request.0).into());
        };
        let info = StatusInfo::new(StatusLevel::Error, StatusCode::ConnectRejected, description);
        self.send_command(0, &error_response(transaction_id, info))?;
        self.conn.close();
        Ok(())
    }

    /// Accepts a publish: Stream Begin, then onStatus NetStream.Publish.Start.
    pub fn accept_publish(&mut self, request: RequestId) -> Result<(), SessionError> {
        let Pending::Publish {
            stream_id,
            stream_name,
            ..
        } = self.take_pending(request)?
        else {
            return Err(UsageError::UnknownRequest(request.0).into());
        };
        self.send_user_control(UserControlEvent::StreamBegin { stream_id });
        let info = StatusInfo::new(
            StatusLevel::Status,
            StatusCode::PublishStart,
            format!("{stream_name} is now published."),
        );
        self.streams
            .insert(stream_id, StreamState::Publishing(stream_name));
        self.send_status(stream_id, info)?;
        self.resume()
    }

    /// Rejects a publish with an onStatus error (for example
    /// [`StatusCode::PublishBadName`] when the name is in use).
    pub fn reject_publish(
        &mut self,
        request: RequestId,
        code: StatusCode,
        description: &str,
    ) -> Result<(), SessionError> {
        let Pending::Publish { stream_id, .. } = self.take_pending(request)? else {
            return Err(UsageError::UnknownRequest(request.0).into());
        };
        self.send_status(
            stream_id,
            StatusInfo::new(StatusLevel::Error, code, description),
        )?;
        self.resume()
    }

    /// Accepts a play: Stream Begin, NetStream.Play.Reset (when asked),
    /// NetStream.Play.Start and `|RtmpSampleAccess`. Media follows with
    /// [`ServerSession::send_media`].
    pub fn accept_play(&mut self, request: RequestId) -> Result<(), SessionError> {
        let Pending::Play {
            stream_id,
            stream_name,
            reset,
            ..
        } = self.take_pending(request)?
        else {
            return Err(UsageError::UnknownRequest(request.0).into());
        };
        self.send_user_control(UserControlEvent::StreamBegin { stream_id });
        if reset {
            let info = StatusInfo::new(
                StatusLevel::Status,
                StatusCode::PlayReset,
                format!("Playing and resetting {stream_name}."),
            );
            self.send_status(stream_id, info)?;
        }
        let info = StatusInfo::new(
            StatusLevel::Status,
            StatusCode::PlayStart,
            format!("Started playing {stream_name}."),
        );
        self.send_status(stream_id, info)?;
        let access = DataMessage::Other {
            handler: "|RtmpSampleAccess".to_owned(),
            values: vec![amf0::Value::Boolean(true), amf0::Value::Boolean(true)],
        };
        self.send_data(stream_id, Timestamp::ZERO, &access)?;
        self.streams
            .insert(stream_id, StreamState::Playing(stream_name));
        self.resume()
    }

    /// Rejects a play with an onStatus error (for example
    /// [`StatusCode::PlayStreamNotFound`]).
    pub fn reject_play(
        &mut self,
        request: RequestId,
        code: StatusCode,
        description: &str,
    ) -> Result<(), SessionError> {
        let Pending::Play { stream_id, .. } = self.take_pending(request)? else {
            return Err(UsageError::UnknownRequest(request.0).into());
        };
        self.send_status(
            stream_id,
            StatusInfo::new(StatusLevel::Error, code, description),
        )?;
        self.resume()
    }
}
