//! The stream hub through its public API, with no sockets: publishers drive
//! a `MediaSink`, players poll a `PlayFeed` by hand.

mod common;

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use baton_proto::amf0::Value;
use baton_proto::command::{Connect, DataMessage, PublishType, StatusCode};
use baton_rtmp::server::{
    ConnectionInfo, FeedItem, Handler, PlayFeed, PlayRequest, PublishRequest,
};
use baton_server::config::Config;
use baton_server::{HubStats, MediaServer, StreamHub};

use common::{CountingWaker, Publisher, describe, drain, names, poll_once, settings};

#[test]
fn a_late_joiner_gets_metadata_headers_then_a_keyframe() {
    let hub = StreamHub::new(&settings());
    let mut publisher = Publisher::new(hub.publish("live", "cam").unwrap());
    publisher.metadata();
    publisher.headers();
    publisher.gop(0, 5);
    let second_gop = publisher.gop(200, 3);

    let mut feed = hub.play("live", "cam").unwrap();
    // The metadata arrives as onMetaData with the publisher's value.
    match poll_once(&mut feed) {
        Poll::Ready(FeedItem::Data {
            data: DataMessage::OnMetaData(Value::EcmaArray(props)),
            ..
        }) => assert_eq!(props, vec![("width".to_owned(), Value::Number(1280.0))]),
        other => panic!("{other:?}"),
    }
    let mut expected = names(&["vsh", "ash"]);
    expected.extend(second_gop);
    assert_eq!(drain(&mut feed), expected);
    assert_eq!(expected[2], "K11", "starts on the last keyframe");

    // Then live, with timestamps unchanged.
    let id = publisher.inter(1234);
    match poll_once(&mut feed) {
        Poll::Ready(FeedItem::Media(msg)) => {
            assert_eq!(msg.timestamp().0, 1234);
            assert_eq!(describe(&FeedItem::Media(msg)), format!("P{id}"));
        }
        other => panic!("{other:?}"),
    }
    assert!(poll_once(&mut feed).is_pending());
}

#[test]
fn cache_and_live_join_with_no_gap_and_no_duplicate() {
    let hub = StreamHub::new(&settings());
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    let mut published = Vec::new();
    let mut feeds = Vec::new();
    // Players join between every two messages, across GOP boundaries.
    for g in 0..4 {
        for i in 0..6 {
            let t = g * 1000 + i * 40;
            published.push(if i == 0 {
                format!("K{}", publisher.keyframe(t))
            } else {
                format!("P{}", publisher.inter(t))
            });
            feeds.push((published.len(), hub.play("live", "s").unwrap()));
            published.push(format!("A{}", publisher.audio(t + 1)));
            feeds.push((published.len(), hub.play("live", "s").unwrap()));
        }
    }
    for (joined_after, mut feed) in feeds {
        let got = drain(&mut feed);
        assert_eq!(got[..2], names(&["vsh", "ash"]));
        let media = &got[2..];
        // It starts at the keyframe of the GOP it joined in...
        let start = published[..joined_after]
            .iter()
            .rposition(|m| m.starts_with('K'))
            .unwrap();
        // ...and has every message from there on, once, in order.
        assert_eq!(media, &published[start..], "joined after {joined_after}");
    }
}

#[test]
fn fifty_players_get_every_message_in_order() {
    let hub = StreamHub::new(&settings());
    // Half wait before the publisher comes, half join at its first keyframe.
    let mut feeds: Vec<_> = (0..25).map(|_| hub.play("live", "s").unwrap()).collect();
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    let mut published = names(&["meta", "vsh", "ash"]);
    publisher.metadata();
    publisher.headers();
    published.push(format!("K{}", publisher.keyframe(0)));
    feeds.extend((0..25).map(|_| hub.play("live", "s").unwrap()));
    let mut got = vec![Vec::new(); feeds.len()];
    for g in 0..20 {
        published.extend(publisher.gop(40 + g * 400, 10));
        // Players read at different paces: some every GOP, some every 5.
        for (i, feed) in feeds.iter_mut().enumerate() {
            if i % 5 == 0 || g % 5 == 4 {
                got[i].extend(drain(feed));
            }
        }
    }
    publisher.end();
    published.push("end".to_owned());
    for (i, feed) in feeds.iter_mut().enumerate() {
        got[i].extend(drain(feed));
        assert_eq!(got[i], published, "player {i}");
        assert_eq!(feed.skips(), 0);
    }
    assert_eq!(
        hub.stats(),
        HubStats {
            streams: 1,
            publishers: 0,
            players: 50
        }
    );
    drop(feeds);
    assert_eq!(
        hub.stats(),
        HubStats::default(),
        "the idle stream is removed"
    );
}

