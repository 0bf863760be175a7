//! `baton play URL [-o FILE|-] [--duration SECS]`: play a stream and write
//! it as an FLV file (see [`crate::record`] for what goes in it).
//!
//! Stops when the stream ends (the publisher unpublished), after
//! `--duration` seconds of media, or on Ctrl-C / SIGTERM; in each case the
//! output is flushed and complete, and the exit status is 0. A connection
//! that the server drops before the stream ended is an error (the file
//! written so far is still valid).
//!
//! On Go Away or a Reconnect Request the stream is played again on a new
//! connection and what was already written is left out
//! ([`reconnect`], [`dedup`]).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use baton_rtmp::client::{ClientConfig, Connection, Player, PlayerEvent, ServerSignal};
use baton_rtmp::{RtmpError, RtmpUrl, TimeoutPhase, split_stream_query};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, sleep_until};
use tracing::{debug, info};

use crate::cli::PlayArgs;
use crate::record::{FlvRecorder, Step, StopReason};
use crate::shutdown::Shutdown;
use crate::stream_name;
use reconnect::ReconnectingPlayer;

/// Output is written once this much is buffered...
const WRITE_BATCH: usize = 64 * 1024;
/// ...or this long after the oldest tag not yet written arrived.
const WRITE_DELAY: Duration = Duration::from_millis(50);

/// How long closing the player may take once recording is over.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where events come from: a [`Player`], or a fake in tests.
pub(crate) trait EventSource {
    /// The next event; `None` when the connection closed. Must be cancel
    /// safe (dropping the future loses no event), as `Player::next` is.
    async fn next_event(&mut self) -> Result<Option<PlayerEvent>, RtmpError>;
}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> EventSource for Player<S> {
    async fn next_event(&mut self) -> Result<Option<PlayerEvent>, RtmpError> {
        self.next().await
    }
}

/// Where the FLV goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// Standard output (`-`).
    Stdout,
    /// A file (created or truncated).
    File(PathBuf),
}

impl Output {
    /// `-` is standard output; anything else a file path.
    pub(crate) fn from_arg(arg: &str) -> Output {
        if arg == "-" {
            Output::Stdout
        } else {
            Output::File(PathBuf::from(arg))
        }
    }

