//! The server configuration, read from TOML.
//!
//! Every default lives in one place, `default.toml` (embedded in the
//! binary): [`Config::default`] parses it, and a file given by the user only
//! needs the keys it changes (its tables are merged over the defaults'
//! before the whole is read, so nothing is defaulted twice). Unknown keys
//! are errors, and so are values out of their range; both name the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The embedded defaults: every key, documented.
pub const DEFAULT_TOML: &str = include_str!("../default.toml");

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Connections: listening address, timeouts, protocol settings.
    pub server: ServerSettings,
    /// Streams: GOP cache, player queues, lag handling.
    pub streams: StreamSettings,
    /// Relay push: forward published streams to upstream servers.
    pub relay: RelaySettings,
}

/// The `[server]` section: connections and the protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Most client connections at once.
    pub max_connections: usize,
    /// Time allowed for the handshake and connect, in seconds.
    pub handshake_timeout_secs: u64,
    /// A connection silent for this long is closed, in seconds.
    pub idle_timeout_secs: u64,
    /// Seconds without audio or video after which a publisher is closed.
    pub publisher_idle_timeout_secs: u64,
    /// Interval of the server's pings, in seconds.
    pub ping_interval_secs: u64,
    /// A connection whose output makes no progress for this long is closed,
    /// in seconds.
    pub write_timeout_secs: u64,
    /// Outgoing chunk size (128..=65536).
    pub chunk_size: u32,
    /// Window Acknowledgement Size announced to clients.
    pub window_ack_size: u32,
    /// Set Peer Bandwidth announced to clients.
    pub peer_bandwidth: u32,
    /// Largest message a client may send, in bytes.
    pub max_message_size: u32,
    /// Most message streams per connection.
    pub max_streams_per_connection: u32,
    /// Output bytes queued per connection past which a player is not fed.
    pub max_output_buffer: usize,
    /// Kernel send buffer per connection in bytes; 0 leaves it to the kernel.
    pub send_buffer_size: usize,
    /// Most bytes the kernel holds unsent per connection
    /// (`TCP_NOTSENT_LOWAT`); 0 leaves it unbounded.
    pub unsent_limit: usize,
    /// Longest wait of a player's output for merged writes, in
    /// milliseconds; 0 writes each frame at once.
    pub write_merge_ms: u64,
    // ---- drain (Go Away) ----
    /// How long a drain (first SIGTERM/Ctrl-C) waits for clients to leave
    /// before it closes the rest, in seconds.
    pub drain_deadline_secs: u64,
    /// The `tcUrl` of the Enhanced RTMP Reconnect Request sent while
    /// draining (where clients should go); empty leaves it out (clients
    /// reconnect to the URL they used).
    pub reconnect_tc_url: String,
}

/// Longest `server.write_merge_ms`: a player's delay beyond a second is no
/// longer live.
const MAX_WRITE_MERGE_MS: u64 = 1000;

/// Longest `server.reconnect_tc_url`, in bytes.
const MAX_RECONNECT_TC_URL: usize = 2048;

/// The `[streams]` section: what the hub keeps and how it treats players.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSettings {
    /// Whether late joiners start from the cached GOP.
    pub gop_cache: bool,
    /// Most bytes in one stream's GOP cache.
    pub gop_cache_max_bytes: usize,
    /// Recent audio kept for joiners of audio-only streams, in milliseconds.
    pub audio_cache_ms: u32,
    /// Capacity of a stream's player queue, in messages.
    pub player_queue_messages: usize,
    /// Most bytes in a stream's player queue.
    pub player_queue_max_bytes: usize,
    /// How far behind real time, measured at the server, a player may fall
    /// before it skips ahead, in milliseconds: the age (since it arrived)
    /// of the frame it is about to be sent. Media timestamps play no part,
    /// so a publisher faster than real time never makes a player skip.
    pub max_player_lag_ms: u32,
    /// When a lagging player is disconnected.
    pub player_lag_disconnect: LagDisconnect,
    /// Most streams at once.
    pub max_streams: usize,
    /// How long a stream outlives its publisher's lost connection (no
    /// unpublish), waiting for a publisher of the same key to take it over,
    /// in seconds; players are told nothing meanwhile. 0 ends the stream at
    /// once, as an unpublish does.
    pub reconnect_window_secs: u64,
    /// Whether a new publisher may take over a stream whose publisher is
    /// still connected (without it, only a publisher that was sent Go Away
    /// can be taken over; others make the new one fail with BadName).
    pub allow_takeover: bool,
}

