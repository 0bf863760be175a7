//! One run: idle connections, publishers, players joining over the spread,
//! CPU samples at the window's edges, RSS sampled every 250 ms, then the
//! merged [`Report`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use baton_rtmp::client::ClientConfig;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::config::Config;
use crate::idle;
use crate::player::{self, PlayerOutcome};
use crate::procfs::{self, Pid};
use crate::publisher::{self, PublisherResult};
use crate::report::{
    GroupReport, IdleReport, PlayersReport, PublishersReport, Report, ServerReport, ToolReport,
};
use crate::stats::GroupStats;
use crate::timeline::Timeline;

/// RSS sampling period.
const RSS_PERIOD: Duration = Duration::from_millis(250);
/// Time for idle connections to settle before the server's RSS is read.
const IDLE_SETTLE: Duration = Duration::from_secs(1);
/// Longest wait for a task after the close instant.
const TASK_GRACE: Duration = Duration::from_secs(3);

/// What stops a run before it measures anything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A setting is not usable.
    #[error("invalid settings: {0}")]
    Config(String),
    /// The process ran out of file descriptors.
    #[error(
        "too many open files after {opened} connections: raise the limit (ulimit -n, now {limit}) or ask for fewer"
    )]
    FdLimit {
        /// Connections open when it happened.
        opened: usize,
        /// The soft limit (`ulimit -n`), when known.
        limit: String,
    },
}

/// The client settings of the tool's connections: short waits, so that
/// nothing hangs.
fn client_config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(5),
        reply_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(10),
        write_timeout: Duration::from_secs(5),
        close_timeout: Duration::from_millis(500),
        ..ClientConfig::default()
    }
}

