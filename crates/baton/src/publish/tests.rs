//! The publish pump against a fake sink: what each FLV tag becomes, pacing
//! on tokio's paused clock, and `--loop`.

use super::*;
use baton_proto::amf0::Value;
use baton_proto::flv::{FlvHeader, FlvWriter};
use baton_rtmp::RtmpError;
use bytes::BytesMut;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

/// What the sink got, with the (paused) clock at the time.
#[derive(Clone, Debug, PartialEq)]
enum Sent {
    Media(MediaKind, u32, Bytes),
    Data(u32, DataMessage),
}

#[derive(Default)]
struct FakeSink {
    sent: Vec<(Sent, Instant)>,
    /// Fire this once `stop_after` messages were sent.
    stop: Option<(usize, oneshot::Sender<()>)>,
    fail_at: Option<usize>,
    signals: Vec<ServerSignal>,
}

impl FakeSink {
    fn record(&mut self, s: Sent) -> Result<(), RtmpError> {
        if self.fail_at == Some(self.sent.len()) {
            return Err(RtmpError::Closed);
        }
        self.sent.push((s, Instant::now()));
        if self
            .stop
            .as_ref()
            .is_some_and(|(n, _)| self.sent.len() >= *n)
        {
            let (_, tx) = self.stop.take().unwrap();
            let _ = tx.send(());
        }
        Ok(())
    }

    fn sent(&self) -> Vec<Sent> {
        self.sent.iter().map(|(s, _)| s.clone()).collect()
    }
}

impl MediaSink for FakeSink {
    type Error = RtmpError;

    async fn send_media(
        &mut self,
        kind: MediaKind,
        timestamp: Timestamp,
        payload: Bytes,
    ) -> Result<(), RtmpError> {
        self.record(Sent::Media(kind, timestamp.0, payload))
    }

    async fn send_data(
        &mut self,
        timestamp: Timestamp,
        data: DataMessage,
    ) -> Result<(), RtmpError> {
        self.record(Sent::Data(timestamp.0, data))
    }

    fn take_signal(&mut self) -> Option<ServerSignal> {
        self.signals.pop()
    }
}

const AVC_HEADER: &[u8] = &[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f];
const AVC_KEY: &[u8] = &[0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65];
const AVC_INTER: &[u8] = &[0x27, 1, 0, 0, 0, 0, 0, 0, 2, 0x41];
const AAC_HEADER: &[u8] = &[0xaf, 0, 0x12, 0x10];
const AAC_FRAME: &[u8] = &[0xaf, 1, 0x21, 0x10];

fn meta() -> Value {
    Value::EcmaArray(vec![
        ("framerate".into(), Value::Number(25.0)),
        ("videocodecid".into(), Value::Number(7.0)),
    ])
}

fn script(value: &DataMessage) -> Bytes {
    let mut b = BytesMut::new();
    value.encode(ObjectEncoding::Amf0, &mut b);
    b.freeze()
}

/// An FLV: metadata, headers, then video every 40 ms and audio in between.
fn sample_flv(frames: u32) -> Vec<u8> {
    let mut tags = vec![
        (TagType::Script, 0, script(&DataMessage::OnMetaData(meta()))),
        (TagType::Video, 0, Bytes::from_static(AVC_HEADER)),
        (TagType::Audio, 0, Bytes::from_static(AAC_HEADER)),
    ];
    for i in 0..frames {
        let video = if i == 0 { AVC_KEY } else { AVC_INTER };
        tags.push((TagType::Video, i * 40, Bytes::from_static(video)));
        tags.push((TagType::Audio, i * 40 + 20, Bytes::from_static(AAC_FRAME)));
    }
    flv(&tags)
}

fn flv(tags: &[(TagType, u32, Bytes)]) -> Vec<u8> {
    let mut out = BytesMut::new();
    FlvWriter::header(
        &FlvHeader {
            has_audio: true,
            has_video: true,
        },
        &mut out,
    );
    for (tag_type, ts, data) in tags {
        let tag = FlvTag {
            tag_type: *tag_type,
            timestamp: Timestamp(*ts),
            data: data.clone(),
        };
        FlvWriter::tag(&tag, &mut out).unwrap();
    }
    out.to_vec()
}

fn options(pace: bool, repeat: bool) -> PumpOptions {
    PumpOptions {
        pace,
        max_gap: DEFAULT_MAX_GAP,
        repeat,
        progress: false,
    }
}

async fn pump_bytes(
    sink: &mut FakeSink,
    data: &[u8],
    options: &PumpOptions,
    shutdown: &mut Shutdown,
) -> Result<Totals> {
    let source = FlvSource::open(data, "test.flv".into()).await?;
    pump(sink, source, &Input::Stdin, options, shutdown).await
}