/// A stream with its headers and a keyframe, and a player that read them.
fn caught_up_player() -> (StreamHub, Publisher, baton_server::StreamFeed) {
    let hub = StreamHub::new(&settings());
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    publisher.keyframe(0);
    let mut feed = hub.play("live", "s").unwrap();
    assert_eq!(drain(&mut feed), names(&["vsh", "ash", "K1"]));
    (hub, publisher, feed)
}

#[test]
fn a_waiting_player_stays_parked_until_the_next_message_then_gets_it() {
    let (_hub, mut publisher, mut feed) = caught_up_player();
    let waker = Arc::new(CountingWaker::default());
    let task = Waker::from(Arc::clone(&waker));
    let mut cx = Context::from_waker(&task);
    // Pending again and again while nothing is published (the later polls
    // do not take the stream lock), and not woken.
    for _ in 0..3 {
        assert!(feed.poll_next(&mut cx).is_pending());
    }
    assert_eq!(waker.count(), 0);
    let id = publisher.inter(40);
    assert_eq!(waker.count(), 1, "the next message wakes the parked player");
    match feed.poll_next(&mut cx) {
        Poll::Ready(item) => assert_eq!(describe(&item), format!("P{id}")),
        Poll::Pending => panic!("the message published after parking is read"),
    }
    // Parked again; polled from another task (a different waker), the feed
    // registers that one instead.
    assert!(feed.poll_next(&mut cx).is_pending());
    let other = Arc::new(CountingWaker::default());
    let other_task = Waker::from(Arc::clone(&other));
    assert!(
        feed.poll_next(&mut Context::from_waker(&other_task))
            .is_pending()
    );
    publisher.inter(80);
    assert_eq!((waker.count(), other.count()), (1, 1));
}

#[test]
fn a_player_that_takes_the_last_message_is_registered_in_the_same_poll() {
    let (_hub, mut publisher, mut feed) = caught_up_player();
    let waker = Arc::new(CountingWaker::default());
    let task = Waker::from(Arc::clone(&waker));
    let mut cx = Context::from_waker(&task);
    let id = publisher.inter(40);
    assert_eq!(waker.count(), 0, "registered with another waker by drain");
    // Taking the newest message registers this waker at once (under the
    // lock the read took), so the poll that follows parks without the lock
    // and the next message wakes the player even if it never polled to
    // Pending in between.
    match feed.poll_next(&mut cx) {
        Poll::Ready(item) => assert_eq!(describe(&item), format!("P{id}")),
        Poll::Pending => panic!("the published message is read"),
    }
    publisher.inter(80);
    assert_eq!(waker.count(), 1, "woken by the next message");
    // Not taken yet: a message behind the newest does not register.
    let id = publisher.inter(120);
    match feed.poll_next(&mut cx) {
        Poll::Ready(item) => assert_ne!(describe(&item), format!("P{id}")),
        Poll::Pending => panic!("two messages are waiting"),
    }
}

#[test]
fn players_that_keep_up_leave_nothing_in_the_queue() {
    let hub = StreamHub::new(&settings());
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    publisher.keyframe(0);
    let (mut fast, mut slow) = (
        hub.play("live", "s").unwrap(),
        hub.play("live", "s").unwrap(),
    );
    drain(&mut fast);
    drain(&mut slow);
    let queued = |hub: &StreamHub| hub.stream_stats("live", "s").unwrap().queued_messages;
    // Both read everything after each message: the queue holds only the
    // newest message.
    for i in 0..20 {
        publisher.inter(40 * (i + 1));
        assert_eq!(drain(&mut fast).len(), 1);
        assert_eq!(drain(&mut slow).len(), 1);
    }
    publisher.inter(1000);
    assert_eq!(queued(&hub), 1);
    // One player stops reading: what it has not read stays for it.
    drain(&mut fast);
    let mut expected = Vec::new();
    for i in 0..10 {
        expected.push(format!("P{}", publisher.inter(1040 + 40 * i)));
        drain(&mut fast);
    }
    assert_eq!(queued(&hub), 11);
    let got = drain(&mut slow);
    assert_eq!(got.len(), 11);
    assert_eq!(got[1..], expected[..]);
}

