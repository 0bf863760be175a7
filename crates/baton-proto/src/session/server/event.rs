//! What a server session tells the application, and the ids it uses.

use bytes::Bytes;

use crate::Timestamp;
use crate::command::{Command, Connect, DataMessage, PublishType};
use crate::handshake::HandshakeOutcome;
use crate::message::Message;
use crate::session::MediaKind;

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
