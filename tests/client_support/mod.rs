//! Helpers shared by the client integration tests: a local server, a fast-retrying client,
//! and small real-socket peers (a silent server, a refused port, a proxy that loses responses).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod tls;
#[path = "../tls_support/mod.rs"]
pub mod tls_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kili::{Kili, KiliBuilder};
use kili_local_server::{LocalServer, RecordedRequest};

pub const KEY: &str = "test-key";
pub const OTHER_KEY: &str = "other-key";
pub const OTHER_EMAIL: &str = "other@local";
pub const URL: &str = "https://storage.googleapis.com/label-public-staging/car/car_1.jpg";

pub fn server() -> LocalServer {
    LocalServer::builder()
        .api_key(KEY)
        .user(OTHER_KEY, OTHER_EMAIL)
        .record_requests(true)
        .start()
        .expect("local server starts")
}

/// Settings for tests: millisecond backoff, no rate limit, no proxy from the environment.
pub fn fast(b: KiliBuilder) -> KiliBuilder {
    b.retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .rate_limit(None)
        .proxy_from_env(false)
        .request_timeout(Duration::from_secs(10))
}

pub fn client(server: &LocalServer) -> Kili {
    fast(Kili::builder().api_key(KEY).endpoint(server.endpoint()))
        .build()
        .expect("client builds")
}

pub fn client_for(endpoint: &str) -> Kili {
    fast(Kili::builder().api_key(KEY).endpoint(endpoint))
        .build()
        .expect("client builds")
}

/// The root field a recorded document calls (`data: projects(...)` gives `projects`).
pub fn root_field(query: &str) -> String {
    fn name(s: &str) -> (&str, &str) {
        let s = s.trim_start();
        let end = s
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(s.len());
        (&s[..end], &s[end..])
    }
    let body = &query[query.find('{').map_or(0, |i| i + 1)..];
    let (first, rest) = name(body);
    match rest.trim_start().strip_prefix(':') {
        Some(after_alias) => name(after_alias).0.to_owned(),
        None => first.to_owned(),
    }
}

/// The root fields of the recorded requests, in order.
pub fn calls(server: &LocalServer) -> Vec<String> {
    server
        .recorded_requests()
        .iter()
        .map(|r| root_field(&r.query))
        .collect()
}

/// The recorded requests calling `field`.
pub fn requests_to(server: &LocalServer, field: &str) -> Vec<RecordedRequest> {
    server
        .recorded_requests()
        .into_iter()
        .filter(|r| root_field(&r.query) == field)
        .collect()
}

/// Forgets what the server recorded so far, by remembering how much to skip.
pub struct Mark(usize);

pub fn mark(server: &LocalServer) -> Mark {
    Mark(server.recorded_requests().len())
}

pub fn calls_since(server: &LocalServer, mark: &Mark) -> Vec<String> {
    calls(server).split_off(mark.0)
}

pub fn requests_since(server: &LocalServer, mark: &Mark) -> Vec<RecordedRequest> {
    server.recorded_requests().split_off(mark.0)
}

/// A project with `n` assets (external ids `asset-0`...), created through the client.
pub fn project_with_assets(kili: &Kili, n: usize) -> (String, Vec<String>) {
    let project = kili
        .create_project(&kili::NewProject::new(
            "test project",
            kili::InputType::Image,
        ))
        .expect("project created");
    if n == 0 {
        return (project, Vec::new());
    }
    let contents: Vec<String> = (0..n)
        .map(|i| format!("https://example.com/{i}.jpg"))
        .collect();
    let external: Vec<String> = (0..n).map(|i| format!("asset-{i}")).collect();
    let ids = kili
        .append_many_to_dataset(&kili::NewAssets::new(&project, contents).external_ids(external))
        .expect("assets appended");
    assert_eq!(ids.len(), n);
    (project, ids)
}

/// An address where nothing listens (connections are refused).
pub fn refused_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A server that accepts connections and never answers; keeps them open until dropped.
pub struct Silent {
    pub addr: SocketAddr,
}

pub fn silent_server() -> Silent {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    Silent { addr }
}

/// A one-connection HTTP server answering every request with this raw status line and body.
pub fn raw_http_server(status_line: &'static str, body: &'static str) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut stream = stream;
            while read_request(&mut reader).is_some() {
                let resp = format!(
                    "HTTP/1.1 {status_line}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if stream.write_all(resp.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

/// Reads one HTTP/1.1 request with a Content-Length body; `None` at end of stream.
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

/// A proxy in front of the local server that forwards every request and, for the next
/// `lose` requests, drops the connection instead of returning the response: the server has
/// done the work but the client never hears of it (the ambiguous failure retries must survive).
pub struct LossyProxy {
    pub addr: SocketAddr,
    lose: Arc<AtomicUsize>,
}

impl LossyProxy {
    pub fn start(upstream: SocketAddr) -> LossyProxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let lose = Arc::new(AtomicUsize::new(0));
        let lose2 = lose.clone();
        std::thread::spawn(move || {
            for client in l.incoming().flatten() {
                let lose = lose2.clone();
                std::thread::spawn(move || serve(client, upstream, &lose));
            }
        });
        LossyProxy { addr, lose }
    }

    /// Loses the responses of the next `n` requests.
    pub fn lose_next(&self, n: usize) {
        self.lose.store(n, Ordering::SeqCst);
    }

    /// The GraphQL endpoint through the proxy.
    pub fn endpoint(&self) -> String {
        format!("http://{}/api/label/v2/graphql", self.addr)
    }
}

fn serve(client: TcpStream, upstream: SocketAddr, lose: &AtomicUsize) {
    relay(BufReader::new(client), upstream, lose);
}

/// Forwards requests read from `client` to `upstream` and the responses back, losing as many
/// responses as `lose` says (dropping the connection instead).
pub fn relay<S: Read + Write>(mut client: BufReader<S>, upstream: SocketAddr, lose: &AtomicUsize) {
    let Ok(up) = TcpStream::connect(upstream) else {
        return;
    };
    let mut up_reader = BufReader::new(up.try_clone().unwrap());
    let mut up = up;
    while let Some(request) = read_request(&mut client) {
        if up.write_all(&request).is_err() {
            return;
        }
        let Some(response) = read_message(&mut up_reader, true) else {
            return;
        };
        let take = lose
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if take {
            return; // dropping the client connection loses the response
        }
        if client.get_mut().write_all(&response).is_err() || client.get_mut().flush().is_err() {
            return;
        }
    }
}
