//! Players that fall behind: the publisher never waits for them, the memory
//! a stream holds stays within its bounds, and a lagging player skips to a
//! keyframe or is cut off per the configured rule.
//!
//! Lag is wall-clock delay at the server: every test runs on a paused tokio
//! clock, which only moves when a test advances it, so "a publisher at real
//! time" and "a burst far faster than real time" are exact.

mod common;

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use baton_rtmp::server::FeedItem;
use baton_server::StreamHub;
use baton_server::config::StreamSettings;

use common::{Publisher, drain, names, poll_once, settings};

/// Time between two video frames of the test publishers.
const FRAME: Duration = Duration::from_millis(40);

/// Runs a test, bounded in time.
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .unwrap();
}

/// [`Publisher::gop`] at real-time pace: the clock moves one frame interval
/// after each video frame (and its audio frame) is published.
async fn paced_gop(publisher: &mut Publisher, ts: u32, frames: u32) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..frames {
        let t = ts + i * 40;
        if i == 0 {
            out.push(format!("K{}", publisher.keyframe(t)));
        } else {
            out.push(format!("P{}", publisher.inter(t)));
        }
        out.push(format!("A{}", publisher.audio(t + 1)));
        tokio::time::advance(FRAME).await;
    }
    out
}

fn small_queue() -> StreamSettings {
    let mut s = settings();
    s.player_queue_messages = 256;
    s.player_queue_max_bytes = 1 << 20;
    s.gop_cache_max_bytes = 512 << 10;
    s
}

