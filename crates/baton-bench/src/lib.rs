//! # baton-bench: the fan-out load tool
//!
//! K synthetic publishers send H.264-in-FLV frames that carry a bench
//! header (publisher, sequence number, send time); N players (plus slow
//! and idle connections) receive them through the Baton client library.
//! The run reports losses, duplicates, latency percentiles and stalls as
//! the players saw them, next to the CPU and memory of the server process
//! and of the tool itself (which must stay the cheaper of the two).
//!
//! ```text
//!  publishers ──► server ──► players (normal, slow: throttled reads)
//!      │                        │
//!      └─ frame: BTNB pub seq send-µs ─► seq / latency / stall counters
//! ```
//!
//! - [`config`]: the command line ([`Config`]), [`units`]: bitrates and seconds.
//! - [`avc`]: a real SPS/PPS and the AVC sequence header; [`frame`]: frame
//!   sizes and bytes.
//! - [`seq`], [`histogram`], [`stats`]: per-player counters, merged per group.
//! - [`procfs`]: CPU and RSS from `/proc`; [`report`] and [`table`]: output.
//! - [`run()`]: one run over its timeline.

#![forbid(unsafe_code)]

pub mod avc;
pub mod config;
pub mod frame;
pub mod histogram;
mod idle;
mod player;
pub mod procfs;
mod publisher;
pub mod report;
mod run;
pub mod seq;
pub mod stats;
pub mod table;
mod throttle;
mod timeline;
pub mod units;

pub use config::Config;
pub use report::Report;
pub use run::{BenchError, run};
