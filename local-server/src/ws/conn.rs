//! The IO side of a WebSocket connection.
//!
//! Two threads per connection. A reader thread does blocking reads on a clone of the socket and
//! forwards the bytes over a channel. The owner thread (the connection's thread) holds the
//! tungstenite `WebSocket` and waits with `select!` on: those bytes, wake-ups of the operations'
//! streams, the keep-alive ticker, and the next deadline (operation lifetime, `connection_init`
//! timeout). Nothing polls: a label published by the store wakes its stream's waker, which sends
//! the operation's key to the owner thread, which polls that stream and writes the frame at once.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, never, select, tick, unbounded};
use futures::StreamExt;
use futures::stream::BoxStream;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use super::auth::key_from_init_payload;
use super::protocol::{Action, Protocol, Session};
use crate::http::check_json_shape;
use crate::schema::Viewer;
use crate::shared::Shared;
use crate::store::UserRec;

/// How long a client has to send `connection_init` (or the idle timeout, if shorter).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long we wait for the client's close frame after sending ours.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long a write may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest message before `connection_init` is accepted: an unauthenticated client gets no
/// more than this read and parsed.
const INIT_MESSAGE_LIMIT: usize = 64 * 1024;

enum Chunk {
    Data(Vec<u8>),
    Eof,
}

/// The owner thread's view of the socket: reads come from the reader thread's chunks (and
/// return `WouldBlock` when none are buffered), writes go straight to the socket.
struct ChanStream {
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    tcp: TcpStream,
}

impl ChanStream {
    fn push(&mut self, chunk: Chunk) {
        match chunk {
            Chunk::Data(bytes) => {
                if self.pos == self.buf.len() {
                    self.buf.clear();
                    self.pos = 0;
                }
                self.buf.extend_from_slice(&bytes);
            }
            Chunk::Eof => self.eof = true,
        }
    }
}

impl Read for ChanStream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = &self.buf[self.pos..];
        if available.is_empty() {
            return if self.eof {
                Ok(0)
            } else {
                Err(ErrorKind::WouldBlock.into())
            };
        }
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for ChanStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.tcp.write(data)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// Wakes the owner thread for one operation.
struct OpWaker {
    key: u64,
    tx: Sender<u64>,
}

impl Wake for OpWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.tx.send(self.key);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self.tx.send(self.key);
    }
}

struct Op {
    id: String,
    stream: BoxStream<'static, async_graphql::Response>,
    waker: Waker,
    deadline: Instant,
}

struct Conn<'a> {
    ws: WebSocket<ChanStream>,
    session: Session,
    shared: &'a Shared,
    ops: HashMap<u64, Op>,
    keys: HashMap<String, u64>,
    next_key: u64,
    wake_tx: Sender<u64>,
    /// Set once we sent a close frame: when to give up waiting for the client's.
    closing: Option<Instant>,
    done: bool,
}

/// Runs an upgraded connection until it closes or the server stops.
pub(crate) fn run(
    stream: TcpStream,
    leftover: Vec<u8>,
    protocol: Protocol,
    shared: &Shared,
    conn_id: u64,
) {
    let _ = stream.set_read_timeout(None);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let (bytes_tx, bytes_rx) = bounded::<Chunk>(64);
    let reader_thread = std::thread::Builder::new()
        .name(format!("kili-local-ws-read-{conn_id}"))
        .spawn(move || read_loop(reader, bytes_tx));
    let Ok(reader_thread) = reader_thread else {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    };
    let limit = shared.config.max_body_bytes.min(INIT_MESSAGE_LIMIT);
    let config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let chan = ChanStream {
        buf: Vec::new(),
        pos: 0,
        eof: false,
        tcp: stream,
    };
    let (wake_tx, wake_rx) = unbounded();
    let mut conn = Conn {
        ws: WebSocket::from_partially_read(chan, leftover, Role::Server, Some(config)),
        session: Session::new(
            protocol,
            shared.config.keep_alive.is_some(),
            shared.config.max_subscriptions_per_connection,
        ),
        shared,
        ops: HashMap::new(),
        keys: HashMap::new(),
        next_key: 1,
        wake_tx,
        closing: None,
        done: false,
    };
    conn.run(&bytes_rx, &wake_rx);
    let _ = conn.ws.get_ref().tcp.shutdown(Shutdown::Both);
    drop(conn); // drops the operations' streams, which unsubscribes them from the store
    drop(bytes_rx); // unblocks the reader if it waits on a full channel
    let _ = reader_thread.join();
}

