//! `baton serve` against a fake media server that binds a real socket on
//! 127.0.0.1: configuration loading, the listening line, the drain on the
//! first signal and the immediate stop on the second.

use std::cell::RefCell;
use std::sync::Arc;

use super::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

thread_local! {
    /// What the fake did, for the test on this thread.
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn event(e: String) {
    EVENTS.with(|v| v.borrow_mut().push(e));
}

fn events() -> Vec<String> {
    EVENTS.with(|v| v.borrow().clone())
}

#[derive(Debug)]
struct FakeConfig {
    listen: String,
    /// How long its drain takes (it ends by itself then, like a drain that
    /// reached its deadline or whose clients left).
    drain: Duration,
}

/// Accepts connections until drained or stopped; a `STUBBORN` one ignores
/// both.
struct Fake<const STUBBORN: bool> {
    listener: TcpListener,
    drain_time: Duration,
    drain: Arc<Notify>,
    stop: Arc<Notify>,
}

impl<const STUBBORN: bool> MediaServer for Fake<STUBBORN> {
    type Config = FakeConfig;

    fn default_config() -> FakeConfig {
        FakeConfig {
            listen: "0.0.0.0:1935".into(),
            drain: Duration::from_millis(200),
        }
    }

    fn parse_config(toml: &str) -> Result<FakeConfig> {
        // `listen = "ADDR"` and `drain_ms = N` lines, nothing else.
        let mut config = Self::default_config();
        for line in toml.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(v) = line.trim().strip_prefix("listen = ") {
                config.listen = v.trim_matches('"').to_owned();
            } else if let Some(v) = line.trim().strip_prefix("drain_ms = ") {
                config.drain = Duration::from_millis(v.parse()?);
            } else {
                bail!("unknown key in {toml:?}");
            }
        }
        Ok(config)
    }

    fn listen_addr(config: &FakeConfig) -> String {
        config.listen.clone()
    }

    fn set_listen(config: &mut FakeConfig, addr: &str) -> Result<()> {
        let addr: SocketAddr = addr.parse()?;
        config.listen = addr.to_string();
        Ok(())
    }

    fn drain_deadline(config: &FakeConfig) -> Duration {
        config.drain
    }

    async fn bind(config: FakeConfig) -> Result<Self> {
        Ok(Fake {
            listener: TcpListener::bind(&config.listen).await?,
            drain_time: config.drain,
            drain: Arc::new(Notify::new()),
            stop: Arc::new(Notify::new()),
        })
    }

    fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    fn drainer(&self) -> Box<dyn FnOnce() + Send> {
        let drain = self.drain.clone();
        Box::new(move || drain.notify_one())
    }

    fn stopper(&self) -> Box<dyn FnOnce() + Send> {
        let stop = self.stop.clone();
        Box::new(move || stop.notify_one())
    }

    async fn run(self) -> Result<()> {
        event(format!("running {}", self.listener.local_addr()?));
        loop {
            tokio::select! {
                _ = self.stop.notified(), if !STUBBORN => {
                    event("stopped".into());
                    return Ok(());
                }
                _ = self.drain.notified(), if !STUBBORN => break,
                accepted = self.listener.accept() => {
                    let (_, peer) = accepted?;
                    event(format!("accepted {peer}"));
                }
            }
        }
        event("draining".into());
        drop(self.listener);
        tokio::select! {
            _ = self.stop.notified() => event("stopped".into()),
            () = tokio::time::sleep(self.drain_time) => event("drained".into()),
        }
        Ok(())
    }
}

fn args(listen: Option<&str>, config: Option<&Path>, shutdown_timeout: f64) -> ServeArgs {
    ServeArgs {
        push: Vec::new(),
        listen: listen.map(str::to_owned),
        config: config.map(Path::to_path_buf),
        shutdown_timeout,
        threads: None,
    }
}

