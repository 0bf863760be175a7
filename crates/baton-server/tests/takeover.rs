//! A stream outlives its publisher's connection: the reconnect window, a
//! new publisher taking over, and what players see, with no sockets (sinks
//! driven and feeds polled by hand) on tokio's paused clock.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use baton_proto::Timestamp;
use baton_proto::amf0::Value;
use baton_proto::command::{DataMessage, StatusCode};
use baton_rtmp::server::{FeedItem, PlayFeed, PublishEnd};
use baton_server::StreamHub;
use baton_server::config::StreamSettings;
use tokio::time::Instant;

use common::{CountingWaker, Publisher, describe, drain, names, poll_once, settings};

/// Every test body runs under this bound (on the paused clock, which
/// advances by itself when nothing else can run).
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(300), test)
        .await
        .expect("test timed out");
}

/// The default window.
fn window() -> Duration {
    Duration::from_secs(settings().reconnect_window_secs)
}

/// The connection of a publisher is lost (no unpublish).
fn lose(publisher: Publisher) {
    publisher
        .sink
        .on_end(PublishEnd::ConnectionLost("peer closed".into()));
}

/// What a feed has now: descriptions with timestamps.
fn drain_timed(feed: &mut impl PlayFeed) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    while let Poll::Ready(item) = poll_once(feed) {
        let ts = match &item {
            FeedItem::Media(msg) => msg.timestamp().0,
            FeedItem::Data { timestamp, .. } => timestamp.0,
            _ => 0,
        };
        let close = matches!(item, FeedItem::Close(_));
        out.push((describe(&item), ts));
        if close || out.len() > 100_000 {
            break;
        }
    }
    out
}

/// `@setDataFrame onMetaData {width}`.
fn metadata(publisher: &mut Publisher, ts: u32, width: f64) {
    publisher.sink.on_data(
        Timestamp(ts),
        DataMessage::SetDataFrame {
            name: "onMetaData".into(),
            value: Value::EcmaArray(vec![("width".into(), Value::Number(width))]),
        },
    );
}

