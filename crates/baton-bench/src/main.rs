//! `baton-bench`: runs one fan-out load test against an RTMP server and
//! prints its report (a table, and JSON with `--json`).

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use baton_bench::{Config, Report, run, table};
use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let config = Config::parse();
    init_logs(config.verbose);
    match run_cli(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baton-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_cli(config: Config) -> Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    let runtime = match config.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(n))
            .enable_all()
            .build(),
    }
    .context("cannot start the runtime")?;
    let report = runtime.block_on(run(config))?;
    runtime.shutdown_timeout(Duration::from_millis(500));
    output(&report)?;
    match report.fatal() {
        Some(reason) => anyhow::bail!(reason),
        None => Ok(()),
    }
}

/// The table on standard output, or standard error when the JSON goes to
/// standard output.
fn output(report: &Report) -> Result<()> {
    let text = table::render(report);
    let json = serde_json::to_string_pretty(report).context("cannot encode the report")?;
    match report.config.json.as_deref() {
        Some(path) if path.as_os_str() == "-" => {
            eprint!("{text}");
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}").context("cannot write the report")?;
        }
        Some(path) => {
            print!("{text}");
            std::fs::write(path, json + "\n")
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn init_logs(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,baton_rtmp=warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
