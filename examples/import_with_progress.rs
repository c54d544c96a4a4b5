//! The tutorial's flow with the blocking client, rendering the library's progress reports with
//! `indicatif`: create a project, import assets, read them back, label them, count the labels.
//!
//! Runs against an in-process local server, so it needs no account:
//!
//! ```text
//! cargo run --example import_with_progress [-- --keep]
//! ```
//!
//! Set `KILI_API_KEY` (and `KILI_API_ENDPOINT`) to run it against Kili instead. It deletes the
//! project it created at the end, also when a step after its creation failed, so that a real
//! account is left as it was; `--keep` keeps it. (Against the in-process server the deletion
//! is harmless, and done all the same: the example runs one way everywhere.)
//!
//! It exits with status 1 on an error, printed with its chain of causes, and 2 for a bad
//! command line.

use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use kili::{AssetQuery, InputType, Kili, LabelQuery, LabelType, NewAssets, NewLabels, NewProject};
use kili_local_server::LocalServer;
use serde_json::json;

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage: import_with_progress [--keep]";

/// A progress observer drawing on a fresh bar; the library itself never prints.
fn bar(message: &'static str) -> impl Fn(u64, u64) + Send + Sync + 'static {
    let bar = ProgressBar::new(0).with_message(message);
    // The template is a constant; should indicatif ever refuse it, the default style is fine.
    if let Ok(style) = ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done == total {
            bar.finish();
        }
    }
}

fn main() -> ExitCode {
    env_logger::init();
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
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("import_with_progress failed: {}", chain(&*e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `outer: inner: innermost`.
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

/// Creates the project, fills it, and deletes it (unless `keep`) whatever happened meanwhile.
fn run(keep: bool) -> Outcome<()> {
    // Keep the server alive for the whole run when we started one.
    let (kili, _server) = match std::env::var("KILI_API_KEY") {
        Ok(key) if !key.trim().is_empty() => (Kili::from_env()?, None),
        _ => {
            let server = LocalServer::start()?;
            // Talk to 127.0.0.1 directly even if the environment names an HTTP proxy.
            let kili = Kili::builder()
                .api_key(server.api_key())
                .endpoint(server.endpoint())
                .proxy_from_env(false)
                .build()?;
            (kili, Some(server))
        }
    };

    let interface = json!({"jobs": {"JOB_0": {
        "mlTask": "CLASSIFICATION", "required": 1, "content": {"input": "radio", "categories": {
            "OBJECT_A": {"name": "Object A", "children": []},
            "OBJECT_B": {"name": "Object B", "children": []}}}}}});
    let project = kili.create_project(
        &NewProject::new("Progress demo", InputType::Image).json_interface(interface),
    )?;
    println!("project {project}");

    let outcome = fill(&kili, &project);
    if keep {
        println!("kept project {project} (--keep)");
        return outcome;
    }
    match kili.delete_project(&project) {
        Ok(_) => {
            println!("deleted project {project}");
            outcome
        }
        Err(e) => {
            eprintln!(
                "could not delete project {project} (delete it by hand): {}",
                chain(&e)
            );
            // The run's own failure, if any, is the one to report.
            outcome.and(Err(e.into()))
        }
    }
}

/// Imports 1,000 assets, reads them back and labels each, with a progress bar per step.
fn fill(kili: &Kili, project: &str) -> Outcome<()> {
    let n = 1_000;
    let contents: Vec<String> = (0..n)
        .map(|i| format!("https://example.com/car_{i}.jpg"))
        .collect();
    let external_ids: Vec<String> = (0..n).map(|i| format!("car_{i}")).collect();
    let asset_ids = kili.append_many_to_dataset(
        &NewAssets::new(project, contents)
            .external_ids(external_ids)
            .progress(bar("importing assets")),
    )?;

    let assets = kili
        .assets(&AssetQuery::new(project).fields(["id", "externalId"]))?
        .progress(bar("reading assets"))
        .collect_all()?;
    if assets.len() != asset_ids.len() {
        return Err(format!(
            "read {} assets back, {} were imported",
            assets.len(),
            asset_ids.len()
        )
        .into());
    }

    let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
    kili.append_labels(
        &NewLabels::for_assets(
            project,
            asset_ids.iter().cloned(),
            asset_ids.iter().map(|_| response.clone()),
        )
        .label_type(LabelType::Inference)
        .progress(bar("adding labels")),
    )?;

    let count = kili.count_labels(&LabelQuery::new(project))?;
    println!("{count} labels");
    Ok(())
}
