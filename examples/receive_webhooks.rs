//! Receives Kili's HTTP webhooks as a service: one JSON line per event on stdout, each written
//! and flushed before the request is answered, so that an event Kili got a 2xx for is on disk.
//! Runs until SIGINT or SIGTERM (or `--count N`); with `--state-file` a restarted receiver
//! answers redeliveries of events it already printed without printing them again.
//!
//! ```text
//! cargo run --example receive_webhooks -- --secret SECRET [--listen ADDR] [--path /PATH]
//!     [--state-file PATH] [--count N]
//! ```
//!
//! `--secret` is the `header` given to `create_webhook` (Kili sends it as the `Authorization`
//! header; `KILI_WEBHOOK_SECRET` may hold it instead). `--listen` defaults to
//! `127.0.0.1:8080`. It speaks plain HTTP: put it behind a reverse proxy that terminates TLS
//! for the URL registered with Kili. Exit status: 0 after a clean stop, 1 if the receiver
//! failed, 2 on a usage error.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{bounded, select};
use kili::{WebhookEvent, WebhookReceiver};
use serde_json::json;

const USAGE: &str = "usage: receive_webhooks --secret SECRET [--listen ADDR] [--path /PATH] \
                     [--state-file PATH] [--count N]";

struct Args {
    secret: String,
    listen: String,
    path: String,
    state_file: Option<String>,
    count: Option<u64>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        secret: std::env::var("KILI_WEBHOOK_SECRET").unwrap_or_default(),
        listen: "127.0.0.1:8080".into(),
        path: "/".into(),
        state_file: None,
        count: None,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--secret" => args.secret = value()?,
            "--listen" => args.listen = value()?,
            "--path" => args.path = value()?,
            "--state-file" => args.state_file = Some(value()?),
            "--count" => {
                let n = value()?;
                args.count = Some(
                    n.parse()
                        .map_err(|_| format!("--count {n}: not a number"))?,
                );
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.secret.is_empty() {
        return Err("--secret (or KILI_WEBHOOK_SECRET) is required".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("kili=warn")).init();
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "receive_webhooks: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "receive_webhooks: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let (stop_tx, stop) = bounded(2);
    let on_signal = stop_tx.clone();
    ctrlc::set_handler(move || {
        let _ = on_signal.try_send("signal received");
    })?;
    let printed = Arc::new(AtomicU64::new(0));
    let (p, count) = (Arc::clone(&printed), args.count);
    let mut builder = WebhookReceiver::builder(&args.listen, &args.secret).path(&args.path);
    if let Some(path) = &args.state_file {
        builder = builder.state_file(path);
    }
    let receiver = builder.callback(move |event: &WebhookEvent| {
        // Written and flushed before the request is answered: a failed write is a 500, and
        // Kili sends the event again.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", line(event))?;
        out.flush()?;
        if count.is_some_and(|n| p.fetch_add(1, Ordering::SeqCst) + 1 >= n) {
            let _ = stop_tx.try_send("count reached");
        }
        Ok::<(), std::io::Error>(())
    })?;
    let _ = writeln!(std::io::stderr(), "listening on {}", receiver.url());
    // The receiver ends on its own only if accepting connections fails for good.
    let receiver = Arc::new(receiver);
    let (ended_tx, ended) = bounded(1);
    let watched = Arc::clone(&receiver);
    std::thread::spawn(move || {
        let _ = ended_tx.send(watched.wait());
    });
    let outcome = select! {
        recv(stop) -> why => {
            let _ = writeln!(std::io::stderr(), "{}; closing", why.unwrap_or("stopping"));
            receiver.close()
        }
        recv(ended) -> outcome => outcome.unwrap_or(Ok(())),
    };
    let _ = writeln!(
        std::io::stderr(),
        "closed after {} events ({} redeliveries answered)",
        printed.load(Ordering::SeqCst),
        receiver.stats().duplicates
    );
    Ok(outcome?)
}

/// One event as a line of JSON.
fn line(event: &WebhookEvent) -> serde_json::Value {
    let label = event.label();
    json!({
        "eventType": event.event_type().as_str(),
        "projectId": event.project_id(),
        "runId": event.run_id(),
        "assetId": event.asset_id(),
        "labelId": label.map(|l| l.id()),
        "labelType": label.and_then(|l| l.label_type()).map(|t| t.as_str()),
        "jsonResponse": label
            .and_then(|l| l.json_response())
            .and_then(|r| r.parse().ok()),
    })
}
