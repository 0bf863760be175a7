//! The Go Away handover as a player on the origin sees it (issue #4): a
//! report, not a timed test.
//!
//! ```text
//!  ReconnectingPublisher ──► ingest A ──relay push──┐
//!      (urls [A, B])     └─► ingest B ──relay push──┴─► origin O ──► player
//! ```
//!
//! Everything runs in this process on 127.0.0.1 (ephemeral ports, one tokio
//! multi-thread runtime). The publisher sends synthetic H.264-framed video
//! at 25 fps (a keyframe every 25 frames: 1 s GOP) and AAC-framed audio at
//! about 43 fps, paced in real time; every frame carries its sequence
//! number. Then, 20 times: the ingest node the publisher is on drains
//! (Go Away), the publisher moves to the other one, the drained node stops
//! and is started again on the same address.
//!
//! For each handover the report gives the largest interval between two
//! consecutive media arrivals at the player on O over the window from the
//! drain to one second after the publisher's switch (any interval that
//! overlaps it), next to the baseline: the inter-arrival times outside
//! every handover window, in the same run. It also checks every frame sent
//! reached O exactly once: a lost or duplicated frame makes the bench exit
//! with a failure. The gap figures are reported, not asserted.
//!
//! Run: `cargo bench -p baton-server --bench handover` (about a minute;
//! aborted with an error past 5 minutes).

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::amf0::Value;
use baton_proto::command::DataMessage;
use baton_proto::session::MediaKind;
use baton_rtmp::RtmpUrl;
use baton_rtmp::client::{
    ClientConfig, Connection, HandoverConfig, HandoverStats, Player, PlayerEvent,
    ReconnectingPublisher,
};
use baton_rtmp::server::ShutdownHandle;
use baton_server::{BoundServer, Config, ServerError};
use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep, sleep_until, timeout};

/// What goes wrong in the bench.
type BenchResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Handovers measured.
const HANDOVERS: usize = 20;
/// Bound on the whole run.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound on each wait for a node, the publisher or the player.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a restarted node retries binding its address.
const BIND_RETRY: Duration = Duration::from_secs(5);
/// Publishing before the first handover (part of the baseline).
const WARMUP: Duration = Duration::from_secs(3);
/// Pause after a handover's frames reached O, before the next drain.
const SETTLE: Duration = Duration::from_millis(1500);
/// How long after the publisher's switch a handover window lasts.
const WINDOW_TAIL: Duration = Duration::from_secs(1);
/// Start of the stream left out of the baseline (the player's first burst).
const BASELINE_SKIP: Duration = Duration::from_secs(1);

/// Video frame interval (25 fps).
const VIDEO_PERIOD_MS: u64 = 40;
/// Video frames per GOP (one keyframe a second).
const GOP_FRAMES: u64 = 25;
/// AAC frame: 1024 samples at 44.1 kHz (about 43 fps).
const AUDIO_PERIOD_US: u64 = 1024 * 1_000_000 / 44_100;
/// Payload sizes (bytes) of a keyframe, an inter frame and an audio frame.
const KEYFRAME_BYTES: usize = 8 * 1024;
const INTER_FRAME_BYTES: usize = 2 * 1024;
const AUDIO_FRAME_BYTES: usize = 256;

/// The origin: a long reconnect window, so a relay's move never ends the
/// stream.
const ORIGIN_TOML: &str = "[streams]\nreconnect_window_secs = 20\n";

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("handover bench: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async { timeout(RUN_TIMEOUT, run()).await });
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(Ok(report)) => {
            report.print();
            if report.lost == 0 && report.duplicated == 0 && report.unknown == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("handover bench: FAILED: frames lost or duplicated at O");
                ExitCode::FAILURE
            }
        }
        Ok(Err(e)) => {
            eprintln!("handover bench: error: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("handover bench: error: still running after {RUN_TIMEOUT:?}");
            ExitCode::FAILURE
        }
    }
}

/// A running server node.
struct Node {
    addr: SocketAddr,
    handle: ShutdownHandle,
    task: JoinHandle<Result<(), ServerError>>,
}

