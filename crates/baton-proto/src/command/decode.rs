//! Reading a command from its AMF values (RTMP 1.0 section 7.2): the layout
//! of each known command, checked once, with the spec defaults for trailing
//! optional arguments.

use super::value::{self, Args, as_number, into_properties, into_string};
use super::{
    Command, CommandError, Connect, OnStatus, Play, Play2, Publish, PublishType, Response,
    StatusInfo, name,
};
use crate::amf::amf0::Value;

impl Command {
    /// Reads a command from its decoded values.
    pub fn from_values(values: Vec<Value>) -> Result<Command, CommandError> {
        let mut values = values.into_iter();
        let command = match values.next() {
            None => return Err(CommandError::Empty),
            Some(v) => into_string(v).map_err(|v| CommandError::NameNotString {
                found: value::kind(&v),
            })?,
        };
        let mut a = Args::new(command, values);
        let cmd = match a.command() {
            name::CONNECT => {
                let transaction_id = a.transaction_id()?;
                let object = match a.next_value() {
                    None => return Err(missing(name::CONNECT, "command object", "an object")),
                    Some(v) => into_properties(v).map_err(|v| CommandError::WrongType {
                        command: name::CONNECT.to_owned(),
                        argument: "command object",
                        expected: "an object",
                        found: value::kind(&v),
                    })?,
                };
                let connect =
                    Connect::from_parts(transaction_id, object, a.rest()).map_err(|reason| {
                        CommandError::InvalidArgument {
                            command: name::CONNECT.to_owned(),
                            argument: "command object",
                            reason,
                        }
                    })?;
                Command::Connect(Box::new(connect))
            }
            name::CLOSE => Command::Close {
                transaction_id: a.transaction_id()?,
            },
            name::CREATE_STREAM => Command::CreateStream {
                transaction_id: a.transaction_id()?,
                command_object: a.command_object(),
            },
            name::RESULT | name::ERROR => {
                let is_result = a.command() == name::RESULT;
                let response = Response {
                    transaction_id: a.transaction_id()?,
                    command_object: a.command_object(),
                    values: a.rest(),
                };
                if is_result {
                    Command::Result(response)
                } else {
                    Command::Error(response)
                }
            }
            name::ON_STATUS => {
                let transaction_id = a.transaction_id()?;
                let info = status_info(&mut a)?;
                Command::OnStatus(OnStatus {
                    transaction_id,
                    info,
                })
            }
            name::ON_FC_PUBLISH | name::ON_FC_UNPUBLISH => {
                let is_publish = a.command() == name::ON_FC_PUBLISH;
                a.transaction_id()?;
                let info = status_info(&mut a)?;
                if is_publish {
                    Command::OnFcPublish(info)
                } else {
                    Command::OnFcUnpublish(info)
                }
            }
            name::PLAY => {
                let transaction_id = a.transaction_id()?;
                a.command_object();
                Command::Play(Play {
                    transaction_id,
                    stream_name: a.required_string("stream name")?,
                    start: a.optional_number("start")?.unwrap_or(Play::DEFAULT_START),
                    duration: a
                        .optional_number("duration")?
                        .unwrap_or(Play::DEFAULT_DURATION),
                    reset: a.optional_bool("reset")?.unwrap_or(true),
                })
            }
            name::PLAY2 => {
                let transaction_id = a.transaction_id()?;
                a.command_object();
                Command::Play2(Play2 {
                    transaction_id,
                    parameters: a.required_object("parameters")?,
                })
            }
            name::DELETE_STREAM => {
                let transaction_id = a.transaction_id()?;
                a.command_object();
                Command::DeleteStream {
                    transaction_id,
                    stream_id: a.required_number("stream ID")?,
                }
            }
            name::CLOSE_STREAM => Command::CloseStream {
                transaction_id: a.transaction_id()?,
            },
            name::RECEIVE_AUDIO | name::RECEIVE_VIDEO => {
                let is_audio = a.command() == name::RECEIVE_AUDIO;
                a.transaction_id()?;
                a.command_object();
                let flag = a.required_bool("flag")?;
                if is_audio {
                    Command::ReceiveAudio { flag }
                } else {
                    Command::ReceiveVideo { flag }
                }
            }
            name::PUBLISH => {
                let transaction_id = a.transaction_id()?;
                a.command_object();
                let stream_name = a.required_string("publishing name")?;
                let publish_type = match a.optional_string("publishing type")? {
                    // Absent (or empty): the default.
                    None => PublishType::Live,
                    Some(t) if t.is_empty() => PublishType::Live,
                    Some(t) => PublishType::parse(&t).ok_or(CommandError::UnknownPublishType {
                        transaction_id,
                        stream_name: stream_name.clone(),
                        publish_type: t,
                    })?,
                };
                Command::Publish(Publish {
                    transaction_id,
                    stream_name,
                    publish_type,
                })
            }
            name::SEEK => {
                let transaction_id = a.transaction_id()?;
                a.command_object();
                Command::Seek {
                    transaction_id,
                    millis: a.required_number("milliseconds")?,
                }
            }
            name::PAUSE => {
                let transaction_id = a.transaction_id()?;
                a.command_object();
                Command::Pause {
                    transaction_id,
                    pause: a.required_bool("pause flag")?,
                    millis: a.optional_number("milliseconds")?.unwrap_or(0.0),
                }
            }
            n @ (name::RELEASE_STREAM
            | name::FC_PUBLISH
            | name::FC_UNPUBLISH
            | name::FC_SUBSCRIBE
            | name::GET_STREAM_LENGTH) => {
                let make = match n {
                    name::RELEASE_STREAM => named_release_stream,
                    name::FC_PUBLISH => named_fc_publish,
                    name::FC_UNPUBLISH => named_fc_unpublish,
                    name::FC_SUBSCRIBE => named_fc_subscribe,
                    _ => named_get_stream_length,
                };
                let transaction_id = a.transaction_id()?;
                a.command_object();
                make(transaction_id, a.required_string("stream name")?)
            }
            name::ON_BW_DONE => {
                let transaction_id = a.transaction_id()?;
                a.command_object();
                let bandwidth = a.next_value().as_ref().and_then(as_number);
                Command::OnBwDone {
                    transaction_id,
                    bandwidth,
                }
            }
            name::CHECK_BW => Command::CheckBw {
                transaction_id: a.transaction_id()?,
            },
            _ => {
                let transaction_id = a.optional_number("transaction ID")?.unwrap_or(0.0);
                let command_object = a.command_object();
                let (name, args) = a.into_parts();
                Command::Unknown {
                    name,
                    transaction_id,
                    command_object,
                    args,
                }
            }
        };
        Ok(cmd)
    }
}

