//! One WebSocket connection: TCP with a timeout, TLS, the client handshake with the
//! subprotocol, then blocking reads on the subscription's own thread.
//!
//! Frames already received are read without waiting (the socket in non-blocking mode); when
//! none is left, the thread waits in `peek` until bytes arrive or the next deadline of the
//! connection passes (the socket's read timeout is set to it), so an idle subscription sleeps
//! in the kernel. The handle interrupts the wait for a command by shutting down the reading half
//! of the socket ([`Waker`]): `peek` then returns the end of the stream while the WebSocket,
//! which never saw it, can still send its goodbye (`stop`, `connection_terminate`, a close
//! frame). A close or a reset ends the connection anyway. No second thread, no copy of the
//! bytes between threads.

use std::io;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tungstenite::http::Uri;
use tungstenite::protocol::{CloseFrame, WebSocketConfig, frame::coding::CloseCode};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{ClientRequestBuilder, HandshakeError, Message, WebSocket};

use crate::common::tls::Tls;
use crate::error::{Error, Result};
use crate::subscription::options::WsProtocol;

/// The shortest read timeout: the kernel rounds timeouts up to its tick anyway.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// The connection's socket, shared by the WebSocket (which reads and writes it), the link
/// (timeouts, waiting) and the [`Waker`]: one file descriptor per connection.
#[derive(Debug, Clone)]
pub(crate) struct Socket(Arc<TcpStream>);

impl io::Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl io::Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

/// Interrupts the thread blocked reading the current connection, from another thread.
#[derive(Debug, Default, Clone)]
pub(crate) struct Waker(Arc<Mutex<Option<Socket>>>);

impl Waker {
    /// Makes the blocked read return (end of stream): the connection is over.
    pub(crate) fn wake(&self) {
        if let Some(socket) = &*self.0.lock() {
            let _ = socket.0.shutdown(Shutdown::Read);
        }
    }

    fn set(&self, socket: Option<Socket>) {
        *self.0.lock() = socket;
    }
}

/// Returns the `ws(s)://` URL of an `http(s)://` GraphQL endpoint: only the scheme changes.
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
    /// The largest message (and frame) read, in bytes.
    max_message: usize,
}

impl Endpoint {
    /// Returns the endpoint of the subscriptions of the GraphQL endpoint `http_endpoint`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a URL that cannot be used; TLS configuration errors.
    pub(crate) fn new(
        http_endpoint: &str,
        tls: &Tls,
        offered: &[WsProtocol],
        connect_timeout: Duration,
        max_message: usize,
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
            max_message,
        })
    }

    /// Returns the `ws(s)://` URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Returns the connect and handshake timeout.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

/// What one read of the WebSocket gave.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A message.
    Message(Message),
    /// The deadline passed first.
    TimedOut,
    /// The socket's reading half ended, and the WebSocket has not seen it yet: the peer went
    /// away, or the [`Waker`] interrupted the wait for a command.
    Ended,
    /// The connection is over (after a close handshake, lost, or woken); the error says how
    /// if lost.
    Over(Option<tungstenite::Error>),
}

