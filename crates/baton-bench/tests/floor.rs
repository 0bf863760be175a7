//! The tool against `baton-floor` (the benchmark's floor server), started
//! as a child process: every player gets every frame from its first one,
//! and the floor's CPU is measured like any server's.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use baton_bench::{Config, run};
use clap::Parser;

/// Bound on the run.
const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The floor server, killed on drop.
struct Floor(Child);

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `baton-floor` on a free port; its address from its first line.
fn start_floor() -> (Floor, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton-floor"))
        .args(["--listen", "127.0.0.1:0", "--chunk-size", "4096"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("baton-floor starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let floor = Floor(child);
    let mut stderr = BufReader::new(stderr);
    let mut line = String::new();
    stderr
        .read_line(&mut line)
        .expect("baton-floor says where it listens");
    // Keep reading (and showing) what it says, so that it never writes to a
    // closed pipe.
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("baton-floor: {line}");
        }
    });
    let addr = line
        .trim()
        .strip_prefix("baton-floor listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (floor, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_delivers_every_frame_and_its_cpu_is_measured() {
    let (floor, addr) = start_floor();
    let url = format!("rtmp://{addr}/live");
    let pid = floor.0.id().to_string();
    let mut args = vec![
        "baton-bench",
        "--url",
        &url,
        "--publishers",
        "2",
        "--players",
        "20",
        "--server-pid",
        &pid,
    ];
    args.extend_from_slice(&common::SHORT_RUN);
    let config = Config::parse_from(args);
    let report = tokio::time::timeout(TEST_TIMEOUT, run(config))
        .await
        .expect("the run ends on time")
        .expect("the run starts");
    eprintln!("{}", baton_bench::table::render(&report));
    assert_eq!(report.fatal(), None);
    assert_eq!(
        report.players.connected, 20,
        "{:?}",
        report.players.failures
    );
    let n = &report.normal.counts;
    assert_eq!(n.players, 20);
    assert!(n.frames_received > 0);
    assert_eq!(n.lost, 0, "no frame lost after each player's first");
    assert_eq!((n.duplicated, n.reordered, n.disconnected), (0, 0, 0));
    assert!(report.delivered_bytes > 0);
    assert!(
        report.server.cpu_secs.is_some() && report.server.cpu_secs_per_gb.is_some(),
        "the floor's CPU is read from /proc: {:?}",
        report.server
    );
    drop(floor);
}
