//! The command line: `baton [-v] serve | publish | play`, with the help
//! texts a user reads (URL forms, FFmpeg and OBS hints).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Baton: an RTMP media server and client";

const AFTER_HELP: &str = "\
URLs have the form OBS and FFmpeg use: rtmp://HOST[:PORT]/APP/STREAM
(port 1935 when left out; a query after STREAM, as in key?token=x, is kept).

Examples:
  baton serve                                        # listen on 0.0.0.0:1935
  baton publish movie.flv rtmp://localhost/live/key  # paced like a live source
  ffmpeg -re -i in.mp4 -c copy -f flv - | baton publish - rtmp://localhost/live/key
  baton play rtmp://localhost/live/key -o out.flv
  baton play rtmp://localhost/live/key | ffplay -

Logs go to standard error; RUST_LOG (for example RUST_LOG=debug) chooses
what is logged and takes precedence over -v.";

/// `baton`: the command line.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about = ABOUT, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// More logs: -v for debug, -vv for trace (RUST_LOG overrides this).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the RTMP media server.
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Send an FLV file, or FLV from standard input, to an RTMP server.
    #[command(after_help = PUBLISH_HELP)]
    Publish(PublishArgs),
    /// Receive a stream from an RTMP server and write it as an FLV file.
    #[command(after_help = PLAY_HELP)]
    Play(PlayArgs),
}

const SERVE_HELP: &str = "\
Publishers and players meet on rtmp://HOST[:PORT]/APP/STREAM: a stream is
keyed by application and stream name.

Point OBS at it: Settings > Stream, Service \"Custom...\",
  Server rtmp://HOST:1935/live, Stream Key: mystream
FFmpeg:  ffmpeg -re -i in.mp4 -c copy -f flv rtmp://HOST/live/mystream
Watch:   ffplay rtmp://HOST/live/mystream

Every setting has an embedded default, so no file is needed; --config
FILE reads a TOML file (for example a [server] table with listen =
\"0.0.0.0:1935\"), and --listen overrides its address. On start the server
prints `baton: listening on ADDR` to standard error.

The first Ctrl-C or SIGTERM drains the server: it stops accepting, asks
every client that supports it to move (RTMP Go Away, Enhanced RTMP
Reconnect Request), serves everyone until they leave or until
[server] drain_deadline_secs (30 s) has passed, then exits 0. A second
Ctrl-C or SIGTERM stops at once.

--push rtmp://origin/live relays every stream published here to the origin
(same stream name), following its Go Away. When this server drains, a
relay whose publisher has moved away leaves the origin without an
unpublish, so the origin keeps the stream for the next ingest node.

Examples:
  baton serve
  baton serve --listen 127.0.0.1:1936
  baton serve --config baton.toml
  baton serve --push rtmp://origin.example/live";

const PUBLISH_HELP: &str = "\
INPUT is an FLV file, or - for standard input, so that FFmpeg can encode
for Baton:
  ffmpeg -re -i in.mp4 -c:v libx264 -c:a aac -f flv - | baton publish - rtmp://HOST/live/key

Tags are sent at the pace of their timestamps, as a live encoder would (a
gap of more than a second in the timestamps is shortened to one second);
--no-pace sends as fast as the connection takes them. --loop plays a file
again and again with timestamps that keep increasing: each pass starts one
frame after the last timestamp of the previous one. The metadata and the
audio and video sequence headers of later passes are sent only when they
differ from the last ones sent (a file's configuration is the same each
time, and decoders need not reset).

When a server asks publishers to move (RTMP Go Away, or the Enhanced RTMP
Reconnect Request), baton keeps sending to it while it connects elsewhere:
to the server the request names, else to the next URL given (cyclically),
else to the same URL again (as behind a TCP load balancer). At the next
video keyframe it sends the metadata and sequence headers, then the
keyframe and what follows, to the new server, and closes the old
connection without unpublishing: no frame is lost or sent twice. If the old
connection dies first, media is held (up to --max-handover-buffer seconds)
and sent from the last keyframe on. Every URL publishes the first URL's
stream name (with its query); the others may leave it out, and naming
another stream is an error.

When standard error is a terminal a progress line shows the media time sent
and the bitrate. At the end of the input the stream is unpublished
(FCUnpublish, deleteStream) and baton exits with status 0; Ctrl-C does the
same.

Examples:
  baton publish movie.flv rtmp://localhost/live/key
  baton publish --loop --no-pace clip.flv rtmp://localhost:1936/live/test
  baton publish movie.flv rtmp://a.example/live/key rtmp://b.example/live";

const PLAY_HELP: &str = "\
Writes an FLV file: the header, the stream's onMetaData as a script tag,
then every audio and video tag with the timestamp it arrived with. Stops
when the publisher ends the stream, after --duration seconds of media, or
on Ctrl-C; the file is complete and valid in every case.

When the server asks players to move (RTMP Go Away, or the Enhanced RTMP
Reconnect Request), baton plays the same stream on a new connection (where
the request says, else the same URL), keeps reading the old one until the
new one plays, and leaves out what it already wrote (media not later than
the last written of its kind, repeated identical metadata and sequence
headers), so the file stays continuous.

Examples:
  baton play rtmp://localhost/live/key -o out.flv
  baton play rtmp://localhost/live/key --duration 10 -o ten-seconds.flv
  baton play rtmp://localhost/live/key | ffplay -
  baton play rtmp://localhost/live/key | ffmpeg -i - -c copy out.mp4";

/// `baton serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, overriding the configuration (default
    /// 0.0.0.0:1935; port 0 picks a free port).
    #[arg(short, long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// TOML configuration file (every setting has an embedded default).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// How long the server may take to stop after the drain deadline or a
    /// second Ctrl-C/SIGTERM, before baton gives up on it with an error.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = positive_secs)]
    pub(crate) shutdown_timeout: f64,
    /// Relay every published stream to this upstream server,
    /// rtmp://HOST[:PORT]/APP (same stream name; repeat for several);
    /// added to the configuration's [relay] push.
    #[arg(long, value_name = "URL")]
    pub(crate) push: Vec<String>,
    /// Threads that serve connections (default: one per CPU core). 1 runs
    /// everything on one thread, like a single nginx worker.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
}