#[test]
fn end_comes_after_every_message_then_the_feed_waits_for_the_next_publisher() {
    let hub = StreamHub::new(&settings());
    let mut feed = hub.play("live", "s").unwrap();
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    let mut expected = names(&["vsh", "ash"]);
    expected.extend(publisher.gop(0, 30));
    publisher.end();
    expected.push("end".to_owned());
    assert_eq!(drain(&mut feed), expected);
    assert!(poll_once(&mut feed).is_pending());
    assert_eq!(hub.stats().publishers, 0);
    assert_eq!(hub.stats().streams, 1, "kept for its player");

    // The next publisher: the feed starts again, from its first message.
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.metadata();
    publisher.headers();
    let mut expected = names(&["meta", "vsh", "ash"]);
    expected.extend(publisher.gop(0, 3));
    assert_eq!(drain(&mut feed), expected);
    // A player joining now gets no trace of the first publication.
    let mut late = hub.play("live", "s").unwrap();
    assert_eq!(drain(&mut late), expected);
    // A sink dropped without on_end is a lost connection: the players are
    // told nothing, the stream waits for its publisher to come back.
    drop(publisher);
    assert!(drain(&mut feed).is_empty());
    assert!(drain(&mut late).is_empty());
    let stats = hub.stream_stats("live", "s").unwrap();
    assert_eq!((stats.publishing, stats.awaiting_publisher), (false, true));
    // With no reconnect window, it ends the publication at once.
    let mut s = settings();
    s.reconnect_window_secs = 0;
    let hub = StreamHub::new(&s);
    let mut feed = hub.play("live", "s").unwrap();
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    drop(publisher);
    assert_eq!(drain(&mut feed), ["vsh", "ash", "end"]);
}

#[test]
fn a_second_publisher_is_refused_until_the_first_unpublishes() {
    let hub = StreamHub::new(&settings());
    let first = Publisher::new(hub.publish("live", "key?token=a").unwrap());
    // Same key, other query string: the same stream.
    let err = hub.publish("live", "key?token=b").unwrap_err();
    assert_eq!(err.code, StatusCode::PublishBadName);
    assert!(err.description.contains("live/key"), "{}", err.description);
    // Another application or key is another stream.
    let other_app = hub.publish("other", "key").unwrap();
    let other_key = hub.publish("live", "key2").unwrap();
    assert_eq!(hub.stats().publishers, 3);
    first.end();
    let again = hub.publish("live", "key").unwrap();
    assert_eq!(hub.stats().publishers, 3);
    for sink in [again, other_app, other_key] {
        Publisher::new(sink).end();
    }
    assert_eq!(hub.stats(), HubStats::default());

    let err = hub.publish("live", "?x=1").unwrap_err();
    assert_eq!(err.code, StatusCode::PublishBadName);
}

#[test]
fn play_before_publish_waits_then_starts_with_everything() {
    let hub = StreamHub::new(&settings());
    let mut feed = hub.play("live", "s?auth=1").unwrap();
    let waker = Arc::new(CountingWaker::default());
    let waker_ref = Waker::from(waker.clone());
    let mut cx = Context::from_waker(&waker_ref);
    assert!(feed.poll_next(&mut cx).is_pending());
    assert!(feed.poll_next(&mut cx).is_pending());
    let stats = hub.stream_stats("live", "s").unwrap();
    assert_eq!(
        (stats.publishing, stats.players, stats.waiting_players),
        (false, 1, 1)
    );

    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.metadata();
    assert_eq!(waker.count(), 1, "woken by the first message");
    publisher.headers();
    // Audio before the first keyframe, as FFmpeg sends it: nothing is
    // dropped for a player that waited.
    let a = publisher.audio(0);
    let mut expected = names(&["meta", "vsh", "ash"]);
    expected.push(format!("A{a}"));
    expected.extend(publisher.gop(0, 4));
    assert_eq!(waker.count(), 1, "registered once, woken once");
    let mut got = Vec::new();
    while let Poll::Ready(item) = feed.poll_next(&mut cx) {
        got.push(describe(&item));
    }
    assert_eq!(got, expected);
    publisher.audio(500);
    assert_eq!(waker.count(), 2);
}

