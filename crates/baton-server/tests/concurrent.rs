//! Players joining while a publisher publishes from another thread, polled
//! by real tasks with real wakers: each player gets every message from its
//! starting keyframe to the end, with no gap and no duplicate.

mod common;

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use baton_rtmp::server::{FeedItem, PlayFeed};
use baton_server::StreamHub;

use common::{Publisher, describe, settings};

/// GOPs published at least (more while players are still joining).
const MIN_GOPS: u32 = 200;
const FRAMES_PER_GOP: u32 = 25;
const PLAYERS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_joining_during_publishing_miss_nothing() {
    let test = async {
        let mut s = settings();
        // Enough room that no player lags on a busy machine: this test is
        // about the join, not the skipping.
        s.player_queue_messages = 1 << 16;
        s.player_queue_max_bytes = 1 << 30;
        s.max_player_lag_ms = 3_600_000;
        let hub = StreamHub::new(&s);
        let early = hub.play("live", "s").unwrap();
        let sink = hub.publish("live", "s").unwrap();
        let joined = Arc::new(AtomicUsize::new(0));
        let all_joined = joined.clone();
        let publisher = std::thread::spawn(move || {
            let mut publisher = Publisher::new(sink);
            publisher.headers();
            // Until every player joined: one joining after the end would
            // (rightly) wait for the next publisher.
            for g in 0.. {
                publisher.gop(g * FRAMES_PER_GOP * 40, FRAMES_PER_GOP);
                if g + 1 >= MIN_GOPS && all_joined.load(Ordering::SeqCst) == PLAYERS {
                    break;
                }
                std::thread::yield_now();
            }
            let last = publisher.next - 1;
            publisher.end();
            last
        });

        let mut players = vec![tokio::spawn(play(early))];
        for _ in 0..PLAYERS {
            tokio::time::sleep(Duration::from_micros(300)).await;
            players.push(tokio::spawn(play(hub.play("live", "s").unwrap())));
            joined.fetch_add(1, Ordering::SeqCst);
        }
        let last = tokio::task::spawn_blocking(move || publisher.join().unwrap())
            .await
            .unwrap();
        assert_eq!(last % (FRAMES_PER_GOP * 2), 0);
        assert!(last >= MIN_GOPS * FRAMES_PER_GOP * 2);
        let mut joined_mid_stream = 0;
        for player in players {
            let ids = player.await.unwrap();
            let first = ids[0];
            assert_eq!(
                ids,
                (first..=last).collect::<Vec<_>>(),
                "every message once, in order"
            );
            // Each GOP is 50 numbered messages starting with its keyframe.
            assert_eq!(
                (first - 1) % (FRAMES_PER_GOP * 2),
                0,
                "starts on a keyframe"
            );
            joined_mid_stream += usize::from(first > 1);
        }
        // Not a proof of overlap on every machine, but the usual case.
        println!(
            "{joined_mid_stream} of {} players joined mid-stream",
            PLAYERS + 1
        );
        assert_eq!(hub.stats().players, 0);
        assert_eq!(hub.stats().streams, 0);
    };
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .unwrap();
}

/// Plays until the end; returns the numbers of the frames received, after
/// checking the sequence headers came first.
async fn play(mut feed: baton_server::StreamFeed) -> Vec<u32> {
    let mut names = Vec::new();
    loop {
        match poll_fn(|cx| feed.poll_next(cx)).await {
            FeedItem::End => break,
            FeedItem::Close(reason) => panic!("closed: {reason}"),
            item => names.push(describe(&item)),
        }
    }
    assert_eq!(feed.skips(), 0);
    assert_eq!(names[..2], ["vsh", "ash"]);
    names[2..]
        .iter()
        .map(|n| n[1..].parse::<u32>().unwrap())
        .collect()
}
