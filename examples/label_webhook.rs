//! The webhooks tutorial in Rust: watch the labels of a project as they are created, pause,
//! resume, close and restart the subscription.
//!
//! Runs against the embedded local server, so it needs no account:
//!
//! ```text
//! cargo run --example label_webhook
//! ```
//!
//! Set `RUST_LOG=info` to see the subscription's connection log.

use std::time::{Duration, Instant};

use kili::local_server::LocalServer;
use kili::{Kili, Subscription};
use serde_json::json;

fn main() -> kili::Result<()> {
    env_logger::init();
    let server = LocalServer::builder().start()?;
    let kili = Kili::new(server.api_key(), server.endpoint())?;

    // A project with one asset, as the tutorial creates them.
    let interface = json!({"jobs": {"JOB_0": {"mlTask": "CLASSIFICATION", "required": 1, "content": {
        "categories": {"OBJECT_A": {"name": "Object A", "children": []},
                       "OBJECT_B": {"name": "Object B", "children": []}},
        "input": "radio"}}}});
    let project = kili.graphql(
        "mutation($data: CreateProjectData!) { data: createProject(data: $data) { id } }",
        json!({"data": {"title": "Webhook project", "description": "", "inputType": "IMAGE",
                        "jsonInterface": interface.to_string()}}),
    )?;
    let project_id = project["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    kili.graphql(
        "mutation($data: AppendManyAssetsData!, $where: ProjectWhere!) { data: appendManyAssets(data: $data, where: $where) { id } }",
        json!({"data": {"contentArray": ["https://storage.googleapis.com/label-public-staging/car/car_1.jpg"],
                        "externalIDArray": ["car_1"], "idArray": ["asset-car-1"]},
               "where": {"id": project_id}}),
    )?;
    let add_label = || {
        kili.graphql(
            "mutation($data: AppendManyLabelsData!, $where: AssetWhere!) { data: appendManyLabels(data: $data, where: $where) { id } }",
            json!({"data": {"labelType": "INFERENCE", "labelsData": [{"assetID": "asset-car-1",
                       "jsonResponse": json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}}).to_string()}]},
                   "where": {"idIn": ["asset-car-1"]}}),
        )
    };

    // The callback runs on the subscription's own thread for every label.
    let client = kili.label_created_or_updated(&project_id, |event| {
        println!("New data: {}\n", event.frame);
    })?;

    add_label()?;
    settle(&client);

    println!("paused: the next label is not printed");
    client.pause();
    add_label()?;
    settle(&client);

    println!("unpaused");
    client.unpause();
    add_label()?;
    settle(&client);

    println!("closed: the thread is gone; labels are not printed");
    client.close()?;
    add_label()?;

    client.reset_timeout()?;
    println!("reset_timeout: subscribed again");
    std::thread::sleep(Duration::from_secs(1));
    println!("Lifetime: {:?}", client.lifetime());
    println!("{:?}", client.stats());
    Ok(())
}

/// Waits (a little) until the subscription has seen every label made so far.
fn settle(client: &Subscription) {
    static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let made = MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.stats().received < made && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}
