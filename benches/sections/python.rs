//! Section 9, the official Python SDK (kili 26.2.4, `benches/python/sdk_bench.py`) and our client
//! against the same local server (a child process), in the same run: `append_labels` rows per
//! second, subscription events per second, and a whole read of many labels (rows per second:
//! the server pages with a keyset cursor, so the read is bound by the client). Skipped, with a
//! message, without Python.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::unbounded;
use kili::{DEFAULT_LABEL_FIELDS, Kili, LabelEvent, LabelQuery};
use serde_json::Value;

use crate::support::child::ChildServer;
use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, rate, table};
use crate::support::setup;

const SECTION: &str = "9. vs Python SDK";
/// The whole Python run must finish within this.
const PYTHON_DEADLINE: Duration = Duration::from_secs(240);
/// A larger burst, for our sustained rate against the local server.
const BIG_BURST: usize = 2000;

/// Runs the section: `rows` labels appended, bursts of `events` labels, a read of `read` labels.
pub fn run(report: &mut Report, rows: usize, events: usize, read: usize) {
    println!(
        "\n[{SECTION}] append_labels of {rows} rows; a burst of {events} labels to a subscription"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = match find_python(root) {
        Ok(p) => p,
        Err(why) => {
            let msg = format!("Section 9 (Python SDK) skipped: {why}");
            println!("  {msg}");
            report.note(msg);
            return;
        }
    };
    let server = ChildServer::spawn(64);

    // Ours first, same server, same sizes.
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, assets) = setup::project(&kili, "ours vs sdk", 100);
    let t0 = Instant::now();
    let ids = kili
        .append_labels(&setup::labels(&project, &assets, rows))
        .expect("appending");
    let our_append = t0.elapsed();
    assert_eq!(ids.len(), rows);
    let (our_small, our_big) = our_bursts(&kili, &project, &assets, events);

    // Theirs.
    println!("  running the Python SDK ({})...", python.display());
    let args = [rows.to_string(), events.to_string()];
    let theirs = match run_python(root, &python, &server, &args).and_then(|v| {
        if v.get("live") == Some(&Value::Bool(true)) {
            Ok(v)
        } else {
            Err("the SDK's subscription never delivered a label".into())
        }
    }) {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("Section 9 (Python SDK) failed: {e}");
            println!("  {msg}");
            report.note(msg);
            return;
        }
    };
    let f = |k: &str| theirs.get(k).and_then(Value::as_f64);
    let their_append = f("append_secs").map(Duration::from_secs_f64);
    let their_events = f("events").zip(f("events_secs")).map(|(n, s)| n / s);

    let our_append_rate = rows as f64 / our_append.as_secs_f64();
    let their_append_rate = their_append.map(|d| rows as f64 / d.as_secs_f64());
    let our_event_rate = our_small.map(|d| events as f64 / d.as_secs_f64());
    let our_big_rate = our_big.map(|d| BIG_BURST as f64 / d.as_secs_f64());
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "-".into(),
    };
    let opt_rate = |r: Option<f64>| r.map_or("-".into(), rate);
    let opt_dur = |d: Option<Duration>| d.map_or("-".into(), dur);
    table(
        &format!("{SECTION}: same local server, same run"),
        &["measure", "ours", "Python SDK", "ours / SDK"],
        &[
            vec![
                format!("append_labels of {rows} rows: time"),
                dur(our_append),
                opt_dur(their_append),
                String::new(),
            ],
            vec![
                format!("append_labels of {rows} rows: rows/s"),
                rate(our_append_rate),
                opt_rate(their_append_rate),
                ratio(Some(our_append_rate), their_append_rate),
            ],
            vec![
                format!("burst of {events} labels: appended → all delivered"),
                opt_dur(our_small),
                opt_dur(f("events_secs").map(Duration::from_secs_f64)),
                String::new(),
            ],
            vec![
                format!("burst of {events} labels: events/s"),
                opt_rate(our_event_rate),
                opt_rate(their_events),
                ratio(our_event_rate, their_events),
            ],
            vec![
                format!("burst of {BIG_BURST} labels: events/s"),
                opt_rate(our_big_rate),
                "-".into(),
                String::new(),
            ],
            vec![
                "SDK start-up (Kili(), checks on), not timed above".into(),
                String::new(),
                opt_dur(f("startup_secs").map(Duration::from_secs_f64)),
                String::new(),
            ],
        ],
    );
    report.add(
        SECTION,
        format!("`append_labels` {rows} rows: ours vs SDK"),
        format!(
            "{} vs {} ({})",
            rate(our_append_rate),
            opt_rate(their_append_rate),
            ratio(Some(our_append_rate), their_append_rate)
        ),
        "",
        Verdict::Info,
    );
    report.add(
        SECTION,
        format!("subscription, burst of {events} labels: ours vs SDK events/s"),
        format!(
            "{} vs {} ({})",
            opt_rate(our_event_rate),
            opt_rate(their_events),
            ratio(our_event_rate, their_events)
        ),
        "",
        Verdict::Info,
    );
    report.info(
        SECTION,
        format!("ours, burst of {BIG_BURST} labels through the local server"),
        opt_rate(our_big_rate),
    );
    read_both(report, root, &python, &server, &kili, read);
}

