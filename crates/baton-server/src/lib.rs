//! The Baton media server (stream hub, fan-out, GOP cache, configuration).

#![forbid(unsafe_code)]

pub mod config;