/// `[streams.player_lag_disconnect]`: a player that skips more than
/// `max_skips` times within `window_secs` is disconnected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LagDisconnect {
    /// Skips allowed within the window (0: the first skip disconnects).
    pub max_skips: u32,
    /// The window, in seconds.
    pub window_secs: u64,
}

/// The `[relay]` section: every stream published here (of the listed
/// applications) is pushed to each upstream URL, with the same stream name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySettings {
    /// Upstream URLs, `rtmp://origin[:port]/app` (no stream name); empty:
    /// no relay.
    pub push: Vec<String>,
    /// Only streams of these applications are relayed; empty: all.
    pub apps: Vec<String>,
    /// How long a refused or failed upstream publish is retried (the origin
    /// may still hold the stream for the previous ingest node), in seconds.
    pub retry_secs: u64,
    /// Most payload bytes a relay holds while its upstream publish is not
    /// accepted yet.
    pub max_buffer_bytes: usize,
}

/// Most `relay.push` URLs.
pub const MAX_RELAY_PUSH: usize = 16;

impl Default for RelaySettings {
    /// The `[relay]` section of `default.toml`.
    fn default() -> Self {
        Config::default().relay
    }
}

impl RelaySettings {
    /// Checks the URLs, the applications and the bounds.
    fn validate(&self) -> Result<(), ConfigError> {
        range("relay.push", self.push.len(), 0, MAX_RELAY_PUSH)?;
        for url in &self.push {
            match baton_rtmp::RtmpUrl::parse(url) {
                Ok(parsed) if parsed.stream.is_none() => {}
                Ok(_) => {
                    return Err(ConfigError::Invalid {
                        key: "relay.push",
                        reason: format!(
                            "{url:?} names a stream: give rtmp://host[:port]/app (the stream name is the local one)"
                        ),
                    });
                }
                Err(e) => {
                    return Err(ConfigError::Invalid {
                        key: "relay.push",
                        reason: e.to_string(),
                    });
                }
            }
        }
        range("relay.apps", self.apps.len(), 0, 1024)?;
        if self.apps.iter().any(|a| a.is_empty()) {
            return Err(ConfigError::Invalid {
                key: "relay.apps",
                reason: "an application name cannot be empty".to_owned(),
            });
        }
        range("relay.retry_secs", self.retry_secs, 0, 3600)?;
        range(
            "relay.max_buffer_bytes",
            self.max_buffer_bytes,
            64 << 10,
            1 << 30,
        )?;
        Ok(())
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not valid TOML for this configuration (unknown key,
    /// wrong type); the message names the key and its line.
    #[error("invalid configuration{}: {source}", in_file(.path))]
    Parse {
        /// The file, when it came from one.
        path: Option<PathBuf>,
        /// The TOML error (with the key and its position).
        source: toml::de::Error,
    },
    /// A value is out of its range.
    #[error("invalid value for `{key}`: {reason}")]
    Invalid {
        /// The key, such as `server.chunk_size`.
        key: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
}

fn in_file(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!(" in {}", p.display()),
        None => String::new(),
    }
}

/// The embedded defaults, parsed once.
static DEFAULTS: LazyLock<(toml::Table, Config)> = LazyLock::new(|| {
    let parsed = toml::from_str::<toml::Table>(DEFAULT_TOML)
        .and_then(|table| Ok((table.clone(), table.try_into::<Config>()?)));
    match parsed {
        Ok(defaults) => defaults,
        // The embedded file is part of the program; the tests parse it.
        Err(e) => panic!("the embedded default.toml is invalid: {e}"),
    }
});

impl Default for Config {
    /// The embedded `default.toml`.
    fn default() -> Self {
        DEFAULTS.1.clone()
    }
}

impl Default for ServerSettings {
    /// The `[server]` section of `default.toml`.
    fn default() -> Self {
        Config::default().server
    }
}

impl Default for StreamSettings {
    /// The `[streams]` section of `default.toml`.
    fn default() -> Self {
        Config::default().streams
    }
}

impl Default for LagDisconnect {
    /// `[streams.player_lag_disconnect]` of `default.toml`.
    fn default() -> Self {
        Config::default().streams.player_lag_disconnect
    }
}

/// Writes `over` onto `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

impl Config {
    /// Parses and validates a configuration; keys not written keep their
    /// defaults.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let parse = |source| ConfigError::Parse { path: None, source };
        let user: toml::Table = toml::from_str(text).map_err(parse)?;
        let mut table = DEFAULTS.0.clone();
        merge(&mut table, user);
        let config: Config = table.try_into().map_err(parse)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a configuration file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml_str(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: Some(path.to_owned()),
                source,
            },
            other => other,
        })
    }

    /// Checks every value against its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        range("server.max_connections", s.max_connections, 1, 10_000_000)?;
        range(
            "server.handshake_timeout_secs",
            s.handshake_timeout_secs,
            1,
            3600,
        )?;
        range("server.idle_timeout_secs", s.idle_timeout_secs, 1, 86_400)?;
        range(
            "server.publisher_idle_timeout_secs",
            s.publisher_idle_timeout_secs,
            1,
            86_400,
        )?;
        range("server.ping_interval_secs", s.ping_interval_secs, 1, 86_400)?;
        if s.ping_interval_secs >= s.idle_timeout_secs {
            return Err(ConfigError::Invalid {
                key: "server.ping_interval_secs",
                reason: format!(
                    "must be shorter than server.idle_timeout_secs ({}), got {}",
                    s.idle_timeout_secs, s.ping_interval_secs
                ),
            });
        }
        range("server.write_timeout_secs", s.write_timeout_secs, 1, 86_400)?;
        range("server.chunk_size", s.chunk_size, 128, 65_536)?;
        range(
            "server.window_ack_size",
            s.window_ack_size,
            1,
            i32::MAX as u32,
        )?;
        range(
            "server.peer_bandwidth",
            s.peer_bandwidth,
            1,
            i32::MAX as u32,
        )?;
        range("server.max_message_size", s.max_message_size, 1024, 1 << 24)?;
        range(
            "server.max_streams_per_connection",
            s.max_streams_per_connection,
            1,
            1024,
        )?;
        range(
            "server.max_output_buffer",
            s.max_output_buffer,
            4096,
            1 << 30,
        )?;
        if s.send_buffer_size != 0 {
            range("server.send_buffer_size", s.send_buffer_size, 4096, 1 << 26)?;
        }
        if s.unsent_limit != 0 {
            range("server.unsent_limit", s.unsent_limit, 4096, 1 << 26)?;
        }
        range(
            "server.write_merge_ms",
            s.write_merge_ms,
            0,
            MAX_WRITE_MERGE_MS,
        )?;
        range(
            "server.drain_deadline_secs",
            s.drain_deadline_secs,
            0,
            86_400,
        )?;
        if s.reconnect_tc_url.len() > MAX_RECONNECT_TC_URL
            || s.reconnect_tc_url.chars().any(char::is_control)
        {
            return Err(ConfigError::Invalid {
                key: "server.reconnect_tc_url",
                reason: format!(
                    "must be a URL of at most {MAX_RECONNECT_TC_URL} bytes without control characters"
                ),
            });
        }

        let t = &self.streams;
        range(
            "streams.gop_cache_max_bytes",
            t.gop_cache_max_bytes,
            1,
            1 << 30,
        )?;
        range("streams.audio_cache_ms", t.audio_cache_ms, 0, 60_000)?;
        range(
            "streams.player_queue_messages",
            t.player_queue_messages,
            16,
            1 << 20,
        )?;
        range(
            "streams.player_queue_max_bytes",
            t.player_queue_max_bytes,
            64 << 10,
            1 << 30,
        )?;
        range(
            "streams.max_player_lag_ms",
            t.max_player_lag_ms,
            100,
            3_600_000,
        )?;
        range(
            "streams.player_lag_disconnect.max_skips",
            t.player_lag_disconnect.max_skips,
            0,
            1000,
        )?;
        range(
            "streams.player_lag_disconnect.window_secs",
            t.player_lag_disconnect.window_secs,
            1,
            86_400,
        )?;
        range("streams.max_streams", t.max_streams, 1, 10_000_000)?;
        range(
            "streams.reconnect_window_secs",
            t.reconnect_window_secs,
            0,
            3600,
        )?;
        self.relay.validate()?;
        Ok(())
    }

    /// The settings of the RTMP layer.
    pub fn to_server_config(&self) -> baton_rtmp::server::ServerConfig {
        let s = &self.server;
        let mut session = baton_proto::session::ServerConfig::default();
        session.session.chunk_size = s.chunk_size;
        session.session.window_ack_size = s.window_ack_size;
        session.session.limits.chunk.max_message_size = s.max_message_size;
        session.peer_bandwidth = s.peer_bandwidth;
        session.max_streams = s.max_streams_per_connection;
        baton_rtmp::server::ServerConfig {
            session,
            handshake_timeout: Duration::from_secs(s.handshake_timeout_secs),
            idle_timeout: Duration::from_secs(s.idle_timeout_secs),
            publisher_idle_timeout: Duration::from_secs(s.publisher_idle_timeout_secs),
            ping_interval: Duration::from_secs(s.ping_interval_secs),
            write_timeout: Duration::from_secs(s.write_timeout_secs),
            max_connections: s.max_connections,
            max_output_buffer: s.max_output_buffer,
            send_buffer_size: (s.send_buffer_size > 0).then_some(s.send_buffer_size),
            unsent_limit: (s.unsent_limit > 0).then_some(s.unsent_limit),
            write_merge: Duration::from_millis(s.write_merge_ms),
            drain_deadline: Duration::from_secs(s.drain_deadline_secs),
            reconnect_tc_url: (!s.reconnect_tc_url.is_empty()).then(|| s.reconnect_tc_url.clone()),
            ..baton_rtmp::server::ServerConfig::default()
        }
    }
}

