//! The tool against an in-process Baton server: every player gets every
//! frame from its first one, latency is measured, bytes are delivered.

mod common;

use std::time::Duration;

use baton_bench::{Config, Report, run};
use baton_server::{BoundServer, Config as ServerConfig};
use clap::Parser;

/// Bound on each whole test.
const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the tool against a fresh server with a short timeline.
async fn bench(publishers: u32, players: u32, extra: &[&str]) -> Report {
    let mut server_config = ServerConfig::default();
    server_config.server.listen = "127.0.0.1:0".parse().unwrap();
    let server = BoundServer::bind(server_config).await.unwrap();
    let addr = server.local_addr().unwrap();
    let shutdown = server.shutdown_handle();
    let task = tokio::spawn(server.run());
    let url = format!("rtmp://{addr}/live");
    let publishers = publishers.to_string();
    let players = players.to_string();
    let mut args = vec![
        "baton-bench",
        "--url",
        &url,
        "--publishers",
        &publishers,
        "--players",
        &players,
        "--server-pid",
    ];
    let pid = std::process::id().to_string();
    args.push(&pid);
    args.extend_from_slice(&common::SHORT_RUN);
    args.extend_from_slice(extra);
    let config = Config::parse_from(args);
    let report = tokio::time::timeout(TEST_TIMEOUT, run(config))
        .await
        .expect("the run ends on time")
        .expect("the run starts");
    shutdown.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    eprintln!("{}", baton_bench::table::render(&report));
    report
}

fn assert_clean(report: &Report, players: u64) {
    assert_eq!(report.fatal(), None);
    let slow = u64::from(report.config.slow_players);
    assert_eq!(
        u64::from(report.players.connected),
        players + slow,
        "{:?}",
        report.players.failures
    );
    assert_eq!(report.slow.counts.players, slow);
    let n = &report.normal.counts;
    assert_eq!(n.players, players);
    assert_eq!(n.lost, 0, "no frame lost");
    assert_eq!(n.duplicated, 0);
    assert_eq!(n.reordered, 0);
    assert_eq!(
        n.not_starting_on_keyframe, 0,
        "the GOP cache starts on a keyframe"
    );
    assert_eq!(n.disconnected, 0);
    assert!(n.frames_received > 0);
    let p99 = report.normal.latency_ms.p99.expect("latency measured");
    assert!((0.0..1000.0).contains(&p99), "{p99}");
    assert!(report.delivered_bytes > 0);
    assert!(report.delivered_gbps > 0.0);
    assert!(report.server.cpu_secs.is_some(), "server CPU measured");
    assert!(report.tool.cpu_secs.is_some());
    let json = serde_json::to_value(report).unwrap();
    for key in [
        "label",
        "url",
        "config",
        "publishers",
        "players",
        "idle",
        "window_secs",
        "delivered_bytes",
        "delivered_gbps",
        "normal",
        "slow",
        "server",
        "tool",
    ] {
        assert!(json.get(key).is_some(), "JSON key {key}");
    }
    if slow == 0 {
        assert!(json["slow"]["latency_ms"]["p99"].is_null());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_publisher_twenty_players() {
    let report = bench(1, 20, &[]).await;
    assert_clean(&report, 20);
    assert_eq!(report.publishers.connected, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_publishers_five_players_each_with_idle_and_slow() {
    let report = bench(
        2,
        10,
        &["--idle", "5", "--slow-players", "2", "--slow-rate", "300k"],
    )
    .await;
    assert_clean(&report, 10);
    assert_eq!(report.publishers.connected, 2);
    assert_eq!(report.idle.connected, 5);
    assert!(report.idle.rss_per_connection_kib.is_some());
}
