//! End-to-end: `baton serve` with real FFmpeg publishers and players, and
//! with `baton publish` / `baton play`. Media is made by FFmpeg in the test
//! (H.264 + AAC, GOP 2 s, 20 s); what players receive is compared packet by
//! packet with the source.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use baton_proto::flv::TagType;
use support::*;

const SOURCE_SECS: u32 = 20;

fn ffmpeg_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(args);
    cmd
}

/// An FFmpeg player that copies the stream into an FLV file.
fn ffmpeg_player(url: &str, out: &Path) -> Proc {
    Proc::spawn(
        "ffmpeg player",
        ffmpeg_cmd(&[
            "-y",
            "-i",
            url,
            "-c",
            "copy",
            "-f",
            "flv",
            out.to_str().unwrap(),
        ]),
    )
}

/// An FFmpeg publisher sending the file in real time.
fn ffmpeg_publisher(src: &Path, url: &str) -> Proc {
    Proc::spawn(
        "ffmpeg publisher",
        ffmpeg_cmd(&[
            "-re",
            "-i",
            src.to_str().unwrap(),
            "-c",
            "copy",
            "-f",
            "flv",
            url,
        ]),
    )
}

/// Waits until the server logged that a player is playing `stream`.
fn wait_for_player(server: &BatonServer, stream: &str) {
    server.proc.wait_for_line(Duration::from_secs(20), |l| {
        l.contains("play") && l.contains(stream) && !l.contains("publish")
    });
}

fn finish_ok(proc: &mut Proc, limit: Duration) {
    let status = proc.wait(limit);
    if !status.success() {
        proc.dump();
        panic!("{} exited with {status}", proc.name);
    }
}

#[test]
fn ffmpeg_publish_to_ffmpeg_play_is_frame_exact() {
    if !have_ffmpeg("ffmpeg_publish_to_ffmpeg_play_is_frame_exact") {
        return;
    }
    let src = source_flv(SOURCE_SECS);
    let server = BatonServer::start(&[]);
    let dir = Scratch::new("ff-ff");
    let out = dir.path("out.flv");
    let url = server.url("live/ffff");
    let mut player = ffmpeg_player(&url, &out);
    wait_for_player(&server, "ffff");
    let mut publisher = ffmpeg_publisher(&src, &url);
    finish_ok(&mut publisher, Duration::from_secs(90));
    // The player exits by itself on NetStream.Play.UnpublishNotify.
    finish_ok(&mut player, Duration::from_secs(30));
    assert_same_packets(&src, &out);
    assert_eq!(
        decode_errors(&out),
        "",
        "the received stream decodes cleanly"
    );
}

#[test]
fn ffmpeg_play_with_merged_writes_is_frame_exact() {
    if !have_ffmpeg("ffmpeg_play_with_merged_writes_is_frame_exact") {
        return;
    }
    let src = source_flv(8);
    let dir = Scratch::new("merged");
    let config = dir.path("baton.toml");
    std::fs::write(&config, "[server]\nwrite_merge_ms = 300\n").unwrap();
    let server = BatonServer::start(&["--config", config.to_str().unwrap()]);
    let out = dir.path("out.flv");
    let url = server.url("live/merged");
    let mut player = ffmpeg_player(&url, &out);
    wait_for_player(&server, "merged");
    let mut publisher = ffmpeg_publisher(&src, &url);
    finish_ok(&mut publisher, Duration::from_secs(60));
    // Frames of up to 300 ms leave together; the end (UnpublishNotify)
    // still reaches the player, which exits by itself.
    finish_ok(&mut player, Duration::from_secs(30));
    assert_same_packets(&src, &out);
    assert_eq!(decode_errors(&out), "");
}

#[test]
fn baton_publish_to_ffmpeg_play_is_frame_exact() {
    if !have_ffmpeg("baton_publish_to_ffmpeg_play_is_frame_exact") {
        return;
    }
    let src = source_flv(SOURCE_SECS);
    let server = BatonServer::start(&[]);
    let dir = Scratch::new("baton-ff");
    let out = dir.path("out.flv");
    let url = server.url("live/bff");
    let mut player = ffmpeg_player(&url, &out);
    wait_for_player(&server, "bff");
    let mut publisher = baton("baton publish", &["publish", src.to_str().unwrap(), &url]);
    finish_ok(&mut publisher, Duration::from_secs(90));
    finish_ok(&mut player, Duration::from_secs(30));
    assert_same_packets(&src, &out);
    assert_eq!(decode_errors(&out), "");
}

