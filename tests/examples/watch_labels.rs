//! The examples as a user runs them: the built `watch_labels` and `webhooks` binaries, as child
//! processes, against a local server over real sockets.
//!
//! `cargo test` builds the examples before it runs the tests. Run alone
//! (`cargo test --test examples`) it uses the examples as last built: run
//! `cargo build --examples` first.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use kili::Kili;
use kili_local_server::LocalServer;
use serde_json::{Value, json};

use crate::support::*;

/// A child process starts, connects and works: three times the tests' usual patience.
pub(crate) const PROCESS_PATIENCE: Duration = Duration::from_secs(3 * PATIENCE.as_secs());

/// The path of a built example, next to this test's executable (`target/<profile>/deps/..`).
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds the examples; with `--test`, run `cargo build --examples` first",
        path.display()
    );
    path
}

/// The lines a child writes to a pipe, as they come, on a channel.
pub(crate) fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = unbounded();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for the child to exit; kills it and fails past the deadline.
pub(crate) fn wait_exit(child: &mut Child, within: Duration) -> ExitStatus {
    let mut status = None;
    if !wait_for(within, || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    }) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the example did not exit within {within:?}");
    }
    status.expect("the child exited")
}

/// Waits for a line starting with `prefix`; returns the lines seen before it too.
pub(crate) fn wait_line(lines: &Receiver<String>, prefix: &str) -> Vec<String> {
    let deadline = Instant::now() + PROCESS_PATIENCE;
    let mut seen = Vec::new();
    loop {
        match lines.recv_deadline(deadline) {
            Ok(line) => {
                let found = line.starts_with(prefix);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(e) => panic!("no line starting with {prefix:?} ({e}); saw {seen:?}"),
        }
    }
}

/// Appends the `n`th label of a test, with `n` in its response.
fn add_label(kili: &Kili, project: &str, asset: &str, n: u64) -> String {
    append_response(
        kili,
        project,
        asset,
        json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}], "n": n}}),
    )
}

/// Starts `watch_labels` against the server, stdin kept open, and waits for "connected".
fn start_watcher(
    server: &LocalServer,
    project: &str,
    extra: &[&str],
) -> (Child, Receiver<String>, Receiver<String>) {
    let mut child = Command::new(example("watch_labels"))
        .args(["--endpoint", &server.endpoint()])
        .args(["--api-key", server.api_key()])
        .args(["--project-id", project])
        .args(extra)
        .env_remove("KILI_API_KEY")
        .env_remove("KILI_API_ENDPOINT")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    wait_line(&stderr, "connected");
    (child, stdout, stderr)
}

fn three_labels_then_exit(protocol: &str) {
    let server = LocalServer::start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (mut child, stdout, _stderr) =
        start_watcher(&server, &project, &["--count", "3", "--protocol", protocol]);

    let ids: Vec<String> = (0..3)
        .map(|n| add_label(&kili, &project, &asset, n))
        .collect();
    let status = wait_exit(&mut child, PROCESS_PATIENCE);
    assert!(status.success(), "{status}");

    // The process has exited: its stdout is complete once the reader sees the end.
    let lines: Vec<String> = stdout.iter().collect();
    assert_eq!(lines.len(), 3, "exactly three lines: {lines:?}");
    for (n, (line, id)) in lines.iter().zip(&ids).enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(v["id"], id.as_str(), "{line}");
        assert_eq!(v["assetId"], asset.as_str());
        assert_eq!(v["labelType"], "INFERENCE");
        assert_eq!(v["jsonResponse"]["JOB_0"]["n"], n as u64);
        assert_eq!(v["origin"], "live");
    }
}

#[test]
fn watch_labels_prints_three_json_lines_and_exits() {
    three_labels_then_exit("graphql-ws");
}

#[test]
fn watch_labels_speaks_graphql_transport_ws() {
    three_labels_then_exit("graphql-transport-ws");
}

#[test]
fn watch_labels_exits_cleanly_at_the_end_of_input_when_asked() {
    let server = LocalServer::start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (mut child, stdout, stderr) = start_watcher(&server, &project, &["--exit-on-eof"]);
    let id = add_label(&kili, &project, &asset, 0);
    let line = stdout
        .recv_timeout(PROCESS_PATIENCE)
        .expect("a line for the label");
    assert!(line.contains(&id), "{line}");

    drop(child.stdin.take()); // end of input
    let status = wait_exit(&mut child, PROCESS_PATIENCE);
    assert!(status.success(), "{status}");
    let rest: Vec<String> = stderr.iter().collect();
    assert!(
        rest.iter().any(|l| l.contains("end of input")),
        "stderr says why it stopped: {rest:?}"
    );
    assert!(
        rest.iter().any(|l| l == "closed"),
        "the subscription was closed: {rest:?}"
    );
}

