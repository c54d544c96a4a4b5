//! Connect, create a project, import an asset, label it, read it back, and watch labels arrive,
//! on an embedded Kili emulator: `cargo run --example quickstart` (no account needed).
use std::time::Duration;

use kili::{InputType, Kili, LabelQuery, NewAssets, NewLabels, NewProject};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = kili_local_server::LocalServer::start()?; // on Kili: Kili::from_env()?
    let kili = Kili::new(server.api_key(), server.endpoint())?;
    let project = kili.create_project(&NewProject::new("Quick start", InputType::Image))?;
    let assets = kili.append_many_to_dataset(&NewAssets::new(&project, ["https://x.io/a.jpg"]))?;

    let (tx, rx) = crossbeam_channel::unbounded();
    let sub = kili.label_created_or_updated(&project, move |event| {
        let _ = tx.send(event.label().id().to_owned());
    })?;
    let car = json!({"JOB_0": {"categories": [{"name": "CAR"}]}});
    kili.append_labels(&NewLabels::for_assets(&project, assets, [car]))?;
    let seen = rx.recv_timeout(Duration::from_secs(10))?;
    println!("the subscription saw label {seen}");

    for label in kili.labels(&LabelQuery::new(&project))? {
        let label = label?;
        println!("read back {}: {:?}", label.id(), label.json_response());
    }
    sub.close()?;
    kili.delete_project(&project)?;
    Ok(())
}
