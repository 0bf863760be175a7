//! A real FFmpeg publisher does not announce Go Away: a draining `baton
//! serve` sends it neither Go Away nor a Reconnect Request, keeps serving
//! it until the drain deadline, then cuts it and exits 0 on time.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

#[test]
fn ffmpeg_without_go_away_is_cut_at_the_drain_deadline() {
    if !have_ffmpeg("ffmpeg_without_go_away_is_cut_at_the_drain_deadline") {
        return;
    }
    let src = source_flv(20);
    let dir = Scratch::new("drain-ffmpeg");
    let config = dir.path("baton.toml");
    std::fs::write(&config, "[server]\ndrain_deadline_secs = 3\n").unwrap();
    let server = BatonServer::start(&["--config", config.to_str().unwrap()]);
    let url = server.url("live/plain");
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-i",
    ])
    .arg(&src)
    .args(["-c", "copy", "-f", "flv", &url]);
    let mut publisher = Proc::spawn("ffmpeg publisher", cmd);
    server
        .proc
        .wait_for_line(Duration::from_secs(20), |l| l.contains("publishing"));
    std::thread::sleep(Duration::from_secs(2));

    let signalled = Instant::now();
    server.proc.terminate();
    let mut proc = server.proc;
    let status = proc.wait(Duration::from_secs(15));
    let took = signalled.elapsed();
    assert!(
        status.success(),
        "baton serve exits 0 after its drain: {status}"
    );
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_secs(6),
        "the drain ended at its 3 s deadline, took {took:?}"
    );
    let lines = proc.lines();
    let has = |s: &str| lines.iter().any(|l| l.contains(s));
    // FFmpeg announced neither: nothing was sent to it, it was served until
    // the deadline and cut there.
    assert!(
        has("asking 0 clients with Go Away, 0 with a Reconnect Request; 1 announced neither"),
        "{lines:#?}"
    );
    assert!(
        has("drain ended at the deadline: 0 asked to move, 0 left by themselves, 1 cut"),
        "{lines:#?}"
    );
    // FFmpeg's publish ends with an error (its server went away mid-file).
    let status = publisher.wait(Duration::from_secs(15));
    assert!(
        !status.success(),
        "FFmpeg was cut before the end of its input"
    );
}
