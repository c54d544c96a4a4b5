//! One webhook POST, written by hand on a `TcpStream`: connect to an address the target check
//! passed (no second name resolution, no redirect followed), send the JSON body with the
//! `Authorization` header, and read the answer's status line. Everything within one deadline.
//!
//! By hand rather than with an HTTP client: the emulator connects only to the vetted addresses,
//! bounds the whole attempt with one deadline, needs no TLS, and adds no dependency.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::webhook_targets::Target;

/// The largest answer head read.
const MAX_HEAD: usize = 64 * 1024;

/// What to POST, and where.
pub(super) struct Request<'a> {
    pub(super) target: &'a Target,
    pub(super) addrs: &'a [SocketAddr],
    pub(super) authorization: Option<&'a str>,
    pub(super) body: &'a [u8],
    pub(super) timeout: Duration,
}

/// POSTs the request; returns the answer's status code. `connected` sees the stream once
/// connected (so that stopping the server can shut it).
///
/// # Errors
///
/// A message: no connection, a write or read failure, no answer within the timeout, or an
/// answer that is not HTTP.
pub(super) fn post(req: &Request<'_>, connected: impl FnOnce(&TcpStream)) -> Result<u16, String> {
    let deadline = Instant::now() + req.timeout;
    let mut stream = connect(req.addrs, deadline, req.timeout)?;
    connected(&stream);
    let _ = stream.set_nodelay(true);
    let authorization = match req.authorization {
        Some(h) => format!("Authorization: {h}\r\n"),
        None => String::new(),
    };
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         User-Agent: kili-local-server/{}\r\nConnection: close\r\n{authorization}\r\n",
        req.target.path,
        req.target.authority,
        req.body.len(),
        env!("CARGO_PKG_VERSION"),
    );
    let timed_out = || format!("no answer within {:?}", req.timeout);
    stream
        .set_write_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(req.body))
        .and_then(|()| stream.flush())
        .map_err(|e| io_failure("sending the request", &e, req.timeout))?;
    read_status(&mut stream, deadline, req.timeout)
}

/// Returns the time left before `deadline`, if any.
fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// Describes an I/O failure, a timeout as such.
fn io_failure(doing: &str, e: &std::io::Error, timeout: Duration) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("no answer within {timeout:?} ({doing})")
        }
        _ => format!("{doing}: {e}"),
    }
}

/// Connects to the first address that accepts before the deadline.
fn connect(
    addrs: &[SocketAddr],
    deadline: Instant,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let mut last = format!("no address to connect to within {timeout:?}");
    for addr in addrs {
        let Some(left) = remaining(deadline) else {
            break;
        };
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = io_failure(&format!("connecting to {addr}"), &e, timeout),
        }
    }
    Err(last)
}

/// Reads the answer's head; returns its status code.
fn read_status(
    stream: &mut TcpStream,
    deadline: Instant,
    timeout: Duration,
) -> Result<u16, String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let left = remaining(deadline).ok_or_else(|| format!("no answer within {timeout:?}"))?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let n = stream
            .read(&mut chunk)
            .map_err(|e| io_failure("reading the answer", &e, timeout))?;
        if n == 0 {
            return Err("the connection closed before an answer".to_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                return resp
                    .code
                    .ok_or_else(|| "an answer without a status".to_owned());
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => return Err("an answer head over 64 KiB".to_owned()),
            Err(e) => return Err(format!("not an HTTP answer: {e}")),
        }
    }
}
