//! The local Kili server as a program, for any client (the Python SDK, other languages) to test
//! against. It serves until SIGTERM, SIGINT (Ctrl-C) or SIGHUP, then stops cleanly: closes its
//! connections, flushes its data file, and exits 0.
//!
//! ```text
//! cargo run -p kili-local-server -- --port 4000 [--api-key KEY] [--host 0.0.0.0] [--data-file PATH]
//! ```
//!
//! Prints `endpoint: http://127.0.0.1:PORT/api/label/v2/graphql` and `api key: KEY`, one line
//! each, once it accepts connections. `--port 0` (the default) picks a free port.
//!
//! Warnings and errors (a cut-short line dropped from the data file, a replaced key, a failed
//! sync) go to stderr, one line each, `kili-local-server: WARN: ...`; `RUST_LOG=info` (or
//! `debug`, `trace`, `error`, `off`) changes the level. The exit status is 1 when the start
//! fails, or when the data file could not be synced at the stop.

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use kili_local_server::LocalServer;

const USAGE: &str = "\
usage: kili-local-server [--port PORT] [--api-key KEY] [--host ADDR] [--data-file PATH]
                         [--no-upload-local-data] [--webhook-allow HOST[:PORT]]...
                         [--webhook-timeout SECS] [--webhook-retry-for SECS]

  --port PORT            port to listen on; 0 (the default) picks a free one
  --api-key KEY          the first user's API key; default: the data file's, else a random one
  --host ADDR            address to listen on (default 127.0.0.1); any other than loopback
                         (e.g. 0.0.0.0 in a container) requires --api-key
  --data-file PATH       keep projects, assets, labels and uploads in this file (a journal,
                         replayed at start) and in PATH.files/; default: memory only
  --no-upload-local-data the organization's license forbids uploading local data
  --webhook-allow HOST[:PORT]
                         webhooks may POST there (repeatable); without it they may POST to
                         loopback only, and only when --host is loopback
  --webhook-timeout SECS the most one webhook POST may take (default 10)
  --webhook-retry-for SECS
                         how long a failed webhook delivery is retried (default 600)
";

/// Prints log records of the chosen level and above to stderr, one line each.
struct StderrLogger {
    level: log::LevelFilter,
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("kili-local-server: {}: {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger: warnings and errors, or the level `RUST_LOG` names.
fn install_logger() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.trim().parse::<log::LevelFilter>().ok())
        .unwrap_or(log::LevelFilter::Warn);
    let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger { level }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

fn main() -> ExitCode {
    install_logger();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("kili-local-server: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the value of `flag` as a number of seconds.
fn seconds(
    flag: &str,
    mut value: impl FnMut(&str) -> Result<String, String>,
) -> Result<std::time::Duration, String> {
    let text = value(flag)?;
    let secs: f64 = text.parse().map_err(|e| format!("{flag} {text}: {e}"))?;
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("{flag} {text}: {e}"))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = LocalServer::builder();
    let mut args = std::env::args().skip(1);
    let mut data_file = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let port = value("--port")?;
                builder = builder.port(port.parse().map_err(|e| format!("--port {port}: {e}"))?);
            }
            "--api-key" => builder = builder.api_key(value("--api-key")?),
            "--host" => {
                let host = value("--host")?;
                let ip: IpAddr = host.parse().map_err(|e| format!("--host {host}: {e}"))?;
                builder = builder.host(ip);
            }
            "--data-file" => {
                let path = value("--data-file")?;
                builder = builder.data_file(&path);
                data_file = Some(path);
            }
            "--no-upload-local-data" => builder = builder.upload_local_data(false),
            "--webhook-allow" => builder = builder.webhook_allow(value("--webhook-allow")?),
            "--webhook-timeout" => {
                builder = builder.webhook_timeout(seconds("--webhook-timeout", value)?);
            }
            "--webhook-retry-for" => {
                builder = builder.webhook_retry_for(seconds("--webhook-retry-for", value)?);
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    // Before starting: a signal that comes during the start still stops the server cleanly.
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    ctrlc::set_handler(move || {
        let _ = stop_tx.try_send(());
    })?;
    let server = builder.start()?;
    let mut ready = format!(
        "endpoint: {}\napi key: {}\n",
        server.endpoint(),
        server.api_key()
    );
    if let Some(path) = data_file {
        ready.push_str(&format!("data file: {path}\n"));
    }
    // One write; and a reader that went away after reading what it needed (a script that
    // took the endpoint and closed the pipe) does not stop the server.
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(ready.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("kili-local-server: cannot write to stdout ({e}); serving anyway");
    }
    drop(out);
    // Blocks until a signal; a closed channel (the handler gone) stops too.
    let _ = stop_rx.recv();
    eprintln!("kili-local-server: stopping");
    server.close()?;
    eprintln!("kili-local-server: stopped");
    Ok(())
}