/// Binds `listen` (retrying for [`BIND_RETRY`] while the address is not
/// free yet) and runs the server.
async fn start_node(listen: SocketAddr, toml: &str) -> BenchResult<Node> {
    let deadline = Instant::now() + BIND_RETRY;
    loop {
        let mut config = Config::from_toml_str(toml)?;
        config.server.listen = listen;
        match BoundServer::bind(config).await {
            Ok(server) => {
                let addr = server.local_addr()?;
                let handle = server.shutdown_handle();
                let task = tokio::spawn(server.run());
                return Ok(Node { addr, handle, task });
            }
            Err(ServerError::Bind { .. }) if Instant::now() < deadline => {
                sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Waits for a node's `run()` to return.
async fn stopped(node: Node, name: &str) -> BenchResult<()> {
    timeout(STEP_TIMEOUT, node.task)
        .await
        .map_err(|_| format!("{name} still running {STEP_TIMEOUT:?} after its drain"))???;
    Ok(())
}

/// An ingest node's configuration: relay to O, a short drain deadline.
fn ingest_toml(origin: SocketAddr) -> String {
    format!(
        "[server]\ndrain_deadline_secs = 10\n[relay]\npush = [\"rtmp://{origin}/live\"]\nretry_secs = 20\n"
    )
}

fn url(addr: SocketAddr) -> BenchResult<RtmpUrl> {
    Ok(RtmpUrl::parse(&format!("rtmp://{addr}/live"))?)
}

/// A media frame received by the player on O.
#[derive(Clone, Copy, Debug)]
struct Arrival {
    at: Instant,
    seq: u32,
    video: bool,
}

/// What the player on O got.
#[derive(Debug, Default)]
struct Received {
    arrivals: Vec<Arrival>,
    /// Sequence headers (not counted as frames).
    headers: usize,
}

/// Records every media frame until the stream ends; `highest` follows the
/// largest sequence number seen (plus one).
async fn watch_player(
    mut player: Player<TcpStream>,
    highest: Arc<AtomicU32>,
) -> BenchResult<Received> {
    let mut got = Received::default();
    loop {
        let event = timeout(STEP_TIMEOUT, player.next()).await.map_err(|_| {
            format!(
                "the player on O got nothing for {STEP_TIMEOUT:?} after {} frames",
                got.arrivals.len()
            )
        })??;
        let at = Instant::now();
        match event {
            Some(PlayerEvent::Media { kind, payload, .. }) => {
                if payload.len() >= 2 && payload[1] == 0 {
                    got.headers += 1;
                    continue;
                }
                let seq = seq_of(&payload)
                    .ok_or_else(|| format!("a frame of {} bytes at O", payload.len()))?;
                highest.fetch_max(seq + 1, Ordering::Relaxed);
                got.arrivals.push(Arrival {
                    at,
                    seq,
                    video: kind == MediaKind::Video,
                });
            }
            Some(PlayerEvent::End) | None => return Ok(got),
            Some(_) => {}
        }
    }
}

/// The sequence number in a frame's last four bytes.
fn seq_of(payload: &[u8]) -> Option<u32> {
    let tail = payload
        .len()
        .checked_sub(4)
        .map(|start| &payload[start..])?;
    Some(u32::from_be_bytes(tail.try_into().ok()?))
}

/// A frame: FLV tag body `head`, zero filler, sequence number at the end.
fn frame(head: &[u8], len: usize, seq: u32) -> Bytes {
    let mut v = vec![0u8; len];
    v[..head.len()].copy_from_slice(head);
    v[len - 4..].copy_from_slice(&seq.to_be_bytes());
    Bytes::from(v)
}

/// What the publisher task shares with the bench.
#[derive(Clone, Copy, Debug)]
struct Progress {
    /// Handovers completed.
    completed: u32,
    /// When the last one completed (seen right after the send that
    /// switched).
    completed_at: Option<Instant>,
    /// Frames sent so far (the next sequence number).
    sent: u32,
    /// Port of the node the publisher is on.
    port: u16,
}

/// What the publisher task did.
#[derive(Debug)]
struct Published {
    sent: u32,
    stats: HandoverStats,
}

/// Publishes paced audio and video until `stop` changes, then finishes.
async fn publish(
    mut p: ReconnectingPublisher,
    progress: watch::Sender<Progress>,
    mut stop: watch::Receiver<bool>,
) -> BenchResult<Published> {
    p.send_data(
        Timestamp(0),
        DataMessage::SetDataFrame {
            name: "onMetaData".into(),
            value: Value::EcmaArray(vec![
                ("width".into(), Value::Number(1280.0)),
                ("framerate".into(), Value::Number(25.0)),
            ]),
        },
    )
    .await?;
    const AVC_HEADER: [u8; 10] = [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff];
    p.send(
        MediaKind::Video,
        Timestamp(0),
        Bytes::from_static(&AVC_HEADER),
    )
    .await?;
    p.send(
        MediaKind::Audio,
        Timestamp(0),
        Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
    )
    .await?;

    let t0 = Instant::now();
    let mut video = interval_at(t0, Duration::from_millis(VIDEO_PERIOD_MS));
    let mut audio = interval_at(t0, Duration::from_micros(AUDIO_PERIOD_US));
    video.set_missed_tick_behavior(MissedTickBehavior::Burst);
    audio.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (mut video_n, mut audio_n, mut seq) = (0u64, 0u64, 0u32);
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = video.tick() => {
                let key = video_n % GOP_FRAMES == 0;
                let (head, len) = if key {
                    ([0x17, 1, 0, 0, 0], KEYFRAME_BYTES)
                } else {
                    ([0x27, 1, 0, 0, 0], INTER_FRAME_BYTES)
                };
                let ts = media_ms(video_n * VIDEO_PERIOD_MS * 1000);
                p.send(MediaKind::Video, ts, frame(&head, len, seq)).await?;
                video_n += 1;
                seq += 1;
            }
            _ = audio.tick() => {
                let ts = media_ms(audio_n * AUDIO_PERIOD_US);
                p.send(MediaKind::Audio, ts, frame(&[0xaf, 1], AUDIO_FRAME_BYTES, seq)).await?;
                audio_n += 1;
                seq += 1;
            }
        }
        let stats = p.handover_stats();
        let port = p.current_url().port;
        progress.send_if_modified(|now| {
            let switched = stats.completed != now.completed;
            if switched {
                now.completed = stats.completed;
                now.completed_at = Some(Instant::now());
            }
            now.sent = seq;
            now.port = port;
            switched
        });
    }
    p.flush().await?;
    let stats = p.handover_stats();
    timeout(STEP_TIMEOUT, p.finish())
        .await
        .map_err(|_| "the publisher did not finish")??;
    Ok(Published { sent: seq, stats })
}

/// A timestamp in milliseconds from microseconds of media time (wraps as
/// RTMP timestamps do).
fn media_ms(us: u64) -> Timestamp {
    Timestamp((us / 1000) as u32)
}

/// One handover as measured.
#[derive(Clone, Copy, Debug)]
struct Handover {
    from: char,
    to: char,
    drained_at: Instant,
    completed_at: Instant,
}

impl Handover {
    fn window(&self) -> (Instant, Instant) {
        (self.drained_at, self.completed_at + WINDOW_TAIL)
    }
}

async fn run() -> BenchResult<Report> {
    let origin = start_node("127.0.0.1:0".parse()?, ORIGIN_TOML).await?;
    let ingest = ingest_toml(origin.addr);
    let a = start_node("127.0.0.1:0".parse()?, &ingest).await?;
    let b = start_node("127.0.0.1:0".parse()?, &ingest).await?;
    let urls = [url(a.addr)?, url(b.addr)?];
    let mut nodes = [Some(a), Some(b)];
    const NAMES: [char; 2] = ['A', 'B'];

    let client = ClientConfig::default();
    let player = Connection::connect(&url(origin.addr)?, &client)
        .await?
        .play("s")
        .await?;
    let highest = Arc::new(AtomicU32::new(0));
    let player = tokio::spawn(watch_player(player, highest.clone()));

    let publisher =
        ReconnectingPublisher::connect(&urls, "s", client, HandoverConfig::default()).await?;
    let (progress_tx, mut progress) = watch::channel(Progress {
        completed: 0,
        completed_at: None,
        sent: 0,
        port: publisher.current_url().port,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let publisher = tokio::spawn(publish(publisher, progress_tx, stop_rx));
    sleep(WARMUP).await;

    let mut handovers = Vec::with_capacity(HANDOVERS);
    for n in 1..=HANDOVERS {
        let now = *progress.borrow_and_update();
        let i = usize::from(now.port != urls[0].port);
        let (from, to) = (NAMES[i], NAMES[1 - i]);
        let node = nodes[i].take().ok_or("a node missing")?;
        let listen = node.addr;
        let drained_at = Instant::now();
        node.handle.drain();
        let done = timeout(
            STEP_TIMEOUT,
            progress.wait_for(|p| p.completed > now.completed),
        )
        .await
        .map_err(|_| format!("handover {n}: the publisher did not switch"))?
        .map_err(|_| format!("handover {n}: the publisher stopped"))?;
        let (completed_at, sent) = (done.completed_at.unwrap_or_else(Instant::now), done.sent);
        drop(done);
        stopped(node, &from.to_string()).await?;
        nodes[i] = Some(start_node(listen, &ingest).await?);
        // The frames sent up to the switch reached O (through the other
        // node's relay).
        let deadline = Instant::now() + STEP_TIMEOUT;
        while highest.load(Ordering::Relaxed) < sent {
            if Instant::now() > deadline {
                return Err(format!("handover {n}: O got nothing through {to}").into());
            }
            sleep(Duration::from_millis(10)).await;
        }
        eprintln!(
            "handover {n:2}: {from} -> {to}, switched {:.0} ms after the drain",
            ms(completed_at - drained_at)
        );
        handovers.push(Handover {
            from,
            to,
            drained_at,
            completed_at,
        });
        sleep_until((Instant::now() + SETTLE).max(completed_at + WINDOW_TAIL)).await;
    }

    stop_tx.send(true)?;
    let published = timeout(STEP_TIMEOUT, publisher)
        .await
        .map_err(|_| "the publisher did not stop")???;
    let received = timeout(STEP_TIMEOUT, player)
        .await
        .map_err(|_| "the player on O did not get the end")???;
    let [a, b] = nodes;
    for (node, name) in [(a, "A"), (b, "B"), (Some(origin), "O")] {
        let node = node.ok_or("a node missing")?;
        node.handle.shutdown();
        stopped(node, name).await?;
    }
    Ok(Report::new(&handovers, &published, &received))
}

/// Milliseconds, as a float.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The largest interval between consecutive `times` that overlaps
/// `[start, end]` (zero if none does).
fn max_gap(times: &[Instant], (start, end): (Instant, Instant)) -> Duration {
    times
        .windows(2)
        .filter(|w| w[1] > start && w[0] < end)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default()
}

/// The intervals between consecutive `times` that overlap no window, from
/// [`BASELINE_SKIP`] after the first arrival.
fn baseline(times: &[Instant], windows: &[(Instant, Instant)]) -> Vec<Duration> {
    let Some(first) = times.first() else {
        return Vec::new();
    };
    let from = *first + BASELINE_SKIP;
    let mut gaps: Vec<Duration> = times
        .windows(2)
        .filter(|w| w[0] >= from)
        .filter(|w| !windows.iter().any(|&(s, e)| w[1] > s && w[0] < e))
        .map(|w| w[1] - w[0])
        .collect();
    gaps.sort();
    gaps
}

/// Median, 99th percentile and max of sorted durations, in ms.
#[derive(Clone, Copy, Debug, Default)]
struct Summary {
    median: f64,
    p99: f64,
    max: f64,
}

impl Summary {
    fn of(sorted: &[Duration]) -> Summary {
        let n = sorted.len();
        if n == 0 {
            return Summary::default();
        }
        let median = if n % 2 == 1 {
            ms(sorted[n / 2])
        } else {
            (ms(sorted[n / 2 - 1]) + ms(sorted[n / 2])) / 2.0
        };
        let p99 = ms(sorted[((n * 99).div_ceil(100)).saturating_sub(1)]);
        Summary {
            median,
            p99,
            max: ms(sorted[n - 1]),
        }
    }
}

/// One handover's row.
#[derive(Debug)]
struct Row {
    from: char,
    to: char,
    switch_ms: f64,
    gap_ms: f64,
    video_gap_ms: f64,
}

/// The figures of a run.
#[derive(Debug)]
struct Report {
    rows: Vec<Row>,
    gap: Summary,
    video_gap: Summary,
    baseline: Summary,
    video_baseline: Summary,
    sent: u32,
    received: usize,
    lost: usize,
    duplicated: usize,
    /// Sequence numbers never sent.
    unknown: usize,
    out_of_order: usize,
    headers: usize,
    stats: HandoverStats,
}

impl Report {
    fn new(handovers: &[Handover], published: &Published, received: &Received) -> Report {
        let all: Vec<Instant> = received.arrivals.iter().map(|a| a.at).collect();
        let video: Vec<Instant> = received
            .arrivals
            .iter()
            .filter(|a| a.video)
            .map(|a| a.at)
            .collect();
        let windows: Vec<(Instant, Instant)> = handovers.iter().map(Handover::window).collect();
        let rows: Vec<Row> = handovers
            .iter()
            .map(|h| Row {
                from: h.from,
                to: h.to,
                switch_ms: ms(h.completed_at - h.drained_at),
                gap_ms: ms(max_gap(&all, h.window())),
                video_gap_ms: ms(max_gap(&video, h.window())),
            })
            .collect();
        let sorted = |f: fn(&Row) -> f64| {
            let mut v: Vec<Duration> = rows
                .iter()
                .map(|r| Duration::from_secs_f64(f(r) / 1000.0))
                .collect();
            v.sort();
            v
        };

        let mut seen = vec![0u32; published.sent as usize];
        let (mut unknown, mut out_of_order, mut last) = (0, 0, None);
        for a in &received.arrivals {
            match seen.get_mut(a.seq as usize) {
                Some(count) => *count += 1,
                None => unknown += 1,
            }
            if last.is_some_and(|l| a.seq < l) {
                out_of_order += 1;
            }
            last = Some(a.seq);
        }
        Report {
            gap: Summary::of(&sorted(|r| r.gap_ms)),
            video_gap: Summary::of(&sorted(|r| r.video_gap_ms)),
            baseline: Summary::of(&baseline(&all, &windows)),
            video_baseline: Summary::of(&baseline(&video, &windows)),
            rows,
            sent: published.sent,
            received: received.arrivals.len(),
            lost: seen.iter().filter(|&&c| c == 0).count(),
            duplicated: seen.iter().map(|&c| c.saturating_sub(1) as usize).sum(),
            unknown,
            out_of_order,
            headers: received.headers,
            stats: published.stats,
        }
    }

    fn print(&self) {
        println!();
        println!(
            "Handover gap at the player on O ({HANDOVERS} handovers, 25 fps video + ~43 fps audio)"
        );
        println!();
        println!(
            "| # | move | switch after drain (ms) | largest media gap (ms) | largest video gap (ms) |"
        );
        println!("| --- | --- | --- | --- | --- |");
        for (n, r) in self.rows.iter().enumerate() {
            println!(
                "| {} | {} -> {} | {:.0} | {:.1} | {:.1} |",
                n + 1,
                r.from,
                r.to,
                r.switch_ms,
                r.gap_ms,
                r.video_gap_ms
            );
        }
        println!();
        println!("| | median (ms) | p99 (ms) | max (ms) |");
        println!("| --- | --- | --- | --- |");
        for (name, s) in [
            ("handover gap, all media", self.gap),
            ("handover gap, video", self.video_gap),
            ("baseline inter-arrival, all media", self.baseline),
            ("baseline inter-arrival, video", self.video_baseline),
        ] {
            println!("| {name} | {:.1} | {:.1} | {:.1} |", s.median, s.p99, s.max);
        }
        println!();
        println!(
            "frames sent {}, received at O {}: LOST {}, DUPLICATED {}, unknown {}, out of order {}; sequence headers at O {}",
            self.sent,
            self.received,
            self.lost,
            self.duplicated,
            self.unknown,
            self.out_of_order,
            self.headers
        );
        println!(
            "publisher: {} handovers started, {} completed, {} failed attempts, {} messages resent",
            self.stats.started, self.stats.completed, self.stats.failed_attempts, self.stats.resent
        );
        let gaps: Vec<String> = self
            .rows
            .iter()
            .map(|r| format!("{:.1}", r.gap_ms))
            .collect();
        let video_gaps: Vec<String> = self
            .rows
            .iter()
            .map(|r| format!("{:.1}", r.video_gap_ms))
            .collect();
        println!(
            "{{\"bench\":\"handover\",\"handovers\":{},\"frame_interval_ms\":{VIDEO_PERIOD_MS},\"gap_ms\":[{}],\"gap_median_ms\":{:.1},\"gap_max_ms\":{:.1},\"video_gap_ms\":[{}],\"video_gap_median_ms\":{:.1},\"video_gap_max_ms\":{:.1},\"baseline_median_ms\":{:.1},\"baseline_p99_ms\":{:.1},\"baseline_max_ms\":{:.1},\"video_baseline_median_ms\":{:.1},\"video_baseline_max_ms\":{:.1},\"sent\":{},\"received\":{},\"lost\":{},\"duplicated\":{},\"unknown\":{},\"out_of_order\":{},\"handovers_completed\":{},\"resent\":{}}}",
            self.rows.len(),
            gaps.join(","),
            self.gap.median,
            self.gap.max,
            video_gaps.join(","),
            self.video_gap.median,
            self.video_gap.max,
            self.baseline.median,
            self.baseline.p99,
            self.baseline.max,
            self.video_baseline.median,
            self.video_baseline.max,
            self.sent,
            self.received,
            self.lost,
            self.duplicated,
            self.unknown,
            self.out_of_order,
            self.stats.completed,
            self.stats.resent
        );
    }
}
