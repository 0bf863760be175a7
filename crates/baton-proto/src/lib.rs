//! # baton-proto: RTMP with no I/O
//!
//! The whole Real Time Messaging Protocol (Adobe RTMP 1.0, plus RTMP Go Away
//! and Enhanced RTMP v2) as plain state machines: bytes and the current time
//! go in, bytes and typed events come out. Nothing here opens a socket,
//! spawns a task or reads a clock, so every piece runs the same in a unit
//! test, a fuzzer, a tokio server or an embedded device.
//!
//! ```text
//!  bytes in ──► handshake ──► chunk::ChunkDecoder ──► message::Message ──► session ──► events
//!                                                     (amf0/amf3, command, media)
//!  bytes out ◄─ handshake ◄── chunk::ChunkEncoder ◄── message::Message ◄── session ◄── app calls
//! ```
//!
//! Modules, each named after the concept of the spec it implements:
//! - [`handshake`]: C0/C1/C2 and S0/S1/S2, simple and Flash digest (section 5.2).
//! - [`chunk`]: the chunk stream: headers, reassembly, chunking (section 5.3).
//! - [`message`]: one typed value per message type (sections 5.4, 6, 7.1).
//! - [`amf`]: AMF0 and AMF3 values.
//! - [`command`]: NetConnection and NetStream commands as a typed enum (section 7.2).
//! - [`media`]: FLV/Enhanced RTMP audio and video tag headers, metadata.
//! - [`flv`]: the FLV file format.
//! - [`session`]: server and client sessions (sections 7.2-7.3).
//!
//! Every length and count a peer controls is checked against [`Limits`]
//! before anything is allocated; decoders return errors, never panic.

#![forbid(unsafe_code)]

pub mod amf;
pub mod chunk;
pub mod command;
pub mod flv;
pub mod handshake;
pub mod limits;
pub mod media;
pub mod message;
pub mod session;
pub mod time;

pub use amf::{AmfError, amf0, amf3};
pub use limits::{AmfLimits, ChunkLimits, Limits};
pub use time::Timestamp;