/// One open WebSocket connection.
pub(crate) struct Link {
    ws: WebSocket<MaybeTlsStream<Socket>>,
    /// The same socket, for its timeouts.
    tcp: Arc<TcpStream>,
    waker: Waker,
    /// The read timeout set now, to skip the system call when it does not change.
    read_timeout: Option<Duration>,
    /// Whether the socket is in non-blocking mode now.
    nonblocking: bool,
    /// Whether every byte received was read (so the next read must wait for the socket).
    drained: bool,
    protocol: WsProtocol,
    server_date: Option<std::time::SystemTime>,
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
    /// Connects and runs the TLS and WebSocket handshakes; `waker` can interrupt reads from
    /// now on.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] if the server cannot be reached, [`Error::Timeout`] if a handshake
    /// takes longer than the connect timeout, [`Error::Authentication`] for an HTTP 401/403
    /// answer, [`Error::Http`] for another refusal, [`Error::Protocol`] if the server speaks
    /// none of the offered subprotocols, [`Error::Io`] if the system refuses a socket setting.
    pub(crate) fn open(ep: &Endpoint, waker: &Waker) -> Result<Link> {
        let timeout = ep.connect_timeout;
        let tcp = connect_tcp(&ep.host, ep.port, timeout)?;
        let io = Error::io;
        tcp.set_nodelay(true).map_err(io("setting TCP_NODELAY"))?;
        // Writes are small; a peer that stops reading for this long is as good as gone.
        tcp.set_write_timeout(Some(timeout.max(Duration::from_secs(1))))
            .map_err(io("setting a write timeout"))?;
        tcp.set_read_timeout(Some(timeout.max(MIN_WAIT)))
            .map_err(io("setting a read timeout"))?;
        let socket = Socket(Arc::new(tcp));
        waker.set(Some(socket.clone()));

        let mut request = ClientRequestBuilder::new(ep.uri.clone());
        for d in &ep.offered {
            request = request.with_sub_protocol(d.subprotocol());
        }
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0)
            .max_message_size(Some(ep.max_message))
            .max_frame_size(Some(ep.max_message));
        let handshake = ep
            .tls
            .websocket_handshake(ep.secure, request, socket.clone(), config)?;
        let (ws, response) = match handshake {
            Ok(ok) => ok,
            Err(e) => {
                waker.set(None);
                let _ = socket.0.shutdown(Shutdown::Both);
                return Err(match e {
                    HandshakeError::Failure(e) => handshake_error(e, ep, timeout),
                    HandshakeError::Interrupted(_) => Error::Timeout {
                        operation: "websocket handshake".into(),
                        after: timeout,
                    },
                });
            }
        };
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        let protocol = chosen
            .and_then(WsProtocol::from_subprotocol)
            .unwrap_or_else(|| ep.offered.first().copied().unwrap_or_default());
        let server_date = response
            .headers()
            .get("Date")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::common::time::parse_http_date);
        Ok(Link {
            ws,
            tcp: socket.0,
            waker: waker.clone(),
            read_timeout: Some(timeout.max(MIN_WAIT)),
            nonblocking: false,
            drained: false,
            protocol,
            server_date,
        })
    }

    /// Returns the protocol the server picked.
    pub(crate) fn protocol(&self) -> WsProtocol {
        self.protocol
    }

    /// Returns the `Date` of the server's handshake answer, if it sent one.
    pub(crate) fn server_date(&self) -> Option<std::time::SystemTime> {
        self.server_date
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

    /// Reads one message, waiting at most until `deadline` (forever if `None`).
    pub(crate) fn read(&mut self, deadline: Option<Instant>) -> Incoming {
        self.read_or_idle(deadline, || {})
    }

    /// Reads like [`read`](Self::read), calling `idle` once nothing is left to read, before waiting.
    pub(crate) fn read_or_idle(
        &mut self,
        deadline: Option<Instant>,
        mut idle: impl FnMut(),
    ) -> Incoming {
        // A deadline already past asks for what has arrived: one read that does not block
        // tells, with no wait (and no timer) after it.
        let expired = deadline.is_some_and(|d| d <= Instant::now());
        if expired {
            self.drained = false;
        }
        loop {
            if !self.drained {
                if let Err(e) = self.set_nonblocking(true) {
                    return Incoming::Over(Some(e));
                }
                match self.ws.read() {
                    Ok(m) => return Incoming::Message(m),
                    Err(tungstenite::Error::Io(e)) if would_block(&e) => self.drained = true,
                    Err(
                        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                    ) => {
                        return Incoming::Over(None);
                    }
                    Err(e) => return Incoming::Over(Some(e)),
                }
            }
            idle();
            if expired {
                return Incoming::TimedOut;
            }
            match self.wait(deadline) {
                Ok(Some(0)) => return Incoming::Ended,
                Ok(Some(_)) => self.drained = false,
                Ok(None) => return Incoming::TimedOut,
                Err(e) => return Incoming::Over(Some(e)),
            }
        }
    }

    /// Waits until the socket has bytes (`Some(1)`) or ends (`Some(0)`), or the deadline
    /// passes (`None`).
    fn wait(
        &mut self,
        deadline: Option<Instant>,
    ) -> std::result::Result<Option<usize>, tungstenite::Error> {
        self.set_nonblocking(false)?;
        let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()).max(MIN_WAIT));
        if wait != self.read_timeout {
            self.tcp.set_read_timeout(wait)?;
            self.read_timeout = wait;
        }
        match self.tcp.peek(&mut [0u8; 1]) {
            Ok(n) => Ok(Some(n)),
            Err(e) if would_block(&e) => Ok(None),
            // A signal: look again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Some(1)),
            Err(e) => Err(tungstenite::Error::Io(e)),
        }
    }

    /// Returns whether bytes wait in the socket, unread.
    pub(crate) fn has_bytes(&mut self) -> bool {
        if !self.drained {
            return true;
        }
        self.set_nonblocking(true).is_ok() && matches!(self.tcp.peek(&mut [0u8; 1]), Ok(n) if n > 0)
    }

    fn set_nonblocking(&mut self, yes: bool) -> std::result::Result<(), tungstenite::Error> {
        if self.nonblocking != yes {
            self.tcp.set_nonblocking(yes)?;
            self.nonblocking = yes;
        }
        Ok(())
    }

    /// Sends a close frame and waits up to `timeout` for the peer's, then drops the connection.
    pub(crate) fn close(&mut self, timeout: Duration) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        if self.ws.close(Some(frame)).is_ok() && self.ws.flush().is_ok() {
            let deadline = Instant::now().checked_add(timeout);
            // Frames still in flight are read and dropped, until the peer's close (which ends
            // the reads), the deadline, or the end of the reading half.
            while let Incoming::Message(_) = self.read(deadline) {}
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.waker.set(None);
        let _ = self.tcp.shutdown(Shutdown::Both);
    }
}

