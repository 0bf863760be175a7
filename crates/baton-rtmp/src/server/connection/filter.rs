//! What a player asked not to receive: NetStream `receiveAudio`,
//! `receiveVideo` (RTMP 1.0 sections 7.2.2.2 and 7.2.2.3) and `pause`
//! (7.2.2.8) on a live stream.
//!
//! Dropping video and resuming it mid-GOP would give the player frames whose
//! references it never got, so video that comes back (receiveVideo true,
//! unpause) resumes at the next keyframe. Sequence headers always pass: a
//! player must never miss a decoder configuration.

use baton_proto::media;
use baton_proto::session::MediaKind;

use crate::SharedMessage;

/// The receive flags of one playing message stream.
#[derive(Debug, Default)]
pub(super) struct PlayFilter {
    no_audio: bool,
    no_video: bool,
    paused: bool,
    video_needs_keyframe: bool,
}

impl PlayFilter {
    /// receiveAudio / receiveVideo.
    pub(super) fn set_receive(&mut self, kind: MediaKind, flag: bool) {
        match kind {
            MediaKind::Audio => self.no_audio = !flag,
            MediaKind::Video => {
                if flag && self.no_video {
                    self.video_needs_keyframe = true;
                }
                self.no_video = !flag;
            }
        }
    }

    /// pause (true) / unpause (false).
    pub(super) fn set_paused(&mut self, paused: bool) {
        if self.paused && !paused {
            self.video_needs_keyframe = true;
        }
        self.paused = paused;
    }

    /// Whether this message goes to the player.
    pub(super) fn passes(&mut self, message: &SharedMessage) -> bool {
        // The per-frame, per-player path: a player that set no flag (almost
        // all of them) costs one branch, no look at the payload.
        if !(self.paused || self.no_audio || self.no_video || self.video_needs_keyframe) {
            return true;
        }
        let payload = message.payload_head();
        match message.kind() {
            MediaKind::Audio => {
                media::audio_is_sequence_header(payload) || !(self.paused || self.no_audio)
            }
            MediaKind::Video => {
                if media::video_is_sequence_header(payload) {
                    return true;
                }
                if self.paused || self.no_video {
                    return false;
                }
                if self.video_needs_keyframe {
                    if !media::video_is_keyframe(payload) {
                        return false;
                    }
                    self.video_needs_keyframe = false;
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::Timestamp;
    use bytes::Bytes;

    fn video(first: u8, packet: u8) -> SharedMessage {
        SharedMessage::new(
            MediaKind::Video,
            Timestamp(0),
            Bytes::from(vec![first, packet, 0, 0, 0, 1]),
        )
    }

    fn audio(packet: u8) -> SharedMessage {
        SharedMessage::new(
            MediaKind::Audio,
            Timestamp(0),
            Bytes::from(vec![0xaf, packet, 1]),
        )
    }

    #[test]
    fn receive_flags_drop_a_kind_and_video_comes_back_on_a_keyframe() {
        let mut f = PlayFilter::default();
        assert!(f.passes(&video(0x27, 1)) && f.passes(&audio(1)));
        f.set_receive(MediaKind::Audio, false);
        assert!(!f.passes(&audio(1)));
        assert!(f.passes(&audio(0)), "AAC sequence header always passes");
        f.set_receive(MediaKind::Video, false);
        assert!(!f.passes(&video(0x17, 1)));
        assert!(
            f.passes(&video(0x17, 0)),
            "AVC sequence header always passes"
        );
        f.set_receive(MediaKind::Video, true);
        assert!(
            !f.passes(&video(0x27, 1)),
            "no inter frame before a keyframe"
        );
        assert!(f.passes(&video(0x17, 1)));
        assert!(f.passes(&video(0x27, 1)));
        f.set_receive(MediaKind::Audio, true);
        assert!(f.passes(&audio(1)));
    }

    #[test]
    fn pause_drops_media_and_unpause_resumes_at_a_keyframe() {
        let mut f = PlayFilter::default();
        f.set_paused(true);
        assert!(!f.passes(&audio(1)) && !f.passes(&video(0x17, 1)));
        f.set_paused(false);
        assert!(f.passes(&audio(1)));
        assert!(!f.passes(&video(0x27, 1)));
        assert!(f.passes(&video(0x17, 1)));
    }
}
