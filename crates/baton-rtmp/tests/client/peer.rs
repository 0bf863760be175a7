//! The test server: one accepted connection driven by a
//! `baton_proto::session::ServerSession`, step by step from the test.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use baton_proto::command::Connect;
use baton_proto::session::{ServerConfig, ServerEvent, ServerSession};

/// One accepted connection driven by a server session.
pub(crate) struct Peer {
    pub(crate) io: TcpStream,
    pub(crate) session: ServerSession,
    buf: Vec<u8>,
    pub(crate) connect: Option<Box<Connect>>,
    /// A pause before each socket read (a slow reader).
    pub(crate) read_delay: Option<std::time::Duration>,
}

impl Peer {
    pub(crate) async fn accept(listener: &TcpListener) -> Peer {
        Peer::accept_with(listener, ServerConfig::default()).await
    }

    pub(crate) async fn accept_with(listener: &TcpListener, config: ServerConfig) -> Peer {
        let (io, _) = listener.accept().await.expect("accept");
        Peer {
            io,
            session: ServerSession::new(config),
            buf: vec![0; 64 << 10],
            connect: None,
            read_delay: None,
        }
    }

    /// Writes what the session queued.
    pub(crate) async fn flush(&mut self) -> std::io::Result<()> {
        while let Some(bytes) = self.session.poll_transmit() {
            self.io.write_all(&bytes).await?;
        }
        Ok(())
    }

    /// The next event; `None` when the client closed.
    pub(crate) async fn event(&mut self) -> Option<ServerEvent> {
        loop {
            if let Some(event) = self.session.poll_event() {
                return Some(event);
            }
            // A client that left may make writes fail; the read tells.
            let _ = self.flush().await;
            if let Some(delay) = self.read_delay {
                tokio::time::sleep(delay).await;
            }
            let n = self.io.read(&mut self.buf).await.ok()?;
            if n == 0 {
                return None;
            }
            self.session
                .handle_input(&self.buf[..n], 0)
                .expect("the client broke the protocol");
        }
    }

    /// Accepts connect; returns the publish or play request that follows.
    pub(crate) async fn until_request(&mut self) -> ServerEvent {
        loop {
            match self.event().await.expect("client left before its request") {
                ServerEvent::ConnectRequested { request, connect } => {
                    self.connect = Some(connect);
                    self.session.accept_connect(request).unwrap();
                }
                event @ (ServerEvent::PublishRequested { .. }
                | ServerEvent::PlayRequested { .. }) => return event,
                _ => {}
            }
        }
    }

    /// Accepts connect and publish; returns the message stream id.
    pub(crate) async fn accept_publish(&mut self) -> u32 {
        let ServerEvent::PublishRequested {
            request, stream_id, ..
        } = self.until_request().await
        else {
            panic!("expected publish");
        };
        self.session.accept_publish(request).unwrap();
        self.flush().await.unwrap();
        stream_id
    }

    /// Accepts connect and play; returns the message stream id.
    pub(crate) async fn accept_play(&mut self) -> u32 {
        let ServerEvent::PlayRequested {
            request, stream_id, ..
        } = self.until_request().await
        else {
            panic!("expected play");
        };
        self.session.accept_play(request).unwrap();
        self.flush().await.unwrap();
        stream_id
    }

    /// Reads until the client leaves; returns what it sent meanwhile.
    pub(crate) async fn drain(mut self) -> Vec<ServerEvent> {
        let mut events = Vec::new();
        while let Some(event) = self.event().await {
            events.push(event);
        }
        events
    }

    /// Closes the write side, then reads until the client leaves (a clean
    /// close: nothing unread, so no reset).
    pub(crate) async fn close_and_drain(mut self) -> Vec<ServerEvent> {
        let _ = self.flush().await;
        let _ = self.io.shutdown().await;
        self.drain().await
    }
}
