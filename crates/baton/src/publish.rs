//! `baton publish INPUT URL [URL...]`: send an FLV file or standard input
//! to an RTMP server, paced by the tags' timestamps.
//!
//! The script tag `onMetaData` goes out as `@setDataFrame onMetaData` (what
//! a server stores and hands to players), other script tags as the data
//! messages they are, audio and video tags as media with their timestamps.
//! At the end of the input (or on Ctrl-C / SIGTERM) the publication is
//! ended on purpose: FCUnpublish, deleteStream.
//!
//! The publisher is a [`ReconnectingPublisher`]: when a server sends Go Away
//! or a Reconnect Request it moves to the URL the request names, else to
//! the next URL given, else to the same one, at a keyframe and with no frame
//! lost (see [`publish_targets`] for how the URLs name the stream).

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use baton_proto::Timestamp;
use baton_proto::command::{DataMessage, ObjectEncoding, handler};
use baton_proto::flv::{FlvTag, TagType};
use baton_proto::limits::AmfLimits;
use baton_proto::media::{Metadata, audio_is_sequence_header, video_is_sequence_header};
use baton_proto::session::MediaKind;
use baton_rtmp::client::{
    ClientConfig, HandoverConfig, HandoverError, ReconnectingPublisher, ServerSignal,
};
use baton_rtmp::{RtmpUrl, split_stream_query};
use bytes::Bytes;
use tokio::io::AsyncRead;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::cli::PublishArgs;
use crate::looping::{Config, LastConfig, LoopClock};
use crate::pace::{DEFAULT_MAX_GAP, Jump, Pacer};
use crate::progress::{self, Progress};
use crate::shutdown::Shutdown;
use crate::source::{FlvSource, Input};
use crate::stream_name;

/// How long ending the publication may take after an error.
const FINISH_AFTER_ERROR: Duration = Duration::from_secs(2);

/// Where the tags go: a [`ReconnectingPublisher`], or a fake in tests.
pub(crate) trait MediaSink {
    /// What sending fails with.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Sends audio or video.
    async fn send_media(
        &mut self,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), Self::Error>;
    /// Sends a data message.
    async fn send_data(
        &mut self,
        timestamp: Timestamp,
        data: DataMessage,
    ) -> Result<(), Self::Error>;
    /// A signal the server sent that the sink did not act on, if any (does
    /// not wait).
    fn take_signal(&mut self) -> Option<ServerSignal>;
}

impl MediaSink for ReconnectingPublisher {
    type Error = HandoverError;

    async fn send_media(
        &mut self,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), HandoverError> {
        self.send(kind, timestamp, payload).await
    }

    async fn send_data(
        &mut self,
        timestamp: Timestamp,
        data: DataMessage,
    ) -> Result<(), HandoverError> {
        ReconnectingPublisher::send_data(self, timestamp, data).await
    }

    fn take_signal(&mut self) -> Option<ServerSignal> {
        // Go Away and Reconnect Request start handovers; the rest is logged
        // by the publisher.
        None
    }
}

/// The URLs of `baton publish` and the stream they publish: the first URL
/// names it (with its query, sent as given on every server); the others
/// name the same stream or none (`rtmp://HOST/APP`), and naming another is
/// an error, so that a typo does not publish elsewhere unnoticed.
pub(crate) fn publish_targets(args: &[String]) -> Result<(Vec<RtmpUrl>, String)> {
    let urls = args
        .iter()
        .map(|a| RtmpUrl::parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    let first = urls
        .first()
        .ok_or_else(|| anyhow!("no URL to publish to"))?;
    let stream = stream_name(first)?;
    for url in &urls[1..] {
        if let Some(other) = url.stream.as_deref()
            && other != stream
        {
            bail!(
                "{url} names stream {other:?}, but the first URL names {stream:?}: every URL publishes the same stream (leave it out of the others)"
            );
        }
    }
    Ok((urls, stream))
}

/// How to send.
#[derive(Clone, Debug)]
pub(crate) struct PumpOptions {
    /// Pace by timestamps.
    pub(crate) pace: bool,
    /// Longest sleep for one tag when pacing.
    pub(crate) max_gap: Duration,
    /// Play the input again at its end (a file only).
    pub(crate) repeat: bool,
    /// Draw a progress line on standard error.
    pub(crate) progress: bool,
}

/// What was sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Audio, video and data messages sent.
    pub(crate) tags: u64,
    /// Their payload bytes.
    pub(crate) bytes: u64,
    /// Media time from the first tag to the last, in ms.
    pub(crate) media_ms: u64,
    /// Passes over the input begun (1 without `--loop`).
    pub(crate) passes: u32,
    /// Configuration tags left out of later passes (same as sent before).
    pub(crate) skipped: u64,
    /// Set when a shutdown request ended the sending, with its name.
    pub(crate) interrupted: Option<&'static str>,
}