/// A scratch file, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(data: &[u8]) -> TempFile {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "baton-publish-test-{}-{}.flv",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, data).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn bounded<F: std::future::Future>(f: F) -> tokio::time::Timeout<F> {
    tokio::time::timeout(Duration::from_secs(10), f)
}

#[tokio::test]
async fn every_tag_goes_out_in_order_with_metadata_as_set_data_frame() {
    let mut sink = FakeSink {
        signals: vec![ServerSignal::GoAway],
        ..FakeSink::default()
    };
    let data = sample_flv(3);
    let totals = bounded(pump_bytes(
        &mut sink,
        &data,
        &options(false, false),
        &mut Shutdown::never(),
    ))
    .await
    .unwrap()
    .unwrap();
    let expected = vec![
        Sent::Data(
            0,
            DataMessage::SetDataFrame {
                name: "onMetaData".into(),
                value: meta(),
            },
        ),
        Sent::Media(MediaKind::Video, 0, Bytes::from_static(AVC_HEADER)),
        Sent::Media(MediaKind::Audio, 0, Bytes::from_static(AAC_HEADER)),
        Sent::Media(MediaKind::Video, 0, Bytes::from_static(AVC_KEY)),
        Sent::Media(MediaKind::Audio, 20, Bytes::from_static(AAC_FRAME)),
        Sent::Media(MediaKind::Video, 40, Bytes::from_static(AVC_INTER)),
        Sent::Media(MediaKind::Audio, 60, Bytes::from_static(AAC_FRAME)),
        Sent::Media(MediaKind::Video, 80, Bytes::from_static(AVC_INTER)),
        Sent::Media(MediaKind::Audio, 100, Bytes::from_static(AAC_FRAME)),
    ];
    assert_eq!(sink.sent(), expected);
    assert_eq!(totals.tags, 9);
    assert_eq!(totals.media_ms, 100);
    assert_eq!(totals.passes, 1);
    assert_eq!(totals.interrupted, None);
    // The signal was taken (and logged).
    assert!(sink.signals.is_empty());
}

#[tokio::test(start_paused = true)]
async fn pacing_follows_the_timestamps_and_caps_gaps() {
    let tags = vec![
        (TagType::Video, 1000, Bytes::from_static(AVC_KEY)),
        (TagType::Audio, 1020, Bytes::from_static(AAC_FRAME)),
        (TagType::Video, 1040, Bytes::from_static(AVC_INTER)),
        // A 10 s hole: waited for 1 s only.
        (TagType::Video, 11_040, Bytes::from_static(AVC_INTER)),
        (TagType::Video, 11_080, Bytes::from_static(AVC_INTER)),
    ];
    let data = flv(&tags);
    let mut sink = FakeSink::default();
    let start = Instant::now();
    bounded(pump_bytes(
        &mut sink,
        &data,
        &options(true, false),
        &mut Shutdown::never(),
    ))
    .await
    .unwrap()
    .unwrap();
    let at: Vec<u128> = sink
        .sent
        .iter()
        .map(|(_, t)| (*t - start).as_millis())
        .collect();
    assert_eq!(at, vec![0, 20, 40, 1040, 1080]);

    // Unpaced: all at once.
    let mut sink = FakeSink::default();
    let start = Instant::now();
    pump_bytes(
        &mut sink,
        &data,
        &options(false, false),
        &mut Shutdown::never(),
    )
    .await
    .unwrap();
    assert!(sink.sent.iter().all(|(_, t)| *t == start));
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_while_waiting_ends_the_pump_cleanly() {
    let tags = vec![
        (TagType::Video, 0, Bytes::from_static(AVC_KEY)),
        (TagType::Video, 900, Bytes::from_static(AVC_INTER)),
    ];
    let data = flv(&tags);
    let mut sink = FakeSink::default();
    let start = Instant::now();
    let mut shutdown = Shutdown::from_future(async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        "test"
    });
    let totals = bounded(pump_bytes(
        &mut sink,
        &data,
        &options(true, false),
        &mut shutdown,
    ))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(totals.interrupted, Some("test"));
    assert_eq!(sink.sent.len(), 1);
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[tokio::test]
async fn looping_shifts_timestamps_and_skips_repeated_configuration() {
    let file = TempFile::new(&sample_flv(3));
    let input = Input::File(file.0.clone());
    // Stop in the middle of the third pass.
    let (tx, rx) = oneshot::channel();
    let mut sink = FakeSink {
        stop: Some((9 + 6 + 3, tx)),
        ..FakeSink::default()
    };
    let mut shutdown = Shutdown::from_future(async move {
        let _ = rx.await;
        "test"
    });
    let source = input.open().await.unwrap();
    let totals = bounded(pump(
        &mut sink,
        source,
        &input,
        &options(false, true),
        &mut shutdown,
    ))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(totals.interrupted, Some("test"));
    assert_eq!(totals.passes, 3);
    // Passes 2 and 3: no metadata, no sequence headers.
    assert_eq!(totals.skipped, 6);
    let sent = sink.sent();
    // Frame duration from framerate 25: 40 ms; span 0..=100: offset 140.
    let second: Vec<Sent> = sent[9..15].to_vec();
    assert_eq!(
        second,
        vec![
            Sent::Media(MediaKind::Video, 140, Bytes::from_static(AVC_KEY)),
            Sent::Media(MediaKind::Audio, 160, Bytes::from_static(AAC_FRAME)),
            Sent::Media(MediaKind::Video, 180, Bytes::from_static(AVC_INTER)),
            Sent::Media(MediaKind::Audio, 200, Bytes::from_static(AAC_FRAME)),
            Sent::Media(MediaKind::Video, 220, Bytes::from_static(AVC_INTER)),
            Sent::Media(MediaKind::Audio, 240, Bytes::from_static(AAC_FRAME)),
        ]
    );
    assert_eq!(
        sent[15],
        Sent::Media(MediaKind::Video, 280, Bytes::from_static(AVC_KEY))
    );
    // Every kind's timestamps are non-decreasing over all passes.
    for kind in [MediaKind::Audio, MediaKind::Video] {
        let ts: Vec<u32> = sent
            .iter()
            .filter_map(|s| match s {
                Sent::Media(k, ts, _) if *k == kind => Some(*ts),
                _ => None,
            })
            .collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{kind:?}: {ts:?}");
    }
}

#[tokio::test]
async fn looping_a_file_without_media_fails_instead_of_spinning() {
    let file = TempFile::new(&flv(&[(
        TagType::Script,
        0,
        script(&DataMessage::OnMetaData(meta())),
    )]));
    let input = Input::File(file.0.clone());
    let mut sink = FakeSink::default();
    let source = input.open().await.unwrap();
    let err = bounded(pump(
        &mut sink,
        source,
        &input,
        &options(false, true),
        &mut Shutdown::never(),
    ))
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("has no audio or video"),
        "{err:#}"
    );
}