/// The soft descriptor limit (`ulimit -n`), for the error message.
fn fd_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Runs the load test described by `config`.
pub async fn run(config: Config) -> Result<Report, BenchError> {
    config.validate().map_err(BenchError::Config)?;
    let config = Arc::new(config);
    let client = client_config();
    let pids = config.server_pids.clone();
    let rss_before = procfs::sum(&pids, procfs::rss_kib);

    // Idle connections first, so that their cost is measured alone.
    let idle = idle::open(&config.url, &client, config.idle).await;
    if idle.fd_limit_hit {
        let opened = idle.connections.len();
        // Close them first: reading the limit needs a descriptor.
        drop(idle);
        return Err(BenchError::FdLimit {
            opened,
            limit: fd_limit(),
        });
    }
    let idle_rss_per_conn = if idle.connections.is_empty() {
        None
    } else {
        sleep(IDLE_SETTLE).await;
        let after = procfs::sum(&pids, procfs::rss_kib);
        per_connection(rss_before, after, idle.connections.len())
    };

    let timeline = Timeline::new(&config, Instant::now());
    let rss_peak = Arc::new(AtomicU64::new(rss_before.unwrap_or(0)));
    let sampler = tokio::spawn(sample_rss(
        pids.clone(),
        timeline.close_at,
        rss_peak.clone(),
    ));

    let publishers: Vec<JoinHandle<PublisherResult>> = (0..config.publishers)
        .map(|i| tokio::spawn(publisher::run(i, config.clone(), client.clone(), timeline)))
        .collect();
    let total_players = config.players + config.slow_players;
    let players: Vec<(bool, JoinHandle<PlayerOutcome>)> = (0..total_players)
        .map(|i| {
            // Slow players join after the normal ones.
            let slow = i >= config.players;
            let index = if slow { i - config.players } else { i };
            let stream = index % config.publishers;
            let rate = slow.then_some(config.slow_rate);
            let join_at = timeline.join_at(i, total_players);
            let task = tokio::spawn(player::run(
                stream,
                join_at,
                rate,
                config.clone(),
                client.clone(),
                timeline,
            ));
            (slow, task)
        })
        .collect();

    sleep_until(timeline.window_start).await;
    let server_cpu_start = procfs::sum(&pids, procfs::cpu_secs);
    let tool_cpu_start = procfs::cpu_secs(Pid::OwnProcess);
    sleep_until(timeline.window_end).await;
    let server_cpu = procfs::sum(&pids, procfs::cpu_secs)
        .zip(server_cpu_start)
        .map(|(end, start)| end - start);
    let tool_cpu = procfs::cpu_secs(Pid::OwnProcess)
        .zip(tool_cpu_start)
        .map(|(end, start)| end - start);
    sleep_until(timeline.close_at).await;
    let rss_end = procfs::sum(&pids, procfs::rss_kib);

    // Publishers first: their last sequence numbers define the losses.
    let mut pub_results = Vec::with_capacity(publishers.len());
    for task in publishers {
        let result = match timeout(TASK_GRACE, task).await {
            Ok(Ok(r)) => r,
            _ => PublisherResult::default(),
        };
        pub_results.push(result);
    }
    let mut normal = GroupStats::default();
    let mut slow = GroupStats::default();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut connected = 0u32;
    for (is_slow, task) in players {
        let outcome = match timeout(TASK_GRACE, task).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => PlayerOutcome::Failed(format!("task: {e}")),
            Err(_) => PlayerOutcome::Failed("did not stop in time".into()),
        };
        match outcome {
            PlayerOutcome::Played(stats) => {
                connected += 1;
                let p = &pub_results[stats.publisher as usize];
                let group = if is_slow { &mut slow } else { &mut normal };
                group.add(&stats, p.last_seq, p.window_frames);
            }
            PlayerOutcome::Failed(reason) => *failures.entry(reason).or_default() += 1,
        }
    }
    sampler.abort();
    let idle_connected = idle.connections.len();
    drop(idle.connections);
    let open_at_end =
        idle_connected + connected as usize + pub_results.iter().filter(|p| p.connected).count();

    let window_secs = timeline.window_secs();
    let delivered_bytes = normal.window_bytes + slow.window_bytes;
    let gb = delivered_bytes as f64 / 1e9;
    let rss_peak = rss_before.map(|_| rss_peak.load(Ordering::Relaxed));
    for (reason, n) in &idle.failures {
        tracing::warn!(%reason, count = n, "idle connections failed");
    }
    Ok(Report {
        label: config.label.clone(),
        url: config.url.tc_url(),
        publishers: PublishersReport {
            requested: config.publishers,
            connected: pub_results.iter().filter(|p| p.connected).count() as u32,
            frames_sent: pub_results.iter().map(|p| p.frames_sent).sum(),
            bytes_sent: pub_results.iter().map(|p| p.bytes_sent).sum(),
        },
        players: PlayersReport {
            requested: total_players,
            connected,
            failed: total_players - connected,
            failures,
        },
        idle: IdleReport {
            requested: config.idle,
            connected: idle_connected as u32,
            rss_per_connection_kib: idle_rss_per_conn,
        },
        window_secs,
        delivered_bytes,
        delivered_gbps: delivered_bytes as f64 * 8.0 / window_secs / 1e9,
        normal: GroupReport::from(&normal),
        slow: GroupReport::from(&slow),
        server: ServerReport {
            pids,
            cpu_secs: server_cpu,
            cpu_secs_per_gb: server_cpu.filter(|_| gb > 0.0).map(|c| c / gb),
            rss_before_kib: rss_before,
            rss_end_kib: rss_end,
            rss_peak_kib: rss_peak,
            rss_per_connection_kib: per_connection(rss_before, rss_end, open_at_end),
        },
        tool: ToolReport {
            cpu_secs: tool_cpu,
            rss_peak_kib: procfs::rss_peak_kib(Pid::OwnProcess),
        },
        publisher_errors: pub_results.iter().filter_map(|p| p.error.clone()).collect(),
        config: Arc::unwrap_or_clone(config),
    })
}

/// RSS growth per connection, KiB.
fn per_connection(before: Option<u64>, after: Option<u64>, count: usize) -> Option<f64> {
    match (before, after) {
        (Some(b), Some(a)) if count > 0 => Some((a as f64 - b as f64) / count as f64),
        _ => None,
    }
}

/// Keeps the highest summed RSS of `pids` until `until`.
async fn sample_rss(pids: Vec<u32>, until: Instant, peak: Arc<AtomicU64>) {
    if pids.is_empty() {
        return;
    }
    while Instant::now() < until {
        if let Some(rss) = procfs::sum(&pids, procfs::rss_kib) {
            peak.fetch_max(rss, Ordering::Relaxed);
        }
        sleep(RSS_PERIOD).await;
    }
}
