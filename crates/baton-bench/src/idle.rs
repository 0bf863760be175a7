//! Idle connections: handshake and connect, then nothing. They are kept
//! as connected [`Connection`]s that nobody polls, so they cost the tool no
//! CPU (what the server sends waits in the socket buffer).

use std::collections::BTreeMap;
use std::sync::Arc;

use baton_rtmp::RtmpUrl;
use baton_rtmp::client::{ClientConfig, Connection};
use tokio::task::JoinSet;

use crate::player::{EMFILE, reason};

/// Connections opened at once.
const CONCURRENCY: usize = 64;
/// Read buffer of an idle connection (it reads nothing after connect).
const IDLE_READ_BUFFER: usize = 4096;

/// The idle connections and what failed.
#[derive(Debug, Default)]
pub(crate) struct IdleSet {
    /// Connected and held.
    pub(crate) connections: Vec<Connection>,
    /// Reasons of failed connections.
    pub(crate) failures: BTreeMap<String, u64>,
    /// A connection failed because the process ran out of descriptors.
    pub(crate) fd_limit_hit: bool,
}

/// Opens `count` connections, [`CONCURRENCY`] at a time.
pub(crate) async fn open(url: &RtmpUrl, client: &ClientConfig, count: u32) -> IdleSet {
    let mut client = client.clone();
    client.read_buffer_size = IDLE_READ_BUFFER;
    let client = Arc::new(client);
    let url = Arc::new(url.clone());
    let mut set = IdleSet::default();
    let mut tasks = JoinSet::new();
    let mut started = 0;
    while started < count || !tasks.is_empty() {
        while started < count && tasks.len() < CONCURRENCY && !set.fd_limit_hit {
            let (url, client) = (url.clone(), client.clone());
            tasks.spawn(async move { Connection::connect(&url, &client).await });
            started += 1;
        }
        if set.fd_limit_hit && started < count {
            started = count;
        }
        match tasks.join_next().await {
            Some(Ok(Ok(conn))) => set.connections.push(conn),
            Some(Ok(Err(e))) => {
                if matches!(&e, baton_rtmp::RtmpError::Io(io) if io.raw_os_error() == Some(EMFILE))
                {
                    set.fd_limit_hit = true;
                }
                *set.failures.entry(reason(&e)).or_default() += 1;
            }
            Some(Err(e)) => *set.failures.entry(format!("task: {e}")).or_default() += 1,
            None => break,
        }
    }
    set
}
