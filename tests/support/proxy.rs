//! The one fault-injecting proxy of the tests: a TCP proxy between a client and the local
//! server that counts the connections it accepts and can drop them, stall both directions (a
//! half-open connection), delay, refuse, answer the next connections itself (an HTTP error in
//! place of the server), cut the next server-to-client chunk in the middle, or lose the next
//! responses (the server ran the request; the client never hears of it).
//!
//! Pure std: one accept thread, two pump threads per connection. Everything stops on `Drop`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

#[derive(Default)]
struct Controls {
    stalled: bool,
    delay: Duration,
    cut_next: bool,
    lose: usize,
    refuse: bool,
    /// Answers for the next connections, instead of the server.
    answers: Vec<Vec<u8>>,
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    controls: Mutex<Controls>,
    unstalled: Condvar,
    /// The open connections by id: (client side, server side).
    conns: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
    next_id: AtomicU64,
    accepted: AtomicUsize,
    stop: AtomicBool,
}

/// The proxy; its listening address is [`FaultProxy::addr`].
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            controls: Mutex::new(Controls::default()),
            unstalled: Condvar::new(),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            accepted: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let accept = std::thread::Builder::new()
            .name("fault-proxy-accept".into())
            .spawn(move || accept_loop(listener, s))
            .expect("spawn proxy");
        FaultProxy {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// The address clients should connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/api/label/v2/graphql`, the endpoint to give a client.
    pub fn endpoint(&self) -> String {
        format!("http://{}/api/label/v2/graphql", self.addr)
    }

    /// Points new connections at another upstream (e.g. a restarted server).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock() = upstream;
    }

    /// How many client connections were accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many proxied connections are open now.
    pub fn open_connections(&self) -> usize {
        self.shared.conns.lock().len()
    }

    /// Closes every open connection abruptly (both sides see a reset or EOF).
    pub fn drop_connections(&self) {
        for (_, (c, s)) in self.shared.conns.lock().drain() {
            let _ = c.shutdown(Shutdown::Both);
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Stops forwarding in both directions while keeping sockets open (a half-open connection
    /// as a client sees it), or resumes.
    pub fn stall(&self, stalled: bool) {
        self.shared.controls.lock().stalled = stalled;
        self.shared.unstalled.notify_all();
    }

    /// Delays every forwarded chunk by `delay`.
    pub fn delay(&self, delay: Duration) {
        self.shared.controls.lock().delay = delay;
    }

    /// Forwards only the first half of the next server-to-client chunk, then closes that
    /// connection: the client sees a frame cut in the middle.
    pub fn cut_next_frame(&self) {
        self.shared.controls.lock().cut_next = true;
    }

    /// Whether a cut requested by [`FaultProxy::cut_next_frame`] is still pending.
    pub fn cut_pending(&self) -> bool {
        self.shared.controls.lock().cut_next
    }

    /// Loses the next `n` server-to-client chunks, each with its connection (closed instead of
    /// forwarded). A client waits for each response before sending more, so the next chunk
    /// starts a response: the server has run the request, the client never hears back (the
    /// ambiguous failure retries must survive).
    pub fn lose_next(&self, n: usize) {
        self.shared.controls.lock().lose = n;
    }

    /// Accepts and immediately closes new connections (a server that refuses service).
    pub fn refuse(&self, refuse: bool) {
        self.shared.controls.lock().refuse = refuse;
    }

    /// Answers the next new connection with `bytes` (e.g. an HTTP error response) and closes
    /// it, instead of forwarding it; calls add up, one connection each.
    pub fn answer_next(&self, bytes: impl Into<Vec<u8>>) {
        self.shared.controls.lock().answers.push(bytes.into());
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.stall(false);
        self.drop_connections();
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if shared.controls.lock().refuse {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let answer = {
            let mut c = shared.controls.lock();
            (!c.answers.is_empty()).then(|| c.answers.remove(0))
        };
        if let Some(bytes) = answer {
            answer_with(client, &bytes);
            continue;
        }
        let upstream = *shared.upstream.lock();
        let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(2)) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
            client.try_clone(),
            server.try_clone(),
            client.try_clone(),
            server.try_clone(),
        ) else {
            continue;
        };
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        shared.conns.lock().insert(id, (c3, s3));
        let sh = shared.clone();
        let up = std::thread::Builder::new()
            .name("fault-proxy-up".into())
            .spawn(move || pump(client, server, sh, id, false));
        let sh = shared.clone();
        let down = std::thread::Builder::new()
            .name("fault-proxy-down".into())
            .spawn(move || pump(s2, c2, sh, id, true));
        if up.is_err() || down.is_err() {
            close(&shared, id);
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, shared: Arc<Shared>, id: u64, downstream: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let (delay, cut, lose) = {
            let mut c = shared.controls.lock();
            while c.stalled && !shared.stop.load(Ordering::SeqCst) {
                shared.unstalled.wait(&mut c);
            }
            let lose = downstream && c.lose > 0;
            if lose {
                c.lose -= 1;
            }
            let cut = downstream && !lose && c.cut_next;
            if cut {
                c.cut_next = false;
            }
            (c.delay, cut, lose)
        };
        if lose {
            break;
        }
        if !delay.is_zero() {
            // The fault itself (a slow network), not synchronisation.
            std::thread::sleep(delay);
        }
        if cut {
            let half = (n / 2).max(1);
            let _ = to.write_all(&buf[..half]);
            break;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
    close(&shared, id);
}

/// Reads the request head (so the client sees an answer, not a reset), answers, closes.
fn answer_with(mut client: TcpStream, bytes: &[u8]) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = client.write_all(bytes);
    let _ = client.shutdown(Shutdown::Both);
}

/// Shuts both sides of a connection and forgets it (the first of its pumps to end does it).
fn close(shared: &Shared, id: u64) {
    if let Some((c, s)) = shared.conns.lock().remove(&id) {
        let _ = c.shutdown(Shutdown::Both);
        let _ = s.shutdown(Shutdown::Both);
    }
}
