//! Raw HTTP for the tests: a peer that answers whatever bytes it is given (or nothing), an
//! HTTP/1.1 message reader, and a request relay, for what no well-behaved server does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::support::wait::PATIENCE;

/// An address where nothing listens (connections are refused).
///
/// A port of 127.0.0.1 that was free a moment ago may be taken by the next server a test
/// starts (they all bind `127.0.0.1:0`), so the port is taken on 127.0.0.2, another loopback
/// address on Linux, where no test listens.
pub fn refused_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.2:0").expect("bind a loopback address");
    l.local_addr().expect("local addr")
}

/// A raw HTTP peer on `127.0.0.1:0`. It reads each request, then answers with the bytes it
/// holds (whatever they are: a status, junk, a lie about the length) and closes the
/// connection; holding no answer, it says nothing and keeps the connection open until dropped.
pub struct RawHttp {
    addr: SocketAddr,
    answer: Arc<Mutex<Option<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    /// Dropped with the peer: wakes the connections it holds open.
    _alive: Sender<()>,
}

impl RawHttp {
    /// A peer answering every request with `bytes`.
    pub fn answering(bytes: Vec<u8>) -> RawHttp {
        RawHttp::start(Some(bytes))
    }

    /// A peer that accepts connections, reads the requests and never answers.
    pub fn silent() -> RawHttp {
        RawHttp::start(None)
    }

    fn start(answer: Option<Vec<u8>>) -> RawHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let answer = Arc::new(Mutex::new(answer));
        let stop = Arc::new(AtomicBool::new(false));
        let (alive, dropped) = crossbeam_channel::bounded(0);
        let (bytes, stopped) = (answer.clone(), stop.clone());
        std::thread::Builder::new()
            .name("raw-http".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let (bytes, dropped) = (bytes.clone(), dropped.clone());
                    std::thread::spawn(move || serve(stream, &bytes, &dropped));
                }
            })
            .expect("spawn the raw HTTP peer");
        RawHttp {
            addr,
            answer,
            stop,
            _alive: alive,
        }
    }

    /// Answers the next requests with `bytes`.
    pub fn answer(&self, bytes: Vec<u8>) {
        *self.answer.lock() = Some(bytes);
    }

    /// The peer's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/api/label/v2/graphql`, the endpoint to give a client.
    pub fn endpoint(&self) -> String {
        format!("http://{}/api/label/v2/graphql", self.addr)
    }
}

impl Drop for RawHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop; the held connections wake when `_alive` drops.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, answer: &Mutex<Option<Vec<u8>>>, dropped: &Receiver<()>) {
    // A client that went away leaves this thread waiting no longer than this.
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader);
    if read_request(&mut reader).is_none() {
        return;
    }
    let answer = answer.lock().clone();
    match answer {
        Some(bytes) => {
            let mut stream = stream;
            let _ = stream.write_all(&bytes);
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Silent: keep the connection open, unanswered, until the peer is dropped.
        None => {
            let _ = dropped.recv();
        }
    }
}

/// An HTTP/1.1 response with this status line (`500 Internal Server Error`), extra header
/// lines (each ending in `\r\n`), a `Content-Length` and `body`.
pub fn http_response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Sends raw bytes on a new connection; returns everything until the peer closes (or
/// [`PATIENCE`] passes).
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("read timeout");
    s.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one HTTP/1.1 request with a Content-Length body, as raw bytes; `None` at end of
/// stream.
pub fn read_request(r: &mut impl BufRead) -> Option<Vec<u8>> {
    read_message(r, false)
}

/// Reads one HTTP/1.1 message (a response may be chunked), as raw bytes.
pub fn read_message(r: &mut impl BufRead, response: bool) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut content_length = 0usize;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(line.as_bytes());
        let l = line.to_ascii_lowercase();
        if let Some(v) = l.strip_prefix("content-length:") {
            content_length = v.trim().parse().ok()?;
        }
        if l.starts_with("transfer-encoding:") && l.contains("chunked") {
            chunked = true;
        }
        if line == "\r\n" {
            break;
        }
    }
    if chunked && response {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            head.extend_from_slice(size.as_bytes());
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            head.extend_from_slice(&chunk);
            if n == 0 {
                return Some(head);
            }
        }
    }
    let mut body = vec![0; content_length];
    r.read_exact(&mut body).ok()?;
    head.extend_from_slice(&body);
    Some(head)
}

/// Forwards the requests read from `client` to `upstream`, one at a time, and the responses
/// back, until either side ends.
pub fn relay<S: Read + Write>(mut client: BufReader<S>, upstream: SocketAddr) {
    let Ok(up) = TcpStream::connect(upstream) else {
        return;
    };
    let Ok(up_read) = up.try_clone() else {
        return;
    };
    let mut up_reader = BufReader::new(up_read);
    let mut up = up;
    while let Some(request) = read_request(&mut client) {
        if up.write_all(&request).is_err() {
            return;
        }
        let Some(response) = read_message(&mut up_reader, true) else {
            return;
        };
        if client.get_mut().write_all(&response).is_err() || client.get_mut().flush().is_err() {
            return;
        }
    }
}