#[tokio::test]
async fn a_script_tag_that_is_not_amf_is_skipped() {
    let data = flv(&[
        (TagType::Script, 0, Bytes::from_static(&[0xff, 0xff, 0xff])),
        (TagType::Video, 0, Bytes::from_static(AVC_KEY)),
    ]);
    let mut sink = FakeSink::default();
    let totals = pump_bytes(
        &mut sink,
        &data,
        &options(false, false),
        &mut Shutdown::never(),
    )
    .await
    .unwrap();
    assert_eq!(
        sink.sent(),
        vec![Sent::Media(
            MediaKind::Video,
            0,
            Bytes::from_static(AVC_KEY)
        )]
    );
    assert_eq!(totals.tags, 1);
}

#[tokio::test]
async fn errors_say_which_tag_and_why() {
    let mut sink = FakeSink {
        fail_at: Some(2),
        ..FakeSink::default()
    };
    let data = sample_flv(2);
    let err = pump_bytes(
        &mut sink,
        &data,
        &options(false, false),
        &mut Shutdown::never(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "sending the tag at 0ms: connection closed by the peer"
    );

    // A file cut in the middle of a tag: the tags before it went out.
    let mut data = sample_flv(2);
    data.truncate(data.len() - 7);
    let mut sink = FakeSink::default();
    let err = pump_bytes(
        &mut sink,
        &data,
        &options(false, false),
        &mut Shutdown::never(),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("ends in the middle of a tag"),
        "{err:#}"
    );
    assert_eq!(sink.sent.len(), 6);
}

#[test]
fn every_url_publishes_the_first_urls_stream() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (urls, stream) = publish_targets(&args(&[
        "rtmp://a:1936/live/key?token=1",
        "rtmp://b/live",
        "rtmp://c/live/key?token=1",
    ]))
    .unwrap();
    assert_eq!(stream, "key?token=1");
    let hosts: Vec<&str> = urls.iter().map(|u| u.host.as_str()).collect();
    assert_eq!(hosts, ["a", "b", "c"]);
    let err = publish_targets(&args(&["rtmp://a/live/key", "rtmp://b/live/other"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"other\"") && err.contains("\"key\""),
        "{err}"
    );
    assert!(
        publish_targets(&args(&["rtmp://a/live"])).is_err(),
        "no stream"
    );
    assert!(publish_targets(&args(&["rtmp://a/live/k", "http://b"])).is_err());
}