/// Fills a project with `read` labels, then reads them all, with our client and with the SDK,
/// the same fields (the crate's default label fields), and compares the rows per second.
fn read_both(
    report: &mut Report,
    root: &Path,
    python: &Path,
    server: &ChildServer,
    kili: &Kili,
    read: usize,
) {
    let (project, assets) = setup::project(kili, "paging", 100);
    for chunk in 0..read.div_ceil(10_000) {
        let n = (read - chunk * 10_000).min(10_000);
        kili.append_labels(&setup::labels(&project, &assets, n))
            .expect("appending labels");
    }
    let query = LabelQuery::new(&project).fields(DEFAULT_LABEL_FIELDS.iter().copied());
    let cpu0 = procfs::cpu_time();
    let t0 = Instant::now();
    let mut ours = 0usize;
    for label in kili.labels(&query).expect("a labels query") {
        ours += usize::from(!label.expect("a label").id().is_empty());
    }
    let our_time = t0.elapsed();
    let our_cpu = procfs::cpu_time().saturating_sub(cpu0);
    assert_eq!(ours, read, "every label read");
    let fields = DEFAULT_LABEL_FIELDS.join(",");
    let args = ["read".to_owned(), project.clone(), fields];
    let theirs = run_python(root, python, server, &args).and_then(|v| {
        let rows = v.get("rows").and_then(Value::as_u64);
        let secs = v.get("read_secs").and_then(Value::as_f64);
        match (rows, secs) {
            (Some(r), Some(s)) if r as usize == read && s > 0.0 => Ok(Duration::from_secs_f64(s)),
            _ => Err(format!("the SDK read {rows:?} rows of {read}: {v}")),
        }
    });
    let our_rate = read as f64 / our_time.as_secs_f64();
    let (their, ratio) = match &theirs {
        Ok(d) => {
            let r = read as f64 / d.as_secs_f64();
            (rate(r), format!("{:.1}×", our_rate / r))
        }
        Err(e) => {
            report.note(format!("Section 9 (Python SDK read) failed: {e}"));
            ("-".into(), "-".into())
        }
    };
    table(
        &format!("{SECTION}: a whole read of {read} labels, same fields, same server"),
        &["measure", "ours", "Python SDK", "ours / SDK"],
        &[
            vec![
                "time".into(),
                dur(our_time),
                theirs.as_ref().map_or("-".into(), |d| dur(*d)),
                String::new(),
            ],
            vec![
                "rows/s".into(),
                rate(our_rate),
                their.clone(),
                ratio.clone(),
            ],
            vec![
                "client CPU per 1,000 rows".into(),
                dur(our_cpu / (read as u32 / 1000).max(1)),
                "-".into(),
                String::new(),
            ],
        ],
    );
    report.add(
        SECTION,
        format!("`labels` whole read of {read} rows: ours vs SDK rows/s"),
        format!("{} vs {their} ({ratio})", rate(our_rate)),
        "",
        Verdict::Info,
    );
}

/// Time from the start of `append_labels` to the last of its labels delivered, for a burst of
/// `events` and one of [`BIG_BURST`].
fn our_bursts(
    kili: &Kili,
    project: &str,
    assets: &[String],
    events: usize,
) -> (Option<Duration>, Option<Duration>) {
    let (tx, rx) = unbounded::<(Instant, String)>();
    let sub = kili
        .label_created_or_updated(project, move |e: &LabelEvent| {
            let _ = tx.send((Instant::now(), e.label().id().to_owned()));
        })
        .expect("subscribing");
    let burst = |n: usize| -> Option<Duration> {
        let t0 = Instant::now();
        let ids = kili
            .append_labels(&setup::labels(project, assets, n))
            .ok()?;
        let mut left: std::collections::HashSet<String> = ids.into_iter().collect();
        let mut last = t0;
        while !left.is_empty() {
            let (at, id) = rx.recv_timeout(Duration::from_secs(10)).ok()?;
            if left.remove(&id) {
                last = at;
            }
        }
        Some(last.duration_since(t0))
    };
    let small = burst(events);
    let big = burst(BIG_BURST);
    let _ = sub.close();
    (small, big)
}

/// The virtualenv's python, from `.ci/python-venv.sh` (which creates it on first use).
fn find_python(root: &Path) -> Result<std::path::PathBuf, String> {
    let out = Command::new("bash")
        .arg(".ci/python-venv.sh")
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            ".ci/python-venv.sh failed ({}); is python3 with venv installed?",
            out.status
        ));
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if path.is_empty() || !Path::new(&path).exists() {
        return Err(format!(
            ".ci/python-venv.sh printed no usable python ({path:?})"
        ));
    }
    Ok(path.into())
}

/// Runs `sdk_bench.py ENDPOINT KEY ARGS...` and returns the JSON line it prints.
fn run_python(
    root: &Path,
    python: &Path,
    server: &ChildServer,
    args: &[String],
) -> Result<Value, String> {
    let home = std::env::temp_dir().join(format!("kili-bench-py-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);
    let mut child = Command::new(python)
        .arg("benches/python/sdk_bench.py")
        .args([&server.endpoint, &server.api_key])
        .args(args)
        .current_dir(root)
        .env("HOME", &home)
        .env_remove("KILI_SDK_SKIP_CHECKS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let deadline = Instant::now() + PYTHON_DEADLINE;
    // Drain the pipes on threads so that a chatty child cannot block.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no result within {} s", PYTHON_DEADLINE.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&home);
    let line = out.lines().rev().find(|l| l.trim_start().starts_with('{'));
    let value: Value = line
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("{status}, no JSON result; stderr tail: {}", tail(&err)))?;
    if let Some(e) = value.get("error") {
        return Err(format!(
            "the script failed: {e}; stderr tail: {}",
            tail(&err)
        ));
    }
    Ok(value)
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}
