//! Go Away behind a TCP load balancer: HAProxy (Debian's, started by the
//! test) is the single URL in front of two `baton serve` nodes A and B.
//! When A drains, the publisher reconnects to the same URL and lands on B;
//! what players on A and B recorded together is exactly the source.

mod support;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use support::*;

fn have_haproxy() -> bool {
    let ok = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("haproxy is required in CI (.ci/run installs it)");
        }
        eprintln!("\n*** SKIPPING e2e_haproxy: haproxy not found (apt-get install haproxy). ***\n");
    }
    ok
}

#[test]
fn behind_haproxy_a_publisher_lands_on_the_other_node_with_no_frame_lost() {
    if !have_ffmpeg("behind_haproxy_a_publisher_lands_on_the_other_node_with_no_frame_lost")
        || !have_haproxy()
    {
        return;
    }
    let src = source_flv(20);
    let dir = Scratch::new("haproxy");
    let a = BatonServer::start(&[]);
    let b = BatonServer::start(&[]);
    // A free port for HAProxy's frontend.
    let front = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cfg = dir.path("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  maxconn 256\n\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  retries 3\n  option redispatch\n\nfrontend rtmp\n  bind {front}\n  default_backend nodes\n\nbackend nodes\n  balance first\n  server a {} check inter 500ms fall 1 rise 2\n  server b {} check inter 500ms fall 1 rise 2\n",
            a.addr, b.addr
        ),
    )
    .unwrap();
    let mut haproxy_cmd = Command::new("haproxy");
    haproxy_cmd.args(["-db", "-f"]).arg(&cfg);
    let haproxy = Proc::spawn("haproxy", haproxy_cmd);
    // Wait until HAProxy accepts connections.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(front).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "haproxy did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let (out_a, out_b) = (dir.path("a.flv"), dir.path("b.flv"));
    let mut play_a = baton(
        "play A",
        &[
            "play",
            &a.url("live/s"),
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
            &b.url("live/s"),
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
    let balanced = format!("rtmp://{front}/live/s");
    let mut publisher = baton("publish", &["publish", src.to_str().unwrap(), &balanced]);
    // `balance first`: the publisher lands on A.
    a.proc
        .wait_for_line(Duration::from_secs(20), |l| l.contains("publishing"));
    std::thread::sleep(Duration::from_secs(8));
    a.proc.terminate();

    let status = publisher.wait(Duration::from_secs(60));
    assert!(status.success(), "publisher: {status}");
    assert!(
        b.proc.lines().iter().any(|l| l.contains("publishing")),
        "the publisher reconnected through HAProxy and landed on B"
    );
    assert!(
        play_b.wait(Duration::from_secs(30)).success(),
        "player on B"
    );
    assert!(
        play_a.wait(Duration::from_secs(40)).success(),
        "player on A"
    );
    let mut a_proc = a.proc;
    assert!(
        a_proc.wait(Duration::from_secs(30)).success(),
        "A exits 0 after its drain"
    );
    drop(haproxy);

    assert_handover_recordings(&src, &out_a, &out_b);
}
