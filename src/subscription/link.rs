//! Opening one WebSocket connection: TCP with a timeout, TLS, the client handshake with the
//! subprotocol, and the reader thread that lets the subscription thread wait for socket bytes
//! and commands at once.
//!
//! The reader thread owns a clone of the `TcpStream` and does blocking reads, sending the bytes
//! over a small bounded channel. The subscription thread owns the `WebSocket`, whose stream
//! ([`ChanStream`]) reads from that channel and writes to the socket directly, so it can
//! `select` over the channel, its command channel and a timer: no polling, no read timeouts.
//! Dropping a [`Link`] shuts the socket down, which ends the reader, and joins it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError, bounded};
use parking_lot::Mutex;
use tungstenite::http::Uri;
use tungstenite::protocol::{CloseFrame, WebSocketConfig, frame::coding::CloseCode};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{ClientRequestBuilder, HandshakeError, Message, WebSocket};

use crate::error::{Error, Result};
use crate::subscription::options::WsProtocol;
use crate::tls::Tls;

/// Chunks in flight between the reader thread and the subscription thread.
const CHUNKS_IN_FLIGHT: usize = 64;
/// The reader thread's stack: it only copies bytes.
const READER_STACK: usize = 64 * 1024;

/// The `ws(s)://` URL of an `http(s)://` GraphQL endpoint: only the scheme changes.
pub(crate) fn ws_url(endpoint: &str) -> Result<String> {
    let (scheme, rest) = endpoint
        .split_once("://")
        .ok_or_else(|| Error::invalid(format!("endpoint {endpoint:?} has no scheme")))?;
    let ws = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => {
            return Err(Error::invalid(format!(
                "endpoint scheme {other:?} is not http(s) or ws(s)"
            )));
        }
    };
    Ok(format!("{ws}://{rest}"))
}

/// Where and how to connect; built once per subscription.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    url: String,
    uri: Uri,
    host: String,
    port: u16,
    tls: Tls,
    secure: bool,
    offered: Vec<WsProtocol>,
    connect_timeout: Duration,
}