fn read_loop(mut tcp: TcpStream, tx: Sender<Chunk>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if tx.send(Chunk::Data(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let _ = tx.send(Chunk::Eof);
}

impl Conn<'_> {
    fn run(&mut self, bytes_rx: &Receiver<Chunk>, wake_rx: &Receiver<u64>) {
        let ka = match self.shared.config.keep_alive {
            Some(every) => tick(every),
            None => never(),
        };
        let init_deadline = Instant::now() + INIT_TIMEOUT.min(self.shared.config.idle_timeout);
        while !self.done {
            let timeout = self
                .next_deadline(init_deadline)
                .map_or(Duration::from_secs(3600), |t| {
                    t.saturating_duration_since(Instant::now())
                });
            select! {
                recv(bytes_rx) -> chunk => {
                    self.ws.get_mut().push(chunk.unwrap_or(Chunk::Eof));
                    self.read_frames();
                }
                recv(wake_rx) -> key => {
                    if let Ok(key) = key {
                        self.poll_op(key);
                    }
                }
                recv(ka) -> _ => {
                    if self.closing.is_none()
                        && let Some(frame) = self.session.keep_alive_frame()
                    {
                        self.apply(vec![frame]);
                    }
                }
                default(timeout) => self.on_deadline(init_deadline),
            }
            if self.ws.flush().is_err() {
                self.done = true;
            }
        }
    }

    fn next_deadline(&self, init_deadline: Instant) -> Option<Instant> {
        if let Some(t) = self.closing {
            return Some(t);
        }
        let ops = self.ops.values().map(|o| o.deadline).min();
        let init = (!self.session.is_ready()).then_some(init_deadline);
        ops.into_iter().chain(init).min()
    }

    fn on_deadline(&mut self, init_deadline: Instant) {
        let now = Instant::now();
        if self.closing.is_some_and(|t| t <= now) {
            self.done = true;
            return;
        }
        if now >= init_deadline {
            let actions = self.session.on_init_timeout();
            self.apply(actions);
        }
        let expired: Vec<String> = self
            .ops
            .values()
            .filter(|o| o.deadline <= now)
            .map(|o| o.id.clone())
            .collect();
        for id in expired {
            let actions = self.session.on_end(&id);
            self.apply(actions);
            self.stop(&id);
        }
    }

    /// Handles every complete frame buffered so far.
    fn read_frames(&mut self) {
        loop {
            match self.ws.read() {
                Ok(Message::Text(text)) => self.on_text(text.as_str()),
                Ok(Message::Binary(bytes)) => match std::str::from_utf8(&bytes) {
                    Ok(text) => self.on_text(text),
                    Err(_) => self.on_text(""),
                },
                Ok(Message::Close(_)) => {
                    // tungstenite queued the reply; the loop flushes it.
                    let _ = self.ws.flush();
                    self.done = true;
                    return;
                }
                Ok(_) => {} // ping (pong queued automatically), pong, raw frame
                Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.done = true;
                    return;
                }
            }
        }
    }

    fn on_text(&mut self, text: &str) {
        if self.closing.is_some() {
            return;
        }
        let state = &self.shared.state;
        let authenticate = |payload: &serde_json::Value| -> Option<UserRec> {
            key_from_init_payload(payload).and_then(|k| state.user_by_key(k))
        };
        let was_ready = self.session.is_ready();
        // A message beyond the JSON shape limits is answered as an unreadable one.
        let text = if check_json_shape(text.as_bytes()).is_ok() {
            text
        } else {
            ""
        };
        let actions = self.session.on_text(text, &authenticate);
        if !was_ready && self.session.is_ready() {
            // Authenticated: messages up to the body limit from now on.
            let limit = self.shared.config.max_body_bytes;
            self.ws.set_config(|c| {
                c.max_message_size = Some(limit);
                c.max_frame_size = Some(limit);
            });
        }
        self.apply(actions);
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            if self.closing.is_some() || self.done {
                return;
            }
            match action {
                Action::Send(text) => {
                    if self.ws.write(Message::text(text)).is_err() {
                        self.done = true;
                    }
                }
                Action::Start { id, request, user } => self.start(id, *request, *user),
                Action::Stop { id } => self.stop(&id),
                Action::Close { code, reason } => {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    if self.ws.close(Some(frame)).is_err() {
                        self.done = true;
                    }
                    self.closing = Some(Instant::now() + CLOSE_GRACE);
                    self.ops.clear();
                    self.keys.clear();
                }
            }
        }
    }

    fn start(&mut self, id: String, request: async_graphql::Request, user: UserRec) {
        let key = self.next_key;
        self.next_key += 1;
        let stream = self
            .shared
            .schema
            .execute_stream(request.data(Viewer(user)));
        let waker = Waker::from(Arc::new(OpWaker {
            key,
            tx: self.wake_tx.clone(),
        }));
        let deadline = Instant::now()
            .checked_add(self.shared.config.subscription_lifetime)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
        self.keys.insert(id.clone(), key);
        self.ops.insert(
            key,
            Op {
                id,
                stream,
                waker,
                deadline,
            },
        );
        self.poll_op(key);
    }

    fn stop(&mut self, id: &str) {
        if let Some(key) = self.keys.remove(id) {
            self.ops.remove(&key);
        }
    }

    /// Drains every result the operation has ready.
    fn poll_op(&mut self, key: u64) {
        loop {
            let Some(op) = self.ops.get_mut(&key) else {
                return;
            };
            let mut cx = Context::from_waker(&op.waker);
            match op.stream.poll_next_unpin(&mut cx) {
                Poll::Ready(Some(response)) => {
                    let id = op.id.clone();
                    // A label is pushed (and an operation's result sent) once it is on disk.
                    if self.shared.state.wait_durable().is_err() {
                        self.apply(vec![Action::Close {
                            code: 1011,
                            reason: "the local server could not sync its data file".into(),
                        }]);
                        return;
                    }
                    let actions = self.session.on_result(&id, &response);
                    self.apply(actions);
                }
                Poll::Ready(None) => {
                    let id = op.id.clone();
                    let actions = self.session.on_end(&id);
                    self.apply(actions);
                    self.stop(&id);
                    return;
                }
                Poll::Pending => return,
            }
        }
    }
}