/// Waits (bounded) for the fake to be running; returns its address.
async fn running_addr() -> SocketAddr {
    for _ in 0..500 {
        if let Some(addr) = events().iter().find_map(|e| e.strip_prefix("running ")) {
            return addr.parse().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server did not start: {:?}", events());
}

#[tokio::test]
async fn the_first_signal_drains_and_the_drain_ends_the_run() {
    EVENTS.with(|v| v.borrow_mut().clear());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut shutdown = Shutdown::from_future(async move {
        let _ = rx.await;
        "test"
    });
    let serve = run::<Fake<false>>(args(Some("127.0.0.1:0"), None, 5.0), &mut shutdown);
    let client = async {
        let addr = running_addr().await;
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        // A real connection reaches the bound socket.
        let _conn = TcpStream::connect(addr).await.unwrap();
        for _ in 0..500 {
            if events().iter().any(|e| e.starts_with("accepted")) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tx.send(()).unwrap();
    };
    let (served, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(serve, client)
    })
    .await
    .unwrap();
    served.unwrap();
    let ev = events();
    assert!(ev.iter().any(|e| e.starts_with("accepted")), "{ev:?}");
    let tail: Vec<&str> = ev.iter().rev().take(2).rev().map(String::as_str).collect();
    assert_eq!(tail, ["draining", "drained"], "{ev:?}");
}

#[tokio::test]
async fn a_second_signal_during_the_drain_stops_at_once() {
    EVENTS.with(|v| v.borrow_mut().clear());
    let path = std::env::temp_dir().join(format!("baton-serve-drain-{}.toml", std::process::id()));
    // A drain that would take ten minutes.
    std::fs::write(&path, "listen = \"127.0.0.1:0\"\ndrain_ms = 600000\n").unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let mut shutdown = Shutdown::from_channel(rx);
    let serve = run::<Fake<false>>(args(None, Some(&path), 5.0), &mut shutdown);
    let signals = async {
        running_addr().await;
        tx.send("first").await.unwrap();
        for _ in 0..500 {
            if events().iter().any(|e| e == "draining") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tx.send("second").await.unwrap();
    };
    let started = std::time::Instant::now();
    let (served, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(serve, signals)
    })
    .await
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    served.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let ev = events();
    let tail: Vec<&str> = ev.iter().rev().take(2).rev().map(String::as_str).collect();
    assert_eq!(tail, ["draining", "stopped"], "{ev:?}");
}

#[tokio::test]
async fn a_server_that_does_not_stop_is_given_up_on() {
    let mut shutdown = Shutdown::from_future(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        "test"
    });
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        run::<Fake<true>>(args(Some("127.0.0.1:0"), None, 0.2), &mut shutdown),
    )
    .await
    .unwrap()
    .unwrap_err();
    // The fake's drain deadline is 0.2 s: it is given that plus 0.2 s.
    assert_eq!(
        err.to_string(),
        "the server did not stop within 0.4 s of test (drain deadline 0.2 s + --shutdown-timeout 0.2 s)"
    );
}

#[tokio::test]
async fn a_server_that_does_not_stop_after_the_second_signal_is_given_up_on() {
    EVENTS.with(|v| v.borrow_mut().clear());
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let mut shutdown = Shutdown::from_channel(rx);
    let serve = run::<Fake<true>>(args(Some("127.0.0.1:0"), None, 0.2), &mut shutdown);
    let signals = async {
        running_addr().await;
        tx.send("first").await.unwrap();
        tx.send("second").await.unwrap();
    };
    let (served, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(serve, signals)
    })
    .await
    .unwrap();
    let err = served.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server did not stop within 0.2 s of second"
    );
}

#[tokio::test]
async fn a_busy_address_is_one_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        run::<Fake<false>>(args(Some(&addr), None, 1.0), &mut Shutdown::never()),
    )
    .await
    .unwrap()
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.starts_with(&format!("cannot listen on {addr}: ")),
        "{msg}"
    );
}

#[tokio::test]
async fn loads_the_file_then_applies_listen() {
    let defaults = load_config::<Fake<false>>(None, None).await.unwrap();
    assert_eq!(defaults.listen, "0.0.0.0:1935");

    let path = std::env::temp_dir().join(format!("baton-serve-test-{}.toml", std::process::id()));
    std::fs::write(&path, "listen = \"127.0.0.1:2000\"\n").unwrap();
    let from_file = load_config::<Fake<false>>(Some(&path), None).await.unwrap();
    assert_eq!(from_file.listen, "127.0.0.1:2000");
    let overridden = load_config::<Fake<false>>(Some(&path), Some("127.0.0.1:3000"))
        .await
        .unwrap();
    assert_eq!(overridden.listen, "127.0.0.1:3000");

    std::fs::write(&path, "lisen = 1\n").unwrap();
    let err = load_config::<Fake<false>>(Some(&path), None)
        .await
        .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!("{}: unknown key in \"lisen = 1\\n\"", path.display())
    );
    std::fs::remove_file(&path).unwrap();

    let err = load_config::<Fake<false>>(Some(Path::new("/nonexistent/baton.toml")), None)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").starts_with("cannot read the configuration /nonexistent/baton.toml: "),
        "{err:#}"
    );
    let err = load_config::<Fake<false>>(None, Some("nowhere"))
        .await
        .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "--listen nowhere: invalid socket address syntax"
    );
}

#[test]
fn push_urls_are_added_to_the_relay_and_checked() {
    use baton_server::{BoundServer, Config};
    let mut config = Config::default();
    <BoundServer as MediaServer>::add_push(&mut config, "rtmp://origin:1936/live").unwrap();
    <BoundServer as MediaServer>::add_push(&mut config, "rtmp://other/live").unwrap();
    assert_eq!(
        config.relay.push,
        ["rtmp://origin:1936/live", "rtmp://other/live"]
    );
    let err = <BoundServer as MediaServer>::add_push(&mut config, "http://x/live").unwrap_err();
    assert!(format!("{err:#}").contains("relay.push"), "{err:#}");
    // A server without relays refuses it.
    let mut fake = Fake::<false>::default_config();
    assert!(Fake::<false>::add_push(&mut fake, "rtmp://o/live").is_err());
}