fn range<T>(key: &'static str, value: T, min: T, max: T) -> Result<(), ConfigError>
where
    T: PartialOrd + std::fmt::Display,
{
    if value < min || value > max {
        return Err(ConfigError::Invalid {
            key,
            reason: format!("must be between {min} and {max}, got {value}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key path of a TOML table (`server.listen`, ...), sorted.
    fn keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in table {
            let path = format!("{prefix}{k}");
            match v {
                toml::Value::Table(t) => keys(t, &format!("{path}."), out),
                _ => out.push(path),
            }
        }
        out.sort();
    }

    #[test]
    fn the_file_and_default_agree() {
        let config = Config::default();
        config.validate().unwrap();
        // The file sets every key of the structure, and nothing else.
        let file: toml::Table = toml::from_str(DEFAULT_TOML).unwrap();
        let serialized: toml::Table = toml::from_str(&toml::to_string(&config).unwrap()).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        keys(&file, "", &mut a);
        keys(&serialized, "", &mut b);
        assert_eq!(a, b);
        assert!(a.len() >= 20, "{a:?}");
        // The values users rely on.
        assert_eq!(config.server.listen, "0.0.0.0:1935".parse().unwrap());
        assert_eq!(config.server.chunk_size, 4096);
        assert!(config.streams.gop_cache);
        assert_eq!(config.streams.gop_cache_max_bytes, 32 << 20);
        assert_eq!(config.streams.reconnect_window_secs, 10);
        assert!(!config.streams.allow_takeover);
        // An empty file is the defaults.
        assert_eq!(Config::from_toml_str("").unwrap(), config);
        // Each section's Default is the file's section.
        assert_eq!(ServerSettings::default(), config.server);
        assert_eq!(StreamSettings::default(), config.streams);
    }

    #[test]
    fn defaults_map_to_the_library_defaults() {
        let ours = Config::default().to_server_config();
        let lib = baton_rtmp::server::ServerConfig::default();
        assert_eq!(ours.handshake_timeout, lib.handshake_timeout);
        assert_eq!(ours.idle_timeout, lib.idle_timeout);
        assert_eq!(ours.publisher_idle_timeout, lib.publisher_idle_timeout);
        assert_eq!(ours.ping_interval, lib.ping_interval);
        assert_eq!(ours.write_timeout, lib.write_timeout);
        assert_eq!(ours.max_connections, lib.max_connections);
        assert_eq!(ours.max_output_buffer, lib.max_output_buffer);
        assert_eq!(ours.send_buffer_size, lib.send_buffer_size);
        assert_eq!(ours.unsent_limit, lib.unsent_limit);
        assert_eq!(ours.write_merge, lib.write_merge);
        assert_eq!(ours.drain_deadline, lib.drain_deadline);
        assert_eq!(ours.drain_deadline, Duration::from_secs(30));
        assert_eq!(ours.reconnect_tc_url, None);
        assert_eq!(ours.session.session.chunk_size, 4096);
        assert_eq!(
            ours.session.session.window_ack_size,
            lib.session.session.window_ack_size
        );
        assert_eq!(ours.session.peer_bandwidth, lib.session.peer_bandwidth);
        assert_eq!(ours.session.max_streams, lib.session.max_streams);
    }

    #[test]
    fn a_file_overrides_what_it_sets() {
        let dir = std::env::temp_dir().join(format!("baton-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("baton.toml");
        std::fs::write(
            &path,
            r#"
[server]
listen = "127.0.0.1:2935"
chunk_size = 60000
idle_timeout_secs = 90

[streams]
gop_cache = false

[streams.player_lag_disconnect]
max_skips = 0
"#,
        )
        .unwrap();
        let config = Config::from_file(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let defaults = Config::default();
        assert_eq!(config.server.listen, "127.0.0.1:2935".parse().unwrap());
        assert_eq!(config.server.chunk_size, 60000);
        assert_eq!(config.server.idle_timeout_secs, 90);
        assert_eq!(
            config.server.ping_interval_secs,
            defaults.server.ping_interval_secs
        );
        assert!(!config.streams.gop_cache);
        assert_eq!(config.streams.player_lag_disconnect.max_skips, 0);
        assert_eq!(
            config.streams.player_lag_disconnect.window_secs,
            defaults.streams.player_lag_disconnect.window_secs
        );
        assert_eq!(config.streams.max_streams, defaults.streams.max_streams);

        let mapped = config.to_server_config();
        assert_eq!(mapped.session.session.chunk_size, 60000);
        assert_eq!(mapped.idle_timeout, Duration::from_secs(90));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml_str("[server]\nchunksize = 8192\n").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ConfigError::Parse { .. }));
        assert!(text.contains("chunksize"), "{text}");
        assert!(text.contains("in `server`"), "{text}");

        let err = Config::from_toml_str("[server]\nchunk_size = 4096\nlisten = [\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");

        let err = Config::from_toml_str("[stream]\ngop_cache = true\n").unwrap_err();
        assert!(err.to_string().contains("stream"), "{err}");

        let err = Config::from_toml_str("[server]\nchunk_size = \"big\"\n").unwrap_err();
        assert!(err.to_string().contains("server.chunk_size"), "{err}");

        let err = Config::from_toml_str("[server]\nlisten = \"nowhere\"\n").unwrap_err();
        assert!(err.to_string().contains("server.listen"), "{err}");
    }

    #[test]
    fn values_out_of_range_are_named() {
        for (text, key) in [
            ("[server]\nchunk_size = 64\n", "server.chunk_size"),
            ("[server]\nchunk_size = 70000\n", "server.chunk_size"),
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
            (
                "[server]\nping_interval_secs = 40\n",
                "server.ping_interval_secs",
            ),
            (
                "[streams]\nplayer_queue_messages = 1\n",
                "streams.player_queue_messages",
            ),
            (
                "[streams]\nmax_player_lag_ms = 0\n",
                "streams.max_player_lag_ms",
            ),
            (
                "[streams]\nreconnect_window_secs = 3601\n",
                "streams.reconnect_window_secs",
            ),
            (
                "[streams.player_lag_disconnect]\nwindow_secs = 0\n",
                "streams.player_lag_disconnect.window_secs",
            ),
        ] {
            match Config::from_toml_str(text) {
                Err(ConfigError::Invalid { key: k, reason }) => {
                    assert_eq!(k, key, "{text}");
                    assert!(reason.contains("must"), "{reason}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let err = Config::from_toml_str("[server]\nchunk_size = 64\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value for `server.chunk_size`: must be between 128 and 65536, got 64"
        );
    }

    #[test]
    fn drain_keys_map_to_the_server_config() {
        let config = Config::from_toml_str(
            "[server]\ndrain_deadline_secs = 5\nreconnect_tc_url = \"rtmp://b.example/live\"\n",
        )
        .unwrap();
        let mapped = config.to_server_config();
        assert_eq!(mapped.drain_deadline, Duration::from_secs(5));
        assert_eq!(
            mapped.reconnect_tc_url.as_deref(),
            Some("rtmp://b.example/live")
        );
        for (text, key) in [
            (
                "[server]\ndrain_deadline_secs = 100000\n",
                "server.drain_deadline_secs",
            ),
            (
                "[server]\nreconnect_tc_url = \"rtmp://a\\nb\"\n",
                "server.reconnect_tc_url",
            ),
        ] {
            match Config::from_toml_str(text) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn relay_keys_are_read_and_checked() {
        let config = Config::default();
        assert!(config.relay.push.is_empty() && config.relay.apps.is_empty());
        assert_eq!(config.relay.retry_secs, 15);
        assert_eq!(RelaySettings::default(), config.relay);
        let config = Config::from_toml_str(
            "[relay]\npush = [\"rtmp://origin:1936/live\"]\napps = [\"live\"]\nretry_secs = 3\n",
        )
        .unwrap();
        assert_eq!(config.relay.push, ["rtmp://origin:1936/live"]);
        assert_eq!(config.relay.apps, ["live"]);
        assert_eq!(config.relay.retry_secs, 3);
        for text in [
            "[relay]\npush = [\"http://origin/live\"]\n",
            "[relay]\npush = [\"rtmp://origin/live/key\"]\n",
            "[relay]\napps = [\"\"]\n",
            "[relay]\nretry_secs = 4000\n",
            "[relay]\nmax_buffer_bytes = 10\n",
        ] {
            match Config::from_toml_str(text) {
                Err(ConfigError::Invalid { key, .. }) => {
                    assert!(key.starts_with("relay."), "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let err = Config::from_file("/nonexistent/baton.toml").unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        assert!(err.to_string().contains("/nonexistent/baton.toml"));
    }
}