impl Endpoint {
    /// The endpoint of the subscriptions of the GraphQL endpoint `http_endpoint`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a URL that cannot be used; TLS configuration errors.
    pub(crate) fn new(
        http_endpoint: &str,
        tls: &Tls,
        offered: &[WsProtocol],
        connect_timeout: Duration,
    ) -> Result<Endpoint> {
        let url = ws_url(http_endpoint)?;
        let uri: Uri = url
            .parse()
            .map_err(|e| Error::invalid(format!("invalid endpoint {url:?}: {e}")))?;
        let secure = uri.scheme_str() == Some("wss");
        let host = uri
            .host()
            .ok_or_else(|| Error::invalid(format!("endpoint {url:?} has no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        Ok(Endpoint {
            tls: tls.clone(),
            secure,
            url,
            uri,
            host,
            port,
            offered: offered.to_vec(),
            connect_timeout,
        })
    }

    /// The `ws(s)://` URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The connect and handshake timeout.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

/// What the reader thread passes on.
#[derive(Debug)]
pub(crate) enum Chunk {
    Data(Vec<u8>),
    Eof,
    Failed(io::Error),
}

/// The stream under the `WebSocket`: reads come from the reader thread, writes go to the socket.
///
/// Reads block until `deadline` when one is set (the handshake, the close), and return
/// `WouldBlock` when the channel is empty otherwise.
#[derive(Debug)]
pub(crate) struct ChanStream {
    rx: Receiver<Chunk>,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    deadline: Arc<Mutex<Option<Instant>>>,
    out: TcpStream,
}

impl Read for ChanStream {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.buf.len() {
                let n = dst.len().min(self.buf.len() - self.pos);
                dst[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.eof || dst.is_empty() {
                return Ok(0);
            }
            let deadline = *self.deadline.lock();
            let chunk = match deadline {
                Some(d) => match self.rx.recv_deadline(d) {
                    Ok(c) => c,
                    Err(RecvTimeoutError::Timeout) => return Err(io::ErrorKind::TimedOut.into()),
                    Err(RecvTimeoutError::Disconnected) => Chunk::Eof,
                },
                None => match self.rx.try_recv() {
                    Ok(c) => c,
                    Err(TryRecvError::Empty) => return Err(io::ErrorKind::WouldBlock.into()),
                    Err(TryRecvError::Disconnected) => Chunk::Eof,
                },
            };
            match chunk {
                Chunk::Data(v) => {
                    self.buf = v;
                    self.pos = 0;
                }
                Chunk::Eof => self.eof = true,
                Chunk::Failed(e) => {
                    self.eof = true;
                    return Err(e);
                }
            }
        }
    }
}

impl Write for ChanStream {
    fn write(&mut self, src: &[u8]) -> io::Result<usize> {
        self.out.write(src)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// What one read of the WebSocket gave.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A message.
    Message(Message),
    /// Nothing more for now.
    Nothing,
    /// The connection is over (after a close handshake, or lost); the error says how if lost.
    Over(Option<tungstenite::Error>),
}

/// One open WebSocket connection and its reader thread.
pub(crate) struct Link {
    ws: WebSocket<MaybeTlsStream<ChanStream>>,
    rx: Receiver<Chunk>,
    tcp: TcpStream,
    reader: Option<JoinHandle<()>>,
    deadline: Arc<Mutex<Option<Instant>>>,
    protocol: WsProtocol,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("peer", &self.tcp.peer_addr().ok())
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl Link {
    /// Connects, runs the TLS and WebSocket handshakes, and starts the reader thread (named
    /// `reader_name`).
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] if the server cannot be reached, [`Error::Timeout`] if a handshake
    /// takes longer than the connect timeout, [`Error::Authentication`] for an HTTP 401/403
    /// answer, [`Error::Http`] for another refusal, [`Error::Protocol`] if the server speaks
    /// none of the offered subprotocols.
    pub(crate) fn open(ep: &Endpoint, reader_name: &str) -> Result<Link> {
        let timeout = ep.connect_timeout;
        let tcp = connect_tcp(&ep.host, ep.port, timeout)?;
        let io = Error::io;
        tcp.set_nodelay(true).map_err(io("setting TCP_NODELAY"))?;
        // Writes are small; a peer that stops reading for this long is as good as gone.
        tcp.set_write_timeout(Some(timeout.max(Duration::from_secs(1))))
            .map_err(io("setting a write timeout"))?;
        let read_side = tcp.try_clone().map_err(io("cloning the socket"))?;
        let write_side = tcp.try_clone().map_err(io("cloning the socket"))?;

        let (tx, rx) = bounded(CHUNKS_IN_FLIGHT);
        let reader = std::thread::Builder::new()
            .name(reader_name.to_owned())
            .stack_size(READER_STACK)
            .spawn(move || read_loop(read_side, tx))
            .map_err(io("spawning the socket reader thread"))?;
        let deadline = Arc::new(Mutex::new(Some(Instant::now() + timeout)));
        let stream = ChanStream {
            rx: rx.clone(),
            buf: Vec::new(),
            pos: 0,
            eof: false,
            deadline: deadline.clone(),
            out: write_side,
        };

        let mut request = ClientRequestBuilder::new(ep.uri.clone());
        for d in &ep.offered {
            request = request.with_sub_protocol(d.subprotocol());
        }
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0);
        let handshake = tungstenite::client_tls_with_config(
            request,
            stream,
            Some(config),
            Some(ep.tls.websocket(ep.secure)?),
        );
        let (ws, response) = match handshake {
            Ok(ok) => ok,
            Err(e) => {
                let err = match e {
                    HandshakeError::Failure(e) => handshake_error(e, ep, timeout),
                    HandshakeError::Interrupted(_) => Error::Timeout {
                        operation: "websocket handshake".into(),
                        after: timeout,
                    },
                };
                // Stop the reader: shut the socket down, unblock it, join it.
                let _ = tcp.shutdown(Shutdown::Both);
                while rx.recv_timeout(Duration::from_secs(5)).is_ok() {}
                join_reader(reader);
                return Err(err);
            }
        };
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        let protocol = chosen
            .and_then(WsProtocol::from_subprotocol)
            .unwrap_or(ep.offered[0]);
        *deadline.lock() = None;
        Ok(Link {
            ws,
            rx,
            tcp,
            reader: Some(reader),
            deadline,
            protocol,
        })
    }

    /// The protocol the server picked.
    pub(crate) fn protocol(&self) -> WsProtocol {
        self.protocol
    }

    /// The channel that has bytes when the socket does (for `select`).
    pub(crate) fn readiness(&self) -> &Receiver<Chunk> {
        &self.rx
    }

    /// Sends a text frame.
    pub(crate) fn send_text(&mut self, text: String) -> Result<()> {
        self.ws
            .send(Message::text(text))
            .map_err(|e| Error::transport("writing to the subscription socket", e))
    }

    /// Sends a WebSocket ping.
    pub(crate) fn send_ping(&mut self) -> Result<()> {
        self.ws
            .send(Message::Ping(Vec::new().into()))
            .map_err(|e| Error::transport("writing to the subscription socket", e))
    }

    /// Reads one message if one is available, without blocking.
    pub(crate) fn read(&mut self) -> Incoming {
        match self.ws.read() {
            Ok(m) => Incoming::Message(m),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                Incoming::Nothing
            }
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                Incoming::Over(None)
            }
            Err(e) => Incoming::Over(Some(e)),
        }
    }

