//! Logs: `tracing` events to standard error, chosen by `RUST_LOG` when it
//! is set, else by `-v` (info by default, debug with `-v`, trace with
//! `-vv`). Colours only on a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The filter for a `-v` count when `RUST_LOG` is not set.
pub(crate) fn default_directive(verbose: u8) -> &'static str {
    match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    }
}

/// Installs the subscriber. A `RUST_LOG` that does not parse is reported
/// and the `-v` level used instead.
pub(crate) fn init(verbose: u8) {
    let fallback = default_directive(verbose);
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new(fallback), Some(format!("{spec:?}: {e}"))),
        },
        _ => (EnvFilter::new(fallback), None),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Some(bad) = bad {
        tracing::warn!("ignoring RUST_LOG {bad}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_raises_the_level() {
        assert_eq!(default_directive(0), "info");
        assert_eq!(default_directive(1), "debug");
        assert_eq!(default_directive(5), "trace");
    }
}