/// Lets spawned tasks (the window timer) run.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test(start_paused = true)]
async fn a_publisher_back_within_the_window_continues_the_stream() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        let mut expected = names(&["meta", "vsh", "ash"]);
        first.metadata();
        first.headers();
        expected.extend(first.gop(0, 5));
        expected.extend(first.gop(200, 5));
        let next = first.next;
        lose(first);
        let stats = hub.stream_stats("live", "s").unwrap();
        assert_eq!((stats.publishing, stats.awaiting_publisher), (false, true));
        assert_eq!(alive_tasks(), 1, "the window timer");

        tokio::time::sleep(window() / 2).await;
        assert_eq!(drain(&mut feed), expected, "no end while waiting");

        // The new publisher sends the same metadata and headers, and
        // timestamps that continue the stream's (FFmpeg, Baton).
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.next = next;
        settle().await;
        assert_eq!(alive_tasks(), 0, "the timer is gone with the takeover");
        second.metadata();
        second.headers();
        let third_gop = second.gop(400, 5);
        let got = drain_timed(&mut feed);
        let names: Vec<_> = got.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, third_gop, "no end, no new start, no repeated header");
        assert_eq!(got[0], (third_gop[0].clone(), 400), "timestamps unchanged");
        let stats = hub.stream_stats("live", "s").unwrap();
        assert_eq!((stats.publishing, stats.awaiting_publisher), (true, false));

        // Past the old window nothing happens: the stream is the new
        // publisher's.
        tokio::time::sleep(window()).await;
        assert!(drain(&mut feed).is_empty());
        second.end();
        assert_eq!(drain(&mut feed), ["end"]);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_publisher_restarting_at_zero_is_mapped_after_the_last_frame() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        metadata(&mut first, 5000, 1280.0);
        first.headers();
        first.gop(5000, 10);
        let before = drain_timed(&mut feed);
        lose(first);
        tokio::time::sleep(Duration::from_millis(200)).await;

        // OBS: metadata (changed), headers and keyframe, all at 0.
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.next = 1000;
        metadata(&mut second, 0, 1920.0);
        second.headers();
        let gop = second.gop(0, 10);
        let after = drain_timed(&mut feed);

        // The new metadata is forwarded, placed at the switch; the headers,
        // unchanged, are not.
        assert_eq!(after[0], ("meta".to_owned(), 5361));
        let names: Vec<_> = after[1..].iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, gop);
        // The first frame lands one video frame interval (40 ms) after the
        // last audio frame (5361), every later one keeps its spacing.
        assert_eq!(after[1].1, 5401);
        assert_eq!(after[2].1, 5402);
        assert_eq!(after.last().unwrap().1, 5401 + 9 * 40 + 1);
        // Frames of each kind strictly increase across the switch, and
        // nothing at all goes back.
        for prefix in ["K", "P", "A"] {
            let kind = |n: &String| {
                let video = n.starts_with('K') || n.starts_with('P');
                if prefix == "A" {
                    n.starts_with('A')
                } else {
                    video
                }
            };
            let ts: Vec<u32> = before
                .iter()
                .chain(&after)
                .filter(|(n, _)| kind(n))
                .map(|&(_, t)| t)
                .collect();
            assert!(ts.windows(2).all(|w| w[0] < w[1]), "{prefix}: {ts:?}");
        }
        let all: Vec<u32> = before[3..].iter().chain(&after).map(|&(_, t)| t).collect();
        assert!(all.windows(2).all(|w| w[0] <= w[1]), "{all:?}");

        // A joiner gets the new metadata.
        let mut late = hub.play("live", "s").unwrap();
        match poll_once(&mut late) {
            Poll::Ready(FeedItem::Data {
                data: DataMessage::OnMetaData(Value::EcmaArray(props)),
                ..
            }) => assert_eq!(props, [("width".to_owned(), Value::Number(1920.0))]),
            other => panic!("{other:?}"),
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn changed_sequence_headers_are_forwarded() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.headers();
        first.gop(0, 3);
        drain(&mut feed);
        lose(first);
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.next = 100;
        // A new AVC configuration, the same AAC one.
        second.sink.on_media(
            baton_proto::session::MediaKind::Video,
            Timestamp(200),
            bytes::Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x4d, 0, 0x28]),
        );
        second.headers();
        let gop = second.gop(200, 2);
        let mut expected = names(&["vsh"]);
        // The AVC header sent again right after is the old one: a change.
        expected.push("vsh".to_owned());
        expected.extend(gop);
        assert_eq!(drain(&mut feed), expected);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn with_nobody_back_players_get_the_end_when_the_window_passes() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.headers();
        let mut expected = names(&["vsh", "ash"]);
        expected.extend(publisher.gop(0, 5));
        assert_eq!(drain(&mut feed), expected);

        let lost_at = Instant::now();
        lose(publisher);
        let waker = Arc::new(CountingWaker::default());
        let waker_ref = Waker::from(waker.clone());
        let mut cx = Context::from_waker(&waker_ref);
        assert!(feed.poll_next(&mut cx).is_pending());

        tokio::time::sleep(window() - Duration::from_millis(1)).await;
        settle().await;
        assert_eq!(waker.count(), 0, "nothing before the window passes");
        assert!(feed.poll_next(&mut cx).is_pending());

        tokio::time::sleep(Duration::from_millis(1)).await;
        settle().await;
        assert_eq!(waker.count(), 1, "the timer woke the player");
        assert_eq!(lost_at.elapsed(), window());
        assert!(matches!(
            feed.poll_next(&mut cx),
            Poll::Ready(FeedItem::End)
        ));
        assert!(feed.poll_next(&mut cx).is_pending());
        assert_eq!(alive_tasks(), 0);
        let stats = hub.stream_stats("live", "s").unwrap();
        assert_eq!((stats.publishing, stats.awaiting_publisher), (false, false));

        // A publisher now starts a new publication (players see it start).
        let mut again = Publisher::new(hub.publish("live", "s").unwrap());
        again.headers();
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
        again.end();

        // A stream with no players is kept for the window, then removed.
        let publisher = Publisher::new(hub.publish("live", "alone").unwrap());
        lose(publisher);
        assert!(hub.stream_stats("live", "alone").is_some());
        tokio::time::sleep(window()).await;
        settle().await;
        assert!(hub.stream_stats("live", "alone").is_none(), "removed");
        drop(feed);
        assert_eq!(hub.stats().streams, 0);
        assert_eq!(alive_tasks(), 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_unpublish_ends_the_stream_at_once() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.headers();
        let mut expected = names(&["vsh", "ash"]);
        expected.extend(publisher.gop(0, 3));
        publisher.end();
        expected.push("end".to_owned());
        assert_eq!(drain(&mut feed), expected);
        let stats = hub.stream_stats("live", "s").unwrap();
        assert_eq!((stats.publishing, stats.awaiting_publisher), (false, false));
        assert_eq!(alive_tasks(), 0, "no timer");
        // The next publisher starts afresh: its headers reach the player.
        let mut next = Publisher::new(hub.publish("live", "s").unwrap());
        next.headers();
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_second_publisher_is_refused_while_the_first_is_connected() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.headers();
        let err = hub.publish("live", "s").unwrap_err();
        assert_eq!(err.code, StatusCode::PublishBadName);
        // The first goes on undisturbed.
        let gop = first.gop(0, 2);
        let mut expected = names(&["vsh", "ash"]);
        expected.extend(gop);
        assert_eq!(drain(&mut feed), expected);
        assert_eq!(hub.stats().publishers, 1);
    })
    .await;
}

