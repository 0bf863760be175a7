//! The server side of a NetConnection (RTMP 1.0 sections 7.2.1 and 7.2.2,
//! message sequences of 7.3): connect, createStream, publish, play and the
//! FMLE commands, with the application deciding every request; Go Away (RTMP
//! Go Away, message type 32) and the Enhanced RTMP v2 Reconnect Request.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use super::connection::{Connection, Incoming, csid};
use super::{MediaKind, ProtocolViolation, SessionConfig, SessionError, UsageError};
use crate::Timestamp;
use crate::chunk::RawMessage;
use crate::command::{
    CapsEx, Command, Connect, DataMessage, ObjectEncoding, Publish, PublishType, StatusCode,
    StatusInfo, StatusLevel, connect_result, create_stream_result, error_response, on_status,
};
use crate::handshake::HandshakeOutcome;
use crate::message::{BandwidthLimit, Message, UserControlEvent, type_id};
use crate::{amf0, message};

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

/// Identifies a request that waits for the application's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Why a publisher stopped publishing on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnpublishReason {
    /// FCUnpublish (FMLE-style clients: FFmpeg, OBS).
    FcUnpublish,
    /// deleteStream of the publishing stream.
    DeleteStream,
    /// closeStream on the publishing stream.
    CloseStream,
}

