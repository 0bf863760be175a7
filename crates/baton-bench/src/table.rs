//! The report as a readable table.

use std::fmt::Write;

use crate::report::{GroupReport, Report};

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn f1(v: Option<f64>) -> String {
    opt(v.map(|v| format!("{v:.1}")))
}

fn f2(v: Option<f64>) -> String {
    opt(v.map(|v| format!("{v:.2}")))
}

fn group(out: &mut String, name: &str, g: &GroupReport) {
    let (l, c) = (&g.latency_ms, &g.counts);
    let _ = writeln!(
        out,
        "{name:<7} {:>7} {:>10} {:>8} {:>5} {:>5} {:>8} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9}",
        c.players,
        c.frames_received,
        c.lost,
        c.duplicated,
        c.reordered,
        c.players_with_loss,
        c.not_starting_on_keyframe,
        c.disconnected,
        f1(l.p50),
        f1(l.p99),
        f1(l.p999),
        f1(l.max),
        f1(g.longest_stall_ms),
    );
}

/// The report as text.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let c = &r.config;
    let _ = writeln!(
        out,
        "baton-bench {}{}: {} publisher(s) x {} at {} fps, {} player(s) + {} slow at {}, {} idle, window {:.1} s",
        r.url,
        if r.label.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.label)
        },
        c.publishers,
        c.bitrate,
        c.fps,
        c.players,
        c.slow_players,
        c.slow_rate,
        c.idle,
        r.window_secs,
    );
    let _ = writeln!(
        out,
        "publishers {}/{} connected, {} frames, {} bytes sent; players {}/{} connected, {} failed{}",
        r.publishers.connected,
        r.publishers.requested,
        r.publishers.frames_sent,
        r.publishers.bytes_sent,
        r.players.connected,
        r.players.requested,
        r.players.failed,
        if r.players.failures.is_empty() {
            String::new()
        } else {
            let reasons: Vec<String> = r
                .players
                .failures
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            format!(" ({})", reasons.join(", "))
        }
    );
    let _ = writeln!(
        out,
        "{:<7} {:>7} {:>10} {:>8} {:>5} {:>5} {:>8} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "group",
        "players",
        "frames",
        "lost",
        "dup",
        "reord",
        "w/ loss",
        "!key",
        "disc",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "stall ms"
    );
    group(&mut out, "normal", &r.normal);
    if r.slow.counts.players > 0 || c.slow_players > 0 {
        group(&mut out, "slow", &r.slow);
    }
    let _ = writeln!(
        out,
        "delivered {:.3} Gbit/s ({} bytes in the window)",
        r.delivered_gbps, r.delivered_bytes
    );
    let s = &r.server;
    let _ = writeln!(
        out,
        "server {:?}: cpu {} s ({} s/GB), rss before {} KiB, end {} KiB, peak {} KiB, {} KiB/connection",
        s.pids,
        f2(s.cpu_secs),
        f2(s.cpu_secs_per_gb),
        opt(s.rss_before_kib),
        opt(s.rss_end_kib),
        opt(s.rss_peak_kib),
        f1(s.rss_per_connection_kib),
    );
    if r.idle.requested > 0 {
        let _ = writeln!(
            out,
            "idle {}/{} connected, server {} KiB per idle connection",
            r.idle.connected,
            r.idle.requested,
            f1(r.idle.rss_per_connection_kib),
        );
    }
    let _ = writeln!(
        out,
        "tool: cpu {} s, peak rss {} KiB",
        f2(r.tool.cpu_secs),
        opt(r.tool.rss_peak_kib),
    );
    out
}
