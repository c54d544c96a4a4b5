//! `examples/watch_labels` as a consumer: a child process started as a service is (its own
//! session, stdin at /dev/null, `--state-file`), stopped by SIGKILL or SIGTERM, its stdout read
//! as it comes or slowly.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

use super::{Consumer, End, Print, Report, Run, STOP_PATIENCE, Soak, secs};
use crate::support::wait_for;

/// The slow reader: a sleep after each line, and a longer one every so many lines (load, not
/// synchronisation). About 25 lines a second on average, above the writer's 16 or so: the
/// backlog builds during the long sleeps and drains after.
const SLOW_LINE: Duration = Duration::from_millis(20);
const SLOW_STALL: (usize, Duration) = (120, Duration::from_millis(2_500));

/// How the test reads the watcher's stdout.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reader {
    /// As fast as it comes.
    Fast,
    /// Slowly ([`SLOW_LINE`], [`SLOW_STALL`]).
    Slow,
}

/// `watch_labels` runs, one at a time, on one state file.
pub(super) struct WatcherConsumer {
    state: PathBuf,
    queue: Option<usize>,
    reader: Reader,
    running: Option<Watcher>,
}

impl WatcherConsumer {
    /// A consumer whose state file is in a directory of its own (`Report::state_dir`).
    pub(super) fn new(queue: Option<usize>, reader: Reader, seed: u64) -> (Self, PathBuf) {
        let dir = std::env::temp_dir().join(format!("kili-soak-{}-{seed}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a state directory");
        let consumer = WatcherConsumer {
            state: dir.join("watch.state"),
            queue,
            reader,
            running: None,
        };
        (consumer, dir)
    }

    fn running(&mut self) -> &mut Watcher {
        self.running.as_mut().expect("a watcher runs")
    }
}

impl Drop for WatcherConsumer {
    fn drop(&mut self) {
        // After a panic: no process left behind.
        if let Some(w) = &mut self.running {
            let _ = w.child.kill();
            let _ = w.child.wait();
        }
    }
}

impl Consumer for WatcherConsumer {
    fn start(&mut self, soak: &Soak, rng: &mut fastrand::Rng) -> Result<(), Run> {
        let protocol = if rng.bool() {
            "graphql-ws"
        } else {
            "graphql-transport-ws"
        };
        self.running = Some(Watcher::start(self, soak, protocol));
        Ok(())
    }

    fn exited_within(&mut self, within: Duration) -> Option<Option<i32>> {
        let w = self.running();
        let mut status = None;
        wait_for(within, || {
            status = w.child.try_wait().expect("try_wait");
            status.is_some()
        });
        status.map(|s| s.code())
    }

    fn connected(&self) -> bool {
        let w = self.running.as_ref().expect("a watcher runs");
        (w.stderr.lock().iter()).any(|(l, _, _)| l.starts_with("connected"))
    }

    fn printed_since(&self, from: &mut usize) -> Vec<(String, u64)> {
        let w = self.running.as_ref().expect("a watcher runs");
        let lines = w.stdout.lock();
        let new = (lines[*from..].iter())
            .filter(|(_, complete, _)| *complete)
            .filter_map(|(text, _, _)| parse_line(text))
            .map(|(id, v, _)| (id, v))
            .collect();
        *from = lines.len();
        new
    }

