//! A synthetic publisher: onMetaData, the AVC sequence header, then bench
//! frames paced at the frame rate by absolute deadlines (frame n at
//! start + n/fps, so that pacing does not drift), until the window ends.

use std::sync::Arc;
use std::time::Duration;

use baton_proto::amf0::Value;
use baton_rtmp::client::{ClientConfig, Connection, Publisher};
use baton_rtmp::{DataMessage, MediaKind, PublishType, RtmpError, Timestamp};
use tokio::time::{Instant, sleep_until, timeout, timeout_at};

use crate::avc;
use crate::config::Config;
use crate::frame::{FrameHeader, FrameSizes, FrameWriter};
use crate::timeline::Timeline;

/// Picture size announced in the SPS and metadata.
pub(crate) const WIDTH: u32 = 1280;
/// Picture height.
pub(crate) const HEIGHT: u32 = 720;
/// How long the publisher's goodbye may take.
const FINISH_TIMEOUT: Duration = Duration::from_secs(1);

/// What a publisher did.
#[derive(Clone, Debug, Default)]
pub(crate) struct PublisherResult {
    /// Publishing started.
    pub(crate) connected: bool,
    /// Why it did not start or stopped early.
    pub(crate) error: Option<String>,
    /// Frames sent.
    pub(crate) frames_sent: u64,
    /// Frame payload bytes sent.
    pub(crate) bytes_sent: u64,
    /// Sequence number of the last frame sent.
    pub(crate) last_seq: Option<u64>,
    /// Frames sent inside the window.
    pub(crate) window_frames: u64,
}

/// Publishes stream `index` over the timeline; returns at `close_at`.
pub(crate) async fn run(
    index: u32,
    config: Arc<Config>,
    client: ClientConfig,
    timeline: Timeline,
) -> PublisherResult {
    let mut result = PublisherResult::default();
    let name = config.stream_name(index);
    let publisher = timeout_at(timeline.window_end, async {
        Connection::connect(&config.url, &client)
            .await?
            .publish(&name, PublishType::Live)
            .await
    })
    .await;
    let mut publisher = match publisher {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::warn!(stream = %name, error = %e, "publish failed");
            result.error = Some(e.to_string());
            return result;
        }
        Err(_) => {
            result.error = Some("publish did not start before the window ended".into());
            return result;
        }
    };
    result.connected = true;
    let sent = timeout_at(
        timeline.window_end,
        send_frames(index, &config, &timeline, &mut publisher, &mut result),
    )
    .await;
    let sent = match sent {
        Ok(sent) => sent,
        // Cut while the socket was full: what is queued still goes out.
        Err(_) => timeout_at(timeline.close_at, publisher.flush())
            .await
            .unwrap_or(Ok(())),
    };
    if let Err(e) = sent {
        tracing::warn!(stream = %name, error = %e, "publisher stopped");
        result.error = Some(e.to_string());
        return result;
    }
    sleep_until(timeline.close_at).await;
    let _ = timeout(FINISH_TIMEOUT, publisher.finish()).await;
    result
}

/// Metadata, sequence header, then frames until the window ends.
async fn send_frames(
    index: u32,
    config: &Config,
    timeline: &Timeline,
    publisher: &mut Publisher,
    result: &mut PublisherResult,
) -> Result<(), RtmpError> {
    let sizes = FrameSizes::new(
        config.bitrate,
        config.fps,
        config.keyframe_interval.secs(),
        config.keyframe_ratio,
    );
    publisher
        .send_data(Timestamp::ZERO, metadata(config))
        .await?;
    publisher
        .send(
            MediaKind::Video,
            Timestamp::ZERO,
            avc::sequence_header_tag(WIDTH, HEIGHT),
        )
        .await?;
    let (window_start, window_end) = timeline.window_us();
    let frame_period = Duration::from_secs(1).div_f64(f64::from(config.fps));
    let mut writer = FrameWriter::new(&sizes);
    for seq in 0u64.. {
        let deadline = timeline.start + frame_period.mul_f64(seq as f64);
        if deadline >= timeline.window_end {
            break;
        }
        sleep_until(deadline).await;
        let sent_us = timeline.us(Instant::now());
        let header = FrameHeader {
            key: sizes.is_key(seq),
            publisher: index,
            seq,
            sent_us,
        };
        let payload = writer.frame(&header, sizes.size(seq));
        let len = payload.len() as u64;
        let ts = Timestamp::from_millis((seq * 1000 / u64::from(config.fps)) as u32);
        // Counted before the send: a send cut by the window end is queued.
        result.frames_sent += 1;
        result.bytes_sent += len;
        result.last_seq = Some(seq);
        if (window_start..window_end).contains(&sent_us) {
            result.window_frames += 1;
        }
        publisher.send(MediaKind::Video, ts, payload).await?;
    }
    publisher.flush().await
}

/// `@setDataFrame onMetaData` for the synthetic stream.
fn metadata(config: &Config) -> DataMessage {
    let number = |name: &str, v: f64| (name.to_owned(), Value::Number(v));
    DataMessage::SetDataFrame {
        name: "onMetaData".to_owned(),
        value: Value::EcmaArray(vec![
            number("width", f64::from(WIDTH)),
            number("height", f64::from(HEIGHT)),
            number("framerate", f64::from(config.fps)),
            number("videocodecid", 7.0),
            number("videodatarate", config.bitrate.bps() as f64 / 1000.0),
            (
                "encoder".to_owned(),
                Value::String("baton-bench".to_owned()),
            ),
        ]),
    }
}
