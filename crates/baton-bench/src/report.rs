//! The results of a run, serialized as the JSON report (`null` where
//! nothing was measured) and printed as a table ([`crate::table`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::stats::{FrameCounts, GroupStats};

/// Everything a run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `--label`.
    pub label: String,
    /// The application URL.
    pub url: String,
    /// Every setting of the run.
    pub config: Config,
    /// The synthetic publishers.
    pub publishers: PublishersReport,
    /// Joins of normal and slow players.
    pub players: PlayersReport,
    /// Idle connections.
    pub idle: IdleReport,
    /// Length of the measured window, seconds.
    pub window_secs: f64,
    /// Video payload bytes all players received inside the window.
    pub delivered_bytes: u64,
    /// `delivered_bytes` in Gbit/s over the window.
    pub delivered_gbps: f64,
    /// Normal players.
    pub normal: GroupReport,
    /// Slow players.
    pub slow: GroupReport,
    /// The measured server processes.
    pub server: ServerReport,
    /// The tool itself.
    pub tool: ToolReport,
    /// Why publishers failed (for the exit message; not in the JSON).
    #[serde(skip)]
    pub publisher_errors: Vec<String>,
}

/// The synthetic publishers.
#[derive(Debug, Default, Serialize)]
pub struct PublishersReport {
    /// `--publishers`.
    pub requested: u32,
    /// Publishing started.
    pub connected: u32,
    /// Frames sent by all.
    pub frames_sent: u64,
    /// Frame bytes sent by all.
    pub bytes_sent: u64,
}

/// Player joins (normal and slow).
#[derive(Debug, Default, Serialize)]
pub struct PlayersReport {
    /// `--players` + `--slow-players`.
    pub requested: u32,
    /// Started playing.
    pub connected: u32,
    /// Could not start.
    pub failed: u32,
    /// Why, with counts.
    pub failures: BTreeMap<String, u64>,
}

/// Idle connections.
#[derive(Debug, Default, Serialize)]
pub struct IdleReport {
    /// `--idle`.
    pub requested: u32,
    /// Connected.
    pub connected: u32,
    /// Server RSS growth per idle connection, KiB.
    pub rss_per_connection_kib: Option<f64>,
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Default, Serialize)]
pub struct LatencyReport {
    /// Median.
    pub p50: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

/// A group of players.
#[derive(Debug, Default, Serialize)]
pub struct GroupReport {
    /// Frame counts (their keys sit at this level of the JSON).
    #[serde(flatten)]
    pub counts: FrameCounts,
    /// Send-to-receive latency of frames sent in the window.
    pub latency_ms: LatencyReport,
    /// Longest gap between two video frames of one player in the window.
    pub longest_stall_ms: Option<f64>,
}

/// The measured server processes (summed).
#[derive(Debug, Default, Serialize)]
pub struct ServerReport {
    /// `--server-pid` values.
    pub pids: Vec<u32>,
    /// CPU seconds (user + system) over the window.
    pub cpu_secs: Option<f64>,
    /// CPU seconds per delivered GB (10^9 bytes).
    pub cpu_secs_per_gb: Option<f64>,
    /// RSS before any connection, KiB.
    pub rss_before_kib: Option<u64>,
    /// RSS before closing, KiB.
    pub rss_end_kib: Option<u64>,
    /// Highest RSS sampled (every 250 ms), KiB.
    pub rss_peak_kib: Option<u64>,
    /// (end - before) over every connection the tool held at the end
    /// (publishers, players, idle), KiB.
    pub rss_per_connection_kib: Option<f64>,
}

/// The tool's own cost.
#[derive(Debug, Default, Serialize)]
pub struct ToolReport {
    /// CPU seconds over the window.
    pub cpu_secs: Option<f64>,
    /// Peak RSS (VmHWM), KiB.
    pub rss_peak_kib: Option<u64>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl From<&GroupStats> for GroupReport {
    fn from(g: &GroupStats) -> GroupReport {
        let q = |q: f64| g.latency.quantile(q).map(ms);
        GroupReport {
            counts: g.counts,
            latency_ms: LatencyReport {
                p50: q(0.5),
                p99: q(0.99),
                p999: q(0.999),
                max: (g.latency.count() > 0).then(|| ms(g.latency.max())),
            },
            longest_stall_ms: g.longest_stall_us.map(ms),
        }
    }
}

impl Report {
    /// Why the run's figures mean nothing, if they do not: no publisher or
    /// no player could start.
    pub fn fatal(&self) -> Option<String> {
        if self.publishers.connected == 0 {
            return Some(format!(
                "no publisher could start publishing: {}",
                self.publisher_errors.join(", ")
            ));
        }
        if self.players.requested > 0 && self.players.connected == 0 {
            let reasons: Vec<String> = self
                .players
                .failures
                .iter()
                .map(|(r, n)| format!("{r} ({n})"))
                .collect();
            return Some(format!("no player could connect: {}", reasons.join(", ")));
        }
        None
    }
}
