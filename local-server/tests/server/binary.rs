//! The `kili-local-server` program as a service: its flags, and a clean stop on SIGTERM that
//! keeps the data file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::persistence::temp_dir;
use crate::support::*;

/// The program, started with `args`; returns it with its endpoint and key, read from stdout.
fn spawn(args: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kili-local-server"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut field = |name: &str| {
        let line = lines.next().expect("a line").expect("readable stdout");
        line.strip_prefix(name)
            .unwrap_or_else(|| panic!("expected {name:?}, got {line:?}"))
            .to_owned()
    };
    let endpoint = field("endpoint: ");
    let key = field("api key: ");
    (child, endpoint, key)
}

fn post_to(endpoint: &str, key: &str, query: &str, variables: Value) -> Value {
    let mut resp = agent()
        .post(endpoint)
        .header("Authorization", format!("X-API-Key: {key}"))
        .send_json(json!({"query": query, "variables": variables}))
        .unwrap();
    let body: Value = resp.body_mut().read_json().unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// Sends SIGTERM and waits (bounded) for the exit; returns its status and stderr.
fn terminate(mut child: Child) -> (std::process::ExitStatus, String) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the program did not stop within {WAIT:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
    }
    (status, err)
}

#[test]
fn sigterm_stops_cleanly_and_a_restart_on_the_data_file_keeps_the_projects() {
    let dir = temp_dir("binary");
    let file = dir.join("kili.jsonl");
    let file_arg = file.to_str().unwrap();
    let (child, endpoint, key) = spawn(&["--port", "0", "--data-file", file_arg]);
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "loopback by default: {endpoint}"
    );
    let created = post_to(
        &endpoint,
        &key,
        CREATE_PROJECT,
        json!({"data": {"title": "kept", "inputType": "TEXT", "jsonInterface": "{}"}}),
    );
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let (status, stderr) = terminate(child);
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");

    let (child, endpoint, again) = spawn(&["--data-file", file_arg]);
    assert_eq!(again, key, "the data file's key");
    let found = post_to(
        &endpoint,
        &key,
        "query($w: ProjectWhere!) { data: projects(where: $w, first: 1, skip: 0) { title } }",
        json!({"w": {"id": id}}),
    );
    assert_eq!(found["data"][0]["title"], "kept");
    let (status, _) = terminate(child);
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_non_loopback_host_without_a_key_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_kili-local-server"))
        .args(["--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("api key"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_kili-local-server"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert!(!out.status.success());
}