/// Takeover of a connected publisher: the old sink becomes inert.
async fn takeover_of_a_connected_publisher(settings: StreamSettings, go_away: bool) {
    let hub = StreamHub::new(&settings);
    let mut feed = hub.play("live", "s").unwrap();
    let mut first = Publisher::new(hub.publish("live", "s").unwrap());
    first.headers();
    let mut expected = names(&["vsh", "ash"]);
    expected.extend(first.gop(0, 3));
    if go_away {
        first.sink.on_go_away();
    }
    let mut second = Publisher::new(hub.publish("live", "s").unwrap());
    second.next = 1000;
    second.headers();
    expected.extend(second.gop(120, 3));
    // The old connection still sends, then unpublishes: none of it counts.
    first.gop(120, 3);
    first.audio(500);
    first.end();
    assert_eq!(drain(&mut feed), expected);
    let stats = hub.stream_stats("live", "s").unwrap();
    assert_eq!((stats.publishing, stats.awaiting_publisher), (true, false));
    // The new one still publishes, and its own end is the end.
    let more = second.gop(240, 1);
    assert_eq!(drain(&mut feed), more);
    second.end();
    assert_eq!(drain(&mut feed), ["end"]);
}

#[tokio::test(start_paused = true)]
async fn after_go_away_a_new_publisher_takes_over() {
    bounded(takeover_of_a_connected_publisher(settings(), true)).await;
}

#[tokio::test(start_paused = true)]
async fn allow_takeover_lets_a_new_publisher_take_over() {
    let mut s = settings();
    s.allow_takeover = true;
    bounded(takeover_of_a_connected_publisher(s, false)).await;
}

#[tokio::test(start_paused = true)]
async fn a_taken_over_publisher_losing_its_connection_changes_nothing() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.sink.on_go_away();
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        lose(first);
        assert_eq!(alive_tasks(), 0, "no window opened");
        let gop = second.gop(0, 2);
        assert_eq!(drain(&mut feed), gop);
        // Go Away to the new publisher's predecessor does not carry over.
        assert_eq!(
            hub.publish("live", "s").unwrap_err().code,
            StatusCode::PublishBadName
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_re_sent_keyframe_is_dropped() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.headers();
        let mut expected = names(&["vsh", "ash"]);
        expected.extend(first.gop(0, 3));
        // The old connection got the keyframe (and its audio) out, then died.
        let k = first.keyframe(120);
        let a = first.audio(121);
        expected.extend([format!("K{k}"), format!("A{a}")]);
        lose(first);

        // The new one starts again from that keyframe: same bytes, same
        // timestamps.
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.next = k;
        second.headers();
        assert_eq!(second.keyframe(120), k);
        assert_eq!(second.audio(121), a);
        let p = second.inter(160);
        expected.push(format!("P{p}"));
        // A frame with the same timestamp but other bytes is not a repeat.
        second.next = 5000;
        let other = second.audio(121);
        expected.push(format!("A{other}"));
        assert_eq!(drain(&mut feed), expected, "K{k} and A{a} once");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_player_joining_during_the_window_gets_the_cached_gop() {
    bounded(async {
        let hub = StreamHub::new(&settings());
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.metadata();
        first.headers();
        first.gop(0, 5);
        let last_gop = first.gop(200, 3);
        let next = first.next;
        lose(first);
        tokio::time::sleep(Duration::from_secs(3)).await;

        let mut late = hub.play("live", "s").unwrap();
        let mut expected = names(&["meta", "vsh", "ash"]);
        expected.extend(last_gop);
        assert_eq!(drain(&mut late), expected);
        assert_eq!(hub.stats().players, 1);

        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.next = next;
        second.metadata();
        second.headers();
        let gop = second.gop(400, 2);
        assert_eq!(drain(&mut late), gop);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn without_a_runtime_timer_the_window_is_checked_lazily() {
    bounded(async {
        // The stream is set up outside the runtime's context: no timer.
        let hub = StreamHub::new(&settings());
        let mut feed = std::thread::scope(|s| {
            s.spawn(|| {
                let feed = hub.play("live", "s").unwrap();
                let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
                publisher.headers();
                lose(publisher);
                feed
            })
            .join()
            .unwrap()
        });
        assert_eq!(alive_tasks(), 0, "no timer task");
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
        // The players' polls close the window once it has passed (the
        // deadline was read on the thread's clock, a little after the
        // runtime's paused clock started: a second more covers it).
        tokio::time::advance(window() + Duration::from_secs(1)).await;
        assert_eq!(drain(&mut feed), ["end"]);
        // And a publisher after it starts anew.
        let _p = Publisher::new(hub.publish("live", "s").unwrap());
        assert!(!hub.stream_stats("live", "s").unwrap().awaiting_publisher);
    })
    .await;
}
