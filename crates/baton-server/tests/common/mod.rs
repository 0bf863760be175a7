//! Helpers shared by the hub tests: a publisher that numbers its messages,
//! and feeds polled by hand with a no-op waker.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use baton_proto::Timestamp;
use baton_proto::amf0::Value;
use baton_proto::command::DataMessage;
use baton_proto::session::MediaKind;
use baton_rtmp::server::{FeedItem, MediaSink, PlayFeed};
use baton_server::StreamSink;
use baton_server::config::{Config, StreamSettings};
use bytes::Bytes;

/// The default stream settings.
pub fn settings() -> StreamSettings {
    Config::default().streams
}

/// Polls a feed once with a no-op waker.
pub fn poll_once(feed: &mut (impl PlayFeed + ?Sized)) -> Poll<FeedItem> {
    feed.poll_next(&mut Context::from_waker(Waker::noop()))
}

/// Everything a feed has now, described, until it is pending (or closes).
pub fn drain(feed: &mut (impl PlayFeed + ?Sized)) -> Vec<String> {
    let mut out = Vec::new();
    while let Poll::Ready(item) = poll_once(feed) {
        let close = matches!(item, FeedItem::Close(_));
        out.push(describe(&item));
        if close || out.len() > 1_000_000 {
            break;
        }
    }
    out
}

/// A short name for an item: `meta`, `vsh`, `ash`, `K7` (keyframe number
/// 7), `P8` (inter frame), `A9` (audio), `end`, `close`, `data:<handler>`.
pub fn describe(item: &FeedItem) -> String {
    match item {
        FeedItem::Media(msg) => {
            let p = msg.payload();
            let id = || {
                u32::from_be_bytes([
                    p[p.len() - 4],
                    p[p.len() - 3],
                    p[p.len() - 2],
                    p[p.len() - 1],
                ])
            };
            match (msg.kind(), p[0], p[1]) {
                (MediaKind::Video, _, 0) => "vsh".to_owned(),
                (MediaKind::Video, 0x17, _) => format!("K{}", id()),
                (MediaKind::Video, _, _) => format!("P{}", id()),
                (MediaKind::Audio, _, 0) => "ash".to_owned(),
                (MediaKind::Audio, _, _) => format!("A{}", id()),
            }
        }
        FeedItem::Data {
            data: DataMessage::OnMetaData(_),
            ..
        } => "meta".to_owned(),
        FeedItem::Data { data, .. } => format!("data:{}", data.handler()),
        FeedItem::End => "end".to_owned(),
        FeedItem::Close(_) => "close".to_owned(),
    }
}

/// A publisher that numbers its frames (the number ends each payload).
pub struct Publisher {
    pub sink: Box<dyn MediaSink>,
    pub next: u32,
    /// Extra payload bytes per frame.
    pub padding: usize,
}

impl Publisher {
    pub fn new(sink: StreamSink) -> Publisher {
        Publisher {
            sink: Box::new(sink),
            next: 1,
            padding: 0,
        }
    }

    fn frame(&mut self, kind: MediaKind, header: &[u8], ts: u32) -> u32 {
        let id = self.next;
        self.next += 1;
        let mut payload = header.to_vec();
        payload.resize(header.len() + self.padding, 0);
        payload.extend_from_slice(&id.to_be_bytes());
        self.sink
            .on_media(kind, Timestamp(ts), Bytes::from(payload));
        id
    }

    /// `@setDataFrame onMetaData {width: 1280}`.
    pub fn metadata(&mut self) {
        self.sink.on_data(
            Timestamp(0),
            DataMessage::SetDataFrame {
                name: "onMetaData".into(),
                value: Value::EcmaArray(vec![("width".into(), Value::Number(1280.0))]),
            },
        );
    }

    /// AVC and AAC sequence headers.
    pub fn headers(&mut self) {
        self.sink.on_media(
            MediaKind::Video,
            Timestamp(0),
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f]),
        );
        self.sink.on_media(
            MediaKind::Audio,
            Timestamp(0),
            Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
        );
    }

    pub fn keyframe(&mut self, ts: u32) -> u32 {
        self.frame(MediaKind::Video, &[0x17, 1, 0, 0, 0], ts)
    }

    pub fn inter(&mut self, ts: u32) -> u32 {
        self.frame(MediaKind::Video, &[0x27, 1, 0, 0, 0], ts)
    }

    pub fn audio(&mut self, ts: u32) -> u32 {
        self.frame(MediaKind::Audio, &[0xaf, 1], ts)
    }

    /// A GOP of `frames` video frames 40 ms apart from `ts`, each followed by
    /// an audio frame; returns the descriptions in publish order.
    pub fn gop(&mut self, ts: u32, frames: u32) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..frames {
            let t = ts + i * 40;
            if i == 0 {
                out.push(format!("K{}", self.keyframe(t)));
            } else {
                out.push(format!("P{}", self.inter(t)));
            }
            out.push(format!("A{}", self.audio(t + 1)));
        }
        out
    }

    pub fn end(self) {
        self.sink
            .on_end(baton_rtmp::server::PublishEnd::Unpublished(
                baton_proto::session::UnpublishReason::FcUnpublish,
            ));
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
pub struct CountingWaker(pub AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Strings from string literals.
pub fn names(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
