//! The tutorial's flow with the blocking client, rendering the library's progress reports with
//! `indicatif`: create a project, import assets, read them back, label them, count the labels.
//!
//! Runs against an in-process local server, so it needs no account:
//!
//! ```text
//! cargo run --example import_with_progress
//! ```
//!
//! Set `KILI_API_KEY` (and `KILI_API_ENDPOINT`) to run it against Kili instead.

use indicatif::{ProgressBar, ProgressStyle};
use kili::{AssetQuery, InputType, Kili, LabelQuery, LabelType, NewAssets, NewLabels, NewProject};
use kili_local_server::LocalServer;
use serde_json::json;

/// A progress observer drawing on a fresh bar; the library itself never prints.
fn bar(message: &'static str) -> impl Fn(u64, u64) + Send + Sync + 'static {
    let bar = ProgressBar::new(0).with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done == total {
            bar.finish();
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    // Keep the server alive for the whole run when we started one.
    let (kili, _server) = match std::env::var("KILI_API_KEY") {
        Ok(_) => (Kili::from_env()?, None),
        Err(_) => {
            let server = LocalServer::start()?;
            (
                Kili::new(server.api_key(), server.endpoint())?,
                Some(server),
            )
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

    let n = 1_000;
    let contents: Vec<String> = (0..n)
        .map(|i| format!("https://example.com/car_{i}.jpg"))
        .collect();
    let external_ids: Vec<String> = (0..n).map(|i| format!("car_{i}")).collect();
    let asset_ids = kili.append_many_to_dataset(
        &NewAssets::new(&project, contents)
            .external_ids(external_ids)
            .progress(bar("importing assets")),
    )?;

    let assets = kili
        .assets(&AssetQuery::new(&project).fields(["id", "externalId"]))?
        .with_progress(bar("reading assets"))
        .collect_all()?;
    assert_eq!(assets.len(), asset_ids.len());

    let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
    kili.append_labels(
        &NewLabels::for_assets(
            asset_ids.iter().cloned(),
            asset_ids.iter().map(|_| response.clone()),
        )
        .label_type(LabelType::Inference)
        .progress(bar("adding labels")),
    )?;

    let count = kili.count_labels(&LabelQuery::new(&project))?;
    println!("{count} labels");
    kili.delete_project(&project)?;
    Ok(())
}
