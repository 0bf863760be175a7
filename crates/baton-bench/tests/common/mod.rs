//! What the tool's integration tests share.

/// A short timeline (about 3 s) at 1 Mbit/s: enough for every player to
/// join, a measured window and the drain.
pub(crate) const SHORT_RUN: [&str; 12] = [
    "--bitrate",
    "1M",
    "--publish-lead",
    "0.3",
    "--join-spread",
    "0.5",
    "--warmup",
    "0.5",
    "--duration",
    "1.2",
    "--drain",
    "0.5",
];
