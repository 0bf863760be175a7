//! Turning what a player receives into an FLV file (Adobe FLV v10.1 annex
//! E), sans-IO: [`FlvRecorder::push`] appends bytes to a buffer that the
//! caller writes out.
//!
//! - The header is written with the first tag. Its audio and video flags
//!   come from the stream's metadata (`audiocodecid`, `videocodecid`) when
//!   the metadata is the first thing received; otherwise both are set,
//!   since a stream that begins with, say, audio may still carry video.
//! - Metadata becomes an `onMetaData` script tag; other data messages
//!   (`onTextData`, `onCuePoint`...) are kept as script tags as received,
//!   except `|RtmpSampleAccess` and `onStatus`, which are about the RTMP
//!   session, not the media.
//! - Audio and video tags keep the timestamps they arrived with.
//! - `--duration`: media time is counted from the first audio or video tag
//!   that is not a sequence header (a late joiner's sequence headers may
//!   carry an older timestamp than the frames that follow).

use baton_proto::Timestamp;
use baton_proto::amf0::Value;
use baton_proto::command::{DataMessage, ObjectEncoding};
use baton_proto::flv::{FlvError, FlvHeader, FlvTag, FlvWriter, TagType};
use baton_proto::media::{Metadata, audio_is_sequence_header, video_is_sequence_header};
use baton_proto::session::MediaKind;
use baton_rtmp::client::PlayerEvent;
use bytes::{Bytes, BytesMut};

/// What to do after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Keep receiving.
    Continue,
    /// Stop: the file is complete.
    Stop(StopReason),
}

/// Why recording stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// The publisher ended the stream.
    Ended,
    /// `--duration` seconds of media were written.
    Duration,
}

/// Writes the FLV of a played stream.
#[derive(Clone, Debug)]
pub(crate) struct FlvRecorder {
    duration_ms: Option<u64>,
    header_written: bool,
    first_media: Option<Timestamp>,
    tags: u64,
}

impl FlvRecorder {
    /// A recorder that stops after `duration_ms` of media, if given.
    pub(crate) fn new(duration_ms: Option<u64>) -> Self {
        FlvRecorder {
            duration_ms,
            header_written: false,
            first_media: None,
            tags: 0,
        }
    }

    /// Tags written so far.
    pub(crate) fn tags(&self) -> u64 {
        self.tags
    }

    /// Appends what `event` adds to the file to `out`.
    pub(crate) fn push(
        &mut self,
        event: PlayerEvent,
        out: &mut BytesMut,
    ) -> Result<Step, FlvError> {
        match event {
            PlayerEvent::Media {
                kind,
                timestamp,
                payload,
            } => {
                let is_header = match kind {
                    MediaKind::Video => video_is_sequence_header(&payload),
                    MediaKind::Audio => audio_is_sequence_header(&payload),
                };
                if !is_header {
                    let first = *self.first_media.get_or_insert(timestamp);
                    let elapsed = i64::from(timestamp.signed_diff(first));
                    if self
                        .duration_ms
                        .is_some_and(|limit| elapsed >= 0 && elapsed.unsigned_abs() >= limit)
                    {
                        return Ok(Step::Stop(StopReason::Duration));
                    }
                }
                let tag_type = match kind {
                    MediaKind::Video => TagType::Video,
                    MediaKind::Audio => TagType::Audio,
                };
                self.write(tag_type, timestamp, payload, None, out)?;
            }
            PlayerEvent::Data { timestamp, data } => {
                if let Some(value) = data.metadata() {
                    let header = header_from_metadata(value);
                    let mut body = BytesMut::new();
                    DataMessage::OnMetaData(value.clone()).encode(ObjectEncoding::Amf0, &mut body);
                    self.write(TagType::Script, timestamp, body.freeze(), Some(header), out)?;
                } else if let DataMessage::Other { handler: name, .. } = &data {
                    if name != "|RtmpSampleAccess" && name != "onStatus" {
                        let mut body = BytesMut::new();
                        data.encode(ObjectEncoding::Amf0, &mut body);
                        self.write(TagType::Script, timestamp, body.freeze(), None, out)?;
                    }
                }
                // @setDataFrame of other frames and @clearDataFrame are
                // instructions to a server, not content.
            }
            PlayerEvent::End => return Ok(Step::Stop(StopReason::Ended)),
            // Signals are logged by the caller.
            _ => {}
        }
        Ok(Step::Continue)
    }

    /// Writes the header if nothing was written yet, so that even an empty
    /// recording is a valid FLV file.
    pub(crate) fn finish(&mut self, out: &mut BytesMut) {
        self.ensure_header(None, out);
    }

    fn ensure_header(&mut self, header: Option<FlvHeader>, out: &mut BytesMut) {
        if !self.header_written {
            let header = header.unwrap_or(FlvHeader {
                has_audio: true,
                has_video: true,
            });
            FlvWriter::header(&header, out);
            self.header_written = true;
        }
    }

    fn write(
        &mut self,
        tag_type: TagType,
        timestamp: Timestamp,
        data: Bytes,
        header: Option<FlvHeader>,
        out: &mut BytesMut,
    ) -> Result<(), FlvError> {
        let tag = FlvTag {
            tag_type,
            timestamp,
            data,
        };
        self.ensure_header(header, out);
        // Writes nothing if it fails: `out` stays a valid file.
        FlvWriter::tag(&tag, out)?;
        self.tags += 1;
        Ok(())
    }
}

/// The header flags the metadata announces; both when it names neither.
fn header_from_metadata(value: &Value) -> FlvHeader {
    match Metadata::from_amf(value) {
        Ok(m) if m.audio_codec_id.is_some() || m.video_codec_id.is_some() => FlvHeader {
            has_audio: m.audio_codec_id.is_some(),
            has_video: m.video_codec_id.is_some(),
        },
        _ => FlvHeader {
            has_audio: true,
            has_video: true,
        },
    }
}

#[cfg(test)]
mod tests;