#[tokio::test(start_paused = true)]
async fn a_stalled_player_neither_blocks_the_publisher_nor_grows_memory() {
    bounded(async {
        let s = small_queue();
        let hub = StreamHub::new(&s);
        let mut stalled = hub.play("live", "s").unwrap();
        let mut active = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.padding = 2000;
        publisher.metadata();
        publisher.headers();
        let mut published = names(&["meta", "vsh", "ash"]);
        let mut got = Vec::new();
        let mut last_gop = Vec::new();
        let mut max_queued = (0, 0);
        for g in 0..200 {
            last_gop = publisher.gop(g * 400, 10);
            published.extend(last_gop.iter().cloned());
            got.extend(drain(&mut active));
            let stats = hub.stream_stats("live", "s").unwrap();
            max_queued.0 = max_queued.0.max(stats.queued_messages);
            max_queued.1 = max_queued.1.max(stats.queued_bytes);
            assert!(stats.gop_bytes <= s.gop_cache_max_bytes);
        }
        // 4000 messages of 2 KB went through; the stream held at most its
        // queue bounds, whatever the stalled player did.
        assert_eq!(got, published);
        assert!(max_queued.0 <= s.player_queue_messages, "{max_queued:?}");
        assert!(max_queued.1 <= s.player_queue_max_bytes, "{max_queued:?}");
        assert_eq!(max_queued.0, s.player_queue_messages, "the queue did fill");

        // The stalled player resumes on the last keyframe, with the metadata
        // and headers it would otherwise have missed.
        let mut expected = names(&["meta", "vsh", "ash"]);
        expected.extend(last_gop);
        assert_eq!(drain(&mut stalled), expected);
        assert_eq!(stalled.skips(), 1);
        let next = publisher.gop(80_000, 2);
        assert_eq!(drain(&mut stalled), next);
        assert_eq!(drain(&mut active), next);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_player_skipping_too_often_is_cut_off() {
    bounded(async {
        let mut s = small_queue();
        s.player_lag_disconnect.max_skips = 1;
        let hub = StreamHub::new(&s);
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.headers();
        let mut feed = hub.play("live", "s").unwrap();
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
        for g in 0..30 {
            publisher.gop(g * 400, 10);
        }
        let got = drain(&mut feed);
        assert_eq!(got.len(), 20, "one GOP: {got:?}");
        assert!(got[0].starts_with('K'));
        assert_eq!(feed.skips(), 1);
        for g in 30..60 {
            publisher.gop(g * 400, 10);
        }
        match poll_once(&mut feed) {
            Poll::Ready(FeedItem::Close(reason)) => {
                assert!(reason.contains("lagging"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(drain(&mut feed), ["close"], "closed for good");
        drop(feed);
        assert_eq!(hub.stats().players, 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn with_no_skips_allowed_the_first_lag_cuts_the_player_off() {
    bounded(async {
        let mut s = small_queue();
        s.player_lag_disconnect.max_skips = 0;
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.headers();
        for g in 0..30 {
            publisher.gop(g * 400, 10);
        }
        assert_eq!(drain(&mut feed), ["close"]);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_burst_faster_than_real_time_never_makes_a_keeping_up_player_skip() {
    bounded(async {
        let s = settings();
        assert_eq!(s.max_player_lag_ms, 5000);
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.metadata();
        publisher.headers();
        let mut published = names(&["meta", "vsh", "ash"]);
        let mut got = Vec::new();
        // 60 s of media (a frame every 200 ms, a keyframe every 2 s, each
        // with its audio: 600 messages) sent at once, as an unpaced file
        // push or a relay catching up does. The player reads everything
        // there is after every 100 messages: up to 10 s of media behind the
        // newest frame, yet never behind real time.
        for frame in 0..300 {
            let t = frame * 200;
            let video = if frame % 10 == 0 {
                format!("K{}", publisher.keyframe(t))
            } else {
                format!("P{}", publisher.inter(t))
            };
            published.push(video);
            published.push(format!("A{}", publisher.audio(t + 1)));
            if frame % 50 == 49 {
                got.extend(drain(&mut feed));
                tokio::time::advance(Duration::from_millis(10)).await;
            }
        }
        assert_eq!(published.len(), 603);
        assert_eq!(got, published, "every message, in order");
        assert_eq!(feed.skips(), 0);
        let next = publisher.gop(60_000, 2);
        assert_eq!(drain(&mut feed), next);
        assert_eq!(feed.skips(), 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_player_too_far_behind_real_time_skips_to_a_recent_keyframe() {
    bounded(async {
        let mut s = settings();
        s.max_player_lag_ms = 1000;
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.metadata();
        publisher.headers();
        let first = paced_gop(&mut publisher, 0, 10).await;
        let mut expected = names(&["meta", "vsh", "ash"]);
        expected.extend(first);
        assert_eq!(drain(&mut feed), expected);
        // The player stops reading for 4 s of wall time while the publisher
        // goes on at real time.
        let mut last = Vec::new();
        for g in 1..=10 {
            last = paced_gop(&mut publisher, g * 400, 10).await;
        }
        // 200 messages, well within the queue: the skip is by time.
        let queued = hub.stream_stats("live", "s").unwrap().queued_messages;
        assert!(queued < s.player_queue_messages, "{queued}");
        // The last keyframe arrived 400 ms ago: the player resumes there.
        assert_eq!(drain(&mut feed), last);
        assert_eq!(feed.skips(), 1);
        // Reading again at real time, it does not skip again.
        for g in 11..30 {
            let gop = paced_gop(&mut publisher, g * 400, 10).await;
            assert_eq!(drain(&mut feed), gop);
        }
        assert_eq!(feed.skips(), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_player_just_within_the_lag_does_not_skip() {
    bounded(async {
        let mut s = settings();
        s.max_player_lag_ms = 1000;
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.headers();
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
        // 1 s of real-time publishing: the oldest unread frame arrived
        // exactly 1 s ago, not more.
        let mut expected = Vec::new();
        for g in 0..2 {
            expected.extend(paced_gop(&mut publisher, g * 500, 12).await);
        }
        tokio::time::advance(Duration::from_millis(40)).await;
        expected.extend(publisher.gop(960, 1));
        assert_eq!(drain(&mut feed), expected);
        assert_eq!(feed.skips(), 0);
        // One more millisecond and the same backlog is too old.
        for g in 0..2 {
            paced_gop(&mut publisher, 1000 + g * 500, 12).await;
        }
        tokio::time::advance(Duration::from_millis(41)).await;
        let last = publisher.gop(1960, 1);
        assert_eq!(drain(&mut feed), last);
        assert_eq!(feed.skips(), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn with_long_gops_a_lagging_player_waits_for_the_next_keyframe() {
    bounded(async {
        let mut s = settings();
        s.max_player_lag_ms = 1000;
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.headers();
        // One 4 s GOP at real time: its keyframe is too old to resume on.
        paced_gop(&mut publisher, 0, 100).await;
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
        assert_eq!(feed.skips(), 1);
        let next = paced_gop(&mut publisher, 4000, 3).await;
        assert_eq!(drain(&mut feed), next);
        assert_eq!(feed.skips(), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_player_behind_on_an_ended_publication_skips_to_the_next_one() {
    bounded(async {
        let mut s = settings();
        s.max_player_lag_ms = 1000;
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.headers();
        paced_gop(&mut first, 0, 10).await;
        first.end();
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.metadata();
        second.headers();
        let mut last = Vec::new();
        for g in 0..5 {
            last = paced_gop(&mut second, g * 400, 10).await;
        }
        // The first publication arrived 2.4 s ago: the queue no longer holds
        // it (nor its headers, useless to a player that gets none of its
        // frames). The player gets its end, the second one's metadata and
        // headers, then the second one's last GOP.
        let mut expected = names(&["end", "meta", "vsh", "ash"]);
        expected.extend(last);
        assert_eq!(drain(&mut feed), expected);
        assert_eq!(feed.skips(), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_lagging_player_still_gets_the_end_of_a_publication_it_skipped() {
    bounded(async {
        let s = small_queue();
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.headers();
        for g in 0..20 {
            first.gop(g * 400, 10);
        }
        first.end();
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.metadata();
        second.headers();
        let mut last = Vec::new();
        for g in 0..20 {
            last = second.gop(g * 400, 10);
        }
        let mut expected = names(&["end", "meta", "vsh", "ash"]);
        expected.extend(last);
        assert_eq!(drain(&mut feed), expected);
        second.end();
        assert_eq!(drain(&mut feed), ["end"]);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_audio_only_player_resumes_at_the_next_audio_frame() {
    bounded(async {
        let s = small_queue();
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("radio", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("radio", "s").unwrap());
        publisher.sink.on_media(
            baton_proto::session::MediaKind::Audio,
            baton_proto::Timestamp(0),
            bytes::Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
        );
        for i in 0..1000 {
            publisher.audio(i * 23);
        }
        assert_eq!(drain(&mut feed), ["ash"], "the header it missed, then wait");
        assert_eq!(feed.skips(), 1);
        let a = publisher.audio(23_000);
        assert_eq!(drain(&mut feed), [format!("A{a}")]);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_audio_only_player_behind_real_time_resumes_at_the_next_audio_frame() {
    bounded(async {
        let mut s = settings();
        s.max_player_lag_ms = 1000;
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("radio", "s").unwrap();
        let mut publisher = Publisher::new(hub.publish("radio", "s").unwrap());
        // 2 s of audio at real time (a frame every 23 ms), not read.
        for i in 0..87 {
            publisher.audio(i * 23);
            tokio::time::advance(Duration::from_millis(23)).await;
        }
        assert_eq!(drain(&mut feed), Vec::<String>::new());
        assert_eq!(feed.skips(), 1);
        let a = publisher.audio(2001);
        assert_eq!(drain(&mut feed), [format!("A{a}")]);
        assert_eq!(feed.skips(), 1);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn skips_outside_the_window_are_forgiven() {
    bounded(async {
        let mut s = small_queue();
        s.player_lag_disconnect.max_skips = 1;
        s.player_lag_disconnect.window_secs = 10;
        let hub = StreamHub::new(&s);
        let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
        publisher.headers();
        let mut feed = hub.play("live", "s").unwrap();
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
        let mut ts = 0;
        let mut overflow = |publisher: &mut Publisher| {
            for _ in 0..30 {
                publisher.gop(ts, 10);
                ts += 400;
            }
        };
        overflow(&mut publisher);
        assert!(drain(&mut feed)[0].starts_with('K'));
        tokio::time::advance(Duration::from_secs(11)).await;
        overflow(&mut publisher);
        assert!(drain(&mut feed)[0].starts_with('K'), "first skip forgotten");
        assert_eq!(feed.skips(), 2);
        tokio::time::advance(Duration::from_secs(5)).await;
        overflow(&mut publisher);
        assert_eq!(drain(&mut feed), ["close"], "two skips within 10 s");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_skipping_player_drops_the_rest_of_an_ended_publication() {
    bounded(async {
        let mut s = small_queue();
        s.max_player_lag_ms = 1000;
        let hub = StreamHub::new(&s);
        let mut feed = hub.play("live", "s").unwrap();
        let mut first = Publisher::new(hub.publish("live", "s").unwrap());
        first.headers();
        // One long GOP at real time: the player falls 2.4 s behind and waits
        // for a keyframe.
        paced_gop(&mut first, 0, 60).await;
        assert_eq!(drain(&mut feed), ["vsh", "ash"]);
        assert_eq!(feed.skips(), 1);
        // That keyframe comes, but the publication ends before the player
        // reads it: nothing left to catch up on, so dropped; the end is not.
        first.gop(2400, 3);
        first.end();
        let mut second = Publisher::new(hub.publish("live", "s").unwrap());
        second.headers();
        let gop = second.gop(0, 3);
        let mut expected = names(&["end", "vsh", "ash"]);
        expected.extend(gop);
        assert_eq!(drain(&mut feed), expected);
        assert_eq!(feed.skips(), 1);
    })
    .await;
}
