//! Players that fall behind: the publisher never waits for them, the memory
//! a stream holds stays within its bounds, and a lagging player skips to a
//! keyframe or is cut off per the configured rule.

mod common;

use std::task::Poll;
use std::time::Duration;

use baton_rtmp::server::FeedItem;
use baton_server::StreamHub;
use baton_server::config::StreamSettings;

use common::{Publisher, drain, names, poll_once, settings};

fn small_queue() -> StreamSettings {
    let mut s = settings();
    s.player_queue_messages = 256;
    s.player_queue_max_bytes = 1 << 20;
    s.gop_cache_max_bytes = 512 << 10;
    s
}

#[test]
fn a_stalled_player_neither_blocks_the_publisher_nor_grows_memory() {
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
}

#[test]
fn a_player_skipping_too_often_is_cut_off() {
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
}

#[test]
fn with_no_skips_allowed_the_first_lag_cuts_the_player_off() {
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
}

#[test]
fn a_player_too_far_behind_in_time_skips_to_a_recent_keyframe() {
    let mut s = settings();
    s.max_player_lag_ms = 1000;
    let hub = StreamHub::new(&s);
    let mut feed = hub.play("live", "s").unwrap();
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    let mut last = Vec::new();
    for g in 0..10 {
        last = publisher.gop(g * 400, 10);
    }
    // 4 s behind, well within the queue's capacity: skipped by time.
    let mut expected = names(&["vsh", "ash"]);
    expected.extend(last);
    assert_eq!(drain(&mut feed), expected);
    assert_eq!(feed.skips(), 1);
}

#[test]
fn with_long_gops_a_lagging_player_waits_for_the_next_keyframe() {
    let mut s = settings();
    s.max_player_lag_ms = 1000;
    let hub = StreamHub::new(&s);
    let mut feed = hub.play("live", "s").unwrap();
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    // One 4 s GOP: its keyframe is already too old to resume on.
    publisher.gop(0, 100);
    assert_eq!(drain(&mut feed), ["vsh", "ash"]);
    assert_eq!(feed.skips(), 1);
    let next = publisher.gop(4000, 3);
    assert_eq!(drain(&mut feed), next);
}

#[test]
fn a_lagging_player_still_gets_the_end_of_a_publication_it_skipped() {
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
}

#[test]
fn an_audio_only_player_resumes_at_the_next_audio_frame() {
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
}

#[tokio::test(start_paused = true)]
async fn skips_outside_the_window_are_forgiven() {
    let test = async {
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
    };
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .unwrap();
}

#[test]
fn a_skipping_player_drops_the_rest_of_an_ended_publication() {
    let mut s = small_queue();
    s.max_player_lag_ms = 1000;
    let hub = StreamHub::new(&s);
    let mut feed = hub.play("live", "s").unwrap();
    let mut first = Publisher::new(hub.publish("live", "s").unwrap());
    first.headers();
    // One long GOP: the player falls 2.4 s behind and waits for a keyframe.
    first.gop(0, 60);
    assert_eq!(drain(&mut feed), ["vsh", "ash"]);
    assert_eq!(feed.skips(), 1);
    // That keyframe comes, but the publication ends before the player
    // reads it: stale, so dropped; the end is not.
    first.gop(2400, 3);
    first.end();
    let mut second = Publisher::new(hub.publish("live", "s").unwrap());
    second.headers();
    let gop = second.gop(0, 3);
    let mut expected = names(&["end", "vsh", "ash"]);
    expected.extend(gop);
    assert_eq!(drain(&mut feed), expected);
    assert_eq!(feed.skips(), 1);
}
