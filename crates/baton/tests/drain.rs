//! `baton serve` drains on SIGTERM: a real process with a short drain
//! deadline in its configuration file, an idle client that completed its
//! handshake and connect without announcing Go Away or Reconnect, then
//! SIGTERM by PID. The client gets no Go Away, is served until the deadline
//! cuts it, and the process exits 0 at about the deadline after logging the
//! drain's summary.

mod support;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use baton_proto::command::{CapsEx, Connect};
use baton_proto::session::{ClientConfig, ClientEvent, ClientSession};

use support::{BatonServer, Scratch};

/// The drain deadline written in the test's configuration.
const DEADLINE: Duration = Duration::from_secs(2);

/// A connected client that announced neither Go Away nor Reconnect.
struct Idle {
    io: TcpStream,
    session: ClientSession,
    events: Vec<ClientEvent>,
    started: Instant,
}

impl Idle {
    async fn connect(addr: std::net::SocketAddr) -> Idle {
        let io = TcpStream::connect(addr).await.expect("tcp connect");
        io.set_nodelay(true).unwrap();
        let mut session = ClientSession::new(ClientConfig {
            announce_go_away: false,
            caps_ex: CapsEx::NONE,
            ..ClientConfig::default()
        });
        session
            .connect(Connect::new("live", format!("rtmp://{addr}/live")))
            .unwrap();
        let mut idle = Idle {
            io,
            session,
            events: Vec::new(),
            started: Instant::now(),
        };
        timeout(Duration::from_secs(10), async {
            while !idle
                .events
                .iter()
                .any(|e| matches!(e, ClientEvent::Connected { .. }))
            {
                assert!(idle.pump().await, "closed before connect was answered");
            }
        })
        .await
        .expect("connect answered");
        idle
    }

    /// Writes what the session queued, reads once; false when closed.
    async fn pump(&mut self) -> bool {
        while let Some(bytes) = self.session.poll_transmit() {
            if self.io.write_all(&bytes).await.is_err() {
                return false;
            }
        }
        let mut buf = [0u8; 16 << 10];
        match self.io.read(&mut buf).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                let now = self.started.elapsed().as_millis() as u32;
                self.session
                    .handle_input(&buf[..n], now)
                    .expect("valid RTMP from the server");
                while let Some(event) = self.session.poll_event() {
                    self.events.push(event);
                }
                true
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_cuts_an_idle_client_at_the_deadline_and_exits_0() {
    let scratch = Scratch::new("drain");
    let config = scratch.path("baton.toml");
    std::fs::write(
        &config,
        format!("[server]\ndrain_deadline_secs = {}\n", DEADLINE.as_secs()),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let server = BatonServer::start(&["--config", &config]);
    let mut client = Idle::connect(server.addr).await;

    let signalled = Instant::now();
    server.proc.terminate();
    // Served until cut: the connection stays open until the deadline.
    let cut = timeout(DEADLINE + Duration::from_secs(10), async {
        while client.pump().await {}
        signalled.elapsed()
    })
    .await
    .expect("the client was not cut");
    assert!(
        cut >= DEADLINE - Duration::from_millis(200),
        "cut after {cut:?}"
    );
    assert!(
        !client.events.iter().any(|e| matches!(
            e,
            ClientEvent::GoAway | ClientEvent::ReconnectRequested { .. }
        )),
        "{:?}",
        client.events
    );

    let mut proc = server.proc;
    let proc = tokio::task::spawn_blocking(move || {
        let status = proc.wait(Duration::from_secs(15));
        (proc, status)
    });
    let (proc, status) = proc.await.unwrap();
    let exited = signalled.elapsed();
    if status.code() != Some(0) {
        proc.dump();
    }
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(exited >= DEADLINE, "exited after {exited:?}");
    assert!(
        exited < DEADLINE + Duration::from_secs(5),
        "exited after {exited:?}"
    );
    let lines = proc.lines();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    if !(has("SIGTERM: draining")
        && has("1 announced neither")
        && has("drain ended at the deadline: 0 asked to move, 0 left by themselves, 1 cut"))
    {
        proc.dump();
        panic!("the drain's log lines are missing");
    }
}