/// What a server session tells the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// The handshake completed.
    HandshakeDone(HandshakeOutcome),
    /// The client asks to connect; answer with
    /// [`ServerSession::accept_connect`] or [`ServerSession::reject_connect`].
    ConnectRequested {
        /// The request to decide.
        request: RequestId,
        /// The connect command, with its typed command object.
        connect: Box<Connect>,
    },
    /// The client asks to publish; answer with
    /// [`ServerSession::accept_publish`] or [`ServerSession::reject_publish`].
    PublishRequested {
        /// The request to decide.
        request: RequestId,
        /// The message stream.
        stream_id: u32,
        /// The stream name as sent (it may carry a `?query`).
        stream_name: String,
        /// live, record or append.
        publish_type: PublishType,
    },
    /// The client asks to play; answer with [`ServerSession::accept_play`]
    /// or [`ServerSession::reject_play`].
    PlayRequested {
        /// The request to decide.
        request: RequestId,
        /// The message stream.
        stream_id: u32,
        /// The stream name as sent.
        stream_name: String,
        /// Start time argument (-2 live or recorded, -1 live only, >= 0 recorded).
        start: f64,
        /// Duration argument (-1 to the end).
        duration: f64,
        /// Whether to flush previous playlists.
        reset: bool,
    },
    /// Audio or video from a publishing stream.
    Media {
        /// The message stream.
        stream_id: u32,
        /// Audio or video.
        kind: MediaKind,
        /// The message timestamp.
        timestamp: Timestamp,
        /// The FLV tag body.
        payload: Bytes,
    },
    /// A data message (for example `@setDataFrame onMetaData`) from a
    /// publishing stream.
    Data {
        /// The message stream.
        stream_id: u32,
        /// The message timestamp.
        timestamp: Timestamp,
        /// The typed data message.
        data: DataMessage,
    },
    /// The publisher ended its stream on purpose (as opposed to a dropped
    /// connection, which the I/O layer sees as the connection ending).
    Unpublished {
        /// The message stream.
        stream_id: u32,
        /// The stream name it published.
        stream_name: String,
        /// Which command ended it.
        reason: UnpublishReason,
    },
    /// A playing stream stopped (deleteStream or closeStream).
    PlayStopped {
        /// The message stream.
        stream_id: u32,
    },
    /// pause / unpause (answered with Pause.Notify / Unpause.Notify).
    Pause {
        /// The message stream.
        stream_id: u32,
        /// true to pause, false to resume.
        pause: bool,
        /// Where the client paused, in ms.
        millis: f64,
    },
    /// seek; the application answers (NetStream.Seek.Notify or .Failed).
    Seek {
        /// The message stream.
        stream_id: u32,
        /// Target position in ms.
        millis: f64,
    },
    /// receiveAudio / receiveVideo.
    Receive {
        /// The message stream.
        stream_id: u32,
        /// Which kind the flag is for.
        kind: MediaKind,
        /// Whether the client wants it.
        flag: bool,
    },
    /// The client sent the `close` command.
    CloseRequested,
    /// A command the session does not answer itself (call, play2, responses,
    /// and unknown commands): never dropped.
    Command {
        /// The message stream it came on.
        stream_id: u32,
        /// The command.
        command: Command,
    },
    /// Any other message (shared objects, ping responses, unknown types).
    Message {
        /// The message stream.
        stream_id: u32,
        /// The message timestamp.
        timestamp: Timestamp,
        /// The message.
        message: Message,
    },
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
        result
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
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

    fn on_command(
        &mut self,
        stream_id: u32,
        encoding: ObjectEncoding,
        command: Command,
    ) -> Result<(), SessionError> {
        if let Command::Connect(connect) = command {
            if self.connect.is_some() {
                return Err(ProtocolViolation::SecondConnect.into());
            }
            let request = self.new_request();
            self.encoding = encoding;
            self.pending = Some(Pending::Connect {
                id: request,
                transaction_id: connect.transaction_id,
            });
            self.connect = Some(connect.clone());
            self.events
                .push_back(ServerEvent::ConnectRequested { request, connect });
            return Ok(());
        }
        if !self.connected {
            return Err(ProtocolViolation::BeforeConnect(command.name().to_owned()).into());
        }
        match command {
            Command::CreateStream { transaction_id, .. } => {
                let reply = if self.streams.len() as u32 >= self.config.max_streams {
                    let info = StatusInfo::new(
                        StatusLevel::Error,
                        StatusCode::CallFailed,
                        format!("at most {} streams per connection", self.config.max_streams),
                    );
                    error_response(transaction_id, info)
                } else {
                    let id = self.allocate_stream_id();
                    self.streams.insert(id, StreamState::Idle);
                    create_stream_result(transaction_id, id)
                };
                self.send_command(0, &reply)?;
            }
            Command::ReleaseStream { transaction_id, .. } => {
                self.reply_empty_result(transaction_id)?;
            }
            Command::FcPublish {
                transaction_id,
                stream_name,
            } => {
                let info = StatusInfo::new(
                    StatusLevel::Status,
                    StatusCode::PublishStart,
                    format!("FCPublish to stream {stream_name}."),
                );
                self.send_command(0, &Command::OnFcPublish(info))?;
                self.reply_empty_result(transaction_id)?;
            }
            Command::FcUnpublish {
                transaction_id,
                stream_name,
            } => {
                let publishing = self
                    .streams
                    .iter()
                    .find(|(_, s)| matches!(s, StreamState::Publishing(n) if *n == stream_name))
                    .map(|(id, _)| *id);
                if let Some(id) = publishing {
                    self.end_publishing(id, UnpublishReason::FcUnpublish);
                }
                let info = StatusInfo::new(
                    StatusLevel::Status,
                    StatusCode::UnpublishSuccess,
                    format!("FCUnpublish of stream {stream_name}."),
                );
                self.send_command(0, &Command::OnFcUnpublish(info))?;
                self.reply_empty_result(transaction_id)?;
            }
            Command::Publish(publish) => self.on_publish(stream_id, publish)?,
            Command::Play(play) => {
                self.check_idle(stream_id)?;
                let request = self.new_request();
                self.pending = Some(Pending::Play {
                    id: request,
                    stream_id,
                    stream_name: play.stream_name.clone(),
                    reset: play.reset,
                });
                self.events.push_back(ServerEvent::PlayRequested {
                    request,
                    stream_id,
                    stream_name: play.stream_name,
                    start: play.start,
                    duration: play.duration,
                    reset: play.reset,
                });
            }
            Command::DeleteStream {
                stream_id: deleted, ..
            } => {
                // A stream id outside u32 cannot have been created.
                let deleted = if (0.0..=f64::from(u32::MAX)).contains(&deleted) {
                    deleted as u32
                } else {
                    0
                };
                if self.streams.contains_key(&deleted) {
                    self.stop_stream(deleted, UnpublishReason::DeleteStream);
                    self.streams.remove(&deleted);
                }
            }
            Command::CloseStream { .. } => {
                if self.streams.contains_key(&stream_id) {
                    self.stop_stream(stream_id, UnpublishReason::CloseStream);
                }
            }
            Command::ReceiveAudio { flag } => self.events.push_back(ServerEvent::Receive {
                stream_id,
                kind: MediaKind::Audio,
                flag,
            }),
            Command::ReceiveVideo { flag } => self.events.push_back(ServerEvent::Receive {
                stream_id,
                kind: MediaKind::Video,
                flag,
            }),
            Command::Pause { pause, millis, .. } => {
                let (code, what) = if pause {
                    (StatusCode::PauseNotify, "Paused")
                } else {
                    (StatusCode::UnpauseNotify, "Unpaused")
                };
                self.send_status(stream_id, StatusInfo::new(StatusLevel::Status, code, what))?;
                self.events.push_back(ServerEvent::Pause {
                    stream_id,
                    pause,
                    millis,
                });
            }
            Command::Seek { millis, .. } => {
                self.events
                    .push_back(ServerEvent::Seek { stream_id, millis });
            }
            Command::GetStreamLength { transaction_id, .. } => {
                // Live streams have no length.
                let reply = Command::Result(crate::command::Response {
                    transaction_id,
                    command_object: amf0::Value::Null,
                    values: vec![amf0::Value::Number(0.0)],
                });
                self.send_command(stream_id, &reply)?;
            }
            Command::Close { .. } => self.events.push_back(ServerEvent::CloseRequested),
            command => self
                .events
                .push_back(ServerEvent::Command { stream_id, command }),
        }
        Ok(())
    }

    fn on_publish(&mut self, stream_id: u32, publish: Publish) -> Result<(), SessionError> {
        self.check_idle(stream_id)?;
        let request = self.new_request();
        self.pending = Some(Pending::Publish {
            id: request,
            stream_id,
            stream_name: publish.stream_name.clone(),
        });
        self.events.push_back(ServerEvent::PublishRequested {
            request,
            stream_id,
            stream_name: publish.stream_name,
            publish_type: publish.publish_type,
        });
        Ok(())
    }

    fn check_idle(&self, stream_id: u32) -> Result<(), SessionError> {
        match self.streams.get(&stream_id) {
            None => Err(ProtocolViolation::UnknownStream(stream_id).into()),
            Some(StreamState::Idle) => Ok(()),
            Some(_) => Err(ProtocolViolation::StreamBusy(stream_id).into()),
        }
    }

    fn allocate_stream_id(&mut self) -> u32 {
        while self.streams.contains_key(&self.next_stream_id) || self.next_stream_id == 0 {
            self.next_stream_id = self.next_stream_id.wrapping_add(1);
        }
        let id = self.next_stream_id;
        self.next_stream_id = self.next_stream_id.wrapping_add(1);
        id
    }

    fn stop_stream(&mut self, stream_id: u32, reason: UnpublishReason) {
        match self.streams.get(&stream_id) {
            Some(StreamState::Publishing(_)) => self.end_publishing(stream_id, reason),
            Some(StreamState::Playing(_)) => {
                self.streams.insert(stream_id, StreamState::Idle);
                self.events
                    .push_back(ServerEvent::PlayStopped { stream_id });
            }
            _ => {}
        }
    }

    fn end_publishing(&mut self, stream_id: u32, reason: UnpublishReason) {
        if let Some(StreamState::Publishing(name)) =
            self.streams.insert(stream_id, StreamState::Idle)
        {
            self.events.push_back(ServerEvent::Unpublished {
                stream_id,
                stream_name: name,
                reason,
            });
        }
    }

    fn reply_empty_result(&mut self, transaction_id: f64) -> Result<(), UsageError> {
        if transaction_id != 0.0 {
            let reply = Command::Result(crate::command::Response {
                transaction_id,
                command_object: amf0::Value::Null,
                values: vec![amf0::Value::Undefined],
            });
            self.send_command(0, &reply)?;
        }
        Ok(())
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

    // ---- sending --------------------------------------------------------

    /// Sends a command on a message stream.
    pub fn send_command(&mut self, stream_id: u32, command: &Command) -> Result<(), UsageError> {
        let chunk_stream = if stream_id == 0 {
            csid::COMMAND
        } else {
            csid::STREAM
        };
        let message = Message::Command {
            encoding: self.encoding,
            command: command.clone(),
        };
        self.conn
            .send_message(chunk_stream, stream_id, Timestamp::ZERO, &message)
    }

    /// Sends onStatus on a message stream.
    pub fn send_status(&mut self, stream_id: u32, info: StatusInfo) -> Result<(), UsageError> {
        self.send_command(stream_id, &on_status(info))
    }

    /// Sends a user control event (nothing once the session is closed).
    pub fn send_user_control(&mut self, event: UserControlEvent) {
        self.conn.send_control(&Message::UserControl(event));
    }

    /// Sends a Ping Request (user control event 6) carrying `now`.
    pub fn send_ping(&mut self, now: u32) {
        self.send_user_control(UserControlEvent::PingRequest { timestamp: now });
    }

    /// Sends audio or video on a playing message stream.
    pub fn send_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), UsageError> {
        let (chunk_stream_id, type_id) = Self::media_chunk_stream(kind);
        self.conn.send_raw(RawMessage {
            chunk_stream_id,
            timestamp,
            type_id,
            stream_id,
            payload,
        })
    }

    /// The chunk stream id and type id the session uses for `kind`, so a
    /// fan-out can chunk a message once with
    /// [`ChunkEncoder::encode_standalone`](crate::chunk::ChunkEncoder::encode_standalone).
    pub fn media_chunk_stream(kind: MediaKind) -> (u32, u8) {
        match kind {
            MediaKind::Audio => (csid::AUDIO, type_id::AUDIO),
            MediaKind::Video => (csid::VIDEO, type_id::VIDEO),
        }
    }

    /// Queues bytes chunked once for many connections (see
    /// [`ChunkEncoder::encode_standalone`](crate::chunk::ChunkEncoder::encode_standalone))
    /// at this session's chunk size, without copying them.
    pub fn send_standalone(&mut self, raw: &RawMessage, chunks: Bytes) -> Result<(), UsageError> {
        self.conn.send_standalone(raw, chunks)
    }

    /// Sends a data message (metadata) on a playing message stream.
    pub fn send_data(
        &mut self,
        stream_id: u32,
        timestamp: Timestamp,
        data: &DataMessage,
    ) -> Result<(), UsageError> {
        let message = Message::Data {
            encoding: self.encoding,
            data: data.clone(),
        };
        self.conn
            .send_message(csid::STREAM, stream_id, timestamp, &message)
    }

    /// Tells a player its stream ended: onStatus NetStream.Play.UnpublishNotify
    /// then Stream EOF. The message stream stays open.
    pub fn notify_unpublished(&mut self, stream_id: u32) -> Result<(), UsageError> {
        let name = self.playing_name(stream_id).unwrap_or_default().to_owned();
        let info = StatusInfo::new(
            StatusLevel::Status,
            StatusCode::PlayUnpublishNotify,
            format!("{name} is now unpublished."),
        );
        self.send_status(stream_id, info)?;
        self.send_user_control(UserControlEvent::StreamEof { stream_id });
        Ok(())
    }

    /// Sends RTMP Go Away (message type 32 on chunk stream 2, message stream
    /// 0, one fmt 0 chunk with a non-empty payload) if the client announced
    /// `supportsGoAway`; returns whether it was sent.
    pub fn send_go_away(&mut self) -> bool {
        self.supports_go_away()
            && self
                .conn
                .send_message_fmt0(
                    csid::CONTROL,
                    0,
                    Timestamp::ZERO,
                    &message::Message::go_away(),
                )
                .is_ok()
    }

    /// Sends the Enhanced RTMP v2 Reconnect Request (onStatus
    /// NetConnection.Connect.ReconnectRequest, optionally naming where to go)
    /// if the client announced the Reconnect capability; returns whether it
    /// was sent.
    pub fn send_reconnect_request(
        &mut self,
        tc_url: Option<&str>,
        description: Option<&str>,
    ) -> bool {
        if !self.supports_reconnect_request() {
            return false;
        }
        let info = StatusInfo::reconnect_request(tc_url, description);
        self.send_command(0, &on_status(info)).is_ok()
    }

    /// Closes the session: nothing more is read or queued.
    pub fn close(&mut self) {
        self.conn.close();
    }
}
