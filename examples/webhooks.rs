//! Kili's webhooks tutorial, step by step, in Rust.
//!
//! ```text
//! cargo run --example webhooks [-- --keep]
//! ```
//!
//! With `KILI_API_KEY` set it talks to `KILI_API_ENDPOINT` (Kili's cloud by default) and creates
//! a project there; without it, it starts the embedded local server and says so. It follows the
//! tutorial: create a project, import the car image (with a progress bar), subscribe to its
//! labels with a callback that prints `New data: {frame}`, add a label (printed), pause and add
//! one (not printed), unpause and add one (printed), close and add one (not printed), restart
//! the subscription with `reset_timeout()`, print its lifetime, and count the 4 labels.
//!
//! At the end it deletes the project it created, so that running it against a real account
//! leaves nothing behind, also when a step after the project's creation failed; `--keep` keeps
//! the project, to look at it in Kili's interface. (Against the embedded server, which
//! vanishes with the program, the deletion is harmless, and done all the same: the example
//! runs one way everywhere.)
//!
//! Every step is checked: the program exits with status 1 and says which check failed, with
//! the chain of causes of the error, or 0 once they all hold; 2 for a bad command line. Set
//! `RUST_LOG=kili=debug` to see the connection's life in detail.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, unbounded};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kili::{
    AssetQuery, InputType, Kili, LabelQuery, LabelType, Lifecycle, NewAssets, NewLabels,
    NewProject, SubscriptionOptions, SubscriptionState,
};
use kili_local_server::LocalServer;
use serde_json::json;

const CAR: &str = "https://storage.googleapis.com/label-public-staging/car/car_1.jpg";
/// How long any one step may take before the example gives up (generous: a slow network to
/// Kili's cloud, or a busy machine).
const PATIENCE: Duration = Duration::from_secs(30);

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: webhooks [--keep]";

