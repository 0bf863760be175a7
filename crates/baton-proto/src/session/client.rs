//! The client side of a NetConnection (RTMP 1.0 sections 7.2.1 and 7.2.2,
//! message sequences of 7.3): connect, createStream, publish (with the FMLE
//! commands releaseStream / FCPublish / FCUnpublish that servers expect),
//! play, media; announces RTMP Go Away (`supportsGoAway`) and Enhanced RTMP
//! `capsEx` and reports Go Away and Reconnect Request as events.
//!
//! The session only speaks the protocol; what to do on Go Away (finish up to
//! the next keyframe, reconnect) is the I/O layer's choice.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::connection::{Connection, Incoming, csid};
use super::{MediaKind, SessionConfig, SessionError, UsageError};
use crate::Timestamp;
use crate::amf0;
use crate::chunk::RawMessage;
use crate::command::{
    CapsEx, Command, Connect, DataMessage, ObjectEncoding, Play, Publish, PublishType, Response,
    StatusCode, StatusInfo,
};
use crate::handshake::HandshakeOutcome;
use crate::message::{Message, UserControlEvent};

/// Settings of a client session.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Settings shared with the server role.
    pub session: SessionConfig,
    /// Announce `supportsGoAway` (AMF0 boolean true) in connect.
    pub announce_go_away: bool,
    /// Enhanced RTMP capabilities announced in connect (`capsEx`); empty to
    /// leave the property out.
    pub caps_ex: CapsEx,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            session: SessionConfig::default(),
            announce_go_away: true,
            caps_ex: CapsEx::RECONNECT,
        }
    }
}

/// What a client session tells the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The handshake completed.
    HandshakeDone(HandshakeOutcome),
    /// The server accepted connect.
    Connected {
        /// The `_result` (server properties and the info object).
        response: Response,
    },
    /// The server refused connect (`_error`).
    ConnectRejected {
        /// The `_error`.
        response: Response,
    },
    /// createStream succeeded.
    StreamCreated {
        /// The createStream transaction.
        transaction_id: f64,
        /// The new message stream id.
        stream_id: u32,
    },
    /// createStream failed.
    CreateStreamFailed {
        /// The createStream transaction.
        transaction_id: f64,
        /// The `_error`.
        response: Response,
    },
    /// onStatus on a message stream (NetStream.Publish.Start,
    /// NetStream.Play.Start, NetStream.Play.UnpublishNotify, ...).
    Status {
        /// The message stream.
        stream_id: u32,
        /// The info object.
        info: StatusInfo,
    },
    /// Audio or video from a playing stream.
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
    /// A data message (onMetaData, |RtmpSampleAccess, ...).
    Data {
        /// The message stream.
        stream_id: u32,
        /// The message timestamp.
        timestamp: Timestamp,
        /// The typed data message.
        data: DataMessage,
    },
    /// The server sent RTMP Go Away (message type 32): move to a new
    /// connection at the next media boundary.
    GoAway,
    /// The server sent the Enhanced RTMP Reconnect Request.
    ReconnectRequested {
        /// Where to reconnect (absolute or relative to the current tcUrl);
        /// `None` means the same URL.
        tc_url: Option<String>,
        /// The server's description.
        description: Option<String>,
    },
    /// A user control stream event (Stream Begin, EOF, Dry, IsRecorded...).
    UserControl(UserControlEvent),
    /// `_result` / `_error` of a [`ClientSession::call`].
    CallResponse {
        /// The call's name.
        name: String,
        /// true for `_result`, false for `_error`.
        ok: bool,
        /// The response.
        response: Response,
    },
    /// Any other command from the server (onBWDone, onFCPublish, ...).
    Command {
        /// The message stream.
        stream_id: u32,
        /// The command.
        command: Command,
    },
    /// Any other message.
    Message {
        /// The message stream.
        stream_id: u32,
        /// The message timestamp.
        timestamp: Timestamp,
        /// The message.
        message: Message,
    },
}

#[derive(Debug)]
enum Transaction {
    Connect,
    CreateStream,
    Call(String),
}