fn missing(command: &str, argument: &'static str, expected: &'static str) -> CommandError {
    CommandError::MissingArgument {
        command: command.to_owned(),
        argument,
        expected,
    }
}

/// The info object of `onStatus` / `onFCPublish`: after the (null) command
/// object. Some servers send the info object in the command object's place
/// and nothing after it; that is accepted too.
fn status_info(a: &mut Args) -> Result<StatusInfo, CommandError> {
    let command_object = a.command_object();
    let info = match a.next_value() {
        Some(v) => v,
        None if command_object.properties().is_some() => command_object,
        None => return Err(missing(a.command(), "info object", "an object")),
    };
    StatusInfo::read(a.command(), info)
}

fn named_release_stream(transaction_id: f64, stream_name: String) -> Command {
    Command::ReleaseStream {
        transaction_id,
        stream_name,
    }
}

fn named_fc_publish(transaction_id: f64, stream_name: String) -> Command {
    Command::FcPublish {
        transaction_id,
        stream_name,
    }
}

fn named_fc_unpublish(transaction_id: f64, stream_name: String) -> Command {
    Command::FcUnpublish {
        transaction_id,
        stream_name,
    }
}

fn named_fc_subscribe(transaction_id: f64, stream_name: String) -> Command {
    Command::FcSubscribe {
        transaction_id,
        stream_name,
    }
}

fn named_get_stream_length(transaction_id: f64, stream_name: String) -> Command {
    Command::GetStreamLength {
        transaction_id,
        stream_name,
    }
}