#[test]
fn watch_labels_rejects_bad_usage() {
    let out = Command::new(example("watch_labels"))
        .args(["--api-key", "k", "--count", "0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}

#[test]
fn webhooks_runs_the_tutorial_in_order() {
    let mut child = Command::new(example("webhooks"))
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

    let position = |what: &str, pred: &dyn Fn(&str) -> bool| {
        out.iter()
            .position(|l| pred(l))
            .unwrap_or_else(|| panic!("no {what} line in {out:#?}"))
    };
    assert!(out[0].contains("embedded local server"), "{out:#?}");
    let progress = position("progress", &|l| l.contains("1/1 assets imported"));
    let new_data: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].starts_with("New data: "))
        .collect();
    assert_eq!(new_data.len(), 2, "two labels printed: {out:#?}");
    for &i in &new_data {
        let frame: Value = serde_json::from_str(&out[i]["New data: ".len()..]).unwrap();
        assert_eq!(frame["type"], "data");
        assert_eq!(frame["payload"]["data"]["data"]["labelType"], "INFERENCE");
    }
    let reconnected = position("reconnected", &|l| l.contains(" reconnected "));
    let lifetime = position("Lifetime", &|l| l.starts_with("Lifetime: "));
    let n: f64 = out[lifetime]["Lifetime: ".len()..].parse().unwrap();
    assert!(n > 0.0, "{}", out[lifetime]);
    let count = position("count", &|l| l == "Labels in the project: 4");
    assert!(
        progress < new_data[0]
            && new_data[1] < reconnected
            && reconnected < lifetime
            && lifetime < count,
        "in order: {out:#?}"
    );
    assert_eq!(out.last().map(String::as_str), Some("All checks passed."));
    assert!(
        !err.iter()
            .any(|l| l.contains("panicked") || l.contains("ERROR")),
        "no error trace: {err:#?}"
    );
}

/// Starts `watch_labels` the way a service manager does: in a session of its own (`setsid`),
/// standard input at /dev/null; waits for "connected" unless `wait_connected` is false.
fn start_service(
    endpoint: &str,
    api_key: &str,
    project: &str,
    extra: &[&str],
    wait_connected: bool,
) -> (Child, Receiver<String>, Receiver<String>) {
    let mut child = Command::new("setsid")
        .arg(example("watch_labels"))
        .args(["--endpoint", endpoint])
        .args(["--api-key", api_key])
        .args(["--project-id", project])
        .args(extra)
        .env_remove("KILI_API_KEY")
        .env_remove("KILI_API_ENDPOINT")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    if wait_connected {
        wait_line(&stderr, "connected");
    }
    (child, stdout, stderr)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

/// The ids and `n` of the next `n` lines (the watcher's stderr, for the message if none
/// comes).
#[track_caller]
fn next_ids(
    (stdout, stderr): (&Receiver<String>, &Receiver<String>),
    n: usize,
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let Ok(line) = stdout.recv_timeout(PROCESS_PATIENCE) else {
            panic!(
                "no line after {out:?}; stderr: {:?}",
                stderr.try_iter().collect::<Vec<_>>()
            );
        };
        let v: Value = serde_json::from_str(&line).unwrap();
        out.push((
            v["id"].as_str().unwrap().to_owned(),
            v["jsonResponse"]["JOB_0"]["n"].clone(),
        ));
    }
    out
}

#[test]
fn watch_labels_runs_as_a_service_and_stops_cleanly_on_sigterm() {
    let server = LocalServer::start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let (mut child, stdout, stderr) =
        start_service(&server.endpoint(), server.api_key(), &project, &[], true);
    // Standard input is at its end from the start: it keeps running.
    let id = add_label(&kili, &project, &asset, 0);
    assert_eq!(next_ids((&stdout, &stderr), 1)[0].0, id);
    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(3));
    assert_eq!(status.code(), Some(0), "{status}");
    let rest: Vec<String> = stderr.iter().collect();
    assert!(
        rest.iter().any(|l| l == "closed"),
        "the subscription was closed: {rest:?}"
    );
}

#[test]
fn watch_labels_exits_non_zero_on_a_wrong_key_with_one_line() {
    let server = LocalServer::start().unwrap();
    let kili = client(&server);
    let (project, _) = project_with_asset(&kili);
    let (mut child, _stdout, stderr) =
        start_service(&server.endpoint(), "wrong-key", &project, &[], false);
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(1), "{status}");
    let lines: Vec<String> = stderr.iter().collect();
    let last = lines.last().expect("a line on stderr");
    assert!(
        last.starts_with("watch_labels: authentication failed"),
        "one line names the cause: {lines:?}"
    );
}

