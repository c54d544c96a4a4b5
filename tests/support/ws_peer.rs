//! The one scriptable WebSocket peer of the tests: a server on `127.0.0.1:0`, plain (ws://) or
//! TLS (wss://, the test certificate), that runs a script on each connection, in a thread of
//! its own, after a handshake that echoes the first subprotocol the client offers. It stands in
//! for servers that misbehave in ways the local server never does: silent, flooding, sending
//! junk.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender};
use serde_json::{Value, json};
use tungstenite::Message;
use tungstenite::handshake::server::{Request, Response};

use crate::support::tls::server_config;
use crate::support::wait::PATIENCE;

/// A byte stream a peer speaks over: TCP, or TLS over TCP.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// The server side of one WebSocket.
pub type Ws = tungstenite::WebSocket<Box<dyn Stream>>;

/// One accepted connection, handed to the script.
pub struct Peer {
    /// The socket, for anything the helpers below do not cover.
    pub ws: Ws,
    dropped: Receiver<()>,
}

impl Peer {
    /// The next text message, as JSON (`Value::Null` if it is not JSON); `None` once the socket
    /// ends or fails.
    pub fn read_json(&mut self) -> Option<Value> {
        loop {
            match self.ws.read().ok()? {
                Message::Text(t) => {
                    return Some(serde_json::from_str(t.as_str()).unwrap_or_default());
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Sends `frame` as a text message; `false` if the socket is gone.
    pub fn send_json(&mut self, frame: &Value) -> bool {
        self.ws.send(Message::text(frame.to_string())).is_ok()
    }

    /// Keeps the connection open and reads nothing more (not even pings, which pile up
    /// unanswered) until the [`WsPeer`] is dropped: a frozen server.
    pub fn hold(self) {
        let _ = self.dropped.recv();
        drop(self.ws);
    }
}

/// The peer; it stops accepting when dropped.
pub struct WsPeer {
    addr: SocketAddr,
    tls: bool,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    /// Dropped with the peer: wakes the scripts in [`Peer::hold`].
    _alive: Sender<()>,
}

impl WsPeer {
    /// A ws:// peer running `script` on each connection.
    pub fn start(script: impl Fn(Peer) + Send + Sync + 'static) -> WsPeer {
        WsPeer::spawn(false, Arc::new(script))
    }

    /// A wss:// peer (the test certificate, for `localhost`) running `script` on each
    /// connection.
    pub fn start_tls(script: impl Fn(Peer) + Send + Sync + 'static) -> WsPeer {
        WsPeer::spawn(true, Arc::new(script))
    }

    /// A peer that acknowledges `connection_init`, then says nothing and reads nothing (not
    /// even pings): a frozen server.
    pub fn silent() -> WsPeer {
        WsPeer::start(|mut peer| {
            if peer.ws.read().is_ok() {
                peer.send_json(&json!({"type": "connection_ack"}));
            }
            peer.hold();
        })
    }

    fn spawn(tls: bool, script: Arc<dyn Fn(Peer) + Send + Sync>) -> WsPeer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (alive, dropped) = crossbeam_channel::bounded(0);
        let (count, stopped) = (connections.clone(), stop.clone());
        let config = tls.then(server_config);
        std::thread::Builder::new()
            .name("ws-peer".into())
            .spawn(move || {
                for tcp in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(tcp) = tcp else { continue };
                    count.fetch_add(1, Ordering::SeqCst);
                    // A script waiting on a client that went away gives up after this.
                    let _ = tcp.set_read_timeout(Some(PATIENCE));
                    let stream: Box<dyn Stream> = match &config {
                        None => Box::new(tcp),
                        Some(config) => match rustls::ServerConnection::new(config.clone()) {
                            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, tcp)),
                            Err(_) => continue,
                        },
                    };
                    let (script, dropped) = (script.clone(), dropped.clone());
                    let _ = std::thread::Builder::new()
                        .name("ws-peer-conn".into())
                        .spawn(move || {
                            if let Some(ws) = handshake(stream) {
                                script(Peer { ws, dropped });
                            }
                        });
                }
            })
            .expect("spawn the WebSocket peer");
        WsPeer {
            addr,
            tls,
            connections,
            stop,
            _alive: alive,
        }
    }

    /// The GraphQL endpoint to give a client: `http://127.0.0.1:PORT/api/label/v2/graphql`, or
    /// `https://localhost:PORT/...` for a TLS peer (the name on the test certificate).
    pub fn endpoint(&self) -> String {
        if self.tls {
            format!(
                "https://localhost:{}/api/label/v2/graphql",
                self.addr.port()
            )
        } else {
            format!("http://{}/api/label/v2/graphql", self.addr)
        }
    }

    /// How many TCP connections it accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for WsPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop; held connections wake when `_alive` drops.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The server handshake, echoing the first subprotocol the client offers.
// tungstenite's handshake callback type has a large error variant; not ours to change.
#[allow(clippy::result_large_err)]
fn handshake(stream: Box<dyn Stream>) -> Option<Ws> {
    let echo = |req: &Request, mut resp: Response| {
        let first = req
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|p| p.to_str().ok())
            .and_then(|p| p.split(',').next())
            .map(|p| p.trim().to_owned());
        if let Some(value) = first.and_then(|p| p.parse().ok()) {
            resp.headers_mut().insert("Sec-WebSocket-Protocol", value);
        }
        Ok(resp)
    };
    tungstenite::accept_hdr(stream, echo).ok()
}