    /// Sends a close frame and waits up to `timeout` for the peer's, then drops the connection.
    pub(crate) fn close(&mut self, timeout: Duration) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        if self.ws.close(Some(frame)).is_ok() && self.ws.flush().is_ok() {
            *self.deadline.lock() = Some(Instant::now() + timeout);
            // Frames still in flight are read and dropped: the subscription is closing.
            while let Ok(_message) = self.ws.read() {}
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.tcp.shutdown(Shutdown::Both);
        // Unblocks a reader waiting for room in the channel, until it sees the shutdown.
        while self.rx.recv_timeout(Duration::from_secs(5)).is_ok() {}
        if let Some(reader) = self.reader.take() {
            join_reader(reader);
        }
    }
}

fn join_reader(reader: JoinHandle<()>) {
    if reader.join().is_err() {
        log::error!("the subscription socket reader panicked");
    }
}

fn read_loop(mut tcp: TcpStream, tx: crossbeam_channel::Sender<Chunk>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Chunk::Eof);
                return;
            }
            Ok(n) => {
                if tx.send(Chunk::Data(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Chunk::Failed(e));
                return;
            }
        }
    }
}

fn connect_tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream> {
    let context = || format!("connecting to {host}:{port}");
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::transport(context(), e))?
        .collect();
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                last = Some(Error::Timeout {
                    operation: context(),
                    after: timeout,
                });
            }
            Err(e) => last = Some(Error::transport(context(), e)),
        }
    }
    Err(last.unwrap_or_else(|| Error::transport(context(), "the host name resolved to no address")))
}

fn handshake_error(e: tungstenite::Error, ep: &Endpoint, timeout: Duration) -> Error {
    match e {
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Error::Timeout {
                operation: "websocket handshake".into(),
                after: timeout,
            }
        }
        tungstenite::Error::Http(resp) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned();
            match status {
                401 | 403 => Error::Authentication {
                    message: format!("http status {status}: {}", body.trim()),
                },
                _ => Error::Http { status, body },
            }
        }
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(p),
        ) => Error::Protocol {
            message: format!("{} does not speak the offered subprotocols: {p}", ep.url),
        },
        other => Error::transport(format!("opening {}", ep.url), other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_changes_the_scheme_only() {
        assert_eq!(
            ws_url("http://127.0.0.1:4000/api/label/v2/graphql").unwrap(),
            "ws://127.0.0.1:4000/api/label/v2/graphql"
        );
        assert_eq!(
            ws_url("https://cloud.kili-technology.com/api/label/v2/graphql").unwrap(),
            "wss://cloud.kili-technology.com/api/label/v2/graphql"
        );
        // The SDK's `.replace("http", "ws")` would mangle this host.
        assert_eq!(
            ws_url("https://http-proxy.example/graphql").unwrap(),
            "wss://http-proxy.example/graphql"
        );
        assert_eq!(ws_url("HTTP://h/").unwrap(), "ws://h/");
        assert!(ws_url("ftp://h/").is_err());
        assert!(ws_url("no-scheme").is_err());
    }

    fn plain_tls() -> Tls {
        Tls::new(&crate::tls::TlsSettings::default()).unwrap()
    }

    /// A graphql-ws endpoint on 127.0.0.1:`port` with this connect timeout.
    fn local_endpoint(port: u16, timeout: Duration) -> Endpoint {
        let url = format!("http://127.0.0.1:{port}/g");
        Endpoint::new(&url, &plain_tls(), &[WsProtocol::GraphqlWs], timeout).unwrap()
    }

    #[test]
    fn endpoint_parts() {
        let tls = plain_tls();
        let t = Duration::from_secs(1);
        let both = [WsProtocol::GraphqlTransportWs, WsProtocol::GraphqlWs];
        let ep = Endpoint::new("http://[::1]:4000/g", &tls, &both, t).unwrap();
        assert_eq!((ep.host.as_str(), ep.port), ("::1", 4000));
        assert_eq!(
            ep.offered,
            vec![WsProtocol::GraphqlTransportWs, WsProtocol::GraphqlWs]
        );
        assert_eq!(ep.url(), "ws://[::1]:4000/g");
        let ep = Endpoint::new("http://localhost/g", &tls, &[WsProtocol::GraphqlWs], t).unwrap();
        assert_eq!(ep.port, 80);
        assert_eq!(ep.offered, vec![WsProtocol::GraphqlWs]);
        assert!(Endpoint::new("http:///nohost", &tls, &[WsProtocol::GraphqlWs], t).is_err());
    }

    #[test]
    fn refused_connections_are_transport_errors() {
        // Bind then drop: the port is (almost certainly) closed now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ep = local_endpoint(port, Duration::from_secs(2));
        let err = Link::open(&ep, "test-reader").unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
    }

    #[test]
    fn a_silent_peer_times_the_handshake_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ep = local_endpoint(port, Duration::from_millis(300));
        let err = Link::open(&ep, "test-reader").unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        drop(listener);
    }
}
