//! `baton-floor`: the least work an RTMP fan-out server can do per byte on
//! this kernel, as a baseline for the fan-out benchmark (issue #7).
//!
//! It speaks just enough RTMP for `baton-bench` and FFmpeg (handshake,
//! connect, createStream, publish, play: `baton-proto`'s server session),
//! then does nothing but the fan-out itself: each media message of a
//! publisher is chunked once (RTMP 1.0 section 5.3.1, a fmt 0 chunk and
//! fmt 3 continuations) and written to every player of the stream with one
//! blocking `write` on the publisher's own thread. No event loop, no
//! wake-ups, no queues, no timers, no GOP cache, no lag handling: a player
//! that stops reading blocks the stream. Not a server to run; a floor to
//! measure servers against. What it costs per delivered GB is what the
//! kernel's TCP costs for one write per frame per player (plus the little
//! user-space work around it), so no server that writes each frame as it
//! comes can go below it.
//!
//! Usage: `baton-floor --listen 127.0.0.1:1935 [--chunk-size 4096]`

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bytes::{Bytes, BytesMut};
use clap::Parser;

use baton_proto::chunk::{ChunkEncoder, RawMessage};
use baton_proto::session::{ServerConfig, ServerEvent, ServerSession};

/// Command line.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Floor baseline for RTMP fan-out: one blocking write per frame per player, nothing else"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:1935")]
    listen: SocketAddr,
    /// Chunk size sent to every client.
    #[arg(long, default_value_t = 4096)]
    chunk_size: u32,
}

/// A player: its socket and the message stream it plays on.
struct Player {
    socket: TcpStream,
    stream_id: u32,
}

/// The players of each stream name.
type Streams = Arc<Mutex<HashMap<String, Vec<Player>>>>;

/// Stack of the connection threads (they only run the session).
const THREAD_STACK: usize = 256 << 10;

fn main() -> ExitCode {
    let args = Args::parse();
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baton-floor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &Args) -> Result<()> {
    if !(128..=65536).contains(&args.chunk_size) {
        bail!("--chunk-size must be within 128..=65536");
    }
    let listener =
        TcpListener::bind(args.listen).with_context(|| format!("bind {}", args.listen))?;
    eprintln!("baton-floor listening on {}", listener.local_addr()?);
    let streams = Streams::default();
    let mut config = ServerConfig::default();
    config.session.chunk_size = args.chunk_size;
    for conn in listener.incoming() {
        let socket = match conn {
            Ok(socket) => socket,
            Err(e) => {
                eprintln!("accept: {e}");
                thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        let (streams, config) = (Arc::clone(&streams), config.clone());
        let spawned = thread::Builder::new()
            .stack_size(THREAD_STACK)
            .spawn(move || {
                if let Err(e) = connection(socket, config, &streams) {
                    eprintln!("connection: {e:#}");
                }
            });
        if let Err(e) = spawned {
            eprintln!("spawn: {e}");
        }
    }
    Ok(())
}

/// Runs a connection's session until it plays (its socket then joins the
/// stream's players) or ends (a publisher's does when its peer closes).
fn connection(mut socket: TcpStream, config: ServerConfig, streams: &Streams) -> Result<()> {
    socket.set_nodelay(true)?;
    let chunk_size = config.session.chunk_size;
    let mut session = ServerSession::new(config);
    let started = Instant::now();
    let mut buf = vec![0u8; 64 << 10];
    let mut publishing: Option<String> = None;
    loop {
        let n = socket.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let now = started.elapsed().as_millis() as u32;
        session.handle_input(&buf[..n], now)?;
        while let Some(event) = session.poll_event() {
            match event {
                ServerEvent::ConnectRequested { request, .. } => session.accept_connect(request)?,
                ServerEvent::PublishRequested {
                    request,
                    stream_name,
                    ..
                } => {
                    session.accept_publish(request)?;
                    publishing = Some(stream_name);
                }
                ServerEvent::PlayRequested {
                    request,
                    stream_id,
                    stream_name,
                    ..
                } => {
                    session.accept_play(request)?;
                    flush(&mut session, &mut socket)?;
                    let mut streams = streams.lock().expect("streams lock");
                    streams
                        .entry(stream_name)
                        .or_default()
                        .push(Player { socket, stream_id });
                    return Ok(());
                }
                ServerEvent::Media {
                    kind,
                    timestamp,
                    payload,
                    ..
                } => {
                    if let Some(name) = &publishing {
                        let (chunk_stream_id, type_id) = ServerSession::media_chunk_stream(kind);
                        let raw = RawMessage {
                            chunk_stream_id,
                            timestamp,
                            type_id,
                            stream_id: 1,
                            payload,
                        };
                        fan_out(streams, name, chunk_size, raw);
                    }
                }
                _ => {}
            }
        }
        flush(&mut session, &mut socket)?;
    }
    if let Some(name) = publishing {
        // The players end with the stream.
        if let Some(players) = streams.lock().expect("streams lock").remove(&name) {
            for p in players {
                let _ = p.socket.shutdown(std::net::Shutdown::Both);
            }
        }
    }
    Ok(())
}

/// Writes what the session has to send.
fn flush(session: &mut ServerSession, socket: &mut TcpStream) -> io::Result<()> {
    while let Some(bytes) = session.poll_transmit() {
        socket.write_all(&bytes)?;
    }
    Ok(())
}

/// Chunks `raw` once per message stream id and writes it to every player
/// of `name`, one write each; players whose write fails are dropped.
fn fan_out(streams: &Streams, name: &str, chunk_size: u32, mut raw: RawMessage) {
    let mut streams = streams.lock().expect("streams lock");
    let Some(players) = streams.get_mut(name) else {
        return;
    };
    let mut chunked: Vec<(u32, Bytes)> = Vec::new();
    players.retain_mut(|p| {
        let bytes = match chunked.iter().find(|(id, _)| *id == p.stream_id) {
            Some((_, bytes)) => bytes.clone(),
            None => {
                raw.stream_id = p.stream_id;
                let mut out = BytesMut::new();
                ChunkEncoder::encode_standalone(chunk_size, &raw, &mut out);
                let bytes = out.freeze();
                chunked.push((p.stream_id, bytes.clone()));
                bytes
            }
        };
        p.socket.write_all(&bytes).is_ok()
    });
}