/// `baton publish`.
#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// FLV file to send, or - for standard input.
    #[arg(value_name = "INPUT")]
    pub(crate) input: String,
    /// Where to publish: rtmp://HOST[:PORT]/APP/STREAM. More URLs are
    /// where to move when a server asks (Go Away): they publish the first
    /// URL's stream, and may leave it out (rtmp://HOST[:PORT]/APP).
    #[arg(value_name = "URL", required = true, num_args = 1..)]
    pub(crate) urls: Vec<String>,
    /// Send as fast as possible instead of at the pace of the timestamps.
    #[arg(long)]
    pub(crate) no_pace: bool,
    /// Repeat the file forever, with increasing timestamps (not with -).
    #[arg(long = "loop")]
    pub(crate) repeat: bool,
    /// Seconds allowed for connecting and for each reply of the server.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = positive_secs)]
    pub(crate) timeout: f64,
    /// Most seconds of media held while moving to a new server after the
    /// old connection was lost; past it, publishing fails.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = positive_secs)]
    pub(crate) max_handover_buffer: f64,
}

/// `baton play`.
#[derive(Debug, Args)]
pub(crate) struct PlayArgs {
    /// Where to play from: rtmp://HOST[:PORT]/APP/STREAM.
    #[arg(value_name = "URL")]
    pub(crate) url: String,
    /// FLV file to write, or - for standard output.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    pub(crate) output: String,
    /// Stop after this many seconds of media.
    #[arg(short, long, value_name = "SECS", value_parser = positive_secs)]
    pub(crate) duration: Option<f64>,
    /// Seconds allowed for connecting and for each reply of the server.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = positive_secs)]
    pub(crate) timeout: f64,
    /// Give up when nothing arrives for this many seconds (this includes
    /// waiting for a publisher to start).
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = positive_secs)]
    pub(crate) idle_timeout: f64,
}

/// A number of seconds above zero and below a year.
fn positive_secs(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v > 0.0 && v < 365.0 * 86_400.0 {
        Ok(v)
    } else {
        Err(format!("{s} must be above 0 and below a year"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_each_subcommand() {
        let cli =
            Cli::try_parse_from(["baton", "-vv", "serve", "--listen", "127.0.0.1:0"]).unwrap();
        assert_eq!(cli.verbose, 2);
        match cli.command {
            Command::Serve(a) => {
                assert_eq!(a.listen.as_deref(), Some("127.0.0.1:0"));
                assert!(a.config.is_none());
                assert!(a.push.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "baton",
            "serve",
            "--push",
            "rtmp://o1/live",
            "--push",
            "rtmp://o2:1936/live",
        ])
        .unwrap();
        match cli.command {
            Command::Serve(a) => assert_eq!(a.push, ["rtmp://o1/live", "rtmp://o2:1936/live"]),
            other => panic!("{other:?}"),
        }
        let cli =
            Cli::try_parse_from(["baton", "publish", "--loop", "-", "rtmp://h/a/s", "-v"]).unwrap();
        assert_eq!(cli.verbose, 1);
        match cli.command {
            Command::Publish(a) => {
                assert!(a.repeat && !a.no_pace);
                assert_eq!(
                    (a.input.as_str(), a.urls.as_slice()),
                    ("-", &["rtmp://h/a/s".to_owned()][..])
                );
                assert_eq!(a.max_handover_buffer, 30.0);
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["baton", "publish", "in.flv", "rtmp://a/l/s", "rtmp://b/l"])
            .unwrap();
        match cli.command {
            Command::Publish(a) => assert_eq!(a.urls, ["rtmp://a/l/s", "rtmp://b/l"]),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["baton", "publish", "in.flv"]).is_err());
        let cli =
            Cli::try_parse_from(["baton", "play", "rtmp://h/a/s", "--duration", "2.5"]).unwrap();
        match cli.command {
            Command::Play(a) => {
                assert_eq!(a.output, "-");
                assert_eq!(a.duration, Some(2.5));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_bad_durations() {
        for bad in ["0", "-1", "x", "NaN", "1e99"] {
            assert!(
                Cli::try_parse_from(["baton", "play", "rtmp://h/a/s", "--duration", bad]).is_err(),
                "{bad}"
            );
        }
    }
}
