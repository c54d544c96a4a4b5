//! A tiny webhook receiver for the tests: a `TcpListener` on 127.0.0.1, one thread serving one
//! connection at a time, that reads each HTTP request (head and `Content-Length` body), hands
//! it to the test over a channel, then answers with the status the test scripted (200 once the
//! script is used up), or holds its answer until the test releases it.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver as Rx, Sender, channel};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::support::WAIT;

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Received {
    /// Returns the value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Returns the `runId` of a webhook body.
    pub fn run_id(&self) -> String {
        self.body["logPayload"]["runId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Returns the id of the label of a webhook body.
    pub fn label_id(&self) -> String {
        self.body["payload"]["label"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// How the receiver answers its next requests.
#[derive(Default)]
struct Plan {
    /// Statuses to answer, in order; 200 after them (or `always` if set).
    statuses: VecDeque<u16>,
    always: Option<u16>,
    /// When set, the next request's answer waits for a message on it.
    hold: Option<Rx<()>>,
}

/// A receiver, stopped when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    requests: Rx<Received>,
    plan: Arc<Mutex<Plan>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Starts a receiver on a free port.
    pub fn start() -> Receiver {
        Receiver::on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// Starts a receiver on this listener.
    pub fn on(listener: TcpListener) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let (tx, requests) = channel();
        let plan = Arc::new(Mutex::new(Plan::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_plan, thread_stop) = (Arc::clone(&plan), Arc::clone(&stop));
        std::thread::spawn(move || serve(listener, tx, thread_plan, thread_stop));
        Receiver {
            addr,
            requests,
            plan,
            stop,
        }
    }

    /// Returns `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers the next requests with these statuses (then 200).
    pub fn answer(&self, statuses: &[u16]) {
        self.plan.lock().unwrap().statuses.extend(statuses);
    }

    /// Answers every request with `status` (`None`: back to the script, then 200).
    pub fn always(&self, status: Option<u16>) {
        self.plan.lock().unwrap().always = status;
    }

    /// Holds the answer to the next request until the returned sender sends (or drops).
    pub fn hold_next(&self) -> Sender<()> {
        let (release, hold) = channel();
        self.plan.lock().unwrap().hold = Some(hold);
        release
    }

    /// Returns the next request; panics after 10 s.
    pub fn next(&self) -> Received {
        self.requests
            .recv_timeout(WAIT)
            .expect("the webhook request did not arrive")
    }

    /// Returns a request already received, if any (no wait).
    pub fn try_next(&self) -> Option<Received> {
        self.requests.try_recv().ok()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    listener: TcpListener,
    tx: Sender<Received>,
    plan: Arc<Mutex<Plan>>,
    stop: Arc<AtomicBool>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = stream else { continue };
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let Some(request) = read_request(&mut stream) else {
            continue;
        };
        let (status, hold) = {
            let mut p = plan.lock().unwrap();
            let status = p.always.or_else(|| p.statuses.pop_front()).unwrap_or(200);
            (status, p.hold.take())
        };
        let _ = tx.send(request);
        if let Some(hold) = hold {
            let _ = hold.recv_timeout(WAIT);
        }
        let answer =
            format!("HTTP/1.1 {status} Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        let _ = stream.write_all(answer.as_bytes());
    }
}

/// Reads one request: its head, then as many body bytes as `Content-Length` says.
fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(head_len) = req.parse(&buf).ok()? {
            let headers: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_owned(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let (method, path) = (req.method?.to_owned(), req.path?.to_owned());
            let len: usize = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < head_len + len {
                let n = stream.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = serde_json::from_slice(&buf[head_len..head_len + len]).ok()?;
            return Some(Received {
                method,
                path,
                headers,
                body,
            });
        }
    }
}
