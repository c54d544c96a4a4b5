//! Section 4, The CLI: `examples/watch_labels` against a bare printer, both child processes
//! reading the same label frames from a minimal WebSocket server on a thread of this process
//! and writing one JSON line per label to /dev/null. The bare printer
//! (`KILI_BENCH_ROLE=printer`) is a tungstenite loop that parses each frame into a
//! `serde_json::Value` and prints its label with `serde_json::to_writer` into a buffered
//! stdout. CPU is each process's user + system time (`/proc/PID/stat`, read once it exited).

use std::io::{BufWriter, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tungstenite::Message;

use super::bare_server::{BareServer, connect_bare};
use crate::support::child::spawn_role;
use crate::support::report::{Report, Verdict, median, table};

const SECTION: &str = "4. CLI";
const PATIENCE: Duration = Duration::from_secs(60);
/// `/proc` reports CPU times in USER_HZ ticks, 100 per second on Linux.
const TICK_NS: f64 = 10_000_000.0;

/// Runs the section: `frames` lines per run, `rounds` interleaved rounds.
pub fn run(report: &mut Report, frames: usize, rounds: usize) {
    println!("\n[{SECTION}] {frames} labels per run, {rounds} interleaved rounds");
    let Some(watcher) = build_watcher() else {
        println!("  skipped: could not build examples/watch_labels");
        return;
    };
    let mut bare = Vec::new();
    let mut ours = Vec::new();
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        let b = run_printer(frames);
        let o = run_watcher(&watcher, frames);
        match (b, o) {
            (Ok(b), Ok(o)) => {
                let (b, o) = (b / frames as f64, o / frames as f64);
                println!(
                    "  round {round}: bare printer {b:>6.0} ns/line, watch_labels {o:>6.0} ns/line ({:.2})",
                    o / b
                );
                bare.push(b);
                ours.push(o);
                ratios.push(o / b);
            }
            (b, o) => println!("  round {round}: FAILED: {:?} {:?}", b.err(), o.err()),
        }
    }
    if ratios.is_empty() {
        report.add(SECTION, "watch_labels", "failed", "", Verdict::Missed);
        return;
    }
    let (b, o, r) = (median(&bare), median(&ours), median(&ratios));
    table(
        &format!("{SECTION}: CPU per line, medians of {rounds} rounds"),
        &["printer", "CPU per line", "ratio (per round)"],
        &[
            vec![
                "bare tungstenite + Value + to_writer".into(),
                format!("{b:.0} ns"),
                "1.00".into(),
            ],
            vec![
                "examples/watch_labels".into(),
                format!("{o:.0} ns"),
                format!("{r:.2}"),
            ],
        ],
    );
    report.info(
        SECTION,
        "bare printer: CPU per line (the anchor)",
        format!("{b:.0} ns"),
    );
    report.add(
        SECTION,
        "watch_labels: CPU per line (ratio to the anchor)",
        format!("{o:.0} ns ({r:.2})"),
        "≤ 2 × anchor",
        Verdict::of(r <= 2.0),
    );
}

/// Builds the example in release mode; its path.
fn build_watcher() -> Option<std::path::PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        // The bench profile, as `cargo bench` builds: the release profile would rebuild every
        // dependency, and `cargo bench` would then rebuild them back.
        .args([
            "build",
            "--profile",
            "bench",
            "--quiet",
            "--example",
            "watch_labels",
        ])
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    // target/release/deps/suite-HASH -> target/release/examples/watch_labels
    let path = exe
        .parent()?
        .parent()?
        .join("examples")
        .join("watch_labels");
    path.exists().then_some(path)
}

fn run_watcher(path: &std::path::Path, frames: usize) -> Result<f64, String> {
    let server = BareServer::start(frames, true);
    // Its stderr (lifecycle lines, warnings) goes to a file, shown if the run fails.
    let log = std::env::temp_dir().join(format!("kili-bench-watch-{}.log", std::process::id()));
    let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let child = Command::new(path)
        .args(["--project-id", "project", "--count", &frames.to_string()])
        .args(["--endpoint", &server.endpoint(), "--api-key", "bench"])
        .env("RUST_LOG", "kili=info")
        .stdin(Stdio::null())
        .stdout(match std::env::var_os("KILI_BENCH_CLI_OUT") {
            // For debugging: the lines themselves.
            Some(path) => std::fs::File::create(path).map_or(Stdio::null(), Stdio::from),
            None => Stdio::null(),
        })
        .stderr(stderr)
        .spawn()
        .map_err(|e| e.to_string())?;
    let outcome = cpu_until_exit(child).map_err(|e| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "{e}; stderr: {}",
            lines[lines.len().saturating_sub(8)..].join(" | ")
        )
    });
    let _ = std::fs::remove_file(&log);
    outcome
}

fn run_printer(frames: usize) -> Result<f64, String> {
    let server = BareServer::start(frames, false);
    let env = [
        ("KILI_BENCH_WS", server.addr().to_string()),
        ("KILI_BENCH_EVENTS", frames.to_string()),
    ];
    let child = spawn_role("printer", &env, Stdio::null()).map_err(|e| e.to_string())?;
    cpu_until_exit(child)
}

/// Waits for the child to exit (without reaping it), reads its CPU time, then reaps it.
fn cpu_until_exit(mut child: Child) -> Result<f64, String> {
    let stat = format!("/proc/{}/stat", child.id());
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(&stat).map_err(|e| e.to_string())?;
        let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name.
            let ticks: u64 = [11, 12]
                .iter()
                .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
                .sum();
            let status = child.wait().map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("exited with {status}"));
            }
            return Ok(ticks as f64 * TICK_NS);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("timed out".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The `printer` role: reads the frames, prints each label as a JSON line, exits.
pub fn printer() -> ! {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let frames: usize = env("KILI_BENCH_EVENTS").parse().unwrap_or(0);
    match print_frames(&env("KILI_BENCH_WS"), frames) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("printer: {e}");
            std::process::exit(1);
        }
    }
}

fn print_frames(addr: &str, frames: usize) -> Result<(), String> {
    let mut ws = connect_bare(addr)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut seen = 0;
    while seen < frames {
        if let Message::Text(t) = ws.read().map_err(|e| e.to_string())? {
            let v: Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
            if v["type"] != "data" {
                continue;
            }
            serde_json::to_writer(&mut out, &v["payload"]["data"]["data"])
                .map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
            seen += 1;
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    let _ = ws.close(None);
    Ok(())
}