#[test]
fn ffmpeg_publish_to_baton_play_is_frame_exact() {
    if !have_ffmpeg("ffmpeg_publish_to_baton_play_is_frame_exact") {
        return;
    }
    let src = source_flv(SOURCE_SECS);
    let server = BatonServer::start(&[]);
    let dir = Scratch::new("ff-baton");
    let out = dir.path("out.flv");
    let url = server.url("live/ffb");
    let mut player = baton("baton play", &["play", &url, "-o", out.to_str().unwrap()]);
    wait_for_player(&server, "ffb");
    let mut publisher = ffmpeg_publisher(&src, &url);
    finish_ok(&mut publisher, Duration::from_secs(90));
    finish_ok(&mut player, Duration::from_secs(30));
    assert_same_packets(&src, &out);
    assert_eq!(decode_errors(&out), "");
}

#[test]
fn baton_publish_to_baton_play_carries_identical_payloads() {
    if !have_ffmpeg("baton_publish_to_baton_play_carries_identical_payloads") {
        return;
    }
    let src = source_flv(SOURCE_SECS);
    // One thread for everything (the benchmark's one-core mode).
    let server = BatonServer::start(&["--threads", "1"]);
    let dir = Scratch::new("baton-baton");
    let out = dir.path("out.flv");
    let url = server.url("live/bb");
    let mut player = baton("baton play", &["play", &url, "-o", out.to_str().unwrap()]);
    wait_for_player(&server, "bb");
    // Unpaced: the whole file as fast as the connection takes it.
    let mut publisher = baton(
        "baton publish",
        &["publish", "--no-pace", src.to_str().unwrap(), &url],
    );
    finish_ok(&mut publisher, Duration::from_secs(60));
    finish_ok(&mut player, Duration::from_secs(30));
    let sent = media_tags(&src);
    let got = media_tags(&out);
    assert_eq!(got.len(), sent.len(), "every audio and video tag arrives");
    for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(
            (g.tag_type, g.timestamp),
            (s.tag_type, s.timestamp),
            "tag {i}: type and timestamp"
        );
        assert!(g.data == s.data, "tag {i}: payload differs");
    }
}

#[test]
fn late_joiner_starts_on_a_keyframe_within_a_second() {
    if !have_ffmpeg("late_joiner_starts_on_a_keyframe_within_a_second") {
        return;
    }
    let src = source_flv(SOURCE_SECS);
    let server = BatonServer::start(&[]);
    let dir = Scratch::new("late");
    let url = server.url("live/late");
    let mut publisher = ffmpeg_publisher(&src, &url);
    server.proc.wait_for_line(Duration::from_secs(20), |l| {
        l.contains("publish") && l.contains("late")
    });
    // Join mid-GOP: 5.3 s into a stream with a keyframe every 2 s.
    std::thread::sleep(Duration::from_millis(5300));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (first_media_after, first_video) = rt.block_on(async {
        use baton_rtmp::client::{ClientConfig, Connection, PlayerEvent};
        let start = Instant::now();
        let url = baton_rtmp::RtmpUrl::parse(&url).unwrap();
        let conn = Connection::connect(&url, &ClientConfig::default())
            .await
            .unwrap();
        let mut player = conn.play("late").await.unwrap();
        let mut first_media_after = None;
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), player.next())
                .await
                .expect("media within 10 s")
                .unwrap()
                .expect("stream open");
            if let PlayerEvent::Media { kind, payload, .. } = event {
                first_media_after.get_or_insert(start.elapsed());
                if kind == baton_rtmp::MediaKind::Video
                    && !baton_proto::media::video_is_sequence_header(&payload)
                {
                    return (first_media_after.unwrap(), payload);
                }
            }
        }
    });
    assert!(
        baton_proto::media::video_is_keyframe(&first_video),
        "the first coded video frame a late joiner gets is a keyframe"
    );
    assert!(
        first_media_after < Duration::from_secs(1),
        "media started {first_media_after:?} after joining"
    );

    // An FFmpeg late joiner gets a stream that decodes from its first frame.
    let out = dir.path("late.flv");
    let mut late = Proc::spawn(
        "ffmpeg late player",
        ffmpeg_cmd(&[
            "-y",
            "-i",
            &url,
            "-t",
            "4",
            "-c",
            "copy",
            "-f",
            "flv",
            out.to_str().unwrap(),
        ]),
    );
    finish_ok(&mut late, Duration::from_secs(30));
    let packets = probe_packets(&out);
    let first_video = packets.iter().find(|p| p.kind == "video").expect("video");
    assert!(
        first_video.keyframe,
        "FFmpeg's first video packet is a keyframe"
    );
    assert_eq!(decode_errors(&out), "");
    finish_ok(&mut publisher, Duration::from_secs(90));
}

