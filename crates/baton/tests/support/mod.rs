//! Shared helpers for the end-to-end tests: real `baton` processes, real
//! FFmpeg peers, media made by FFmpeg in the test, and ffprobe to compare
//! what arrived with what was sent.
//!
//! Every child process is killed when its handle drops and every wait is
//! bounded. Outside CI, a test whose peer (ffmpeg, ffprobe) is missing skips
//! with a loud message; in CI (`CI` set) a missing peer fails the test.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The `baton` binary under test.
pub fn baton_bin() -> &'static str {
    env!("CARGO_BIN_EXE_baton")
}

/// Whether ffmpeg and ffprobe are installed. Outside CI a missing peer makes
/// the calling test skip, loudly; in CI it fails the test.
pub fn have_ffmpeg(test: &str) -> bool {
    let ok = ["ffmpeg", "ffprobe"].iter().all(|bin| {
        Command::new(bin)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("{test}: ffmpeg/ffprobe are required in CI (.ci/run installs them)");
        }
        eprintln!(
            "\n*** SKIPPING {test}: ffmpeg/ffprobe not found. Install FFmpeg (apt-get install ffmpeg) to run it. ***\n"
        );
    }
    ok
}

/// A child process that is killed when dropped.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// Spawns `cmd` with stderr captured line by line into `log` (and
    /// echoed to the test's stderr on failure via `dump`).
    pub fn spawn(name: &str, mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Proc {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// Waits for the process to exit by itself, up to `limit`; kills it
    /// and panics past that.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                self.dump();
                panic!("{} did not exit within {limit:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a stderr line satisfies `pred`; returns it.
    pub fn wait_for_line(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| pred(l)) {
                return line.clone();
            }
            if start.elapsed() > limit {
                self.dump();
                panic!("{}: no matching log line within {limit:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// All stderr lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Prints the captured stderr (for failures).
    pub fn dump(&self) {
        eprintln!("----- {} stderr -----", self.name);
        for line in self.log.lock().unwrap().iter() {
            eprintln!("{line}");
        }
        eprintln!("----- end {} -----", self.name);
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (by PID).
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A running `baton serve` on 127.0.0.1 with an ephemeral port.
pub struct BatonServer {
    pub proc: Proc,
    pub addr: SocketAddr,
}

impl BatonServer {
    /// Starts `baton serve --listen 127.0.0.1:0` plus `extra` arguments.
    pub fn start(extra: &[&str]) -> BatonServer {
        Self::start_at("127.0.0.1:0", extra)
    }

    /// Starts `baton serve --listen ADDR` plus `extra` arguments.
    pub fn start_at(listen: &str, extra: &[&str]) -> BatonServer {
        let mut cmd = Command::new(baton_bin());
        cmd.args(["serve", "--listen", listen]).args(extra);
        cmd.env("RUST_LOG", "info");
        let proc = Proc::spawn("baton serve", cmd);
        let line = proc.wait_for_line(Duration::from_secs(20), |l| {
            l.starts_with("baton: listening on ")
        });
        let addr = line
            .trim_start_matches("baton: listening on ")
            .trim()
            .parse()
            .expect("listening address");
        BatonServer { proc, addr }
    }

    /// `rtmp://127.0.0.1:PORT/app/stream`.
    pub fn url(&self, path: &str) -> String {
        format!("rtmp://{}/{path}", self.addr)
    }

    /// The server's resident memory in KiB (from /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.proc.pid()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }
}

/// A per-test scratch directory (removed at the end unless the test fails).
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("baton-e2e-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs ffmpeg to completion (with `-nostdin`, bounded).
pub fn ffmpeg(args: &[&str], limit: Duration) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(args);
    let mut p = Proc::spawn("ffmpeg", cmd);
    let status = p.wait(limit);
    if !status.success() {
        p.dump();
        panic!("ffmpeg {args:?} failed: {status}");
    }
}

/// The test source: H.264 (testsrc2, 320x240, 25 fps, GOP 2 s) and AAC (sine),
/// `secs` long, as FLV. Made once per test binary and duration.
pub fn source_flv(secs: u32) -> PathBuf {
    static MADE: OnceLock<Mutex<Vec<(u32, PathBuf)>>> = OnceLock::new();
    let made = MADE.get_or_init(|| Mutex::new(Vec::new()));
    let mut made = made.lock().unwrap();
    if let Some((_, p)) = made.iter().find(|(s, _)| *s == secs) {
        return p.clone();
    }
    let dir = std::env::temp_dir().join(format!("baton-e2e-src-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("source-{secs}s.flv"));
    let t = secs.to_string();
    ffmpeg(
        &[
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            &t,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "50",
            "-keyint_min",
            "50",
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "flv",
            path.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    made.push((secs, path.clone()));
    path
}

/// One packet as ffprobe reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub kind: String,
    pub pts: String,
    pub dts: String,
    pub keyframe: bool,
}

/// Every packet of a file (ffprobe -show_packets), in file order.
pub fn probe_packets(file: &Path) -> Vec<Packet> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "packet=codec_type,pts,dts,flags",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success(),
        "ffprobe failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Packet {
                kind: f.first().copied().unwrap_or("").to_owned(),
                pts: f.get(1).copied().unwrap_or("").to_owned(),
                dts: f.get(2).copied().unwrap_or("").to_owned(),
                keyframe: f.get(3).is_some_and(|x| x.contains('K')),
            }
        })
        .collect()
}

/// (video packets, audio packets) as `ffprobe -count_packets` counts them.
pub fn count_packets(file: &Path) -> (u64, u64) {
    let count = |sel: &str| -> u64 {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                sel,
                "-count_packets",
                "-show_entries",
                "stream=nb_read_packets",
                "-of",
                "csv=p=0",
            ])
            .arg(file)
            .output()
            .expect("ffprobe");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    };
    (count("v:0"), count("a:0"))
}

/// Decodes the whole file; returns what ffmpeg printed at `-v error`
/// (empty when the file decodes cleanly).
pub fn decode_errors(file: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(file)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg decode");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that `got` holds exactly the source's video and audio packets:
/// same counts, same timestamps, in the same per-stream order.
pub fn assert_same_packets(source: &Path, got: &Path) {
    let split = |p: &Path| {
        let all = probe_packets(p);
        let video: Vec<_> = all
            .iter()
            .filter(|p| p.kind == "video")
            .map(|p| (p.pts.clone(), p.dts.clone(), p.keyframe))
            .collect();
        let audio: Vec<_> = all
            .iter()
            .filter(|p| p.kind == "audio")
            .map(|p| (p.pts.clone(), p.dts.clone()))
            .collect();
        (video, audio)
    };
    let (sv, sa) = split(source);
    let (gv, ga) = split(got);
    assert!(!sv.is_empty() && !sa.is_empty(), "source has packets");
    assert_eq!(
        count_packets(source),
        count_packets(got),
        "packet counts (video, audio)"
    );
    assert_eq!(gv.len(), sv.len(), "video packet count");
    assert_eq!(ga.len(), sa.len(), "audio packet count");
    assert!(
        gv == sv,
        "video packets differ (first difference at {:?})",
        gv.iter().zip(&sv).position(|(a, b)| a != b)
    );
    assert!(
        ga == sa,
        "audio packets differ (first difference at {:?})",
        ga.iter().zip(&sa).position(|(a, b)| a != b)
    );
}

/// Runs `baton ARGS...` with info logs, stderr captured.
pub fn baton(name: &str, args: &[&str]) -> Proc {
    let mut cmd = Command::new(baton_bin());
    cmd.args(args).env("RUST_LOG", "info");
    Proc::spawn(name, cmd)
}

/// The audio and video tags of an FLV file (script tags left out).
pub fn media_tags(path: &Path) -> Vec<baton_proto::flv::FlvTag> {
    use baton_proto::flv::{FlvReader, TagType};
    let data = std::fs::read(path).unwrap();
    let (_, tags) = FlvReader::read_all(&data, 16 << 20).unwrap();
    tags.into_iter()
        .filter(|t| t.tag_type != TagType::Script)
        .collect()
}

/// Asserts that what a player on the first node recorded, followed by what
/// a player on the second recorded (past the decoder configuration the
/// publisher re-sent there), is exactly the source: every audio and video
/// tag once, in order, same timestamps, same bytes; and that the second
/// part starts on a keyframe.
pub fn assert_handover_recordings(source: &Path, first: &Path, second: &Path) {
    use baton_proto::flv::{FlvTag, TagType};
    use baton_proto::media;
    let is_config = |tag: &FlvTag| match tag.tag_type {
        TagType::Video => media::video_is_sequence_header(&tag.data),
        TagType::Audio => media::audio_is_sequence_header(&tag.data),
        TagType::Script => true,
    };
    let sent = media_tags(source);
    let got_a = media_tags(first);
    let got_b = media_tags(second);
    let b_media: Vec<&FlvTag> = got_b.iter().skip_while(|t| is_config(t)).collect();
    assert!(
        !got_a.is_empty() && !b_media.is_empty(),
        "both nodes carried part of the stream"
    );
    let first_video = b_media
        .iter()
        .find(|t| t.tag_type == TagType::Video)
        .expect("video on the second node");
    assert!(
        media::video_is_keyframe(&first_video.data),
        "the second node's part starts on a keyframe"
    );
    let joined: Vec<&FlvTag> = got_a.iter().chain(b_media.iter().copied()).collect();
    assert_eq!(
        joined.len(),
        sent.len(),
        "every frame exactly once (first: {}, second: {})",
        got_a.len(),
        b_media.len()
    );
    for (i, (g, s)) in joined.iter().zip(&sent).enumerate() {
        assert_eq!(
            (g.tag_type, g.timestamp),
            (s.tag_type, s.timestamp),
            "tag {i}"
        );
        assert!(g.data == s.data, "tag {i}: payload differs");
    }
}