#[test]
fn streams_are_bounded_and_removed_when_idle() {
    let mut s = settings();
    s.max_streams = 2;
    // Dropped sinks end their publication at once (no reconnect window).
    s.reconnect_window_secs = 0;
    let hub = StreamHub::new(&s);
    let a = hub.publish("live", "a").unwrap();
    let b = hub.play("live", "b").unwrap();
    assert_eq!(
        hub.publish("live", "c").unwrap_err().code,
        StatusCode::PublishRejected
    );
    assert_eq!(
        hub.play("live", "c").unwrap_err().code,
        StatusCode::PlayFailed
    );
    // Existing streams still take players.
    let a2 = hub.play("live", "a").unwrap();
    assert_eq!(
        hub.stats(),
        HubStats {
            streams: 2,
            publishers: 1,
            players: 2
        }
    );
    drop(b);
    let c = hub.publish("live", "c").unwrap();
    drop((a, a2, c));
    assert_eq!(hub.stats().streams, 0);
}

#[test]
fn metadata_forms_and_other_data_messages() {
    let hub = StreamHub::new(&settings());
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    // onMetaData sent directly (not @setDataFrame) is metadata too.
    publisher.sink.on_data(
        baton_proto::Timestamp(5),
        DataMessage::OnMetaData(Value::Number(1.0)),
    );
    publisher.sink.on_data(
        baton_proto::Timestamp(6),
        DataMessage::Other {
            handler: "onTextData".into(),
            values: vec![],
        },
    );
    let mut feed = hub.play("live", "s").unwrap();
    assert_eq!(
        drain(&mut feed),
        ["meta"],
        "only metadata is kept for joiners"
    );
    publisher.sink.on_data(
        baton_proto::Timestamp(7),
        DataMessage::Other {
            handler: "onCuePoint".into(),
            values: vec![],
        },
    );
    publisher.sink.on_data(
        baton_proto::Timestamp(8),
        DataMessage::ClearDataFrame {
            name: "onMetaData".into(),
        },
    );
    assert_eq!(drain(&mut feed), ["data:onCuePoint"]);
    let mut late = hub.play("live", "s").unwrap();
    assert_eq!(drain(&mut late), Vec::<String>::new(), "metadata cleared");
}

#[test]
fn a_changed_sequence_header_makes_joiners_wait_for_a_keyframe() {
    let hub = StreamHub::new(&settings());
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.headers();
    publisher.gop(0, 3);
    // A new video configuration in the middle of a GOP.
    publisher.sink.on_media(
        baton_proto::session::MediaKind::Video,
        baton_proto::Timestamp(200),
        bytes::Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x4d, 0, 0x28]),
    );
    publisher.inter(240);
    let mut feed = hub.play("live", "s").unwrap();
    assert_eq!(drain(&mut feed), ["vsh", "ash"]);
    let p = publisher.inter(280);
    let k = publisher.keyframe(320);
    assert_eq!(drain(&mut feed), [format!("K{k}")], "P{p} was skipped");
    assert_eq!(feed.skips(), 0, "waiting for a first keyframe is not a lag");
}

#[test]
fn without_gop_cache_a_joiner_starts_at_the_next_keyframe() {
    let mut s = settings();
    s.gop_cache = false;
    let hub = StreamHub::new(&s);
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.metadata();
    publisher.headers();
    publisher.gop(0, 3);
    let mut feed = hub.play("live", "s").unwrap();
    assert_eq!(drain(&mut feed), ["meta", "vsh", "ash"]);
    publisher.audio(130);
    publisher.inter(160);
    let next = publisher.gop(200, 2);
    assert_eq!(drain(&mut feed), next);
    assert_eq!(hub.stream_stats("live", "s").unwrap().gop_messages, 0);
}

