//! The server's answers to NetConnection and NetStream commands (RTMP 1.0
//! sections 7.2.1 and 7.2.2) and to the FMLE commands (releaseStream,
//! FCPublish, FCUnpublish) that publishing encoders send.

use super::{Pending, ServerEvent, ServerSession, StreamState, UnpublishReason};
use crate::amf0;
use crate::command::{
    Command, ObjectEncoding, Publish, Response, StatusCode, StatusInfo, StatusLevel,
    create_stream_result, error_response,
};
use crate::session::{MediaKind, ProtocolViolation, SessionError, UsageError};

impl ServerSession {
    pub(super) fn on_command(
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
                let reply = Command::Result(Response {
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
            let reply = Command::Result(Response {
                transaction_id,
                command_object: amf0::Value::Null,
                values: vec![amf0::Value::Undefined],
            });
            self.send_command(0, &reply)?;
        }
        Ok(())
    }
}
