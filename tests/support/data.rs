//! The one data set-up of the tests, through the client's typed API: projects, assets and
//! labels as a user of the crate creates them.

use kili::{InputType, Kili, LabelType, NewAssets, NewLabels, NewProject};
use serde_json::{Value, json};

/// An image the tutorial labels.
pub const URL: &str = "https://storage.googleapis.com/label-public-staging/car/car_1.jpg";

/// A project with `n` assets (external ids `asset-0`, `asset-1`, ...); returns the project id
/// and the asset ids, in order.
pub fn project_with_assets(kili: &Kili, n: usize) -> (String, Vec<String>) {
    let project = kili
        .create_project(&NewProject::new("test project", InputType::Image))
        .expect("project created");
    if n == 0 {
        return (project, Vec::new());
    }
    let contents: Vec<String> = (0..n)
        .map(|i| format!("https://example.com/{i}.jpg"))
        .collect();
    let external: Vec<String> = (0..n).map(|i| format!("asset-{i}")).collect();
    let ids = kili
        .append_many_to_dataset(&NewAssets::new(&project, contents).external_ids(external))
        .expect("assets appended");
    assert_eq!(ids.len(), n);
    (project, ids)
}

/// A project with one asset (external id `asset-0`); returns (project id, asset id).
pub fn project_with_asset(kili: &Kili) -> (String, String) {
    let (project, mut assets) = project_with_assets(kili, 1);
    (project, assets.remove(0))
}

/// The label the set-up appends: category `OBJECT_A` of the classification job `JOB_0`.
pub fn response() -> Value {
    json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}})
}

/// Appends `n` INFERENCE labels ([`response`]) to `asset` of `project` in one call; returns
/// their ids.
pub fn append_labels(kili: &Kili, project: &str, asset: &str, n: usize) -> Vec<String> {
    let labels = NewLabels::for_assets(project, vec![asset; n], vec![response(); n])
        .label_type(LabelType::Inference);
    let ids = kili.append_labels(&labels).expect("labels appended");
    assert_eq!(ids.len(), n);
    ids
}

/// Appends one INFERENCE label to `asset` of `project`; returns its id.
pub fn append_label(kili: &Kili, project: &str, asset: &str) -> String {
    append_response(kili, project, asset, response())
}

/// Appends one INFERENCE label with this `jsonResponse` to `asset` of `project`; returns its id.
pub fn append_response(kili: &Kili, project: &str, asset: &str, response: Value) -> String {
    let labels =
        NewLabels::for_assets(project, [asset], [response]).label_type(LabelType::Inference);
    kili.append_labels(&labels)
        .expect("label appended")
        .remove(0)
}