fn main() -> ExitCode {
    // The crate logs through `log`; show its info-level messages unless RUST_LOG says otherwise.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("kili=info")).init();
    let mut keep = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--keep" => keep = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    match run(keep) {
        Ok(()) => {
            println!("All checks passed.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("webhooks example failed: {}", chain(&*e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `outer: inner: innermost`: a transport error says what failed
/// underneath (refused connection, TLS, DNS) only in its sources.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Fails with `message` unless `condition` holds.
fn check(condition: bool, message: impl Into<String>) -> Outcome<()> {
    if condition {
        Ok(())
    } else {
        Err(format!("check failed: {}", message.into()).into())
    }
}

/// Creates the project, runs the tutorial in it, and deletes it (unless `keep`) whether the
/// tutorial succeeded or not.
fn run(keep: bool) -> Outcome<()> {
    // Authenticate: Kili from the environment, or the embedded server. `_server` keeps the
    // local server running until the end of `run`.
    let (kili, _server) = match std::env::var("KILI_API_KEY") {
        Ok(key) if !key.trim().is_empty() => {
            let kili = Kili::from_env()?;
            println!("Using Kili at {}", kili.endpoint());
            (kili, None)
        }
        _ => {
            let server = LocalServer::start()?;
            // Talk to 127.0.0.1 directly even if the environment names an HTTP proxy.
            let kili = Kili::builder()
                .api_key(server.api_key())
                .endpoint(server.endpoint())
                .proxy_from_env(false)
                .build()?;
            println!(
                "KILI_API_KEY is not set: using the embedded local server at {}",
                server.endpoint()
            );
            (kili, Some(server))
        }
    };

    // Create the project and import the car image.
    let json_interface = json!({
        "jobs": {
            "JOB_0": {
                "mlTask": "CLASSIFICATION",
                "required": 1,
                "content": {
                    "categories": {
                        "OBJECT_A": {"name": "Object A", "children": []},
                        "OBJECT_B": {"name": "Object B", "children": []},
                    },
                    "input": "radio",
                },
            }
        }
    });
    let project_id = kili.create_project(
        &NewProject::new("Webhook project", InputType::Image).json_interface(json_interface),
    )?;
    println!("Created project {project_id}");

    let outcome = tutorial(&kili, &project_id);
    if keep {
        println!("Kept project {project_id} (--keep)");
        return outcome;
    }
    match kili.delete_project(&project_id) {
        Ok(_) => {
            println!("Deleted project {project_id}");
            outcome
        }
        Err(e) => {
            eprintln!(
                "could not delete project {project_id} (delete it by hand): {}",
                chain(&e)
            );
            // The tutorial's own failure, if any, is the one to report.
            outcome.and(Err(e.into()))
        }
    }
}

/// The tutorial's steps, in the project `project_id`.
fn tutorial(kili: &Kili, project_id: &str) -> Outcome<()> {
    let bar = progress_bar();
    let observer = bar.clone(); // a handle to the same bar
    kili.append_many_to_dataset(
        &NewAssets::new(project_id, [CAR])
            .external_ids(["car_1"])
            .progress(move |done, total| show_progress(&observer, done, total)),
    )?;
    bar.finish();

    let assets = kili
        .assets(&AssetQuery::new(project_id).fields(["id"]))?
        .collect_all()?;
    check(
        assets.len() == 1,
        format!("one asset, got {}", assets.len()),
    )?;
    let asset_id = assets[0].id().to_owned();

    // The callback prints the whole frame, as the tutorial's does, and tells `tutorial` which label
    // it saw. Lifecycle events (connected, reconnecting, ...) come through another channel.
    let (labels_tx, labels_rx) = unbounded::<String>();
    let (lifecycle_tx, lifecycle_rx) = unbounded::<Lifecycle>();
    let options = SubscriptionOptions::new().on_lifecycle(move |event| {
        let _ = lifecycle_tx.send(event.clone());
    });
    let sub = kili
        .labels_subscription(project_id)
        .options(options)
        .callback(move |event| {
            println!("New data: {}\n", event.frame());
            let _ = labels_tx.send(event.label().id().to_owned());
        })?;
    check(
        sub.state().is_active(),
        format!("the subscription is active, state {:?}", sub.state()),
    )?;

    let add_label = || -> Outcome<String> {
        let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
        let ids = kili.append_labels(
            &NewLabels::for_assets(project_id, [asset_id.as_str()], [response])
                .label_type(LabelType::Inference),
        )?;
        ids.into_iter()
            .next()
            .ok_or_else(|| "append_labels returned no id".into())
    };

    // A label: printed by the callback.
    let first = add_label()?;
    expect_delivery(&labels_rx, &first, "the first label")?;

    // Paused: the label is received and dropped.
    sub.pause();
    let paused = add_label()?;
    check(
        wait_until(|| sub.stats().dropped_while_paused >= 1),
        format!(
            "the label added while paused ({paused}) reached the subscription: {:?}",
            sub.stats()
        ),
    )?;
    check(
        labels_rx.try_recv().is_err(),
        "nothing is delivered while paused",
    )?;

    // Unpaused: printed again.
    sub.unpause();
    let third = add_label()?;
    expect_delivery(&labels_rx, &third, "the label added after unpause")?;

    // Closed: the subscription's thread is gone, so this label cannot be delivered, and nothing
    // prints a trace.
    sub.close()?;
    check(
        matches!(sub.state(), SubscriptionState::Closed),
        format!("the subscription is closed, state {:?}", sub.state()),
    )?;
    add_label()?;
    check(
        labels_rx.try_recv().is_err(),
        "nothing is delivered after close",
    )?;

    // reset_timeout: a fresh connection and subscription (after a close, it starts again).
    // The events of the first connection and of the close are already in the channel (close()
    // joined the thread that sent them): skip them, then wait for the new connection's.
    while lifecycle_rx.try_recv().is_ok() {}
    sub.reset_timeout()?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        match lifecycle_rx.recv_deadline(deadline) {
            Ok(Lifecycle::Connected { subscription_id })
            | Ok(Lifecycle::Reconnected {
                subscription_id, ..
            }) => {
                println!(
                    "{} reconnected (subscription {subscription_id})",
                    utc_time()
                );
                break;
            }
            Ok(_) => continue,
            Err(_) => return Err("no reconnection reported after reset_timeout()".into()),
        }
    }
    check(
        sub.state().is_active(),
        format!("active after reset_timeout, state {:?}", sub.state()),
    )?;

    // The lifetime of the subscription since it (re)connected. The tutorial sleeps 3 s; 2 s
    // make the point.
    std::thread::sleep(Duration::from_secs(2));
    let lifetime = sub.lifetime().as_secs_f64();
    println!("Lifetime: {lifetime:.1}");
    check(lifetime > 0.0, format!("lifetime {lifetime} > 0"))?;

    let count = kili.count_labels(&LabelQuery::new(project_id))?;
    println!("Labels in the project: {count}");
    check(
        count == 4,
        format!("the project has 4 labels, found {count}"),
    )?;

    sub.close()?;
    Ok(())
}

/// Waits (with a deadline) for the callback to report the label `id`.
fn expect_delivery(rx: &Receiver<String>, id: &str, what: &str) -> Outcome<()> {
    match rx.recv_timeout(PATIENCE) {
        Ok(got) => check(got == id, format!("{what}: expected {id}, got {got}")),
        Err(RecvTimeoutError::Timeout) => Err(format!(
            "{what} ({id}) was not delivered within {} s",
            PATIENCE.as_secs()
        )
        .into()),
        Err(RecvTimeoutError::Disconnected) => Err("the subscription ended".into()),
    }
}

/// Polls `condition` every few milliseconds until it holds or [`PATIENCE`] passes.
fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    condition()
}

/// A progress bar on stdout, like the tutorial's (tqdm's) one.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template(
        "{percent:>3}%|{wide_bar}| {pos}/{len} [{elapsed_precise}, {per_sec}]",
    ) {
        bar.set_style(style.progress_chars("█▉▊▋▌▍▎▏ "));
    }
    bar
}

/// Updates the bar; where stdout is not a terminal (indicatif draws nothing there), prints
/// the progress as a plain line instead.
fn show_progress(bar: &ProgressBar, done: u64, total: u64) {
    bar.set_length(total);
    bar.set_position(done);
    if !std::io::stdout().is_terminal() && (done == total || done == 0) {
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        println!("{percent:>3}%| {done}/{total} assets imported");
    }
}

/// `hh:mm:ss` in UTC, for the reconnection line (the tutorial's log line has a time stamp).
fn utc_time() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
