//! Helpers shared by the subscription tests: data set-up through the SDK's documents, waiting
//! with deadlines, thread accounting, and two tiny socket servers (a silent WebSocket peer and a
//! counting TCP proxy).

#![allow(dead_code)] // each test file uses a different subset

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kili::Kili;
use kili_local_server::LocalServer;
use serde_json::{Value, json};

/// Generous: the machine is shared and slow; nothing here waits this long when things work.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn kili_for(server: &LocalServer) -> Kili {
    Kili::builder()
        .api_key(server.api_key())
        .endpoint(server.endpoint())
        .proxy_from_env(false)
        .build()
        .unwrap()
}

/// Creates a project with one asset, with the SDK's documents; returns (project id, asset id).
pub fn project_with_asset(kili: &Kili) -> (String, String) {
    let interface = json!({"jobs": {"JOB_0": {"mlTask": "CLASSIFICATION", "required": 1, "content": {
        "categories": {"OBJECT_A": {"name": "Object A", "children": []}}, "input": "radio"}}}});
    let data = kili
        .graphql(
            "mutation($data: CreateProjectData!) {\n    data: createProject(data: $data) {\n        id\n    }\n}",
            json!({"data": {"description": "", "inputType": "IMAGE",
                "jsonInterface": interface.to_string(), "title": "Webhook project"}}),
        )
        .unwrap();
    let project = data["data"]["id"].as_str().unwrap().to_owned();
    let asset_id = format!("asset-{}", std::process::id());
    kili.graphql(
        "mutation appendManyAssets(\n    $data: AppendManyAssetsData!,\n    $where: ProjectWhere!\n  ) {\n  data: appendManyAssets(\n    data: $data,\n    where: $where\n  ) {\n      id\n  }\n}",
        json!({"data": {"contentArray": ["https://storage.googleapis.com/label-public-staging/car/car_1.jpg"],
            "externalIDArray": ["car_1"], "idArray": [asset_id], "isHoneypotArray": [false],
            "jsonContentArray": [""], "jsonMetadataArray": ["{}"]},
            "where": {"id": project}}),
    )
    .unwrap();
    (project, asset_id)
}

/// Appends `n` INFERENCE labels to an asset in one `appendManyLabels`; returns their ids.
pub fn append_labels(kili: &Kili, asset: &str, n: usize) -> Vec<String> {
    let labels: Vec<Value> = (0..n)
        .map(|_| {
            json!({"assetID": asset, "authorID": null, "clientVersion": null,
                "jsonResponse": json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}}).to_string(),
                "modelName": null, "referencedLabelId": null, "secondsToLabel": null})
        })
        .collect();
    let data = kili
        .graphql(
            "mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!) {\n    data: appendManyLabels(data: $data, where: $where ) { id }\n}",
            json!({"data": {"labelType": "INFERENCE", "labelsData": labels}, "where": {"idIn": [asset]}}),
        )
        .unwrap();
    data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn append_label(kili: &Kili, asset: &str) -> String {
    append_labels(kili, asset, 1).pop().unwrap()
}

/// Polls `cond` every few milliseconds until it holds or `within` passes.
pub fn wait_for(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The process's thread count, from /proc/self/status.
pub fn thread_count() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The names of the process's threads (Linux truncates them to 15 bytes).
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_owned())
        .collect()
}

/// Whether a thread whose name starts with `prefix` (truncated as Linux does) is alive.
pub fn thread_alive(prefix: &str) -> bool {
    let prefix: String = prefix.chars().take(15).collect();
    thread_names().iter().any(|n| n.starts_with(&prefix))
}

/// A WebSocket server that accepts, acknowledges `connection_init`, then says nothing and reads
/// nothing (not even pings): a frozen peer. Counts connections.
pub struct SilentServer {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

impl SilentServer {
    // tungstenite's handshake callback type has a large error variant; not ours to change.
    #[allow(clippy::result_large_err)]
    pub fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let echo =
                    |req: &tungstenite::handshake::server::Request,
                     mut resp: tungstenite::handshake::server::Response| {
                        let offered = req.headers().get("Sec-WebSocket-Protocol").cloned();
                        if let Some(p) = offered {
                            let first = p
                                .to_str()
                                .unwrap_or("graphql-ws")
                                .split(',')
                                .next()
                                .unwrap()
                                .trim()
                                .to_owned();
                            resp.headers_mut()
                                .insert("Sec-WebSocket-Protocol", first.parse().unwrap());
                        }
                        Ok(resp)
                    };
                let Ok(mut ws) = tungstenite::accept_hdr(stream, echo) else {
                    continue;
                };
                if ws.read().is_ok() {
                    let _ = ws.send(tungstenite::Message::text(r#"{"type":"connection_ack"}"#));
                }
                held.push(ws); // never read again: pings pile up unanswered
            }
        });
        SilentServer { port, connections }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/api/label/v2/graphql", self.port)
    }
}

/// A WebSocket server that runs `script` on each connection (after the handshake, which echoes
/// the first offered subprotocol), each in its own thread.
pub struct ScriptedServer {
    pub port: u16,
}

type Ws = tungstenite::WebSocket<TcpStream>;

impl ScriptedServer {
    #[allow(clippy::result_large_err)] // tungstenite's handshake callback type
    pub fn start(script: impl Fn(Ws) + Send + Sync + 'static) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(script);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let script = script.clone();
                std::thread::spawn(move || {
                    let echo = |req: &tungstenite::handshake::server::Request,
                                mut resp: tungstenite::handshake::server::Response| {
                        if let Some(p) = req.headers().get("Sec-WebSocket-Protocol") {
                            let first = p.to_str().unwrap().split(',').next().unwrap().trim().to_owned();
                            resp.headers_mut().insert("Sec-WebSocket-Protocol", first.parse().unwrap());
                        }
                        Ok(resp)
                    };
                    if let Ok(ws) = tungstenite::accept_hdr(stream, echo) {
                        script(ws);
                    }
                });
            }
        });
        ScriptedServer { port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/api/label/v2/graphql", self.port)
    }
}

/// A TCP proxy to `upstream` that counts the connections it accepts.
pub struct CountingProxy {
    pub port: u16,
    pub connections: Arc<AtomicUsize>,
}

impl CountingProxy {
    pub fn start(upstream: std::net::SocketAddr) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(client, server));
                std::thread::spawn(move || pipe(s2, c2));
            }
        });
        CountingProxy { port, connections }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/api/label/v2/graphql", self.port)
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
