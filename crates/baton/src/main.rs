//! `baton`: the command-line program of the Baton RTMP project.
//!
//! - `baton serve`: the media server ([`serve`]).
//! - `baton publish INPUT URL`: send FLV to a server ([`publish`]).
//! - `baton play URL`: write a stream as FLV ([`play`]).
//!
//! Logs go to standard error through `tracing` (`RUST_LOG`, or `-v`). A
//! failure prints one line, `baton: <reason>`, and exits with status 1;
//! success exits with 0.

#![forbid(unsafe_code)]

mod cli;
mod logging;
mod looping;
mod pace;
mod play;
mod progress;
mod publish;
mod record;
mod serve;
mod shutdown;
mod source;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use baton_rtmp::{RtmpUrl, split_stream_query};
use clap::Parser;

use crate::cli::{Cli, Command};
use crate::shutdown::Shutdown;

/// How long the runtime may wait for blocking work (a pending read of
/// standard input) when the program ends.
const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(200);

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let runtime = match runtime_for(&cli.command) {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::Error::new(e).context("cannot start the runtime")),
    };
    let result = runtime.block_on(run(cli.command));
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The runtime: one thread per core, or what `serve --threads` asks for (1
/// is a current-thread runtime: accepting, every connection and the streams
/// on one thread).
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    let threads = match command {
        Command::Serve(args) => args.threads,
        _ => None,
    };
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(usize::from(n));
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build()
}

async fn run(command: Command) -> Result<()> {
    let mut shutdown = Shutdown::on_signals();
    match command {
        Command::Serve(args) => serve::run::<baton_server::BoundServer>(args, &mut shutdown).await,
        Command::Publish(args) => publish::run(args, &mut shutdown).await,
        Command::Play(args) => play::run(args, &mut shutdown).await,
    }
}

/// Prints `baton: <reason>` and returns the failure status.
fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("baton: {}", one_line(err));
    ExitCode::FAILURE
}

/// The error and its causes on one line, `outer: cause: root cause`. A
/// cause whose text its parent already shows (an error that prints its
/// source, like `I/O: {0}`) is left out, and so is a context that its
/// cause repeats. Multi-line messages are joined: a
/// TOML error keeps the offending line of the file, quoted, and loses the
/// caret drawn under it.
fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = flatten(&cause.to_string());
        match parts.last_mut() {
            _ if text.is_empty() => {}
            Some(last) if last.contains(&text) => {}
            // The cause repeats the context and says more: keep the cause.
            Some(last) if text.starts_with(last.as_str()) => *last = text,
            _ => parts.push(text),
        }
    }
    parts.join(": ")
}

/// One message on one line.
fn flatten(message: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in message.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('|') {
            continue;
        }
        // `2 | listen = 5`: the file's line, worth keeping.
        if let Some((n, source)) = line.split_once('|') {
            if !n.trim().is_empty() && n.trim().chars().all(|c| c.is_ascii_digit()) {
                out.push(format!("`{}`", source.trim()));
                continue;
            }
        }
        out.push(line.to_owned());
    }
    out.join(": ")
}

/// The stream name of a play or publish URL (with its query, if any).
fn stream_name(url: &RtmpUrl) -> Result<String> {
    match url.stream.as_deref() {
        Some(s) if !split_stream_query(s).0.is_empty() => Ok(s.to_owned()),
        _ => bail!("{url} names no stream: use rtmp://HOST[:PORT]/APP/STREAM"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fit_on_one_line() {
        let toml_like = anyhow::anyhow!(
            "TOML parse error at line 2, column 10\n  |\n2 | listen = 5\n  |          ^\ninvalid type: integer `5`, expected a string\n"
        )
        .context("baton.toml");
        assert_eq!(
            one_line(&toml_like),
            "baton.toml: TOML parse error at line 2, column 10: `listen = 5`: invalid type: integer `5`, expected a string"
        );
        let io = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::NotFound))
            .context("cannot open x.flv");
        assert_eq!(one_line(&io), "cannot open x.flv: entity not found");
    }

    /// An error that shows its source in its own message (`I/O: {0}`).
    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "I/O: {}", self.0)
        }
    }

    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_already_shown_is_not_repeated() {
        let err = anyhow::Error::new(Wrapper(std::io::Error::other("address in use")))
            .context("cannot listen on 127.0.0.1:1935");
        assert_eq!(
            one_line(&err),
            "cannot listen on 127.0.0.1:1935: I/O: address in use"
        );
        let err = anyhow::anyhow!("cannot listen on 1.2.3.4:5: refused")
            .context("cannot listen on 1.2.3.4:5");
        assert_eq!(one_line(&err), "cannot listen on 1.2.3.4:5: refused");
    }

    #[test]
    fn urls_must_name_a_stream() {
        let ok = RtmpUrl::parse("rtmp://h/live/key?token=1").unwrap();
        assert_eq!(stream_name(&ok).unwrap(), "key?token=1");
        let none = RtmpUrl::parse("rtmp://h:1936/live").unwrap();
        let err = stream_name(&none).unwrap_err().to_string();
        assert_eq!(
            err,
            "rtmp://h:1936/live names no stream: use rtmp://HOST[:PORT]/APP/STREAM"
        );
    }
}
