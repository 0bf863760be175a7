//! A tiny RTMP test client: a `baton_proto` [`ClientSession`] pumped over a
//! socket (TCP or any `AsyncRead + AsyncWrite`), collecting its events.
//! Independent of baton-rtmp's client module on purpose.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

use baton_proto::Timestamp;
use baton_proto::command::{Connect, DataMessage, Play, PublishType, StatusCode, StatusInfo};
use baton_proto::session::{ClientConfig, ClientEvent, ClientSession, MediaKind};

/// How long one wait for the server may take before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A client session over a socket.
pub(crate) struct TestClient<S = TcpStream> {
    pub(crate) io: S,
    pub(crate) session: ClientSession,
    /// Events received and not yet taken by [`TestClient::wait_for`].
    pub(crate) events: Vec<ClientEvent>,
    start: Instant,
    buf: Vec<u8>,
}

impl TestClient<TcpStream> {
    /// Opens a TCP connection (the handshake starts with the first pump).
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        let io = TcpStream::connect(addr).await.expect("tcp connect");
        // Without it, Nagle's algorithm holds small writes for the server's
        // delayed ACK (40 ms): real time lost, and on the paused test clock
        // an idle runtime that jumps to the next timer.
        io.set_nodelay(true).unwrap();
        Self::over(io)
    }

    /// Opens a TCP connection with a small receive buffer, so that the
    /// kernel holds little of what the server sends to a client that does
    /// not read.
    pub(crate) async fn connect_small_window(addr: SocketAddr) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let io = socket.connect(addr).await.expect("tcp connect");
        io.set_nodelay(true).unwrap();
        Self::over(io)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TestClient<S> {
    /// A client over an established transport.
    pub(crate) fn over(io: S) -> Self {
        TestClient {
            io,
            session: ClientSession::new(ClientConfig::default()),
            events: Vec::new(),
            start: Instant::now(),
            buf: vec![0; 64 << 10],
        }
    }

    fn now(&self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    /// Writes everything the session has queued.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        while let Some(bytes) = self.session.poll_transmit() {
            self.io.write_all(&bytes).await?;
        }
        self.io.flush().await
    }

    /// Reads once and feeds the session; `Ok(false)` when the server closed.
    pub(crate) async fn read_once(&mut self) -> io::Result<bool> {
        let n = self.io.read(&mut self.buf).await?;
        if n == 0 {
            return Ok(false);
        }
        let now = self.now();
        self.session
            .handle_input(&self.buf[..n], now)
            .expect("the server sent valid RTMP");
        while let Some(event) = self.session.poll_event() {
            self.events.push(event);
        }
        Ok(true)
    }

    /// Pumps until an event matches; returns it and drops the events before
    /// it (so the next wait sees only later ones).
    pub(crate) async fn wait_for(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&ClientEvent) -> bool,
    ) -> ClientEvent {
        let found = timeout(WAIT, async {
            loop {
                self.flush().await.expect("write to the server");
                if let Some(i) = self.events.iter().position(&mut pred) {
                    let event = self.events.remove(i);
                    self.events.drain(..i);
                    return event;
                }
                match self.read_once().await {
                    Ok(true) => {}
                    Ok(false) => panic!("connection closed while waiting for {what}"),
                    Err(e) => panic!("read error while waiting for {what}: {e}"),
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("timed out waiting for {what}; events: {:?}", self.events))
    }

    /// Reads (answering nothing) until the server closes the connection;
    /// false if it stays open past [`WAIT`].
    pub(crate) async fn wait_closed(&mut self) -> bool {
        let closed = timeout(WAIT, async {
            loop {
                match self.io.read(&mut self.buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        closed.is_ok()
    }

    /// Handshake and connect; returns `Connected` or `ConnectRejected`.
    pub(crate) async fn connect_app(&mut self, app: &str) -> ClientEvent {
        self.try_connect_app(app)
            .await
            .unwrap_or_else(|| panic!("the server closed the connection before answering connect"))
    }

    /// Handshake and connect; `None` when the server closes the connection
    /// instead of answering.
    pub(crate) async fn try_connect_app(&mut self, app: &str) -> Option<ClientEvent> {
        let mut connect = Connect::new(app, format!("rtmp://127.0.0.1/{app}"));
        connect.flash_ver = Some("FMLE/3.0 (test)".to_owned());
        self.session.connect(connect).unwrap();
        let answered = timeout(WAIT, async {
            loop {
                if self.flush().await.is_err() {
                    return None;
                }
                if let Some(i) = self.events.iter().position(|e| {
                    matches!(
                        e,
                        ClientEvent::Connected { .. } | ClientEvent::ConnectRejected { .. }
                    )
                }) {
                    return Some(self.events.remove(i));
                }
                match self.read_once().await {
                    Ok(true) => {}
                    Ok(false) | Err(_) => return None,
                }
            }
        })
        .await;
        answered.expect("timed out waiting for the connect reply")
    }

    /// createStream; returns the message stream id.
    pub(crate) async fn create_stream(&mut self) -> u32 {
        self.session.create_stream().unwrap();
        match self
            .wait_for("createStream", |e| {
                matches!(e, ClientEvent::StreamCreated { .. })
            })
            .await
        {
            ClientEvent::StreamCreated { stream_id, .. } => stream_id,
            _ => unreachable!(),
        }
    }

    /// Waits for an onStatus on `stream_id` with this code or any error.
    pub(crate) async fn wait_status(&mut self, stream_id: u32, code: StatusCode) -> StatusInfo {
        let what = format!("{code} on stream {stream_id}");
        match self
            .wait_for(&what, |e| match e {
                ClientEvent::Status { stream_id: s, info } => {
                    *s == stream_id
                        && (info.code == code
                            || info.level == baton_proto::command::StatusLevel::Error)
                }
                _ => false,
            })
            .await
        {
            ClientEvent::Status { info, .. } => info,
            _ => unreachable!(),
        }
    }

    /// The FMLE publish sequence; returns the stream id and the status the
    /// server answered (Publish.Start or an error).
    pub(crate) async fn publish(&mut self, name: &str) -> (u32, StatusInfo) {
        self.session.release_stream(name).unwrap();
        self.session.fc_publish(name).unwrap();
        let stream_id = self.create_stream().await;
        self.session
            .publish(stream_id, name, PublishType::Live)
            .unwrap();
        let info = self.wait_status(stream_id, StatusCode::PublishStart).await;
        (stream_id, info)
    }

    /// createStream and play; returns the stream id and the status the
    /// server answered (Play.Start or an error).
    pub(crate) async fn play(&mut self, name: &str) -> (u32, StatusInfo) {
        let stream_id = self.create_stream().await;
        self.session.play(stream_id, Play::new(name)).unwrap();
        let info = self.wait_status(stream_id, StatusCode::PlayStart).await;
        (stream_id, info)
    }

    /// Queues and writes one media message.
    pub(crate) async fn send_media(
        &mut self,
        stream_id: u32,
        kind: MediaKind,
        timestamp: u32,
        payload: Bytes,
    ) {
        self.session
            .send_media(stream_id, kind, Timestamp(timestamp), payload)
            .unwrap();
        self.flush().await.expect("write media");
    }

    /// Queues and writes one data message.
    pub(crate) async fn send_data(&mut self, stream_id: u32, timestamp: u32, data: DataMessage) {
        self.session
            .send_data(stream_id, Timestamp(timestamp), data)
            .unwrap();
        self.flush().await.expect("write data");
    }
}