/// A client-side RTMP session.
pub struct ClientSession {
    conn: Connection,
    config: ClientConfig,
    events: VecDeque<ClientEvent>,
    transactions: HashMap<u64, Transaction>,
    next_transaction: f64,
    /// Messages queued before the handshake finished.
    deferred: Vec<(u32, u32, Timestamp, Message)>,
    connected: bool,
    server_caps_ex: CapsEx,
    last_now: u32,
}

impl ClientSession {
    /// A session whose C0/C1 is already queued for sending.
    pub fn new(config: ClientConfig) -> Self {
        ClientSession {
            conn: Connection::new_client(config.session.clone()),
            config,
            events: VecDeque::new(),
            transactions: HashMap::new(),
            next_transaction: 1.0,
            deferred: Vec::new(),
            connected: false,
            server_caps_ex: CapsEx::default(),
            last_now: 0,
        }
    }

    /// Whether the server accepted connect.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The Enhanced RTMP capabilities the server stated in its connect
    /// `_result`.
    pub fn server_caps_ex(&self) -> CapsEx {
        self.server_caps_ex
    }

    /// Byte counters.
    pub fn stats(&self) -> super::ConnectionStats {
        self.conn.stats()
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// Bytes queued for sending.
    pub fn pending_output(&self) -> usize {
        self.conn.pending_output()
    }

    /// Feeds bytes received from the server; `now` is the caller's
    /// millisecond clock. On error the session is closed.
    pub fn handle_input(&mut self, data: &[u8], now: u32) -> Result<(), SessionError> {
        self.last_now = now;
        let result = self.conn.push_input(data).and_then(|()| self.process());
        if result.is_err() {
            self.conn.close();
        }
        result
    }

    /// Zero-copy input, step one: the session's input buffer, to read the
    /// server's next bytes straight into (at most `size` of them; it takes
    /// no more). Step two is [`ClientSession::handle_appended_input`] with
    /// the number of bytes read. Equivalent to reading into a buffer of
    /// one's own and calling [`ClientSession::handle_input`], without the
    /// copy. Only append to it.
    pub fn input_buffer(&mut self, size: usize) -> bytes::buf::Limit<&mut bytes::BytesMut> {
        self.conn.input_space(size)
    }

    /// Zero-copy input, step two: `n` bytes were appended to
    /// [`ClientSession::input_buffer`]; decodes them like
    /// [`ClientSession::handle_input`]. On error the session is closed.
    pub fn handle_appended_input(&mut self, n: usize, now: u32) -> Result<(), SessionError> {
        self.last_now = now;
        let result = self.conn.input_appended(n).and_then(|()| self.process());
        if result.is_err() {
            self.conn.close();
        }
        result
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The next bytes to write to the server.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.conn.poll_transmit()
    }

    fn process(&mut self) -> Result<(), SessionError> {
        if !self.conn.handshake_done() {
            match self.conn.drive_handshake(self.last_now)? {
                Some(outcome) => {
                    self.events.push_back(ClientEvent::HandshakeDone(outcome));
                    self.conn.set_chunk_size(self.config.session.chunk_size)?;
                    for (chunk_stream, stream_id, ts, message) in std::mem::take(&mut self.deferred)
                    {
                        self.conn
                            .send_message(chunk_stream, stream_id, ts, &message)?;
                    }
                }
                None => return Ok(()),
            }
        }
        while let Some(incoming) = self.conn.next_message()? {
            self.dispatch(incoming);
        }
        Ok(())
    }

    fn dispatch(&mut self, incoming: Incoming) {
        let Incoming {
            stream_id,
            timestamp,
            message,
        } = incoming;
        let event = match message {
            Message::Audio(payload) => ClientEvent::Media {
                stream_id,
                kind: MediaKind::Audio,
                timestamp,
                payload,
            },
            Message::Video(payload) => ClientEvent::Media {
                stream_id,
                kind: MediaKind::Video,
                timestamp,
                payload,
            },
            Message::Data { data, .. } => ClientEvent::Data {
                stream_id,
                timestamp,
                data,
            },
            Message::GoAway(_) => ClientEvent::GoAway,
            Message::UserControl(event) => ClientEvent::UserControl(event),
            Message::Aggregate(parts) => {
                let limits = self.conn.config().limits.clone();
                for part in parts {
                    // A sub-message that does not decode is skipped: the
                    // aggregate itself was well-formed.
                    if let Ok(message) =
                        Message::decode(part.type_id, part.timestamp, part.payload, &limits)
                        && !matches!(message, Message::Aggregate(_))
                    {
                        self.dispatch(Incoming {
                            stream_id,
                            timestamp: part.timestamp,
                            message,
                        });
                    }
                }
                return;
            }
            Message::Command { command, .. } => match self.on_command(stream_id, command) {
                Some(event) => event,
                None => return,
            },
            message => ClientEvent::Message {
                stream_id,
                timestamp,
                message,
            },
        };
        self.events.push_back(event);
    }

    fn on_command(&mut self, stream_id: u32, command: Command) -> Option<ClientEvent> {
        match command {
            Command::Result(response) => self.on_response(true, response),
            Command::Error(response) => self.on_response(false, response),
            Command::OnStatus(status) => {
                if stream_id == 0 && status.info.code == StatusCode::ConnectReconnectRequest {
                    let tc_url = status
                        .info
                        .other
                        .iter()
                        .find(|(k, _)| k == "tcUrl")
                        .and_then(|(_, v)| v.as_str())
                        .map(str::to_owned);
                    return Some(ClientEvent::ReconnectRequested {
                        tc_url,
                        description: status.info.description,
                    });
                }
                Some(ClientEvent::Status {
                    stream_id,
                    info: status.info,
                })
            }
            command => Some(ClientEvent::Command { stream_id, command }),
        }
    }

    fn on_response(&mut self, ok: bool, response: Response) -> Option<ClientEvent> {
        match self.transactions.remove(&key(response.transaction_id)) {
            Some(Transaction::Connect) if ok => {
                self.connected = true;
                self.server_caps_ex = response
                    .command_object
                    .get("capsEx")
                    .or_else(|| response.values.first().and_then(|v| v.get("capsEx")))
                    .and_then(amf0::Value::as_f64)
                    .map_or(CapsEx::default(), |n| CapsEx(n as u32));
                Some(ClientEvent::Connected { response })
            }
            Some(Transaction::Connect) => Some(ClientEvent::ConnectRejected { response }),
            Some(Transaction::CreateStream) if ok => {
                let id = response.values.first().and_then(amf0::Value::as_f64);
                match id {
                    Some(n) if n >= 1.0 && n <= f64::from(u32::MAX) => {
                        Some(ClientEvent::StreamCreated {
                            transaction_id: response.transaction_id,
                            stream_id: n as u32,
                        })
                    }
                    _ => Some(ClientEvent::CreateStreamFailed {
                        transaction_id: response.transaction_id,
                        response,
                    }),
                }
            }
            Some(Transaction::CreateStream) => Some(ClientEvent::CreateStreamFailed {
                transaction_id: response.transaction_id,
                response,
            }),
            Some(Transaction::Call(name)) => Some(ClientEvent::CallResponse { name, ok, response }),
            None => {
                let command = if ok {
                    Command::Result(response)
                } else {
                    Command::Error(response)
                };
                Some(ClientEvent::Command {
                    stream_id: 0,
                    command,
                })
            }
        }
    }

    fn next_transaction(&mut self, kind: Transaction) -> f64 {
        let id = self.next_transaction;
        self.next_transaction += 1.0;
        self.transactions.insert(key(id), kind);
        id
    }

    fn send(
        &mut self,
        chunk_stream: u32,
        stream_id: u32,
        timestamp: Timestamp,
        message: Message,
    ) -> Result<(), UsageError> {
        if self.conn.is_closed() {
            return Err(UsageError::Closed);
        }
        if self.conn.handshake_done() {
            self.conn
                .send_message(chunk_stream, stream_id, timestamp, &message)
        } else {
            self.deferred
                .push((chunk_stream, stream_id, timestamp, message));
            Ok(())
        }
    }

    fn send_command(&mut self, stream_id: u32, command: Command) -> Result<(), UsageError> {
        let chunk_stream = if stream_id == 0 {
            csid::COMMAND
        } else {
            csid::STREAM
        };
        let message = Message::Command {
            encoding: ObjectEncoding::Amf0,
            command,
        };
        self.send(chunk_stream, stream_id, Timestamp::ZERO, message)
    }

    // ---- NetConnection --------------------------------------------------

    /// Sends connect. The session sets the transaction id, and announces
    /// `supportsGoAway` and `capsEx` as configured. May be called before the
    /// handshake completes (it is sent right after). Returns the
    /// transaction id.
    pub fn connect(&mut self, mut connect: Connect) -> Result<f64, UsageError> {
        connect.transaction_id = self.next_transaction(Transaction::Connect);
        if self.config.announce_go_away {
            connect.supports_go_away = true;
        }
        if self.config.caps_ex != CapsEx::default() {
            connect.caps_ex = self.config.caps_ex;
        }
        let id = connect.transaction_id;
        self.send_command(0, Command::Connect(Box::new(connect)))?;
        Ok(id)
    }

    /// Sends createStream; the answer comes as
    /// [`ClientEvent::StreamCreated`]. Returns the transaction id.
    pub fn create_stream(&mut self) -> Result<f64, UsageError> {
        let transaction_id = self.next_transaction(Transaction::CreateStream);
        self.send_command(
            0,
            Command::CreateStream {
                transaction_id,
                command_object: amf0::Value::Null,
            },
        )?;
        Ok(transaction_id)
    }

    /// Calls a remote method; the answer comes as
    /// [`ClientEvent::CallResponse`].
    pub fn call(
        &mut self,
        name: &str,
        command_object: amf0::Value,
        args: Vec<amf0::Value>,
    ) -> Result<f64, UsageError> {
        let transaction_id = self.next_transaction(Transaction::Call(name.to_owned()));
        self.send_command(
            0,
            Command::Call {
                name: name.to_owned(),
                transaction_id,
                command_object,
                args,
            },
        )?;
        Ok(transaction_id)
    }

    /// releaseStream (FMLE), sent before publishing.
    pub fn release_stream(&mut self, stream_name: &str) -> Result<(), UsageError> {
        let transaction_id = self.next_transaction(Transaction::Call("releaseStream".into()));
        self.send_command(
            0,
            Command::ReleaseStream {
                transaction_id,
                stream_name: stream_name.to_owned(),
            },
        )?;
        Ok(())
    }

    /// FCPublish (FMLE), sent before publishing.
    pub fn fc_publish(&mut self, stream_name: &str) -> Result<(), UsageError> {
        let transaction_id = self.next_transaction(Transaction::Call("FCPublish".into()));
        self.send_command(
            0,
            Command::FcPublish {
                transaction_id,
                stream_name: stream_name.to_owned(),
            },
        )?;
        Ok(())
    }

    /// FCUnpublish (FMLE): ends a publication on purpose. A client that is
    /// moving to another server (Go Away) does not send it.
    pub fn fc_unpublish(&mut self, stream_name: &str) -> Result<(), UsageError> {
        let transaction_id = self.next_transaction(Transaction::Call("FCUnpublish".into()));
        self.send_command(
            0,
            Command::FcUnpublish {
                transaction_id,
                stream_name: stream_name.to_owned(),
            },
        )?;
        Ok(())
    }

    /// Sends `close`.
    pub fn close_connection(&mut self) -> Result<(), UsageError> {
        self.send_command(
            0,
            Command::Close {
                transaction_id: 0.0,
            },
        )?;
        Ok(())
    }

    // ---- NetStream ------------------------------------------------------

    /// Sends publish on a message stream.
    pub fn publish(
        &mut self,
        stream_id: u32,
        stream_name: &str,
        publish_type: PublishType,
    ) -> Result<(), UsageError> {
        let command = Command::Publish(Publish {
            transaction_id: 0.0,
            stream_name: stream_name.to_owned(),
            publish_type,
        });
        self.send_command(stream_id, command)?;
        Ok(())
    }

    /// Sends play on a message stream (with Set Buffer Length first, as
    /// Flash Player does).
    pub fn play(&mut self, stream_id: u32, play: Play) -> Result<(), UsageError> {
        self.set_buffer_length(stream_id, 3000)?;
        self.send_command(stream_id, Command::Play(play))?;
        Ok(())
    }

    /// Sends Set Buffer Length (user control event 3).
    pub fn set_buffer_length(&mut self, stream_id: u32, millis: u32) -> Result<(), UsageError> {
        let event = UserControlEvent::SetBufferLength {
            stream_id,
            buffer_ms: millis,
        };
        self.send(
            csid::CONTROL,
            0,
            Timestamp::ZERO,
            Message::UserControl(event),
        )?;
        Ok(())
    }

    /// Sends deleteStream.
    pub fn delete_stream(&mut self, stream_id: u32) -> Result<(), UsageError> {
        self.send_command(
            0,
            Command::DeleteStream {
                transaction_id: 0.0,
                stream_id: f64::from(stream_id),
            },
        )?;
        Ok(())
    }

    /// Sends receiveAudio: whether the server should send audio on this
    /// playing stream (RTMP 1.0 section 7.2.2.2).
    pub fn receive_audio(&mut self, stream_id: u32, flag: bool) -> Result<(), UsageError> {
        self.send_command(stream_id, Command::ReceiveAudio { flag })
    }

    /// Sends receiveVideo (section 7.2.2.3).
    pub fn receive_video(&mut self, stream_id: u32, flag: bool) -> Result<(), UsageError> {
        self.send_command(stream_id, Command::ReceiveVideo { flag })
    }

    /// Sends pause (true) or unpause (false) at `millis` (section 7.2.2.8);
    /// the server answers NetStream.Pause.Notify / NetStream.Unpause.Notify.
    pub fn pause(&mut self, stream_id: u32, pause: bool, millis: f64) -> Result<(), UsageError> {
        self.send_command(
            stream_id,
            Command::Pause {
                transaction_id: 0.0,
                pause,
                millis,
            },
        )
    }

    /// Sends seek to `millis` (section 7.2.2.7).
    pub fn seek(&mut self, stream_id: u32, millis: f64) -> Result<(), UsageError> {
        self.send_command(
            stream_id,
            Command::Seek {
                transaction_id: 0.0,
                millis,
            },
        )
    }

    /// Sends closeStream on a message stream.
    pub fn close_stream(&mut self, stream_id: u32) -> Result<(), UsageError> {
        self.send_command(
            stream_id,
            Command::CloseStream {
                transaction_id: 0.0,
            },
        )?;
        Ok(())
    }

    /// Sends audio or video on a publishing message stream.
    pub fn send_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), UsageError> {
        if !self.connected {
            return Err(UsageError::NotConnected);
        }
        let (chunk_stream_id, type_id) = csid::media(kind);
        self.conn.send_raw(RawMessage {
            chunk_stream_id,
            timestamp,
            type_id,
            stream_id,
            payload,
        })
    }

    /// Sends a data message (`@setDataFrame onMetaData` for a publisher).
    pub fn send_data(
        &mut self,
        stream_id: u32,
        timestamp: Timestamp,
        data: DataMessage,
    ) -> Result<(), UsageError> {
        if !self.connected {
            return Err(UsageError::NotConnected);
        }
        let message = Message::Data {
            encoding: ObjectEncoding::Amf0,
            data,
        };
        self.conn
            .send_message(csid::STREAM, stream_id, timestamp, &message)
    }

    /// Sends a Ping Request carrying `now`.
    pub fn send_ping(&mut self, now: u32) -> Result<(), UsageError> {
        let event = UserControlEvent::PingRequest { timestamp: now };
        self.send(
            csid::CONTROL,
            0,
            Timestamp::ZERO,
            Message::UserControl(event),
        )
    }

    /// Closes the session: nothing more is read or queued.
    pub fn close(&mut self) {
        self.conn.close();
    }
}

/// Transaction ids are numbers; they are matched by their bit pattern.
fn key(transaction_id: f64) -> u64 {
    transaction_id.to_bits()
}
