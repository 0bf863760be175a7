//! A player: connect and play through the client library, then count every
//! video message into its [`PlayerStats`] until the run closes. Slow
//! players read through a [`Throttled`] transport.

use std::sync::Arc;

use baton_rtmp::client::{ClientConfig, Connection, Player, PlayerEvent};
use baton_rtmp::{MediaKind, RtmpError, TimeoutPhase};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};

use crate::config::Config;
use crate::stats::{PlayerStats, Window};
use crate::throttle::Throttled;
use crate::timeline::Timeline;
use crate::units::Bitrate;

/// How a player ended.
#[derive(Debug)]
pub(crate) enum PlayerOutcome {
    /// It played (its counters).
    Played(Box<PlayerStats>),
    /// It could not start: a short reason.
    Failed(String),
}

/// Joins at `join_at`, plays `publisher`'s stream, counts until
/// `close_at`. `slow_rate` throttles its reads.
pub(crate) async fn run(
    publisher: u32,
    join_at: Instant,
    slow_rate: Option<Bitrate>,
    config: Arc<Config>,
    client: ClientConfig,
    timeline: Timeline,
) -> PlayerOutcome {
    sleep_until(join_at).await;
    let name = config.stream_name(publisher);
    let deadline = timeline.close_at;
    let joined = tokio::time::timeout_at(deadline, async {
        match slow_rate {
            None => {
                let player = Connection::connect(&config.url, &client)
                    .await?
                    .play(&name)
                    .await?;
                Ok(Joined::Normal(player))
            }
            Some(rate) => {
                let tcp = timeout(
                    client.connect_timeout,
                    TcpStream::connect(config.url.socket_addr_string()),
                )
                .await
                .map_err(|_| RtmpError::Timeout(TimeoutPhase::Connect))??;
                tcp.set_nodelay(true)?;
                let player =
                    Connection::connect_over(Throttled::new(tcp, rate), &config.url, &client)
                        .await?
                        .play(&name)
                        .await?;
                Ok(Joined::Slow(player))
            }
        }
    })
    .await;
    let stats = Box::new(PlayerStats::new(publisher));
    match joined {
        Ok(Ok(Joined::Normal(p))) => PlayerOutcome::Played(play(p, stats, &timeline).await),
        Ok(Ok(Joined::Slow(p))) => PlayerOutcome::Played(play(p, stats, &timeline).await),
        Ok(Err(e)) => PlayerOutcome::Failed(reason(&e)),
        Err(_) => PlayerOutcome::Failed("not started before the end of the run".into()),
    }
}

enum Joined {
    Normal(Player<TcpStream>),
    Slow(Player<Throttled>),
}

/// Reads until the run closes or the connection ends; the player is then
/// dropped (closed without waiting).
async fn play<S>(
    mut player: Player<S>,
    mut stats: Box<PlayerStats>,
    timeline: &Timeline,
) -> Box<PlayerStats>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (start, end) = timeline.window_us();
    let window = Window { start, end };
    let close = sleep_until(timeline.close_at);
    tokio::pin!(close);
    loop {
        let event = tokio::select! {
            biased;
            () = &mut close => break,
            event = player.next() => event,
        };
        match event {
            Ok(Some(PlayerEvent::Media {
                kind: MediaKind::Video,
                payload,
                ..
            })) => stats.on_video(&payload, timeline.us(Instant::now()), window),
            Ok(Some(_)) => {}
            Ok(None) => {
                stats.disconnected = true;
                break;
            }
            Err(e) => {
                tracing::debug!(error = %e, "player ended");
                stats.disconnected = true;
                break;
            }
        }
    }
    stats.finish(window);
    stats
}

/// A short reason for a failed join (the key of the `failures` map).
pub(crate) fn reason(e: &RtmpError) -> String {
    match e {
        RtmpError::Io(io) if io.raw_os_error() == Some(EMFILE) => {
            "too many open files (raise ulimit -n)".into()
        }
        RtmpError::Io(io) => format!("io: {}", io.kind()),
        RtmpError::Timeout(phase) => format!("timeout: {phase}"),
        RtmpError::Rejected { code, .. } => format!("rejected: {code}"),
        RtmpError::Closed => "closed by the server".into(),
        RtmpError::Session(_) => "protocol error".into(),
        other => format!("error: {other}"),
    }
}

/// "Too many open files" (Linux errno 24).
pub(crate) const EMFILE: i32 = 24;