    /// Opens the output for writing.
    pub(crate) async fn open(&self) -> Result<Box<dyn AsyncWrite + Send + Unpin>> {
        Ok(match self {
            Output::Stdout => {
                if std::io::stdout().is_terminal() {
                    bail!(
                        "standard output is a terminal: write the FLV to a file with -o FILE, or pipe it (baton play URL | ffplay -)"
                    );
                }
                Box::new(tokio::io::stdout())
            }
            Output::File(path) => Box::new(
                tokio::fs::File::create(path)
                    .await
                    .with_context(|| format!("cannot create {}", path.display()))?,
            ),
        })
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Stdout => f.write_str("standard output"),
            Output::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How recording ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The recorder stopped (stream end, duration).
    Stopped(StopReason),
    /// A shutdown request, with its name.
    Interrupted(&'static str),
}

/// What was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    /// FLV tags.
    pub(crate) tags: u64,
    /// Bytes, header included.
    pub(crate) bytes: u64,
    /// Why it ended.
    pub(crate) ending: Ending,
}

/// Runs `baton play`.
pub(crate) async fn run(args: PlayArgs, shutdown: &mut Shutdown) -> Result<()> {
    let url = RtmpUrl::parse(&args.url)?;
    let stream = stream_name(&url)?;
    let output = Output::from_arg(&args.output);
    // Open the output first: a path that cannot be written fails at once.
    let mut out = output.open().await?;
    let config = ClientConfig {
        connect_timeout: Duration::from_secs_f64(args.timeout),
        reply_timeout: Duration::from_secs_f64(args.timeout),
        read_timeout: Duration::from_secs_f64(args.idle_timeout),
        ..ClientConfig::default()
    };
    info!(url = %url, output = %output, "connecting");
    let key = split_stream_query(&stream).0.to_owned();
    let connect = async {
        let conn = Connection::connect(&url, &config)
            .await
            .with_context(|| format!("cannot connect to {}", url.tc_url()))?;
        conn.play(&stream)
            .await
            .with_context(|| format!("cannot play {key:?} on {}", url.tc_url()))
    };
    let player = tokio::select! {
        biased;
        name = shutdown.wait() => bail!("interrupted by {name}"),
        p = connect => p?,
    };
    let mut player = ReconnectingPlayer::new(player, url.clone(), stream.clone(), config);
    info!(url = %url, output = %output, "playing");
    // Media seconds; clap keeps them above 0 and below a year.
    let duration_ms = args.duration.map(|s| (s * 1000.0).round() as u64);
    let recorded = record(&mut player, &mut out, duration_ms, shutdown).await;
    // Leave on purpose (deleteStream), also when the stream is still on.
    player.close().await;
    let written = recorded
        .map_err(|e| explain_idle(e, args.idle_timeout))
        .with_context(|| format!("recording into {output}"))?;
    let reason = match written.ending {
        Ending::Stopped(StopReason::Ended) => "the stream ended",
        Ending::Stopped(StopReason::Duration) => "duration reached",
        Ending::Interrupted(name) => name,
    };
    info!(
        url = %url,
        output = %output,
        tags = written.tags,
        bytes = written.bytes,
        reason,
        "played"
    );
    Ok(())
}

/// Writes what `source` sends as FLV into `out` until the stream ends,
/// `duration_ms` of media were written, or `shutdown` fires; flushes `out`
/// in every case (also after an error, so that the file written so far is
/// complete).
pub(crate) async fn record<E: EventSource, W: AsyncWrite + Unpin + ?Sized>(
    source: &mut E,
    out: &mut W,
    duration_ms: Option<u64>,
    shutdown: &mut Shutdown,
) -> Result<Written> {
    let mut recorder = FlvRecorder::new(duration_ms);
    let mut buf = BytesMut::new();
    let mut bytes = 0u64;
    let result = record_events(source, out, &mut recorder, &mut buf, &mut bytes, shutdown).await;
    // Even an empty recording gets its header; what is buffered goes out.
    recorder.finish(&mut buf);
    let flushed = async {
        out.write_all(&buf).await?;
        bytes += buf.len() as u64;
        out.flush().await
    }
    .await;
    let ending = result?;
    flushed.context("writing")?;
    Ok(Written {
        tags: recorder.tags(),
        bytes,
        ending,
    })
}

async fn record_events<E: EventSource, W: AsyncWrite + Unpin + ?Sized>(
    source: &mut E,
    out: &mut W,
    recorder: &mut FlvRecorder,
    buf: &mut BytesMut,
    bytes: &mut u64,
    shutdown: &mut Shutdown,
) -> Result<Ending> {
    // Tags are written in batches (one write per WRITE_BATCH bytes, or
    // WRITE_DELAY after the first unwritten tag), so that a burst of small
    // tags costs few writes and the player keeps up with the server.
    let mut unwritten_since: Option<Instant> = None;
    loop {
        let write_at = unwritten_since.map(|at| at + WRITE_DELAY);
        let event = tokio::select! {
            biased;
            name = shutdown.wait() => return Ok(Ending::Interrupted(name)),
            () = sleep_until(write_at.unwrap_or_else(Instant::now)), if write_at.is_some() => {
                write_out(out, buf, bytes).await?;
                unwritten_since = None;
                continue;
            }
            event = source.next_event() => event,
        };
        let event = match event.context("receiving")? {
            Some(event) => event,
            None => bail!("the server closed the connection before the stream ended"),
        };
        if let PlayerEvent::Signal(signal) = &event {
            log_signal(signal);
        }
        let step = recorder.push(event, buf)?;
        if let Step::Stop(reason) = step {
            return Ok(Ending::Stopped(reason));
        }
        if buf.len() >= WRITE_BATCH {
            write_out(out, buf, bytes).await?;
            unwritten_since = None;
        } else if !buf.is_empty() {
            unwritten_since.get_or_insert_with(Instant::now);
        }
    }
}

async fn write_out<W: AsyncWrite + Unpin + ?Sized>(
    out: &mut W,
    buf: &mut BytesMut,
    bytes: &mut u64,
) -> Result<()> {
    out.write_all(buf).await.context("writing")?;
    out.flush().await.context("writing")?;
    *bytes += buf.len() as u64;
    buf.clear();
    Ok(())
}

/// A read timeout, said in the user's terms.
fn explain_idle(err: anyhow::Error, idle_timeout: f64) -> anyhow::Error {
    let idle = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<RtmpError>(),
            Some(RtmpError::Timeout(TimeoutPhase::Read))
        )
    });
    if idle {
        anyhow!(
            "nothing received for {idle_timeout} s (--idle-timeout): is the stream being published?"
        )
    } else {
        err
    }
}

fn log_signal(signal: &ServerSignal) {
    match signal {
        ServerSignal::Status(status) => info!(
            code = %status.code,
            description = status.description.as_deref().unwrap_or(""),
            "server status"
        ),
        ServerSignal::GoAway => info!("the server sent Go Away; moving to a new connection"),
        ServerSignal::ReconnectRequest { tc_url, .. } => info!(
            tc_url = tc_url.as_deref().unwrap_or("(same)"),
            "the server asked to reconnect; moving to a new connection"
        ),
        other => debug!(signal = ?other, "server signal"),
    }
}

mod dedup;
mod reconnect;

#[cfg(test)]
mod tests;
