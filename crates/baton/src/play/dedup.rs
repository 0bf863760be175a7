//! After `baton play` moves to a new connection, the new server starts
//! where it can (the last keyframe, with the metadata and sequence headers
//! before it), which overlaps what was already written. [`Dedup`] drops
//! the overlap so that the FLV output stays continuous:
//!
//! - audio or video whose timestamp is not after the last one written of
//!   its kind, until the first one that is (then that kind flows freely
//!   again: equal timestamps in a stream are left alone outside a switch);
//! - metadata and sequence headers identical to the last ones written,
//!   while any kind is still catching up (a changed one is kept).

use baton_proto::Timestamp;
use baton_proto::command::DataMessage;
use baton_proto::media::{audio_is_sequence_header, video_is_sequence_header};
use baton_proto::session::MediaKind;
use baton_rtmp::client::PlayerEvent;
use bytes::Bytes;

/// Per-kind state: 0 video, 1 audio.
fn index(kind: MediaKind) -> usize {
    match kind {
        MediaKind::Video => 0,
        _ => 1,
    }
}

/// What has been written, and whether a switch is being caught up.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    /// The last audio/video timestamp written, per kind (sequence headers
    /// not counted).
    last: [Option<Timestamp>; 2],
    /// Per kind: filtering since the last switch.
    catching_up: [bool; 2],
    headers: [Option<Bytes>; 2],
    metadata: Option<DataMessage>,
}

impl Dedup {
    /// A new connection starts: filter until it passes what was written.
    pub(crate) fn on_switch(&mut self) {
        self.catching_up = [true, true];
    }

    /// Whether `event` should be written (and records it if so).
    pub(crate) fn keep(&mut self, event: &PlayerEvent) -> bool {
        match event {
            PlayerEvent::Media {
                kind,
                timestamp,
                payload,
            } => {
                let i = index(*kind);
                let header = match kind {
                    MediaKind::Video => video_is_sequence_header(payload),
                    _ => audio_is_sequence_header(payload),
                };
                if header {
                    if self.configuring() && self.headers[i].as_ref() == Some(payload) {
                        return false;
                    }
                    self.headers[i] = Some(payload.clone());
                    return true;
                }
                if self.catching_up[i] {
                    if let Some(last) = self.last[i]
                        && !timestamp.is_after(last)
                    {
                        return false;
                    }
                    self.catching_up[i] = false;
                }
                self.last[i] = Some(*timestamp);
                true
            }
            PlayerEvent::Data { data, .. } if data.metadata().is_some() => {
                if self.configuring() && self.metadata.as_ref() == Some(data) {
                    return false;
                }
                self.metadata = Some(data.clone());
                true
            }
            _ => true,
        }
    }

    /// Repeated configuration is dropped while a kind that was written
    /// before is still catching up.
    fn configuring(&self) -> bool {
        (0..2).any(|i| self.catching_up[i] && self.last[i].is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::amf0::Value;

    fn media(kind: MediaKind, ts: u32, payload: &'static [u8]) -> PlayerEvent {
        PlayerEvent::Media {
            kind,
            timestamp: Timestamp(ts),
            payload: Bytes::from_static(payload),
        }
    }

    fn video(ts: u32) -> PlayerEvent {
        media(MediaKind::Video, ts, &[0x27, 1, 0, 0, 0, 7])
    }

    fn audio(ts: u32) -> PlayerEvent {
        media(MediaKind::Audio, ts, &[0xAF, 1, 9])
    }

    fn meta(rate: f64) -> PlayerEvent {
        PlayerEvent::Data {
            timestamp: Timestamp(0),
            data: DataMessage::SetDataFrame {
                name: "onMetaData".into(),
                value: Value::EcmaArray(vec![("framerate".into(), Value::Number(rate))]),
            },
        }
    }

    const AVC_HEADER: &[u8] = &[0x17, 0, 0, 0, 0, 1, 0x64];
    const AAC_HEADER: &[u8] = &[0xAF, 0, 0x12, 0x10];

    fn kept(dedup: &mut Dedup, events: &[PlayerEvent]) -> Vec<bool> {
        events.iter().map(|e| dedup.keep(e)).collect()
    }

    #[test]
    fn the_overlap_after_a_switch_is_dropped() {
        let mut d = Dedup::default();
        let before = [
            meta(25.0),
            media(MediaKind::Video, 0, AVC_HEADER),
            media(MediaKind::Audio, 0, AAC_HEADER),
            video(0),
            audio(10),
            video(40),
            audio(33),
            video(80),
        ];
        assert!(kept(&mut d, &before).iter().all(|k| *k));
        d.on_switch();
        // The new server starts at the last keyframe (40) with the same
        // configuration.
        let after = [
            meta(25.0),
            media(MediaKind::Video, 40, AVC_HEADER),
            media(MediaKind::Audio, 40, AAC_HEADER),
            video(40),
            audio(33),
            video(80),
            audio(56),
            video(120),
            video(120),
        ];
        assert_eq!(
            kept(&mut d, &after),
            [false, false, false, false, false, false, true, true, true],
            "after catching up, equal timestamps are the stream's own"
        );
    }

    #[test]
    fn changed_configuration_is_kept_and_nothing_is_dropped_without_a_switch() {
        let mut d = Dedup::default();
        let events = [
            meta(25.0),
            meta(25.0),
            media(MediaKind::Video, 0, AVC_HEADER),
            media(MediaKind::Video, 0, AVC_HEADER),
            video(40),
            video(40),
        ];
        assert!(kept(&mut d, &events).iter().all(|k| *k));
        d.on_switch();
        let after = [
            meta(30.0),
            media(MediaKind::Video, 40, &[0x17, 0, 0, 0, 0, 2, 0x64]),
            video(40),
            video(41),
        ];
        assert_eq!(kept(&mut d, &after), [true, true, false, true]);
    }

    #[test]
    fn a_kind_never_written_is_not_held_back() {
        let mut d = Dedup::default();
        assert!(d.keep(&video(100)));
        d.on_switch();
        // Audio starts only on the new connection, at an earlier time.
        assert!(d.keep(&audio(90)));
        assert!(!d.keep(&video(100)));
        assert!(d.keep(&video(140)));
    }
}
