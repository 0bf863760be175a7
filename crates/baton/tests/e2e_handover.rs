//! Go Away handover between two real `baton serve` processes: a publisher
//! given `rtmp://A/live/s rtmp://B/live/s` moves from A to B when A drains
//! (SIGTERM), at a keyframe, and what players on A and B recorded together is
//! exactly the source: no frame lost, none twice, timestamps unchanged.

mod support;

use std::time::Duration;

use support::*;

#[test]
fn a_publisher_moves_from_a_draining_server_with_no_frame_lost() {
    if !have_ffmpeg("a_publisher_moves_from_a_draining_server_with_no_frame_lost") {
        return;
    }
    let src = source_flv(20);
    let dir = Scratch::new("handover");
    let a = BatonServer::start(&[]);
    let b = BatonServer::start(&[]);
    let (url_a, url_b) = (a.url("live/s"), b.url("live/s"));
    let (out_a, out_b) = (dir.path("a.flv"), dir.path("b.flv"));
    let mut play_a = baton(
        "play A",
        &[
            "play",
            &url_a,
            "-o",
            out_a.to_str().unwrap(),
            "--idle-timeout",
            "60",
        ],
    );
    let mut play_b = baton(
        "play B",
        &[
            "play",
            &url_b,
            "-o",
            out_b.to_str().unwrap(),
            "--idle-timeout",
            "60",
        ],
    );
    for server in [&a, &b] {
        server
            .proc
            .wait_for_line(Duration::from_secs(20), |l| l.contains("playing"));
    }
    let mut publisher = baton(
        "publish",
        &["publish", src.to_str().unwrap(), &url_a, &url_b],
    );
    a.proc
        .wait_for_line(Duration::from_secs(20), |l| l.contains("publishing"));
    std::thread::sleep(Duration::from_secs(8));
    a.proc.terminate();

    let status = publisher.wait(Duration::from_secs(60));
    assert!(status.success(), "publisher: {status}");
    let status = play_b.wait(Duration::from_secs(30));
    assert!(status.success(), "player on B: {status}");
    // A's player waits out the reconnect window, then gets the end.
    let status = play_a.wait(Duration::from_secs(40));
    assert!(status.success(), "player on A: {status}");
    let mut a_proc = a.proc;
    let status = a_proc.wait(Duration::from_secs(30));
    assert!(status.success(), "A exits 0 after its drain: {status}");
    assert!(
        publisher.lines().iter().any(|l| l.contains("handover")),
        "the publisher logged its handover"
    );

    assert_handover_recordings(&src, &out_a, &out_b);
}
