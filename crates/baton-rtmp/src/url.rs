//! RTMP URLs: `rtmp://host[:port]/app[/instance][/stream]`, the form OBS and
//! FFmpeg use. Like FFmpeg, the application is the first path segment and the
//! stream name is the last one; a middle segment is the instance
//! (`app/instance`). A query string after the stream name is kept with the
//! name (servers use it for auth) but is not part of the stream key.

use std::fmt;

/// The default RTMP port.
pub const DEFAULT_PORT: u16 = 1935;

/// A parsed `rtmp://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtmpUrl {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port (1935 when absent).
    pub port: u16,
    /// Application, with its instance when the URL has one (`app/instance`).
    pub app: String,
    /// Stream name with its query string, when the URL names one.
    pub stream: Option<String>,
}

/// A URL that is not a usable RTMP URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RTMP URL {url:?}: {reason}")]
pub struct UrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl RtmpUrl {
    /// Parses `rtmp://host[:port]/app[/instance][/stream][?query]`.
    pub fn parse(url: &str) -> Result<RtmpUrl, UrlError> {
        let err = |reason| UrlError {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .strip_prefix("rtmp://")
            .or_else(|| url.strip_prefix("RTMP://"))
            .ok_or_else(|| err("it must start with rtmp://"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = split_host_port(authority).ok_or_else(|| err("bad host or port"))?;
        if host.is_empty() {
            return Err(err("no host"));
        }
        // The query belongs to the stream name (the last segment).
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (app, stream) = match segments.as_slice() {
            [] => return Err(err("no application")),
            [app] => (app.to_string(), None),
            [app, stream] => (app.to_string(), Some(stream.to_string())),
            [app, instance @ .., stream] => (
                format!("{app}/{}", instance.join("/")),
                Some(stream.to_string()),
            ),
        };
        let stream = match (stream, query) {
            (Some(s), Some(q)) => Some(format!("{s}?{q}")),
            (Some(s), None) => Some(s),
            (None, Some(_)) => return Err(err("a query string needs a stream name")),
            (None, None) => None,
        };
        Ok(RtmpUrl {
            host: host.to_owned(),
            port,
            app,
            stream,
        })
    }

    /// The `tcUrl` sent in connect: `rtmp://host[:port]/app`.
    pub fn tc_url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == DEFAULT_PORT {
            format!("rtmp://{host}/{}", self.app)
        } else {
            format!("rtmp://{host}:{}/{}", self.port, self.app)
        }
    }

    /// `host:port` for connecting.
    pub fn socket_addr_string(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Resolves a Reconnect Request `tcUrl` (absolute, or relative to this
    /// URL's tcUrl) into the URL to connect to, keeping this URL's stream.
    pub fn resolve_tc_url(&self, tc_url: &str) -> Result<RtmpUrl, UrlError> {
        let mut next = if tc_url.contains("://") {
            RtmpUrl::parse(tc_url)?
        } else if let Some(path) = tc_url.strip_prefix('/') {
            RtmpUrl::parse(&format!("rtmp://{}/{path}", self.socket_addr_string()))?
        } else {
            RtmpUrl::parse(&format!("{}/{tc_url}", self.tc_url()))?
        };
        // A tcUrl names host and application; a trailing segment is the
        // instance, not a stream.
        if let Some(extra) = next.stream.take() {
            next.app = format!("{}/{extra}", next.app);
        }
        next.stream = self.stream.clone();
        Ok(next)
    }
}

impl fmt::Display for RtmpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stream {
            Some(s) => write!(f, "{}/{s}", self.tc_url()),
            None => f.write_str(&self.tc_url()),
        }
    }
}

/// Splits a stream name into the key and its query string:
/// `"key?token=x"` -> `("key", Some("token=x"))`.
pub fn split_stream_query(stream_name: &str) -> (&str, Option<&str>) {
    match stream_name.split_once('?') {
        Some((key, query)) => (key, Some(query)),
        None => (stream_name, None),
    }
}

fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => DEFAULT_PORT,
            None => return None,
        };
        return Some((host, port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, port.parse().ok()?)),
        None => Some((authority, DEFAULT_PORT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_obs_and_ffmpeg_use() {
        let u = RtmpUrl::parse("rtmp://127.0.0.1:1936/live/key?token=abc").unwrap();
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, 1936);
        assert_eq!(u.app, "live");
        assert_eq!(u.stream.as_deref(), Some("key?token=abc"));
        assert_eq!(u.tc_url(), "rtmp://127.0.0.1:1936/live");
        assert_eq!(u.to_string(), "rtmp://127.0.0.1:1936/live/key?token=abc");
        assert_eq!(
            split_stream_query("key?token=abc"),
            ("key", Some("token=abc"))
        );

        let u = RtmpUrl::parse("rtmp://example.com/app/inst/stream").unwrap();
        assert_eq!(
            (u.port, u.app.as_str(), u.stream.as_deref()),
            (1935, "app/inst", Some("stream"))
        );
        assert_eq!(u.tc_url(), "rtmp://example.com/app/inst");

        let u = RtmpUrl::parse("rtmp://[::1]:2000/live").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.stream.as_deref()),
            ("::1", 2000, None)
        );
        assert_eq!(u.socket_addr_string(), "[::1]:2000");
    }

    #[test]
    fn refuses_what_is_not_rtmp() {
        for bad in [
            "http://h/live/s",
            "rtmp://",
            "rtmp://h",
            "rtmp://h:x/live",
            "rtmp://h/?q=1",
            "rtmp://[::1/live",
        ] {
            assert!(RtmpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolves_reconnect_tc_urls() {
        let u = RtmpUrl::parse("rtmp://a.example:1935/live/s").unwrap();
        let abs = u.resolve_tc_url("rtmp://b.example:1940/live").unwrap();
        assert_eq!(abs.to_string(), "rtmp://b.example:1940/live/s");
        let rel = u.resolve_tc_url("/other").unwrap();
        assert_eq!(rel.to_string(), "rtmp://a.example/other/s");
    }
}
