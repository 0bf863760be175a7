//! The recording loop against a fake player: how it ends, and that the
//! output is a complete FLV whatever the ending.

use std::collections::VecDeque;

use super::*;
use baton_proto::Timestamp;
use baton_proto::flv::{FlvReader, TagType};
use baton_proto::session::MediaKind;
use bytes::Bytes;

/// Plays back a script of results; when it runs out, waits forever (a
/// stream that goes quiet).
struct FakePlayer(VecDeque<Result<Option<PlayerEvent>, RtmpError>>);

impl EventSource for FakePlayer {
    async fn next_event(&mut self) -> Result<Option<PlayerEvent>, RtmpError> {
        match self.0.pop_front() {
            Some(r) => r,
            None => std::future::pending().await,
        }
    }
}

fn video(ts: u32) -> Result<Option<PlayerEvent>, RtmpError> {
    Ok(Some(PlayerEvent::Media {
        kind: MediaKind::Video,
        timestamp: Timestamp(ts),
        payload: Bytes::from_static(&[0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41]),
    }))
}

fn bounded<F: std::future::Future>(f: F) -> tokio::time::Timeout<F> {
    tokio::time::timeout(Duration::from_secs(10), f)
}

fn video_timestamps(out: &[u8]) -> Vec<u32> {
    let (_, tags) = FlvReader::read_all(out, 1 << 20).unwrap();
    assert!(tags.iter().all(|t| t.tag_type == TagType::Video));
    tags.iter().map(|t| t.timestamp.0).collect()
}

#[tokio::test]
async fn stops_at_the_end_of_the_stream() {
    let mut player = FakePlayer(VecDeque::from([
        video(0),
        video(40),
        Ok(Some(PlayerEvent::End)),
        video(80),
    ]));
    let mut out = Vec::new();
    let written = bounded(record(&mut player, &mut out, None, &mut Shutdown::never()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(written.ending, Ending::Stopped(StopReason::Ended));
    assert_eq!(written.tags, 2);
    assert_eq!(written.bytes, out.len() as u64);
    assert_eq!(video_timestamps(&out), vec![0, 40]);
    // The event after End was not read.
    assert_eq!(player.0.len(), 1);
}

#[tokio::test]
async fn stops_after_the_duration() {
    let mut player = FakePlayer((0..100).map(|i| video(i * 40)).collect());
    let mut out = Vec::new();
    let written = bounded(record(
        &mut player,
        &mut out,
        Some(2000),
        &mut Shutdown::never(),
    ))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(written.ending, Ending::Stopped(StopReason::Duration));
    assert_eq!(
        video_timestamps(&out),
        (0..50).map(|i| i * 40).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_request_leaves_a_complete_file() {
    let mut player = FakePlayer(VecDeque::from([video(0), video(40)]));
    let mut shutdown = Shutdown::from_future(async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        "test"
    });
    let mut out = Vec::new();
    let written = bounded(record(&mut player, &mut out, None, &mut shutdown))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(written.ending, Ending::Interrupted("test"));
    assert_eq!(video_timestamps(&out), vec![0, 40]);
}

#[tokio::test]
async fn a_dropped_connection_is_an_error_after_a_complete_file() {
    let mut player = FakePlayer(VecDeque::from([video(0), Ok(None)]));
    let mut out = Vec::new();
    let err = bounded(record(&mut player, &mut out, None, &mut Shutdown::never()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server closed the connection before the stream ended"
    );
    assert_eq!(video_timestamps(&out), vec![0]);

    let mut player = FakePlayer(VecDeque::from([Err(RtmpError::Timeout(
        baton_rtmp::TimeoutPhase::Read,
    ))]));
    let mut out = Vec::new();
    let err = bounded(record(&mut player, &mut out, None, &mut Shutdown::never()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(format!("{err:#}"), "receiving: read timed out");
    // Nothing arrived: still a valid, empty FLV.
    assert_eq!(video_timestamps(&out), Vec::<u32>::new());
}

#[test]
fn dash_is_standard_output() {
    assert_eq!(Output::from_arg("-"), Output::Stdout);
    assert_eq!(
        Output::from_arg("out.flv"),
        Output::File(PathBuf::from("out.flv"))
    );
}

#[tokio::test]
async fn an_output_that_cannot_be_created_is_one_clear_error() {
    let err = Output::from_arg("/nonexistent/dir/out.flv")
        .open()
        .await
        .err()
        .unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.starts_with("cannot create /nonexistent/dir/out.flv: "),
        "{msg}"
    );
}

#[test]
fn a_read_timeout_is_explained_with_the_option() {
    let err =
        anyhow::Error::new(RtmpError::Timeout(baton_rtmp::TimeoutPhase::Read)).context("receiving");
    assert_eq!(
        explain_idle(err, 2.5).to_string(),
        "nothing received for 2.5 s (--idle-timeout): is the stream being published?"
    );
    let other = anyhow::Error::new(RtmpError::Closed).context("receiving");
    assert_eq!(
        format!("{:#}", explain_idle(other, 2.5)),
        "receiving: connection closed by the peer"
    );
}

#[tokio::test(start_paused = true)]
async fn tags_reach_the_output_soon_while_the_stream_is_quiet() {
    use tokio::io::AsyncReadExt;
    // Two tags, then nothing.
    let mut player = FakePlayer(VecDeque::from([video(0), video(40)]));
    let (mut w, mut r) = tokio::io::duplex(1 << 20);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut shutdown = Shutdown::from_future(async move {
        let _ = rx.await;
        "test"
    });
    let start = Instant::now();
    let check = async {
        // Header and PreviousTagSize0, then two tags of 10 bytes.
        let mut got = vec![0u8; 13 + 2 * (11 + 10 + 4)];
        r.read_exact(&mut got).await.unwrap();
        let waited = start.elapsed();
        tx.send(()).unwrap();
        (got, waited)
    };
    let (written, (got, waited)) =
        bounded(async { tokio::join!(record(&mut player, &mut w, None, &mut shutdown), check) })
            .await
            .unwrap();
    assert_eq!(waited, WRITE_DELAY);
    assert_eq!(written.unwrap().ending, Ending::Interrupted("test"));
    assert_eq!(video_timestamps(&got), vec![0, 40]);
}
