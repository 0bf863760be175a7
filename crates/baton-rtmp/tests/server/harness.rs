//! Starting a server on 127.0.0.1:0 with the test handler, and bounding
//! every test in time.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::task::JoinHandle;

use baton_rtmp::server::{Server, ServerConfig, ShutdownHandle};

use super::handler::TestHandler;

/// A server running in a task.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) handler: TestHandler,
    pub(crate) shutdown: ShutdownHandle,
    pub(crate) task: JoinHandle<io::Result<()>>,
}

/// Sends the server's logs to the test's output (shown when a test
/// fails; `RUST_LOG` overrides the level).
pub(crate) fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("baton_rtmp=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Binds 127.0.0.1:0 and runs the server in a task.
pub(crate) async fn start(config: ServerConfig) -> Running {
    init_logs();
    let handler = TestHandler::default();
    let server = Server::bind("127.0.0.1:0", config, handler.clone())
        .await
        .expect("bind 127.0.0.1:0");
    let addr = server.local_addr().unwrap();
    let shutdown = server.shutdown_handle();
    let task = tokio::spawn(server.run());
    Running {
        addr,
        handler,
        shutdown,
        task,
    }
}

/// The defaults, with a short close timeout so that closing connections
/// do not hold a test up.
pub(crate) fn config() -> ServerConfig {
    ServerConfig {
        close_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    }
}

/// Fails the test if `test` takes longer than 30 s.
pub(crate) async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the test took more than 30 s")
}