#[test]
fn the_gop_cache_stays_within_its_byte_bound() {
    let mut s = settings();
    s.gop_cache_max_bytes = 10_000;
    let hub = StreamHub::new(&s);
    let mut publisher = Publisher::new(hub.publish("live", "s").unwrap());
    publisher.padding = 1000;
    publisher.headers();
    publisher.gop(0, 4);
    let stats = hub.stream_stats("live", "s").unwrap();
    assert_eq!(stats.gop_messages, 8);
    assert!(stats.gop_bytes <= 10_000);
    // Past the bound the cache is dropped until the next keyframe.
    publisher.inter(160);
    publisher.audio(161);
    publisher.inter(200);
    let stats = hub.stream_stats("live", "s").unwrap();
    assert_eq!((stats.gop_messages, stats.gop_bytes), (0, 0));
    publisher.audio(201);
    let stats = hub.stream_stats("live", "s").unwrap();
    assert_eq!((stats.gop_messages, stats.gop_bytes), (0, 0));
    let mut feed = hub.play("live", "s").unwrap();
    assert_eq!(drain(&mut feed), ["vsh", "ash"]);
    publisher.audio(300);
    let next = publisher.gop(320, 2);
    assert_eq!(drain(&mut feed), next, "starts at the next keyframe");
    let stats = hub.stream_stats("live", "s").unwrap();
    assert_eq!(stats.gop_messages, 4);
    assert!(stats.gop_bytes <= 10_000);
}

#[test]
fn audio_only_joiners_get_a_short_window() {
    let hub = StreamHub::new(&settings());
    let mut publisher = Publisher::new(hub.publish("radio", "s").unwrap());
    publisher.sink.on_media(
        baton_proto::session::MediaKind::Audio,
        baton_proto::Timestamp(0),
        bytes::Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
    );
    let ids: Vec<u32> = (0..100).map(|i| publisher.audio(i * 23)).collect();
    let mut feed = hub.play("radio", "s").unwrap();
    let got = drain(&mut feed);
    assert_eq!(got[0], "ash");
    // The last second (audio_cache_ms = 1000) of 23 ms frames.
    let window: Vec<String> = ids[ids.len() - got.len() + 1..]
        .iter()
        .map(|id| format!("A{id}"))
        .collect();
    assert_eq!(got[1..], window);
    assert!((40..=45).contains(&window.len()), "{}", window.len());
}

fn info(app: &str) -> ConnectionInfo {
    ConnectionInfo {
        id: 7,
        peer: "127.0.0.1:50000".parse().unwrap(),
        connect: Arc::new(Connect::new(app, format!("rtmp://localhost/{app}"))),
    }
}

fn ready<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the handler should decide at once"),
    }
}

#[test]
fn the_handler_routes_publish_and_play_to_the_hub() {
    let server = MediaServer::new(&Config::default());
    let live = info("live");
    assert!(ready(server.on_connect(&live)).is_ok());
    let publish = PublishRequest {
        stream_id: 1,
        stream_name: "cam?key=1".into(),
        publish_type: PublishType::Live,
    };
    let play = PlayRequest {
        stream_id: 1,
        stream_name: "cam".into(),
        start: -2.0,
        duration: -1.0,
        reset: true,
    };
    let mut feed = ready(server.on_play(&live, &play)).unwrap();
    let sink = ready(server.on_publish(&live, &publish)).unwrap();
    let refused = ready(server.on_publish(&live, &publish)).err().unwrap();
    assert_eq!(refused.code, StatusCode::PublishBadName);
    // The same name in another application is another stream.
    assert!(ready(server.on_publish(&info("other"), &publish)).is_ok());
    assert_eq!(
        server.hub().stats().publishers,
        1,
        "the other one was dropped"
    );

    let mut publisher = Publisher {
        sink,
        next: 1,
        padding: 0,
    };
    publisher.headers();
    let k = publisher.keyframe(0);
    assert_eq!(drain(feed.as_mut()), ["vsh", "ash", &format!("K{k}")]);
    publisher.end();
    assert!(matches!(
        poll_once(feed.as_mut()),
        Poll::Ready(FeedItem::End)
    ));
}
