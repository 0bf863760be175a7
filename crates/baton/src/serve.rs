//! `baton serve [--listen ADDR] [--config FILE] [--push URL]...`: run the
//! media server.
//!
//! Loads the TOML configuration (the embedded defaults when there is no
//! file), lets `--listen` override the address, adds each `--push` URL to
//! the relay's upstreams (`[relay] push`), binds, says where it
//! listens (an info log line and, for scripts, one plain
//! `baton: listening on ADDR` line on standard error) and runs.
//!
//! The first Ctrl-C or SIGTERM starts a drain (for rolling restarts): the
//! listener closes, clients that announced RTMP Go Away or the Enhanced
//! RTMP Reconnect capability are asked to move, everyone is served until
//! they leave, and the server stops when the last one left or at the drain
//! deadline (`[server] drain_deadline_secs`), closing those still there;
//! both are a normal exit (status 0). A second Ctrl-C or SIGTERM stops at
//! once (status 0 too).
//!
//! `--shutdown-timeout` bounds how long the server may take to stop after
//! it was told to stop: after the drain deadline for a drain, after the
//! second signal for an immediate stop. Past it, `baton serve` gives up
//! with an error.
//!
//! The server itself is reached through [`MediaServer`], implemented for
//! `baton_server::BoundServer` in `serve/media_server.rs` (and by a fake in
//! the tests).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tracing::info;

use crate::cli::ServeArgs;
use crate::shutdown::Shutdown;

mod media_server;

/// What `baton serve` needs from a media server.
pub(crate) trait MediaServer: Sized {
    /// The server's configuration.
    type Config;
    /// The embedded defaults (listen on 0.0.0.0:1935).
    fn default_config() -> Self::Config;
    /// Reads a TOML configuration; unknown keys and bad values are errors
    /// that name the key.
    fn parse_config(toml: &str) -> Result<Self::Config>;
    /// The configured listen address, for messages.
    fn listen_addr(config: &Self::Config) -> String;
    /// Replaces the listen address.
    fn set_listen(config: &mut Self::Config, addr: &str) -> Result<()>;
    /// Adds an upstream URL to relay every published stream to (`--push`).
    fn add_push(config: &mut Self::Config, url: &str) -> Result<()> {
        let _ = config;
        bail!("relaying to {url} is not supported by this server")
    }
    /// The drain deadline: how long a drain waits for clients to leave.
    fn drain_deadline(config: &Self::Config) -> Duration;
    /// Binds the listening socket.
    async fn bind(config: Self::Config) -> Result<Self>;
    /// The address actually bound (the port chosen for port 0).
    fn local_addr(&self) -> Result<SocketAddr>;
    /// A function that asks the running server to drain (stop accepting,
    /// ask clients to move, stop when they left or at the drain deadline).
    fn drainer(&self) -> Box<dyn FnOnce() + Send>;
    /// A function that asks the running server to stop at once.
    fn stopper(&self) -> Box<dyn FnOnce() + Send>;
    /// Serves until stopped.
    async fn run(self) -> Result<()>;
}

/// Runs `baton serve` with the media server `M`.
pub(crate) async fn run<M: MediaServer>(args: ServeArgs, shutdown: &mut Shutdown) -> Result<()> {
    let mut config = load_config::<M>(args.config.as_deref(), args.listen.as_deref()).await?;
    for url in &args.push {
        M::add_push(&mut config, url).with_context(|| format!("--push {url}"))?;
    }
    let listen = M::listen_addr(&config);
    let drain_deadline = M::drain_deadline(&config);
    let server = tokio::select! {
        biased;
        name = shutdown.wait() => bail!("interrupted by {name}"),
        s = M::bind(config) => s.with_context(|| format!("cannot listen on {listen}"))?,
    };
    let addr = server.local_addr()?;
    // Scripts and tests read the port from either line: keep both stable.
    info!("listening on {addr}");
    eprintln!("baton: listening on {addr}");
    let drain = server.drainer();
    let stop = server.stopper();
    let running = server.run();
    tokio::pin!(running);
    let first = tokio::select! {
        result = &mut running => {
            result.context("the server stopped")?;
            info!("the server stopped by itself");
            return Ok(());
        }
        name = shutdown.wait() => name,
    };
    let deadline = drain_deadline.as_secs_f64();
    info!(
        "{first}: draining: no new connections; clients that support Go Away or Reconnect \
         are asked to move, the others are served until they leave or the drain deadline \
         ({deadline} s); send it again to stop at once"
    );
    drain();
    let grace = Duration::from_secs_f64(args.shutdown_timeout);
    let drain_limit = drain_deadline.saturating_add(grace);
    let second = tokio::select! {
        drained = tokio::time::timeout(drain_limit, &mut running) => match drained {
            Ok(result) => {
                result.context("draining")?;
                info!("drained: stopped");
                return Ok(());
            }
            Err(_) => bail!(
                "the server did not stop within {} s of {first} (drain deadline {deadline} s \
                 + --shutdown-timeout {} s)",
                drain_limit.as_secs_f64(),
                args.shutdown_timeout
            ),
        },
        name = shutdown.again() => name,
    };
    info!("{second} again: stopping at once");
    stop();
    match tokio::time::timeout(grace, &mut running).await {
        Ok(result) => result.context("shutting down")?,
        Err(_) => bail!(
            "the server did not stop within {} s of {second}",
            args.shutdown_timeout
        ),
    }
    info!("stopped");
    Ok(())
}

/// The configuration: the file's (or the defaults), with `listen` applied.
pub(crate) async fn load_config<M: MediaServer>(
    file: Option<&Path>,
    listen: Option<&str>,
) -> Result<M::Config> {
    let mut config = match file {
        None => M::default_config(),
        Some(path) => {
            let text = tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("cannot read the configuration {}", path.display()))?;
            M::parse_config(&text).with_context(|| format!("{}", path.display()))?
        }
    };
    if let Some(addr) = listen {
        M::set_listen(&mut config, addr).with_context(|| format!("--listen {addr}"))?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests;
