//! Watches the labels created or updated in a Kili project: one JSON line per label on stdout,
//! the connection's life (connected, reconnecting, reconnected) on stderr. Made to run as a
//! service: it runs until SIGINT or SIGTERM (or `--count`, `--timeout`), whatever its standard
//! input is, and with `--state-file` a restarted watcher prints what was created or updated
//! while it was down, and nothing twice.
//!
//! ```text
//! cargo run --example watch_labels -- --project-id ID [--endpoint URL] [--api-key KEY]
//!     [--count N] [--timeout SECONDS] [--state-file PATH] [--exit-on-eof]
//!     [--protocol graphql-ws|graphql-transport-ws] [--queue-capacity N]
//! ```
//!
//! The endpoint and key come from the flags, or else from `KILI_API_ENDPOINT` (Kili's cloud by
//! default) and `KILI_API_KEY`. Exit status: 0 after a clean stop, 1 if the subscription failed
//! (one line on stderr names the cause, with its chain of sources), 2 on a usage error.
//!
//! Against the local server (`cargo run -p kili-local-server`, which prints its endpoint and
//! key):
//!
//! ```text
//! cargo run --example watch_labels -- --endpoint http://127.0.0.1:4000/api/label/v2/graphql \
//!     --api-key KEY --project-id PROJECT --state-file watch.state
//! ```

mod args;
mod output;

/// A line on stderr; a closed stderr is no reason to stop (`eprintln!` would panic).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use crossbeam_channel::{Receiver, TryRecvError, after, bounded, never, select};
use kili::{Kili, Lifecycle, StreamEvent, SubscriptionOptions};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("kili=warn")).init();
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            note!("watch_labels: {message}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match watch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("watch_labels: {}", chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

type Failure = Box<dyn std::error::Error>;

/// Items read without `select!` before looking at the signals again.
const BURST: usize = 1024;

fn watch(args: &args::Args) -> Result<(), Failure> {
    let stop = stop_signals(args.exit_on_eof)?;
    let kili = Kili::builder()
        .api_key(&args.api_key)
        .endpoint(&args.endpoint)
        .build()?;
    let mut options = SubscriptionOptions::new()
        .protocol(args.protocol)
        .thread_name("watch-labels");
    if let Some(n) = args.queue_capacity {
        options = options.queue_capacity(n);
    }
    if let Some(path) = &args.state_file
        && let Some(checkpoint) = output::load_state(path)?
    {
        note!("resuming from {}", path.display());
        options = options.resume_from(checkpoint);
    }
    let events = kili
        .labels_subscription(&args.project_id)
        .options(options)
        .stream()?;
    let deadline = match args.timeout {
        Some(t) => after(t),
        None => never(),
    };

    let mut printed = 0u64;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut last_checkpoint = None;
    let started = Instant::now();
    let wanted = args.count.unwrap_or(u64::MAX);
    let keep = args.state_file.is_some();
    let outcome: Result<(), Failure> = 'watch: loop {
        if printed >= wanted {
            break Ok(());
        }
        let first = select! {
            recv(stop) -> why => {
                note!("{}; closing", why.unwrap_or("stopping"));
                break Ok(());
            }
            recv(deadline) -> _ => {
                note!("timeout after {:.1} s; closing", started.elapsed().as_secs_f64());
                break Ok(());
            }
            recv(events.receiver()) -> item => item,
        };
        // What else is waiting is read without `select!` (a burst at most, so that a signal
        // is never kept waiting long), then flushed and saved once.
        let mut item = Some(first.map_err(|_| Failure::from("the subscription ended")));
        let mut taken = 0;
        while let Some(next) = item.take() {
            let step = match next {
                Ok(StreamEvent::Event(event)) => {
                    // A closed stdout (e.g. `| head -n 1`) ends the program normally; any
                    // other write error (a full disk, an I/O error) is a failure. Either way
                    // the state file keeps the last line that was flushed.
                    if let Err(e) = output::write_line(&mut out, &event) {
                        break 'watch stdout_closed(e);
                    }
                    printed += 1;
                    if keep {
                        last_checkpoint = Some(event.checkpoint().clone());
                    }
                    Ok(())
                }
                Ok(StreamEvent::Lifecycle(Lifecycle::Failed { error })) => {
                    Err(format!("the subscription failed: {}", chain(&error)).into())
                }
                Ok(StreamEvent::Lifecycle(event)) => {
                    report(&event);
                    Ok(())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = step {
                break 'watch Err(e);
            }
            taken += 1;
            // Only take another item when it will be handled: one taken and dropped at the
            // end of a burst would be a label lost.
            if printed >= wanted || taken >= BURST {
                break;
            }
            item = match events.try_recv() {
                Ok(next) => Some(Ok(next)),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Err("the subscription ended".into())),
            };
        }
        // One flush (and one save) per burst: when nothing more is waiting.
        if let Err(e) = flush(&mut out, args, &mut last_checkpoint) {
            break Err(e);
        }
    };
    // What was printed is saved before anything else can go wrong.
    let saved = flush(&mut out, args, &mut last_checkpoint);
    events.close()?;
    for item in events.try_iter() {
        if let StreamEvent::Lifecycle(event) = item {
            report(&event);
        }
    }
    outcome.and(saved)
}

/// What a failed write to stdout means: the reader went away (a normal end), or the output
/// is lost (a full disk, an I/O error: a failure).
fn stdout_closed(e: std::io::Error) -> Result<(), Failure> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("writing to stdout: {e}").into())
    }
}

/// Flushes stdout, then saves the checkpoint of the last line flushed.
fn flush(
    out: &mut impl Write,
    args: &args::Args,
    checkpoint: &mut Option<kili::Checkpoint>,
) -> Result<(), Failure> {
    if let Err(e) = out.flush() {
        // Nothing is saved: the lines of the checkpoint may not have been written.
        checkpoint.take();
        return stdout_closed(e);
    }
    if let (Some(path), Some(cp)) = (&args.state_file, checkpoint.take()) {
        output::save_state(path, &cp)
            .map_err(|e| format!("saving the state file {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Lifecycle events, one line each on stderr.
fn report(event: &Lifecycle) {
    match event {
        Lifecycle::Connected { subscription_id } => {
            note!("connected (subscription {subscription_id})");
        }
        Lifecycle::Reconnecting {
            attempt,
            delay,
            cause,
        } => note!(
            "reconnecting in {} ms (attempt {attempt}): {}",
            delay.as_millis(),
            chain(cause)
        ),
        Lifecycle::Reconnected {
            subscription_id,
            missed,
        } => {
            note!("reconnected (subscription {subscription_id}; {missed} missed labels delivered)")
        }
        Lifecycle::CatchUpFailed { error } => {
            note!("could not fetch the labels missed: {}", chain(error));
        }
        Lifecycle::Closed => note!("closed"),
        other => note!("{other:?}"),
    }
}

/// An error and its sources, `outer: inner: innermost`.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A channel that receives a reason on SIGINT or SIGTERM, and, with `exit_on_eof`, when
/// standard input ends.
fn stop_signals(exit_on_eof: bool) -> Result<Receiver<&'static str>, Failure> {
    let (tx, rx) = bounded(2);
    let on_signal = tx.clone();
    ctrlc::set_handler(move || {
        let _ = on_signal.try_send("signal received");
    })?;
    if exit_on_eof {
        std::thread::Builder::new()
            .name("stdin-watch".into())
            .spawn(move || {
                // Whatever is typed is ignored; only the end of input matters.
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = tx.try_send("end of input");
            })?;
    }
    Ok(rx)
}
