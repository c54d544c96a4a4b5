//! The HTTP webhook examples as a user runs them: `receive_webhooks` as a service (events in,
//! JSON lines out, redeliveries answered without a second line across a restart, a clean stop
//! on SIGTERM), and `webhook_recipe`, the SDK's recipe end to end.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crossbeam_channel::Receiver;
use serde_json::{Value, json};

use crate::support::*;
use crate::watch_labels::{PROCESS_PATIENCE, example, lines_of, wait_exit, wait_line};

fn start(
    state: &str,
) -> (
    Child,
    Receiver<String>,
    Receiver<String>,
    std::net::SocketAddr,
) {
    let mut child = Command::new(example("receive_webhooks"))
        .args([
            "--secret",
            "Bearer s3cret",
            "--listen",
            "127.0.0.1:0",
            "--path",
            "/kili",
        ])
        .args(["--state-file", state])
        .env_remove("KILI_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let line = wait_line(&stderr, "listening on").pop().unwrap();
    let addr = line
        .trim_start_matches("listening on http://")
        .trim_end_matches("/kili")
        .parse()
        .expect("an address");
    (child, stdout, stderr, addr)
}

fn post(addr: std::net::SocketAddr, body: &Value) -> String {
    let body = body.to_string();
    let request = format!(
        "POST /kili HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(addr, request.as_bytes())
}

fn event(label: &str) -> Value {
    json!({"eventType": "onSubmit", "logPayload": {"runId": "r", "projectId": "p"},
           "payload": {"label": {"id": label, "labelType": "DEFAULT", "version": 0,
                                 "jsonResponse": {"JOB_0": {}}}, "asset_id": "a"}})
}

fn signal_term(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn receive_webhooks_prints_each_event_once_across_restarts() {
    let dir = std::env::temp_dir().join(format!("kili-receive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("seen");
    let _ = std::fs::remove_file(&state);
    let state = state.to_str().unwrap().to_owned();

    let (mut child, stdout, stderr, addr) = start(&state);
    assert!(post(addr, &event("l1")).starts_with("HTTP/1.1 200"));
    let line: Value =
        serde_json::from_str(&stdout.recv_timeout(PROCESS_PATIENCE).unwrap()).unwrap();
    assert_eq!(
        (&line["eventType"], &line["labelId"], &line["assetId"]),
        (&json!("onSubmit"), &json!("l1"), &json!("a"))
    );
    // A redelivery: answered, not printed.
    assert!(post(addr, &event("l1")).starts_with("HTTP/1.1 200"));
    signal_term(&child);
    assert_eq!(wait_exit(&mut child, PROCESS_PATIENCE).code(), Some(0));
    assert!(stdout.try_iter().next().is_none(), "printed once");
    let rest: Vec<String> = stderr.iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("1 redeliveries answered")),
        "{rest:?}"
    );

    // Restarted on its state file: the old event again is not printed, a new one is.
    let (mut child, stdout, _stderr, addr) = start(&state);
    assert!(post(addr, &event("l1")).starts_with("HTTP/1.1 200"));
    assert!(post(addr, &event("l2")).starts_with("HTTP/1.1 200"));
    let line: Value =
        serde_json::from_str(&stdout.recv_timeout(PROCESS_PATIENCE).unwrap()).unwrap();
    assert_eq!(line["labelId"], "l2");
    assert!(holds_for(Duration::from_millis(200), || stdout.is_empty()));
    signal_term(&child);
    assert_eq!(wait_exit(&mut child, PROCESS_PATIENCE).code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn webhook_recipe_runs_the_sdks_recipe_and_cleans_up() {
    let mut child = Command::new(example("webhook_recipe"))
        .env_remove("KILI_API_KEY")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let status = wait_exit(&mut child, PROCESS_PATIENCE);
    let out: Vec<String> = stdout.iter().collect();
    let err: Vec<String> = stderr.iter().collect();
    assert!(
        status.success(),
        "{status}\nstdout: {out:#?}\nstderr: {err:#?}"
    );
    let index = |what: &str| {
        out.iter()
            .position(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} in {out:#?}"))
    };
    let steps = [
        index("registered and activated"),
        index("ok: two issues on the three-box label"),
        index("ok: the asset sent back to the queue (ONGOING)"),
        index("ok: no issue on the correct label"),
        index("ok: the asset LABELED"),
        index("Only 1 BBox of Object A accepted"),
        index("BBox too large"),
        index("Webhook deactivated"),
        index("Deleted project"),
    ];
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "in order: {out:#?}");
    assert_eq!(out.last().map(String::as_str), Some("All checks passed."));
}
