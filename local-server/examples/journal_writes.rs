//! Measures writes per second against a server that keeps a data file: one label appended per
//! request, from one client (each write waits for its own sync) and from several at once (group
//! commit: one sync covers every write appended meanwhile).
//!
//! ```text
//! cargo run --release -p kili-local-server --example journal_writes [-- WRITES CLIENTS]
//! ```
//!
//! Defaults: 2,000 writes per client, 1 and 8 clients. The data file lives in a fresh folder of
//! the system's temporary directory (`TMPDIR` picks the disk), removed at the end.

use std::time::{Duration, Instant};

use kili_local_server::LocalServer;
use serde_json::{Value, json};

const APPEND: &str = "mutation($data: AppendManyLabelsData!, $where: AssetWhere!) { data: appendManyLabels(data: $data, where: $where) { id } }";

fn post(agent: &ureq::Agent, endpoint: &str, key: &str, query: &str, variables: Value) -> Value {
    let mut resp = agent
        .post(endpoint)
        .header("Authorization", format!("X-API-Key: {key}"))
        .send_json(json!({"query": query, "variables": variables}))
        .expect("a request");
    let body: Value = resp.body_mut().read_json().expect("a JSON answer");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// Creates a project with one asset; returns the asset's id.
fn asset(agent: &ureq::Agent, endpoint: &str, key: &str) -> String {
    let project = post(
        agent,
        endpoint,
        key,
        "mutation($data: CreateProjectData!) { data: createProject(data: $data) { id } }",
        json!({"data": {"title": "writes", "inputType": "TEXT", "jsonInterface": "{}"}}),
    );
    let project = project["data"]["id"]
        .as_str()
        .expect("a project id")
        .to_owned();
    let assets = post(
        agent,
        endpoint,
        key,
        "mutation($data: AppendManyAssetsData!, $where: ProjectWhere!) { data: appendManyAssets(data: $data, where: $where) { id } }",
        json!({"data": {"contentArray": ["text"]}, "where": {"id": project}}),
    );
    assets["data"][0]["id"]
        .as_str()
        .expect("an asset id")
        .to_owned()
}

/// Runs `clients` threads of `writes` appends each; returns the time they took.
fn run(server: &LocalServer, writes: usize, clients: usize) -> Duration {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let asset = asset(&agent, &server.endpoint(), server.api_key());
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (endpoint, key) = (server.endpoint(), server.api_key().to_owned());
            let (agent, asset) = (agent.clone(), asset.clone());
            std::thread::spawn(move || {
                for _ in 0..writes {
                    let labels = json!([{"assetID": asset, "jsonResponse": "{}"}]);
                    post(
                        &agent,
                        &endpoint,
                        &key,
                        APPEND,
                        json!({"data": {"labelType": "PREDICTION", "labelsData": labels}, "where": {"id": asset}}),
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread");
    }
    started.elapsed()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let writes = args.first().copied().unwrap_or(2_000);
    let many = args.get(1).copied().unwrap_or(8);
    let dir = std::env::temp_dir().join(format!("kili-journal-writes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    for clients in [1, many] {
        let file = dir.join(format!("kili-{clients}.jsonl"));
        let server = LocalServer::builder()
            .data_file(&file)
            .start()
            .expect("a server on the data file");
        let took = run(&server, writes, clients);
        let total = writes * clients;
        println!(
            "{clients} client(s): {total} writes in {took:.2?}: {:.0} writes/s",
            total as f64 / took.as_secs_f64()
        );
        server.stop();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
