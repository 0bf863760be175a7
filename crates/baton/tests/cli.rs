//! The `baton` program's help and usage: what `--help` tells a user, and
//! that failures before any connection exit non-zero with one line,
//! `baton: <reason>`. (Runs against servers are the end-to-end tests.)

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Exit status, stdout and stderr of `baton args...`, killed past 20 s.
fn baton(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baton");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("baton {args:?} did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.code(), out.join().unwrap(), err.join().unwrap())
}

fn help(args: &[&str]) -> String {
    let (code, out, err) = baton(args);
    assert_eq!(code, Some(0), "baton {args:?}: {err}");
    out
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "help does not mention {n:?}:\n{text}");
    }
}

/// Asserts a failure with exactly one line on stderr, `baton: ...`
/// containing each of `needles`.
fn assert_fails_with(args: &[&str], needles: &[&str]) {
    let (code, out, err) = baton(args);
    assert!(
        code.is_some_and(|c| c != 0),
        "baton {args:?} exited with {code:?}"
    );
    assert_eq!(out, "", "nothing on stdout");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got {err:?}");
    assert!(lines[0].starts_with("baton: "), "{err:?}");
    assert_mentions(lines[0], needles);
}

#[test]
fn top_level_help_lists_the_commands_and_urls() {
    let out = help(&["--help"]);
    assert_mentions(
        &out,
        &[
            "serve",
            "publish",
            "play",
            "--verbose",
            "RUST_LOG",
            "rtmp://",
            "ffmpeg",
            "ffplay",
        ],
    );
    // -h too, and the version.
    assert_mentions(&help(&["-h"]), &["publish"]);
    assert_mentions(&help(&["--version"]), &["baton"]);
}

#[test]
fn serve_help_explains_listen_config_obs_and_ffmpeg() {
    let out = help(&["serve", "--help"]);
    assert_mentions(
        &out,
        &[
            "--listen",
            "--config",
            "0.0.0.0:1935",
            "OBS",
            "Stream Key",
            "ffmpeg",
            "SIGTERM",
        ],
    );
}

#[test]
fn publish_help_explains_input_pacing_and_looping() {
    let out = help(&["publish", "--help"]);
    assert_mentions(
        &out,
        &[
            "INPUT",
            "URL",
            "--no-pace",
            "--loop",
            "standard input",
            "-f flv -",
            "rtmp://",
        ],
    );
    // `help publish` is the same page.
    assert_mentions(&help(&["help", "publish"]), &["--no-pace"]);
}

#[test]
fn play_help_explains_output_and_duration() {
    let out = help(&["play", "--help"]);
    assert_mentions(
        &out,
        &["--output", "-o", "--duration", "standard output", "ffplay"],
    );
}

#[test]
fn a_missing_input_fails_before_connecting() {
    assert_fails_with(
        &["publish", "missing.flv", "rtmp://127.0.0.1:1/live/s"],
        &["cannot open missing.flv"],
    );
}

#[test]
fn bad_publish_arguments_fail_with_one_line() {
    assert_fails_with(
        &["publish", "in.flv", "rtmp://127.0.0.1:1/live"],
        &["names no stream"],
    );
    assert_fails_with(
        &["publish", "in.flv", "http://127.0.0.1/live/s"],
        &["invalid RTMP URL", "rtmp://"],
    );
    assert_fails_with(
        &["publish", "--loop", "-", "rtmp://127.0.0.1:1/live/s"],
        &["--loop needs a file"],
    );
    // Standard input that is not FLV (here: empty).
    assert_fails_with(
        &["publish", "-", "rtmp://127.0.0.1:1/live/s"],
        &["standard input: not an FLV file"],
    );
}

#[test]
fn an_output_that_cannot_be_created_fails_before_connecting() {
    assert_fails_with(
        &[
            "play",
            "rtmp://127.0.0.1:1/live/s",
            "-o",
            "/nonexistent/dir/out.flv",
        ],
        &["cannot create /nonexistent/dir/out.flv"],
    );
}

#[test]
fn serve_with_a_missing_config_fails_cleanly() {
    assert_fails_with(
        &["serve", "--config", "/nonexistent/baton.toml"],
        &["cannot read the configuration /nonexistent/baton.toml"],
    );
}

#[test]
fn serve_with_a_bad_config_names_the_key() {
    let path = std::env::temp_dir().join(format!("baton-cli-bad-{}.toml", std::process::id()));
    std::fs::write(&path, "[server]\nlisten = 5\n").unwrap();
    let p = path.to_str().unwrap().to_owned();
    let result = std::panic::catch_unwind(|| {
        assert_fails_with(&["serve", "--config", &p], &[&p, "listen"]);
    });
    let _ = std::fs::remove_file(&path);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn usage_errors_exit_with_status_2() {
    for args in [
        &["play"][..],
        &["publish", "x.flv"],
        &["frobnicate"],
        &["play", "rtmp://h/a/s", "--duration", "0"],
    ] {
        let (code, _, err) = baton(args);
        assert_eq!(code, Some(2), "baton {args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains("--help"), "{err}");
    }
}