    fn stop(&mut self, end: End, soak: &Soak, report: &mut Report) -> Run {
        let run = report.runs.len();
        let w = self.running();
        match end {
            End::Killed => {
                w.signal("KILL");
                let _ = w.child.wait();
            }
            End::Terminated => w.terminate(report, run),
            End::Exited(_) => {}
        }
        let w = self.running.take().expect("a watcher runs");
        let (started, notes) = (w.started, w.notes.clone());
        let ended = soak.t0.elapsed();
        let (out, err) = w.collect();
        let mut r = to_run(report, end, out, err);
        (r.started, r.ended) = (started, ended);
        r.notes.splice(0..0, notes);
        r
    }
}

/// A line of a pipe as read: its text, whether it ended with a newline (a SIGKILL may cut the
/// last one short), and when it was read, since the soak started.
type Line = (String, bool, Duration);

/// A running `watch_labels`.
struct Watcher {
    child: Child,
    started: Duration,
    notes: Vec<String>,
    stdout: Arc<Mutex<Vec<Line>>>,
    stdout_done: JoinHandle<()>,
    stderr: Arc<Mutex<Vec<Line>>>,
    stderr_done: JoinHandle<()>,
}

/// The path of the built example, next to this test's executable (`target/<profile>/deps/..`).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its path");
    let profile_dir = (exe.parent().and_then(|deps| deps.parent()))
        .expect("tests run from target/<profile>/deps");
    let path =
        (profile_dir.join("examples")).join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --example {name}` first",
        path.display()
    );
    path
}

/// Reads a pipe's lines on a thread, as they come or slowly.
fn read_lines(
    pipe: impl Read + Send + 'static,
    reader: Reader,
    t0: Instant,
) -> (Arc<Mutex<Vec<Line>>>, JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    let handle = std::thread::spawn(move || {
        // A small buffer: the slow reader reads little ahead of what it handled.
        let mut pipe = BufReader::with_capacity(512, pipe);
        let mut buf = Vec::new();
        while let Ok(1..) = pipe.read_until(b'\n', &mut buf) {
            let complete = buf.last() == Some(&b'\n');
            let text = String::from_utf8_lossy(&buf).trim_end().to_owned();
            buf.clear();
            let n = {
                let mut l = l.lock();
                l.push((text, complete, t0.elapsed()));
                l.len()
            };
            if let Reader::Slow = reader {
                // The slow consumer (load, not synchronisation).
                std::thread::sleep(SLOW_LINE);
                if n % SLOW_STALL.0 == 0 {
                    std::thread::sleep(SLOW_STALL.1);
                }
            }
        }
    });
    (lines, handle)
}

impl Watcher {
    fn start(c: &WatcherConsumer, soak: &Soak, protocol: &str) -> Watcher {
        let mut cmd = Command::new("setsid");
        cmd.arg(example("watch_labels"))
            .args(["--endpoint", &soak.endpoint])
            .args(["--api-key", &soak.api_key])
            .args(["--project-id", &soak.project])
            .args(["--protocol", protocol])
            .arg("--state-file")
            .arg(&c.state);
        if let Some(n) = c.queue {
            cmd.args(["--queue-capacity", &n.to_string()]);
        }
        let mut child = (cmd
            .env_remove("KILI_API_KEY")
            .env_remove("KILI_API_ENDPOINT"))
        .env("RUST_LOG", "kili=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch_labels starts");
        let started = soak.t0.elapsed();
        let (stdout, stdout_done) = read_lines(child.stdout.take().unwrap(), c.reader, soak.t0);
        let (stderr, stderr_done) = read_lines(child.stderr.take().unwrap(), Reader::Fast, soak.t0);
        Watcher {
            child,
            started,
            notes: vec![format!("{} started, {protocol}", secs(started))],
            stdout,
            stdout_done,
            stderr,
            stderr_done,
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} {}", self.child.id());
    }

    /// Sends SIGTERM and waits for the exit; what is wrong goes to `report`.
    fn terminate(&mut self, report: &mut Report, run: usize) {
        let asked = Instant::now();
        self.signal("TERM");
        let mut status = None;
        let exited = wait_for(STOP_PATIENCE, || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        });
        report.slowest_stop = report.slowest_stop.max(asked.elapsed());
        match status {
            _ if !exited => {
                report.problems.push(format!(
                    "run {run}: no exit within {STOP_PATIENCE:?} of SIGTERM; killed"
                ));
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
            Some(s) if s.code() != Some(0) => {
                (report.problems).push(format!("run {run}: SIGTERM made it exit with {s}, not 0"))
            }
            _ => {}
        }
    }

    /// Waits for both pipes to end; returns stdout's lines, and stderr's with their times.
    fn collect(self) -> (Vec<Line>, Vec<String>) {
        let _ = self.stdout_done.join();
        let _ = self.stderr_done.join();
        let out = std::mem::take(&mut *self.stdout.lock());
        let err = (self.stderr.lock().drain(..))
            .map(|(text, _, at)| format!("{} {text}", secs(at)))
            .collect();
        (out, err)
    }
}

/// Parses a watcher's line: (id, version, origin).
fn parse_line(line: &str) -> Option<(String, u64, &'static str)> {
    let v: Value = serde_json::from_str(line).ok()?;
    let id = v["id"].as_str()?.to_owned();
    let version = v["jsonResponse"]["v"].as_u64()?;
    let origin = match v["origin"].as_str()? {
        "live" => "live",
        "catch-up" => "catch-up",
        _ => return None,
    };
    Some((id, version, origin))
}

/// Turns a finished watcher's output into a run (its times left to the caller).
fn to_run(report: &mut Report, end: End, out: Vec<Line>, err: Vec<String>) -> Run {
    let i = report.runs.len();
    let mut prints = Vec::new();
    let count = out.len();
    for (k, (text, complete, at)) in out.into_iter().enumerate() {
        match parse_line(&text) {
            Some((id, v, origin)) if complete => prints.push(Print { id, v, origin, at }),
            // The last line of a killed process may be cut short: it was never saved, and
            // the next run prints it again.
            _ if end == End::Killed && k + 1 == count && !complete => {}
            _ => (report.problems).push(format!("run {i}: line {k} is not a label: {text:?}")),
        }
    }
    // Each line of stderr starts with the time it was read.
    let connected = (err.iter()).any(|l| {
        l.split_once(' ')
            .is_some_and(|(_, t)| t.starts_with("connected"))
    });
    Run {
        started: Duration::ZERO,
        ended: Duration::ZERO,
        end,
        // A SIGKILLed process saved some of its lines, or all: which, the test cannot tell.
        saved: (end != End::Killed).then_some(prints.len()),
        prints,
        connected,
        notes: err,
    }
}
