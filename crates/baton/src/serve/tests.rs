//! `baton serve` against a fake media server that binds a real socket on
//! 127.0.0.1: configuration loading, the listening line, and graceful
//! shutdown.

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
}

/// Accepts connections until stopped; a `STUBBORN` one ignores the stop.
struct Fake<const STUBBORN: bool> {
    listener: TcpListener,
    stop: Arc<Notify>,
}

impl<const STUBBORN: bool> MediaServer for Fake<STUBBORN> {
    type Config = FakeConfig;

    fn default_config() -> FakeConfig {
        FakeConfig {
            listen: "0.0.0.0:1935".into(),
        }
    }

    fn parse_config(toml: &str) -> Result<FakeConfig> {
        // `listen = "ADDR"` and nothing else.
        match toml.trim().strip_prefix("listen = ") {
            Some(v) => Ok(FakeConfig {
                listen: v.trim_matches('"').to_owned(),
            }),
            None => bail!("unknown key in {toml:?}"),
        }
    }

    fn listen_addr(config: &FakeConfig) -> String {
        config.listen.clone()
    }

    fn set_listen(config: &mut FakeConfig, addr: &str) -> Result<()> {
        let addr: SocketAddr = addr.parse()?;
        config.listen = addr.to_string();
        Ok(())
    }

    async fn bind(config: FakeConfig) -> Result<Self> {
        Ok(Fake {
            listener: TcpListener::bind(&config.listen).await?,
            stop: Arc::new(Notify::new()),
        })
    }

    fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
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
                accepted = self.listener.accept() => {
                    let (_, peer) = accepted?;
                    event(format!("accepted {peer}"));
                }
            }
        }
    }
}

fn args(listen: Option<&str>, config: Option<&Path>, shutdown_timeout: f64) -> ServeArgs {
    ServeArgs {
        listen: listen.map(str::to_owned),
        config: config.map(Path::to_path_buf),
        shutdown_timeout,
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
async fn serves_until_shutdown_then_stops_through_the_handle() {
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
    assert_eq!(ev.last().map(String::as_str), Some("stopped"));
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
    assert_eq!(
        err.to_string(),
        "the server did not stop within 0.2 s of test"
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
