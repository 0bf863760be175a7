//! `baton play` across Go Away and Reconnect Request: on either signal a
//! task plays the same stream on a new connection (the request's tcUrl,
//! else the same URL), with a few attempts and backoff, while events keep
//! coming from the old connection. Once the new one plays, events come from
//! it, what was already written is dropped ([`Dedup`]), and the old one is
//! closed in the background (bounded).

use std::time::Duration;

use baton_rtmp::client::{ClientConfig, Connection, Player, PlayerEvent, ServerSignal};
use baton_rtmp::{RtmpError, RtmpUrl};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::dedup::Dedup;
use super::{CLOSE_TIMEOUT, EventSource};

/// Attempts at the new connection for one signal.
const MAX_ATTEMPTS: u32 = 5;
/// First wait between attempts (doubled each time).
const RETRY_INITIAL: Duration = Duration::from_millis(100);

/// What the connecting task gives: the new player and its URL.
type Connected = Result<(Player, RtmpUrl), RtmpError>;

/// A new connection being made.
struct Pending {
    task: JoinHandle<Connected>,
    started: Instant,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What woke the player while a new connection is made.
enum Step {
    Joined(Box<Result<Connected, tokio::task::JoinError>>),
    Event(Result<Option<PlayerEvent>, RtmpError>),
}

/// A player that follows the server's requests to move.
pub(crate) struct ReconnectingPlayer {
    current: Player,
    url: RtmpUrl,
    stream: String,
    config: ClientConfig,
    pending: Option<Pending>,
    /// The old connection ended (closed or failed) while a new one is made.
    old_done: bool,
    dedup: Dedup,
}

impl ReconnectingPlayer {
    /// Wraps a player of `stream` connected to `url`.
    pub(crate) fn new(current: Player, url: RtmpUrl, stream: String, config: ClientConfig) -> Self {
        ReconnectingPlayer {
            current,
            url,
            stream,
            config,
            pending: None,
            old_done: false,
            dedup: Dedup::default(),
        }
    }

    /// Leaves on purpose (deleteStream), bounded by `CLOSE_TIMEOUT`.
    pub(crate) async fn close(self) {
        let ReconnectingPlayer { current, .. } = self;
        match tokio::time::timeout(CLOSE_TIMEOUT, current.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => debug!("closing the player: {e}"),
            Err(_) => debug!("closing the player timed out"),
        }
    }

    /// Starts playing on a new connection, unless that is under way.
    fn begin(&mut self, tc_url: Option<&str>) {
        if self.pending.is_some() {
            debug!("a reconnection is already under way");
            return;
        }
        let target = match tc_url.map(|t| self.url.resolve_tc_url(t)) {
            Some(Ok(url)) => url,
            Some(Err(e)) => {
                warn!("ignoring the reconnect target: {e}");
                self.url.clone()
            }
            None => self.url.clone(),
        };
        info!(from = %self.url, to = %target, "play handover started");
        let (stream, config) = (self.stream.clone(), self.config.clone());
        self.pending = Some(Pending {
            task: tokio::spawn(play_on(target, stream, config)),
            started: Instant::now(),
        });
    }

    /// Moves to the new player; the old one is closed in the background.
    fn switch(&mut self, player: Player, url: RtmpUrl, started: Instant) {
        let old = std::mem::replace(&mut self.current, player);
        info!(
            from = %self.url,
            to = %url,
            switch_ms = started.elapsed().as_millis() as u64,
            "play handover switched"
        );
        self.url = url;
        self.old_done = false;
        self.dedup.on_switch();
        tokio::spawn(async move {
            if tokio::time::timeout(CLOSE_TIMEOUT, old.close())
                .await
                .is_err()
            {
                debug!("closing the old player timed out");
            }
        });
    }
}

impl EventSource for ReconnectingPlayer {
    async fn next_event(&mut self) -> Result<Option<PlayerEvent>, RtmpError> {
        loop {
            let event = match self.pending.as_mut() {
                Some(pending) => {
                    let started = pending.started;
                    let step = tokio::select! {
                        joined = &mut pending.task => Step::Joined(Box::new(joined)),
                        event = self.current.next(), if !self.old_done => Step::Event(event),
                    };
                    match step {
                        Step::Joined(joined) => {
                            self.pending = None;
                            match *joined {
                                Ok(Ok((player, url))) => self.switch(player, url, started),
                                Ok(Err(e)) if self.old_done => return Err(e),
                                Ok(Err(e)) => warn!(
                                    "play handover failed; staying on the old connection: {e}"
                                ),
                                Err(e) => {
                                    warn!("play handover: {e}");
                                    if self.old_done {
                                        return Err(RtmpError::Closed);
                                    }
                                }
                            }
                            continue;
                        }
                        Step::Event(Ok(Some(event))) => event,
                        Step::Event(Ok(None) | Err(_)) => {
                            debug!("the old connection ended; waiting for the new one");
                            self.old_done = true;
                            continue;
                        }
                    }
                }
                None => match self.current.next().await? {
                    Some(event) => event,
                    None => return Ok(None),
                },
            };
            match &event {
                PlayerEvent::Signal(ServerSignal::GoAway) => self.begin(None),
                PlayerEvent::Signal(ServerSignal::ReconnectRequest { tc_url, .. }) => {
                    self.begin(tc_url.as_deref())
                }
                _ => {}
            }
            if self.dedup.keep(&event) {
                return Ok(Some(event));
            }
        }
    }
}

/// Plays `stream` at `url`, trying a few times with backoff.
async fn play_on(
    url: RtmpUrl,
    stream: String,
    config: ClientConfig,
) -> Result<(Player, RtmpUrl), RtmpError> {
    let mut wait = RETRY_INITIAL;
    let mut attempt = 1;
    loop {
        let result = async {
            Connection::connect(&url, &config)
                .await?
                .play(&stream)
                .await
        }
        .await;
        match result {
            Ok(player) => return Ok((player, url)),
            Err(e) if attempt >= MAX_ATTEMPTS => return Err(e),
            Err(e) => {
                warn!(url = %url, attempt, retry_in_ms = wait.as_millis() as u64, "play handover: {e}");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
        }
    }
}
