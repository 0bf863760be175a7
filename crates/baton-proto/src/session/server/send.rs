//! What a server session sends on its own initiative: media and data to
//! players (chunked here, or chunked once elsewhere and shared), status,
//! user control events, pings, RTMP Go Away and the Enhanced RTMP Reconnect
//! Request.

use bytes::Bytes;

use super::ServerSession;
use crate::Timestamp;
use crate::chunk::RawMessage;
use crate::command::{Command, DataMessage, StatusCode, StatusInfo, StatusLevel, on_status};
use crate::message::{self, Message, UserControlEvent};
use crate::session::connection::csid;
use crate::session::{MediaKind, UsageError};

impl ServerSession {
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
        csid::media(kind)
    }

    /// Queues bytes chunked once for many connections (see
    /// [`ChunkEncoder::encode_standalone`](crate::chunk::ChunkEncoder::encode_standalone))
    /// at this session's chunk size, without copying them.
    pub fn send_standalone(&mut self, raw: &RawMessage, chunks: Bytes) -> Result<(), UsageError> {
        self.conn.send_standalone(raw, chunks)
    }

    /// [`ServerSession::send_standalone`] for a media message whose payload
    /// the caller no longer has, only its chunked bytes (`chunks`, from
    /// [`ChunkEncoder::encode_standalone`](crate::chunk::ChunkEncoder::encode_standalone)
    /// at this session's chunk size on [`ServerSession::media_chunk_stream`])
    /// and the payload's `length`.
    pub fn send_standalone_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: Timestamp,
        length: u32,
        chunks: Bytes,
    ) -> Result<(), UsageError> {
        self.conn
            .send_standalone_header(csid::media(kind), stream_id, timestamp, length, chunks)
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