/// A raw TCP client that completes the handshake and connect/createStream/play
/// with the sans-IO client session, then never reads again.
fn stalled_player(addr: std::net::SocketAddr, app: &str, stream: &str) -> TcpStream {
    use baton_proto::command::{Connect, Play};
    use baton_proto::session::{ClientConfig, ClientEvent, ClientSession};
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut session = ClientSession::new(ClientConfig::default());
    session
        .connect(Connect::new(app, format!("rtmp://{addr}/{app}")))
        .unwrap();
    let mut stream_id = None;
    let mut playing = false;
    let mut buf = vec![0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !playing {
        assert!(Instant::now() < deadline, "stalled player setup timed out");
        while let Some(bytes) = session.poll_transmit() {
            sock.write_all(&bytes).unwrap();
        }
        let n = sock.read(&mut buf).unwrap();
        assert!(n > 0, "server closed during setup");
        session.handle_input(&buf[..n], 0).unwrap();
        while let Some(event) = session.poll_event() {
            match event {
                ClientEvent::Connected { .. } => {
                    session.create_stream().unwrap();
                }
                ClientEvent::StreamCreated { stream_id: id, .. } => {
                    stream_id = Some(id);
                    session.play(id, Play::new(stream)).unwrap();
                }
                ClientEvent::Status { info, .. }
                    if info.code.as_str() == "NetStream.Play.Start" =>
                {
                    playing = true;
                }
                _ => {}
            }
        }
    }
    while let Some(bytes) = session.poll_transmit() {
        sock.write_all(&bytes).unwrap();
    }
    assert!(stream_id.is_some());
    // Keep the receive buffer small so the server sees the stall early.
    sock
}

#[test]
fn fifty_players_get_every_frame_and_a_stalled_player_is_cut() {
    if !have_ffmpeg("fifty_players_get_every_frame_and_a_stalled_player_is_cut") {
        return;
    }
    let src = source_flv(SOURCE_SECS);
    let dir = Scratch::new("fifty");
    let config = dir.path("baton.toml");
    std::fs::write(
        &config,
        "[server]\nwrite_timeout_secs = 3\nmax_output_buffer = 262144\nsend_buffer_size = 65536\n",
    )
    .unwrap();
    let server = BatonServer::start(&["--config", config.to_str().unwrap()]);
    let url = server.url("live/fifty");
    let addr = server.addr;
    let sent: Vec<(bool, u32, usize)> = media_tags(&src)
        .iter()
        .map(|t| (t.tag_type == TagType::Video, t.timestamp.0, t.data.len()))
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let players: Vec<_> = (0..50)
        .map(|_| {
            let url = baton_rtmp::RtmpUrl::parse(&url).unwrap();
            rt.spawn(async move {
                use baton_rtmp::client::{ClientConfig, Connection, PlayerEvent};
                let conn = Connection::connect(&url, &ClientConfig::default()).await?;
                let mut player = conn.play("fifty").await?;
                let mut got = Vec::new();
                while let Some(event) = player.next().await? {
                    match event {
                        PlayerEvent::Media {
                            kind,
                            timestamp,
                            payload,
                        } => got.push((
                            kind == baton_rtmp::MediaKind::Video,
                            timestamp.0,
                            payload.len(),
                        )),
                        PlayerEvent::End => break,
                        _ => {}
                    }
                }
                Ok::<_, baton_rtmp::RtmpError>(got)
            })
        })
        .collect();
    let stalled = stalled_player(addr, "live", "fifty");
    let rss_before = server.rss_kib();
    let mut publisher = baton("baton publish", &["publish", src.to_str().unwrap(), &url]);
    finish_ok(&mut publisher, Duration::from_secs(90));
    for (i, p) in players.into_iter().enumerate() {
        let got = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), p).await })
            .expect("player finished")
            .unwrap()
            .unwrap_or_else(|e| panic!("player {i}: {e}"));
        assert_eq!(got.len(), sent.len(), "player {i} got every frame");
        assert!(got == sent, "player {i}: frames differ");
    }
    // The stalled player was cut: its socket reaches EOF (or an error) once
    // we read what the kernel buffered.
    let mut sock = stalled;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let cut = loop {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => break true,
            Ok(_) => continue,
        }
    };
    assert!(
        cut,
        "the stalled player's connection was closed by the server"
    );
    let rss_after = server.rss_kib();
    // 50 players and one stalled one: memory stays within the configured
    // bounds (output buffers of 256 KiB, the stream's ring and GOP cache),
    // far below 64 MiB of growth.
    assert!(
        rss_after < rss_before + 64 * 1024,
        "server RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    // ... and by the server's own rule, long before the idle timeout (30 s):
    // its writes stalled (write timeout) or its feed lagged.
    let cut_line = server.proc.wait_for_line(Duration::from_secs(5), |l| {
        l.contains("connection closed") && (l.contains("write timeout") || l.contains("lag"))
    });
    assert!(!cut_line.contains("idle timeout"), "{cut_line}");
}

