//! The run's settings: the command line of `baton-bench` (clap), also used
//! as is by tests and serialized into the JSON report.

use std::path::PathBuf;

use baton_rtmp::RtmpUrl;
use clap::Parser;
use serde::{Serialize, Serializer};

use crate::units::{Bitrate, Seconds};

/// Fan-out load test of an RTMP server: K synthetic publishers, N players,
/// latency, losses and stalls as the players see them, and the server's CPU
/// and memory next to the tool's own.
#[derive(Clone, Debug, Parser, Serialize)]
#[command(name = "baton-bench", version)]
pub struct Config {
    /// Server application URL (streams are `{url}/{prefix}{i}`).
    #[arg(long, default_value = "rtmp://127.0.0.1:1935/live", value_parser = parse_url)]
    #[serde(serialize_with = "url_string")]
    pub url: RtmpUrl,
    /// Synthetic publishers, one stream each.
    #[arg(long, default_value_t = 1)]
    pub publishers: u32,
    /// Normal players in total, spread round-robin over the streams.
    #[arg(long, default_value_t = 100)]
    pub players: u32,
    /// Video bitrate of each publisher (600k, 2M, 8000000).
    #[arg(long, default_value = "2M")]
    pub bitrate: Bitrate,
    /// Frames per second.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Seconds between keyframes.
    #[arg(long, default_value = "2")]
    pub keyframe_interval: Seconds,
    /// Size of a keyframe over the size of an inter frame.
    #[arg(long, default_value_t = 6.0)]
    pub keyframe_ratio: f64,
    /// Extra players that read at most `--slow-rate`.
    #[arg(long, default_value_t = 0)]
    pub slow_players: u32,
    /// Read rate of a slow player.
    #[arg(long, default_value = "1M")]
    pub slow_rate: Bitrate,
    /// Extra connections that connect and then stay idle (server memory per
    /// connection).
    #[arg(long, default_value_t = 0)]
    pub idle: u32,
    /// Players join evenly over this many seconds.
    #[arg(long, default_value = "2")]
    pub join_spread: Seconds,
    /// Seconds of publishing before the first player joins.
    #[arg(long, default_value = "1")]
    pub publish_lead: Seconds,
    /// Seconds after the last join before the measured window.
    #[arg(long, default_value = "3")]
    pub warmup: Seconds,
    /// Length of the measured (steady) window, in seconds.
    #[arg(long, default_value = "10")]
    pub duration: Seconds,
    /// Seconds to wait for frames in flight after the publishers stop.
    #[arg(long, default_value = "3")]
    pub drain: Seconds,
    /// Server process to measure (CPU, memory); repeat to sum several (for
    /// nginx-rtmp, its worker).
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// Worker threads of the tool's runtime (1: a current-thread runtime).
    #[arg(long, default_value_t = 2)]
    pub threads: u16,
    /// Free text copied into the report.
    #[arg(long, default_value = "")]
    pub label: String,
    /// Write the JSON report to this file (`-`: standard output, the table
    /// then goes to standard error).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Stream names are `{prefix}{publisher index}`.
    #[arg(long, default_value = "bench")]
    pub stream_prefix: String,
    /// More logs (-v: info, -vv: debug, -vvv: trace; RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config::parse_from(["baton-bench"])
    }
}

impl Config {
    /// The stream name of publisher `index`.
    pub fn stream_name(&self, index: u32) -> String {
        format!("{}{index}", self.stream_prefix)
    }

    /// Checks the settings that clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.publishers == 0 {
            return Err("--publishers must be at least 1".into());
        }
        if self.fps == 0 || self.fps > 1000 {
            return Err("--fps must be between 1 and 1000".into());
        }
        if !(self.keyframe_ratio >= 1.0 && self.keyframe_ratio <= 1000.0) {
            return Err("--keyframe-ratio must be between 1 and 1000".into());
        }
        if self.keyframe_interval.secs() * f64::from(self.fps) < 1.0 {
            return Err("--keyframe-interval must be at least one frame".into());
        }
        if self.duration.secs() <= 0.0 {
            return Err("--duration must be more than 0".into());
        }
        if self.threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        Ok(())
    }
}

fn parse_url(s: &str) -> Result<RtmpUrl, String> {
    let url = RtmpUrl::parse(s).map_err(|e| e.to_string())?;
    // The URL names the application; a trailing segment is an instance.
    Ok(match url.stream {
        Some(extra) => RtmpUrl {
            app: format!("{}/{extra}", url.app),
            stream: None,
            ..url
        },
        None => url,
    })
}

fn url_string<S: Serializer>(url: &RtmpUrl, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&url.tc_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_repeats() {
        let c = Config::default();
        assert_eq!(c.players, 100);
        assert_eq!(c.bitrate.bps(), 2_000_000);
        assert_eq!(c.url.port, 1935);
        assert!(c.validate().is_ok());
        let c = Config::parse_from([
            "baton-bench",
            "--server-pid",
            "1",
            "--server-pid",
            "2",
            "--bitrate",
            "600k",
            "--duration",
            "0.5",
        ]);
        assert_eq!(c.server_pids, vec![1, 2]);
        assert_eq!(c.bitrate.bps(), 600_000);
        assert_eq!(c.duration.secs(), 0.5);
        assert_eq!(c.stream_name(3), "bench3");
    }
}
