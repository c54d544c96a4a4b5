//! A minimal `graphql-ws` server for the throughput bench: it speaks just enough of the protocol
//! (`connection_ack`, an answer to the client's readiness probe) and then writes N
//! pre-serialised label `data` frames as fast as it can (`write`, `flush` every 64 frames).
//!
//! Every client (our subscription or the bare tungstenite loop) reads the same frames: only the
//! operation id inside them differs, and it has the same length (6 characters) for all.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use serde_json::{Value, json};
use tungstenite::handshake::server::{Request, Response};
use tungstenite::http::HeaderValue;
use tungstenite::{ClientRequestBuilder, Message, WebSocket};

/// Frames written between two flushes.
const FLUSH_EVERY: usize = 64;

/// One label frame, shaped as Kili (and the local server) sends them for the SDK's selection.
pub fn label_frame(op_id: &str, i: usize) -> String {
    let (secs, ms) = (i / 1000, i % 1000);
    let created = format!(
        "2024-01-01T{:02}:{:02}:{:02}.{ms:03}Z",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    );
    json!({"type": "data", "id": op_id, "payload": {"data": {"data": {
        "id": format!("clbench{i:010}"),
        "author": {"email": "user@local.kili"},
        "labelOf": {"id": format!("asset-{:04}", i % 1000)},
        "labelType": "INFERENCE",
        "jsonResponse": "{\"JOB_0\":{\"categories\":[{\"name\":\"OBJECT_A\"}]}}",
        "createdAt": created,
    }}}})
    .to_string()
}

/// The bare client's side: connects to a server at `addr` (no Nagle delay), opens the
/// WebSocket with `graphql-ws`, sends `connection_init` and a `start`. What the anchors of the
/// throughput, hot-path and CLI sections share; each reads the frames its own way.
pub fn connect_bare(addr: &str) -> Result<WebSocket<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let uri = format!("ws://{addr}/api/label/v2/graphql");
    let request = ClientRequestBuilder::new(uri.parse().map_err(|e| format!("{e}"))?)
        .with_sub_protocol("graphql-ws");
    let (mut ws, _) = tungstenite::client(request, tcp).map_err(|e| e.to_string())?;
    for v in [
        json!({"type": "connection_init", "payload": {}}),
        json!({"type": "start", "id": "bare01", "payload": {"query": "subscription { x }"}}),
    ] {
        ws.send(Message::text(v.to_string()))
            .map_err(|e| e.to_string())?;
    }
    Ok(ws)
}

/// How the frames are written.
pub enum Mode {
    /// All at once, as fast as possible; `started` gets the instant the first write began
    /// and the size of a frame.
    Burst,
    /// One frame each time `go` yields; `sent` gets the instant just before its write.
    Paced {
        go: Receiver<()>,
        sent: Sender<Instant>,
    },
}

/// A server for one connection.
pub struct BareServer {
    addr: SocketAddr,
    started: Receiver<(Instant, usize)>,
    thread: Option<JoinHandle<()>>,
}

impl BareServer {
    /// Listens on a free port; the connection it accepts gets `frames` label frames once it
    /// subscribed (and, if `expect_probe`, once its readiness probe was answered).
    pub fn start(frames: usize, expect_probe: bool) -> BareServer {
        BareServer::with_mode(frames, expect_probe, Mode::Burst)
    }

    /// As [`start`](Self::start), writing the frames as `mode` says.
    pub fn with_mode(frames: usize, expect_probe: bool, mode: Mode) -> BareServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the bare server");
        let addr = listener.local_addr().expect("its address");
        let (tx, started) = bounded(1);
        let thread = std::thread::Builder::new()
            .name("bare-server".into())
            .spawn(move || {
                if let Ok((tcp, _)) = listener.accept() {
                    serve(tcp, frames, expect_probe, &tx, mode);
                }
            })
            .expect("spawning the bare server");
        BareServer {
            addr,
            started,
            thread: Some(thread),
        }
    }

    /// The HTTP endpoint a `Kili` client is configured with.
    pub fn endpoint(&self) -> String {
        format!("http://{}/api/label/v2/graphql", self.addr)
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// When the server began writing the frames, and the bytes of one frame.
    pub fn started(&self, within: Duration) -> Option<(Instant, usize)> {
        self.started.recv_timeout(within).ok()
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    tcp: TcpStream,
    frames: usize,
    expect_probe: bool,
    started: &Sender<(Instant, usize)>,
    mode: Mode,
) {
    let _ = tcp.set_nodelay(true);
    // The error type is tungstenite's (an HTTP response), large by its nature.
    #[allow(clippy::result_large_err)]
    let pick_protocol = |req: &Request, mut resp: Response| {
        let offered = req
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if offered.split(',').any(|p| p.trim() == "graphql-ws") {
            resp.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static("graphql-ws"),
            );
        }
        Ok(resp)
    };
    let Ok(mut ws) = tungstenite::accept_hdr(tcp, pick_protocol) else {
        return;
    };
    let mut subscription: Option<String> = None;
    let mut probed = !expect_probe;
    let mut streamed = false;
    loop {
        let text = match ws.read() {
            Ok(Message::Text(t)) => t,
            Ok(_) => continue,
            Err(_) => return, // closed (tungstenite answered the close frame) or lost
        };
        let Ok(msg) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let id = msg["id"].as_str().unwrap_or_default().to_owned();
        match msg["type"].as_str() {
            Some("connection_init") => {
                let _ = ws.send(Message::text(r#"{"type":"connection_ack"}"#));
            }
            Some("start") => {
                let query = msg["payload"]["query"].as_str().unwrap_or_default();
                if query.contains("__typename") {
                    let data = json!({"type": "data", "id": id,
                        "payload": {"data": {"__typename": "Query"}}});
                    let _ = ws.write(Message::text(data.to_string()));
                    let done = json!({"type": "complete", "id": id});
                    let _ = ws.send(Message::text(done.to_string()));
                    probed = true;
                } else {
                    subscription = Some(id);
                }
            }
            _ => {}
        }
        if let (false, true, Some(op)) = (streamed, probed, &subscription) {
            streamed = true;
            let written = match &mode {
                Mode::Burst => stream(&mut ws, op, frames, started),
                Mode::Paced { go, sent } => paced(&mut ws, op, frames, go, sent),
            };
            if written.is_err() {
                return;
            }
        }
    }
}

fn stream(
    ws: &mut WebSocket<TcpStream>,
    op_id: &str,
    frames: usize,
    started: &Sender<(Instant, usize)>,
) -> tungstenite::Result<()> {
    // Serialised before the clock starts: only writing is timed.
    let texts: Vec<String> = (0..frames).map(|i| label_frame(op_id, i)).collect();
    let frame_bytes = texts.first().map_or(0, String::len);
    let _ = started.send((Instant::now(), frame_bytes));
    for (i, text) in texts.into_iter().enumerate() {
        ws.write(Message::text(text))?;
        if (i + 1) % FLUSH_EVERY == 0 {
            ws.flush()?;
        }
    }
    ws.flush()
}

fn paced(
    ws: &mut WebSocket<TcpStream>,
    op_id: &str,
    frames: usize,
    go: &Receiver<()>,
    sent: &Sender<Instant>,
) -> tungstenite::Result<()> {
    for i in 0..frames {
        if go.recv().is_err() {
            return Ok(());
        }
        let text = label_frame(op_id, i);
        let _ = sent.send(Instant::now());
        ws.send(Message::text(text))?;
    }
    Ok(())
}