#[test]
fn malformed_clients_do_not_disturb_a_stream() {
    if !have_ffmpeg("malformed_clients_do_not_disturb_a_stream") {
        return;
    }
    use baton_proto::handshake::{ClientHandshake, HandshakeConfig, HandshakeStatus};
    let src = source_flv(SOURCE_SECS);
    let server = BatonServer::start(&[]);
    let dir = Scratch::new("malformed");
    let out = dir.path("out.flv");
    let url = server.url("live/solid");
    let mut player = baton("baton play", &["play", &url, "-o", out.to_str().unwrap()]);
    wait_for_player(&server, "solid");
    let mut publisher = baton("baton publish", &["publish", src.to_str().unwrap(), &url]);
    std::thread::sleep(Duration::from_secs(2));

    let handshaken = || {
        let mut sock = TcpStream::connect(server.addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut hs = ClientHandshake::new(HandshakeConfig::default());
        let mut out = bytes::BytesMut::new();
        hs.start(&mut out);
        sock.write_all(&out).unwrap();
        let mut input = bytes::BytesMut::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = sock.read(&mut buf).unwrap();
            assert!(n > 0);
            input.extend_from_slice(&buf[..n]);
            let mut c2 = bytes::BytesMut::new();
            if let HandshakeStatus::Done(_) = hs.handle(&mut input, 0, &mut c2).unwrap() {
                sock.write_all(&c2).unwrap();
                return sock;
            }
            sock.write_all(&c2).unwrap();
        }
    };
    let closed = |mut sock: TcpStream| {
        let mut buf = [0u8; 4096];
        loop {
            match sock.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return false;
                }
                Err(_) => return true,
            }
        }
    };
    // 1. Not RTMP at all.
    let mut http = TcpStream::connect(server.addr).unwrap();
    http.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(closed(http), "an HTTP request is refused");
    // 2. A valid handshake, then a chunk continuing a chunk stream that never started.
    let mut junk = handshaken();
    junk.write_all(&[0xc9, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    assert!(closed(junk), "a malformed chunk closes the connection");
    // 3. A valid handshake, then a connect command whose AMF is cut short.
    let mut bad_amf = handshaken();
    let amf = [
        0x02u8, 0x00, 0x07, b'c', b'o', b'n', b'n', b'e', b'c', b't', 0x00, 0x3f, 0xf0, 0, 0, 0, 0,
        0, 0, 0x03, 0x00, 0x03, b'a', b'p', b'p', 0x02, 0xff, 0xff, b'x',
    ];
    let mut chunk = vec![0x03, 0, 0, 0, 0, 0, amf.len() as u8, 20, 0, 0, 0, 0];
    chunk.extend_from_slice(&amf);
    bad_amf.write_all(&chunk).unwrap();
    assert!(closed(bad_amf), "malformed AMF closes the connection");

    finish_ok(&mut publisher, Duration::from_secs(90));
    finish_ok(&mut player, Duration::from_secs(30));
    assert_same_packets(&src, &out);
    // Each bad client was logged with its reason.
    let lines = server.proc.lines();
    let closes = lines.iter().filter(|l| l.contains("close")).count();
    assert!(closes >= 3, "closes logged: {lines:#?}");
}