/// Returns the error for a failed read, naming its cause: a message over the limit (with the
/// limit, `max_event_size`), a text frame that is not UTF-8, a WebSocket protocol violation,
/// or the socket's own error (reset by peer, ...).
pub(crate) fn read_error(err: tungstenite::Error, max_event_size: usize) -> Error {
    use tungstenite::error::CapacityError;
    const READING: &str = "reading from the subscription socket";
    match err {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            Error::transport(
                READING,
                format!(
                    "a message of {size} bytes is over the limit of {} bytes \
                     (SubscriptionOptions::max_event_size); the label it carried is fetched \
                     by the catch-up",
                    max_size.max(max_event_size)
                ),
            )
        }
        tungstenite::Error::Utf8(e) => {
            Error::transport(READING, format!("a text frame that is not UTF-8: {e}"))
        }
        tungstenite::Error::Protocol(p) => {
            Error::transport(READING, format!("a WebSocket protocol violation: {p}"))
        }
        tungstenite::Error::Io(e) => Error::transport(READING, e),
        other => Error::transport(READING, other),
    }
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
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
        Tls::new(&crate::common::tls::TlsSettings::default()).unwrap()
    }

    /// Returns a graphql-ws endpoint on 127.0.0.1:`port` with this connect timeout.
    fn local_endpoint(port: u16, timeout: Duration) -> Endpoint {
        let url = format!("http://127.0.0.1:{port}/g");
        Endpoint::new(
            &url,
            &plain_tls(),
            &[WsProtocol::GraphqlWs],
            timeout,
            1 << 20,
        )
        .unwrap()
    }

    #[test]
    fn endpoint_parts() {
        let tls = plain_tls();
        let t = Duration::from_secs(1);
        let both = [WsProtocol::GraphqlTransportWs, WsProtocol::GraphqlWs];
        let ep = Endpoint::new("http://[::1]:4000/g", &tls, &both, t, 1 << 20).unwrap();
        assert_eq!((ep.host.as_str(), ep.port), ("::1", 4000));
        assert_eq!(
            ep.offered,
            vec![WsProtocol::GraphqlTransportWs, WsProtocol::GraphqlWs]
        );
        assert_eq!(ep.url(), "ws://[::1]:4000/g");
        let ep = Endpoint::new(
            "http://localhost/g",
            &tls,
            &[WsProtocol::GraphqlWs],
            t,
            1 << 20,
        )
        .unwrap();
        assert_eq!(ep.port, 80);
        assert_eq!(ep.offered, vec![WsProtocol::GraphqlWs]);
        assert!(
            Endpoint::new("http:///nohost", &tls, &[WsProtocol::GraphqlWs], t, 1 << 20).is_err()
        );
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
        let err = Link::open(&ep, &Waker::default()).unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
    }

    #[test]
    fn a_silent_peer_times_the_handshake_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ep = local_endpoint(port, Duration::from_millis(300));
        let err = Link::open(&ep, &Waker::default()).unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        drop(listener);
    }
}
