//! Watches the labels created or updated in a Kili project: one JSON line per label on stdout,
//! the connection's life (connected, reconnecting, reconnected) on stderr.
//!
//! ```text
//! cargo run --example watch_labels -- --project-id ID [--endpoint URL] [--api-key KEY]
//!     [--count N] [--protocol graphql-ws|graphql-transport-ws]
//! ```
//!
//! The endpoint and key come from the flags, or else from `KILI_API_ENDPOINT` (Kili's cloud by
//! default) and `KILI_API_KEY`. It runs until `--count` labels were printed, Ctrl-C, or the end
//! of its standard input (Ctrl-D in a terminal; `< /dev/null` ends it at once), then closes the
//! subscription and exits with status 0. Status 1 means the subscription failed, 2 a usage
//! error.
//!
//! Against the local server (`cargo run -p kili-local-server`, which prints its endpoint and
//! key):
//!
//! ```text
//! cargo run --example watch_labels -- --endpoint http://127.0.0.1:4000/api/label/v2/graphql \
//!     --api-key KEY --project-id PROJECT --count 3
//! ```

use std::io::Write;
use std::process::ExitCode;

use crossbeam_channel::{Receiver, bounded, select};
use kili::{
    DEFAULT_ENDPOINT, EventOrigin, Kili, LabelEvent, Lifecycle, StreamEvent, SubscriptionOptions,
    WsProtocol,
};
use serde_json::json;

const USAGE: &str = "usage: watch_labels --project-id ID [--endpoint URL] [--api-key KEY] \
[--count N] [--protocol graphql-ws|graphql-transport-ws]

  --project-id ID   the project whose labels to watch (required)
  --endpoint URL    the GraphQL endpoint (default: $KILI_API_ENDPOINT, else Kili's cloud)
  --api-key KEY     the API key (default: $KILI_API_KEY)
  --count N         exit after N labels (default: run until Ctrl-C or the end of stdin)
  --protocol P      graphql-ws (default, Kili's) or graphql-transport-ws";

/// The command line, parsed.
#[derive(Debug)]
struct Args {
    endpoint: String,
    api_key: String,
    project_id: String,
    count: Option<u64>,
    protocol: WsProtocol,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("kili=warn")).init();
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("watch_labels: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match watch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("watch_labels: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok(None)` for `--help`.
fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut endpoint = env("KILI_API_ENDPOINT");
    let mut api_key = env("KILI_API_KEY");
    let mut project_id = None;
    let mut count = None;
    let mut protocol = WsProtocol::GraphqlWs;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => endpoint = Some(value()?),
            "--api-key" => api_key = Some(value()?),
            "--project-id" => project_id = Some(value()?),
            "--count" => {
                let v = value()?;
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => count = Some(n),
                    _ => return Err(format!("--count wants a positive number, got {v:?}")),
                }
            }
            "--protocol" => {
                protocol = match value()?.as_str() {
                    "graphql-ws" => WsProtocol::GraphqlWs,
                    "graphql-transport-ws" => WsProtocol::GraphqlTransportWs,
                    other => return Err(format!("unknown protocol {other:?}")),
                }
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(Args {
        endpoint: endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
        api_key: api_key.ok_or("no API key: pass --api-key or set KILI_API_KEY")?,
        project_id: project_id.ok_or("--project-id is required")?,
        count,
        protocol,
    }))
}

fn watch(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let kili = Kili::builder()
        .api_key(&args.api_key)
        .endpoint(&args.endpoint)
        .build()?;
    let shutdown = shutdown_signals()?;
    let options = SubscriptionOptions::new()
        .protocol(args.protocol)
        .thread_name("watch-labels");
    let events = kili.label_events_with_options(&args.project_id, options)?;

    let mut printed = 0u64;
    let mut stdout = std::io::stdout().lock();
    while args.count.is_none_or(|n| printed < n) {
        select! {
            recv(shutdown) -> why => {
                eprintln!("{}; closing", why.unwrap_or("stopping"));
                break;
            }
            recv(events.receiver()) -> item => match item {
                Ok(StreamEvent::Event(event)) => {
                    let line = label_line(&event);
                    // A closed stdout (e.g. `| head -n 1`) ends the program normally.
                    if writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_err() {
                        break;
                    }
                    printed += 1;
                }
                Ok(StreamEvent::Lifecycle(Lifecycle::Failed { error })) => {
                    return Err(format!("the subscription failed: {error}").into());
                }
                Ok(StreamEvent::Lifecycle(event)) => report(&event),
                Ok(_) => {}
                Err(_) => return Err("the subscription ended".into()),
            }
        }
    }
    events.close()?;
    // The stream has ended; report its last lifecycle events (`closed`), print no more labels.
    for item in events.try_iter() {
        if let StreamEvent::Lifecycle(event) = item {
            report(&event);
        }
    }
    Ok(())
}

/// One label event as a JSON object on one line.
fn label_line(event: &LabelEvent) -> serde_json::Value {
    let label = &event.label;
    json!({
        "id": label.id,
        "assetId": label.asset_id,
        "labelType": label.label_type.as_ref().map(|t| t.as_str()),
        "author": label.author.as_ref().and_then(|a| a.email.clone()),
        "createdAt": label.created_at,
        "jsonResponse": label.json_response,
        "origin": if event.origin == EventOrigin::CatchUp { "catch-up" } else { "live" },
    })
}

/// Lifecycle events, one line each on stderr.
fn report(event: &Lifecycle) {
    match event {
        Lifecycle::Connected { subscription_id } => {
            eprintln!("connected (subscription {subscription_id})");
        }
        Lifecycle::Reconnecting {
            attempt,
            delay,
            cause,
        } => eprintln!(
            "reconnecting in {} ms (attempt {attempt}): {cause}",
            delay.as_millis()
        ),
        Lifecycle::Reconnected {
            subscription_id,
            missed,
        } => eprintln!(
            "reconnected (subscription {subscription_id}; {missed} missed labels delivered)"
        ),
        Lifecycle::CatchUpFailed { error } => {
            eprintln!("could not fetch the labels missed while disconnected: {error}");
        }
        Lifecycle::Closed => eprintln!("closed"),
        other => eprintln!("{other:?}"),
    }
}

/// A channel that receives a reason when Ctrl-C is pressed or standard input ends.
fn shutdown_signals() -> Result<Receiver<&'static str>, Box<dyn std::error::Error>> {
    let (tx, rx) = bounded(2);
    let on_signal = tx.clone();
    ctrlc::set_handler(move || {
        let _ = on_signal.try_send("interrupted");
    })?;
    std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            // Whatever is typed is ignored; only the end of input matters.
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = tx.try_send("end of input");
        })?;
    Ok(rx)
}
