//! The handover across three nodes, as a deployment runs it: an origin O
//! and two ingest nodes A and B that relay every published stream to O. A
//! player on O (FFmpeg and `baton play`) is connected before the publish.
//! `baton publish SRC rtmp://A/live/s rtmp://B/live/s` sends a 30 s stream;
//! A drains at about 8 s and is restarted, B drains at about 18 s. The
//! players on O get exactly the source, and O never tells them the stream
//! ended before the end.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

fn ingest(origin: &BatonServer, listen: &str) -> BatonServer {
    BatonServer::start_at(listen, &["--push", &origin.url("live")])
}

fn drained_in_time(node: BatonServer, name: &str) {
    let signalled = Instant::now();
    node.proc.terminate();
    let mut proc = node.proc;
    let status = proc.wait(Duration::from_secs(40));
    assert!(status.success(), "{name} exits 0 after its drain: {status}");
    // Its deadline is 30 s: the publisher and the relay leave long before.
    assert!(
        signalled.elapsed() < Duration::from_secs(20),
        "{name} drained in {:?}",
        signalled.elapsed()
    );
}

#[test]
fn three_nodes_origin_and_two_draining_ingests_lose_nothing() {
    if !have_ffmpeg("three_nodes_origin_and_two_draining_ingests_lose_nothing") {
        return;
    }
    let src = source_flv(30);
    let dir = Scratch::new("three-nodes");
    let origin = BatonServer::start(&[]);
    let a = ingest(&origin, "127.0.0.1:0");
    let a_listen = a.addr.to_string();
    let b = ingest(&origin, "127.0.0.1:0");
    let (url_a, url_b) = (a.url("live/s"), b.url("live/s"));

    let out_ffmpeg = dir.path("ffmpeg.flv");
    let out_baton = dir.path("baton.flv");
    let mut ffmpeg_player = Proc::spawn("ffmpeg player", {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(origin.url("live/s"))
            .args(["-c", "copy", "-f", "flv"])
            .arg(&out_ffmpeg);
        cmd
    });
    let mut baton_player = baton(
        "baton play",
        &[
            "play",
            &origin.url("live/s"),
            "-o",
            out_baton.to_str().unwrap(),
            "--idle-timeout",
            "60",
        ],
    );
    // Both players are connected before the publish starts.
    let deadline = Instant::now() + Duration::from_secs(20);
    while origin
        .proc
        .lines()
        .iter()
        .filter(|l| l.contains("playing"))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "players did not connect");
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut publisher = baton(
        "publish",
        &["publish", src.to_str().unwrap(), &url_a, &url_b],
    );
    a.proc
        .wait_for_line(Duration::from_secs(20), |l| l.contains("publishing"));
    let started = Instant::now();

    std::thread::sleep(Duration::from_secs(8));
    drained_in_time(a, "A");
    // A comes back on the same address.
    let a = ingest(&origin, &a_listen);
    let rest = Duration::from_secs(18).saturating_sub(started.elapsed());
    std::thread::sleep(rest);
    drained_in_time(b, "B");

    let status = publisher.wait(Duration::from_secs(60));
    assert!(status.success(), "publisher: {status}");
    let handovers = publisher
        .lines()
        .iter()
        .filter(|l| l.contains("handover") && l.contains("switch"))
        .count();
    assert!(
        handovers >= 2,
        "two handovers logged: {:#?}",
        publisher.lines()
    );
    assert!(
        ffmpeg_player.wait(Duration::from_secs(40)).success(),
        "FFmpeg player on O"
    );
    assert!(
        baton_player.wait(Duration::from_secs(40)).success(),
        "baton player on O"
    );
    for out in [&out_ffmpeg, &out_baton] {
        assert_same_packets(&src, out);
        assert_eq!(decode_errors(out), "", "{} decodes cleanly", out.display());
    }
    drop(a);
}