/// Runs `baton publish`.
pub(crate) async fn run(args: PublishArgs, shutdown: &mut Shutdown) -> Result<()> {
    let (urls, stream) = publish_targets(&args.urls)?;
    let url = urls[0].clone();
    let input = Input::from_arg(&args.input);
    if args.repeat && !input.can_rewind() {
        bail!("--loop needs a file: standard input cannot be read twice");
    }
    // Open and check the input before connecting, so that a wrong path or
    // a file that is not FLV fails at once.
    let source = tokio::select! {
        biased;
        name = shutdown.wait() => bail!("interrupted by {name}"),
        s = input.open() => s?,
    };
    let config = ClientConfig {
        connect_timeout: Duration::from_secs_f64(args.timeout),
        reply_timeout: Duration::from_secs_f64(args.timeout),
        ..ClientConfig::default()
    };
    let handover = HandoverConfig {
        max_handover_buffer: Duration::from_secs_f64(args.max_handover_buffer),
        ..HandoverConfig::default()
    };
    let header = source.header();
    debug!(input = %input, audio = header.has_audio, video = header.has_video, "FLV header");
    info!(url = %url, input = %input, "connecting");
    let connect = async {
        ReconnectingPublisher::connect(&urls, &stream, config, handover)
            .await
            .with_context(|| {
                let tc_urls: Vec<String> = urls.iter().map(RtmpUrl::tc_url).collect();
                format!(
                    "cannot publish {:?} on {}",
                    split_stream_query(&stream).0,
                    tc_urls.join(" or ")
                )
            })
    };
    let mut publisher = tokio::select! {
        biased;
        name = shutdown.wait() => bail!("interrupted by {name}"),
        p = connect => p?,
    };
    info!(url = %publisher.current_url(), input = %input, "publishing");
    let options = PumpOptions {
        pace: !args.no_pace,
        max_gap: DEFAULT_MAX_GAP,
        repeat: args.repeat,
        progress: std::io::stderr().is_terminal(),
    };
    let result = pump(&mut publisher, source, &input, &options, shutdown).await;
    let handovers = publisher.handover_stats();
    let last_url = publisher.current_url().clone();
    let totals = match result {
        Ok(totals) => {
            publisher.finish().await.context("ending the publication")?;
            totals
        }
        Err(e) => {
            // End the publication on purpose even after an input error, so
            // that players get the end of the stream; after an error of the
            // connection itself this fails fast, and is bounded anyway.
            match tokio::time::timeout(FINISH_AFTER_ERROR, publisher.finish()).await {
                Ok(Ok(())) => {}
                Ok(Err(finish)) => debug!("ending the publication: {finish}"),
                Err(_) => debug!("ending the publication timed out"),
            }
            return Err(e);
        }
    };
    info!(
        url = %last_url,
        tags = totals.tags,
        handovers = handovers.completed,
        bytes = totals.bytes,
        media = %progress::clock_time(totals.media_ms),
        passes = totals.passes,
        reason = totals.interrupted.unwrap_or("end of input"),
        "published"
    );
    Ok(())
}

/// Sends every tag of `source` (and of further passes over `input` with
/// `--loop`) to `sink`, until the input ends or `shutdown` fires.
pub(crate) async fn pump<S: MediaSink, R: AsyncRead + Unpin>(
    sink: &mut S,
    mut source: FlvSource<R>,
    input: &Input,
    options: &PumpOptions,
    shutdown: &mut Shutdown,
) -> Result<Totals> {
    let mut state = PumpState {
        clock: LoopClock::new(),
        last_config: LastConfig::default(),
        pacer: Pacer::new(options.max_gap),
        progress: Progress::new(Instant::now()),
        first_ts: None,
        totals: Totals {
            passes: 1,
            ..Totals::default()
        },
        drew: false,
        limits: AmfLimits::default(),
    };
    let result = pump_passes(sink, &mut source, input, options, shutdown, &mut state).await;
    if state.drew {
        progress::end_line();
    }
    result?;
    let mut totals = state.totals;
    totals.bytes = state.progress.bytes();
    totals.media_ms = state.progress.media_ms();
    Ok(totals)
}

struct PumpState {
    clock: LoopClock,
    last_config: LastConfig,
    pacer: Pacer,
    progress: Progress,
    first_ts: Option<Timestamp>,
    totals: Totals,
    drew: bool,
    limits: AmfLimits,
}

async fn pump_passes<S: MediaSink, R: AsyncRead + Unpin>(
    sink: &mut S,
    first: &mut FlvSource<R>,
    input: &Input,
    options: &PumpOptions,
    shutdown: &mut Shutdown,
    state: &mut PumpState,
) -> Result<()> {
    // The first pass reads `first`; later ones reopen the file.
    let mut reopened: Option<FlvSource<Box<dyn AsyncRead + Send + Unpin>>> = None;
    loop {
        let next = match reopened.as_mut() {
            None => next_tag(first, shutdown).await?,
            Some(src) => next_tag(src, shutdown).await?,
        };
        let tag = match next {
            Next::Tag(tag) => tag,
            Next::Interrupted(name) => {
                state.totals.interrupted = Some(name);
                return Ok(());
            }
            Next::End if options.repeat => {
                state.clock.next_pass().map_err(|_| {
                    anyhow!("{input} has no audio or video: there is nothing to loop")
                })?;
                state.totals.passes += 1;
                debug!(pass = state.clock.pass(), "looping");
                reopened = Some(input.open().await?);
                continue;
            }
            Next::End => return Ok(()),
        };
        if let Some(name) = send_tag(sink, tag, options, shutdown, state).await? {
            state.totals.interrupted = Some(name);
            return Ok(());
        }
        while let Some(signal) = sink.take_signal() {
            log_signal(&signal);
        }
    }
}