#[test]
fn watch_labels_resumes_from_its_state_file_after_sigterm_and_sigkill() {
    let server = LocalServer::builder()
        .created_at_resolution(Duration::from_secs(3600))
        .shuffle_label_pages(true)
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let dir = std::env::temp_dir().join(format!("kili-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("watch.state");
    let state_arg = state.to_str().unwrap().to_owned();
    let start = || {
        start_service(
            &server.endpoint(),
            server.api_key(),
            &project,
            &["--state-file", &state_arg],
            true,
        )
    };

    // First run: three labels, then SIGTERM.
    let (mut child, stdout, stderr) = start();
    let first: Vec<String> = (0..3)
        .map(|n| add_label(&kili, &project, &asset, n))
        .collect();
    let seen: Vec<String> = next_ids((&stdout, &stderr), 3)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(seen, first);
    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(3));
    let errors: Vec<String> = stderr.iter().collect();
    assert_eq!(status.code(), Some(0), "{errors:?}");
    assert!(state.exists(), "the state file was written");

    // While it is down: two labels, and an update of the second one.
    let down: Vec<String> = (3..5)
        .map(|n| add_label(&kili, &project, &asset, n))
        .collect();
    kili.update_properties_in_label(
        &first[1],
        &kili::LabelUpdate::new()
            .json_response(json!({"JOB_0": {"categories": [{"name": "OBJECT_B"}], "n": 99}})),
    )
    .unwrap();

    // Second run: exactly those three, once.
    let (mut child, stdout, stderr) = start();
    let mut got = next_ids((&stdout, &stderr), 3);
    got.sort_by_key(|(_, n)| n.as_u64());
    assert_eq!(
        got,
        [
            (down[0].clone(), json!(3)),
            (down[1].clone(), json!(4)),
            (first[1].clone(), json!(99)),
        ]
    );
    assert!(
        holds_for(Duration::from_millis(500), || stdout.is_empty()),
        "nothing twice: {:?}",
        stdout.try_iter().collect::<Vec<_>>()
    );

    // Killed without warning after two more labels: nothing is lost; only what came after the
    // last save may come again.
    let printed: Vec<String> = {
        let ids: Vec<String> = (5..7)
            .map(|n| add_label(&kili, &project, &asset, n))
            .collect();
        assert_eq!(
            next_ids((&stdout, &stderr), 2)
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>(),
            ids
        );
        ids
    };
    signal(&child, "KILL");
    let _ = child.wait();
    let after = add_label(&kili, &project, &asset, 7);
    let (mut child, stdout, stderr) = start();
    let mut ids = Vec::new();
    while !ids.contains(&after) {
        ids.push(next_ids((&stdout, &stderr), 1).remove(0).0);
    }
    for id in &ids {
        assert!(
            *id == after || printed.contains(id),
            "{id} repeats something saved before the kill"
        );
    }
    signal(&child, "TERM");
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(3)).code(),
        Some(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn watch_labels_fails_on_a_full_disk_and_keeps_its_state() {
    let server = LocalServer::start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let dir = std::env::temp_dir().join(format!("kili-full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A state file whose name ends in `.tmp` works like any other.
    let state = dir.join("watch.tmp");
    let state_arg = state.to_str().unwrap().to_owned();
    let run = |stdout: Stdio| {
        let mut child = Command::new(example("watch_labels"))
            .args(["--endpoint", &server.endpoint()])
            .args(["--api-key", server.api_key()])
            .args(["--project-id", &project])
            .args(["--state-file", &state_arg, "--count", "1"])
            .env_remove("KILI_API_KEY")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let stderr = lines_of(child.stderr.take().unwrap());
        (child, stderr)
    };

    // A first run saves a state, in `watch.tmp`.
    let (mut child, stderr) = run(Stdio::piped());
    wait_line(&stderr, "connected");
    add_label(&kili, &project, &asset, 0);
    assert_eq!(wait_exit(&mut child, PROCESS_PATIENCE).code(), Some(0));
    let saved = std::fs::read_to_string(&state).expect("the state file, named x.tmp");
    assert!(saved.starts_with("v1."), "{saved}");

    // Standard output on a full disk (/dev/full: every write fails with ENOSPC): exit 1,
    // the error named, and the state not advanced past what was never written.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let (mut child, stderr) = run(Stdio::from(full));
    wait_line(&stderr, "resuming");
    add_label(&kili, &project, &asset, 1);
    let status = wait_exit(&mut child, PROCESS_PATIENCE);
    let lines: Vec<String> = stderr.iter().collect();
    assert_eq!(status.code(), Some(1), "{status}: {lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("writing to stdout")),
        "the cause is named: {lines:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        saved,
        "the state did not advance"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
