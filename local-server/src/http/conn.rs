//! One HTTP connection: the keep-alive request loop, reading heads and bodies within the
//! timeouts and limits, and closing gracefully after an error answer. A WebSocket upgrade
//! request ends the loop: it is handed back to the caller, with what was read after its head.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::message::{
    DecodeError, GZIP_FLOOR, GZIP_RATIO, Parse, RequestHead, Response, decode_body, parse_head,
};
use super::routes::{admit, route};
use crate::shared::Shared;

/// A request to switch the connection to WebSocket, not answered yet.
pub(crate) struct Upgrade {
    pub(crate) stream: TcpStream,
    pub(crate) head: RequestHead,
    /// What the client sent after the request head.
    pub(crate) leftover: Vec<u8>,
}

/// Serves requests on one connection until it closes, idles out, or the server stops; returns
/// the upgrade request that ended it, if one did.
pub(crate) fn serve(mut stream: TcpStream, shared: &Shared) -> Option<Upgrade> {
    let limits = Limits {
        idle: shared.config.idle_timeout,
        request: shared.config.request_timeout,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    loop {
        let (head, deadline) = match read_head(&mut stream, &mut buf, limits) {
            Head::Complete(head, deadline) => (head, deadline),
            Head::Invalid(message) => {
                let resp = Response::graphql_error(400, "BAD_REQUEST", &message);
                answer_and_close(&mut stream, &resp);
                return None;
            }
            Head::TooSlow => {
                answer_and_close(&mut stream, &too_slow("request head"));
                return None;
            }
            Head::Gone => return None,
        };
        buf.drain(..head.len);
        if is_upgrade(&head) {
            return Some(Upgrade {
                stream,
                head,
                leftover: buf,
            });
        }
        let body = match take_body(&mut stream, &mut buf, &head, shared, deadline) {
            Ok(body) => body,
            Err(resp) => {
                answer_and_close(&mut stream, &resp);
                return None;
            }
        };
        let mut resp = route(&head, body, shared);
        if !head.keep_alive() || shared.is_stopping() {
            resp.close = true;
        }
        if stream.write_all(&resp.to_bytes()).is_err() || resp.close {
            return None;
        }
    }
}

/// The connection's time limits.
#[derive(Clone, Copy)]
struct Limits {
    /// How long the connection may wait for a request, and the request head may take.
    idle: Duration,
    /// How long a whole request (head and body) may take from its first byte.
    request: Duration,
}

/// Admits a request from its head alone, then reads its body: only the GraphQL endpoint (with a
/// known key) and the bucket's `PUT` (with a valid signed URL) have their bodies read; any other
/// request is answered without, and its connection closed if it announced one.
fn take_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &RequestHead,
    shared: &Shared,
    deadline: Instant,
) -> Result<Vec<u8>, Response> {
    let limit = shared.config.max_body_bytes;
    let len = head.content_length().map_err(|status| {
        let message = if status == 411 {
            "chunked request bodies are not supported; send a Content-Length"
        } else {
            "invalid Content-Length"
        };
        Response::graphql_error(status, "BAD_REQUEST", message)
    })?;
    if len > limit {
        return Err(too_large(limit));
    }
    if !admit(head, shared)? {
        return match len {
            0 => Ok(Vec::new()),
            // A body nobody reads: answer, then close rather than read it.
            _ => Err(route(head, Vec::new(), shared)),
        };
    }
    read_body(stream, buf, (head, len), shared, deadline)
}

fn too_slow(what: &str) -> Response {
    Response::graphql_error(
        408,
        "REQUEST_TIMEOUT",
        &format!("the {what} did not arrive in time"),
    )
}

/// How long we keep reading (and discarding) after an error answer, so the client gets to
/// read it instead of a connection reset caused by its unread request body.
const LINGER: Duration = Duration::from_secs(2);
/// The most we discard while lingering.
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// Writes an error answer, then closes gracefully: shut our side, drain what the client still
/// sends (bounded in time and size), then drop the socket.
pub(crate) fn answer_and_close(stream: &mut TcpStream, resp: &Response) {
    if stream
        .write_all(&resp.clone().closing().to_bytes())
        .is_err()
    {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut chunk = [0u8; 16 * 1024];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

/// How reading a request head ended.
enum Head {
    /// A head, and the deadline of its request's body.
    Complete(RequestHead, Instant),
    /// Not HTTP: answer 400.
    Invalid(String),
    /// Part of a head came, the rest not in time: answer 408.
    TooSlow,
    /// The peer left or idled out between requests, or the socket failed.
    Gone,
}

/// Reads until a full head is buffered: within the idle timeout as a whole (a head trickled in a
/// byte at a time holds the connection no longer than an idle one), and within the request
/// timeout of its first byte. Returns the deadline of the whole request.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>, limits: Limits) -> Head {
    let idle_deadline = Instant::now() + limits.idle;
    let mut first_byte = (!buf.is_empty()).then(Instant::now);
    loop {
        let request_deadline = first_byte.map(|t| t + limits.request);
        if !buf.is_empty() {
            match parse_head(buf) {
                Parse::Complete(head) => {
                    let deadline =
                        request_deadline.unwrap_or_else(|| Instant::now() + limits.request);
                    return Head::Complete(head, deadline);
                }
                Parse::Invalid(message) => {
                    return Head::Invalid(format!("malformed request: {message}"));
                }
                Parse::Partial => {}
            }
        }
        let deadline = request_deadline.map_or(idle_deadline, |r| r.min(idle_deadline));
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() || !fill(stream, buf) {
            return if buf.is_empty() || Instant::now() < deadline {
                Head::Gone
            } else {
                Head::TooSlow
            };
        }
        first_byte.get_or_insert_with(Instant::now);
    }
}

/// Reads more bytes into `buf`; false on EOF, timeout or error.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// Reads the `len` bytes of body announced by the head (answering `Expect: 100-continue`) by
/// `deadline`, and decodes it.
fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    (head, len): (&RequestHead, usize),
    shared: &Shared,
    deadline: Instant,
) -> Result<Vec<u8>, Response> {
    let limit = shared.config.max_body_bytes;
    if len > buf.len() && head.header_has_token("expect", "100-continue") {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    while buf.len() < len {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(too_slow("request body"));
        }
        if !fill(stream, buf) {
            if Instant::now() >= deadline {
                return Err(too_slow("request body"));
            }
            return Err(Response::graphql_error(
                400,
                "BAD_REQUEST",
                "request body ended early",
            ));
        }
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    decode_body(head.header("content-encoding"), body, limit).map_err(|e| match e {
        DecodeError::TooLarge(bound) => Response::graphql_error(
            413,
            "PAYLOAD_TOO_LARGE",
            &format!(
                "the gzip request body decompresses to more than {bound} bytes (at most \
                 {GZIP_RATIO} times its size, or {GZIP_FLOOR} bytes, and at most {limit})"
            ),
        ),
        DecodeError::Corrupt => {
            Response::graphql_error(400, "BAD_REQUEST", "the gzip request body is corrupt")
        }
        DecodeError::Unsupported(enc) => Response::graphql_error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("unsupported Content-Encoding {enc:?}; use gzip or none"),
        ),
    })
}

fn too_large(limit: usize) -> Response {
    Response::graphql_error(
        413,
        "PAYLOAD_TOO_LARGE",
        &format!("request body larger than {limit} bytes"),
    )
}

fn is_upgrade(head: &RequestHead) -> bool {
    head.header_has_token("connection", "upgrade") && head.header_has_token("upgrade", "websocket")
}
