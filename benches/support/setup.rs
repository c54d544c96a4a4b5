//! Data set-up through the client.

use kili::{InputType, Kili, NewAssets, NewLabels, NewProject};
use serde_json::{Value, json};

/// A client for a local server: no rate limit (a bench measures the client, not the
/// limiter; Kili's default is 500 calls a minute), no proxy from the environment.
pub fn client(endpoint: &str, api_key: &str) -> Kili {
    Kili::builder()
        .api_key(api_key)
        .endpoint(endpoint)
        .rate_limit(None)
        .proxy_from_env(false)
        .build()
        .expect("a client for the local server")
}

/// The tutorial's label response.
pub fn response() -> Value {
    json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}})
}

/// A project with `assets` assets; returns the project id and the asset ids.
pub fn project(kili: &Kili, title: &str, assets: usize) -> (String, Vec<String>) {
    let interface = json!({"jobs": {"JOB_0": {"mlTask": "CLASSIFICATION", "required": 1,
        "content": {"categories": {"OBJECT_A": {"name": "Object A", "children": []}},
        "input": "radio"}}}});
    let project = kili
        .create_project(&NewProject::new(title, InputType::Image).json_interface(interface))
        .expect("creating the bench project");
    let contents = (0..assets).map(|i| format!("https://example.com/car_{i}.jpg"));
    let ids = kili
        .append_many_to_dataset(
            &NewAssets::new(&project, contents)
                .external_ids((0..assets).map(|i| format!("car_{i}"))),
        )
        .expect("adding the bench assets");
    (project, ids)
}

/// `n` labels spread over `assets` of `project`, round robin.
pub fn labels(project: &str, assets: &[String], n: usize) -> NewLabels {
    let targets = (0..n).map(|i| assets[i % assets.len()].clone());
    NewLabels::for_assets(project, targets, (0..n).map(|_| response()))
}