enum Next {
    Tag(FlvTag),
    End,
    Interrupted(&'static str),
}

async fn next_tag<R: AsyncRead + Unpin>(
    source: &mut FlvSource<R>,
    shutdown: &mut Shutdown,
) -> Result<Next> {
    tokio::select! {
        biased;
        name = shutdown.wait() => Ok(Next::Interrupted(name)),
        tag = source.next_tag() => Ok(tag?.map_or(Next::End, Next::Tag)),
    }
}

/// What one FLV tag becomes.
enum Outgoing {
    Media(MediaKind, Bytes),
    Data(DataMessage),
}

/// Sends one tag (paced); `Some(name)` when a shutdown request came while
/// waiting for its time.
async fn send_tag<S: MediaSink>(
    sink: &mut S,
    tag: FlvTag,
    options: &PumpOptions,
    shutdown: &mut Shutdown,
    state: &mut PumpState,
) -> Result<Option<&'static str>> {
    let timestamp = state.clock.map(tag.tag_type, tag.timestamp);
    let size = tag.data.len();
    let (outgoing, config) = match tag.tag_type {
        TagType::Audio => {
            let header = audio_is_sequence_header(&tag.data).then_some(Config::AudioHeader);
            (Outgoing::Media(MediaKind::Audio, tag.data.clone()), header)
        }
        TagType::Video => {
            let header = video_is_sequence_header(&tag.data).then_some(Config::VideoHeader);
            (Outgoing::Media(MediaKind::Video, tag.data.clone()), header)
        }
        TagType::Script => {
            match DataMessage::decode(&tag.data, ObjectEncoding::Amf0, &state.limits) {
                Ok(DataMessage::OnMetaData(value)) => {
                    if let Some(fps) = Metadata::from_amf(&value).ok().and_then(|m| m.frame_rate) {
                        state.clock.set_frame_rate(fps);
                    }
                    let data = DataMessage::SetDataFrame {
                        name: handler::ON_META_DATA.to_owned(),
                        value,
                    };
                    (Outgoing::Data(data), Some(Config::Metadata))
                }
                Ok(data) => (Outgoing::Data(data), None),
                Err(e) => {
                    warn!(timestamp = %tag.timestamp, "skipping a script tag that is not AMF0 data: {e}");
                    return Ok(None);
                }
            }
        }
    };
    if let Some(config) = config {
        let repeat = state.last_config.is_repeat(config, &tag.data);
        if repeat && state.clock.pass() > 0 {
            state.totals.skipped += 1;
            return Ok(None);
        }
    }
    if options.pace {
        let decision = state.pacer.schedule(timestamp, Instant::now());
        match decision.jump {
            Some(Jump::Forward(ms)) => warn!(
                timestamp = %timestamp,
                "timestamps jump {ms} ms past the {} ms cap; not waiting for it",
                options.max_gap.as_millis()
            ),
            Some(Jump::Backward(ms)) => {
                warn!(timestamp = %timestamp, "timestamps go back {ms} ms; pacing from here")
            }
            None => {}
        }
        tokio::select! {
            biased;
            name = shutdown.wait() => return Ok(Some(name)),
            () = tokio::time::sleep_until(decision.send_at) => {}
        }
    }
    match outgoing {
        Outgoing::Media(kind, payload) => sink.send_media(kind, timestamp, payload).await,
        Outgoing::Data(data) => sink.send_data(timestamp, data).await,
    }
    .with_context(|| format!("sending the tag at {timestamp}"))?;
    state.totals.tags += 1;
    let first = *state.first_ts.get_or_insert(timestamp);
    let media_ms = if timestamp.is_after(first) {
        u64::from(timestamp.delta_since(first))
    } else {
        0
    };
    if let Some(line) = state.progress.record(size, media_ms, Instant::now()) {
        if options.progress {
            progress::draw(&line);
            state.drew = true;
        }
    }
    Ok(None)
}

fn log_signal(signal: &ServerSignal) {
    match signal {
        ServerSignal::Status(status) => info!(
            code = %status.code,
            description = status.description.as_deref().unwrap_or(""),
            "server status"
        ),
        ServerSignal::GoAway => info!("the server sent Go Away"),
        ServerSignal::ReconnectRequest {
            tc_url,
            description,
        } => info!(
            tc_url = tc_url.as_deref().unwrap_or("(same)"),
            description = description.as_deref().unwrap_or(""),
            "the server asked to reconnect"
        ),
        other => debug!(signal = ?other, "server signal"),
    }
}

#[cfg(test)]
mod tests;
