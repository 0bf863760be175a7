//! [`MediaServer`] for the media server of `baton-server`: its `Config`
//! (TOML, embedded defaults, `server.listen`, `server.drain_deadline_secs`,
//! `relay.push`)
//! and `BoundServer` (bind, local address, drain and shutdown through its
//! handle, run).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use baton_server::{BoundServer, Config};

use super::MediaServer;

impl MediaServer for BoundServer {
    type Config = Config;

    fn default_config() -> Config {
        Config::default()
    }

    fn parse_config(toml: &str) -> Result<Config> {
        Ok(Config::from_toml_str(toml)?)
    }

    fn listen_addr(config: &Config) -> String {
        config.server.listen.to_string()
    }

    fn set_listen(config: &mut Config, addr: &str) -> Result<()> {
        // `listen` is a String or a SocketAddr: parse into whichever it is.
        config.server.listen = addr
            .parse()
            .with_context(|| format!("{addr:?} is not an address like 127.0.0.1:1935"))?;
        Ok(())
    }

    fn add_push(config: &mut Config, url: &str) -> Result<()> {
        config.relay.push.push(url.to_owned());
        config.validate()?;
        Ok(())
    }

    fn drain_deadline(config: &Config) -> Duration {
        Duration::from_secs(config.server.drain_deadline_secs)
    }

    async fn bind(config: Config) -> Result<Self> {
        Ok(BoundServer::bind(config).await?)
    }

    fn local_addr(&self) -> Result<SocketAddr> {
        Ok(BoundServer::local_addr(self)?)
    }

    fn drainer(&self) -> Box<dyn FnOnce() + Send> {
        let handle = self.shutdown_handle();
        Box::new(move || handle.drain())
    }

    fn stopper(&self) -> Box<dyn FnOnce() + Send> {
        let handle = self.shutdown_handle();
        Box::new(move || {
            handle.shutdown();
        })
    }

    async fn run(self) -> Result<()> {
        Ok(BoundServer::run(self).await?)
    }
}
