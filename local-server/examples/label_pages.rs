//! What reading many labels page by page costs the server: appends N labels (100,000 by
//! default) to one project, then reads them all as the SDK does (`labels(where, first: 100,
//! skip)`, sequential pages) and prints the time of pages at the start, middle and end, and of
//! the whole read. Run it in release mode:
//!
//! ```text
//! cargo run --release -p kili-local-server --example label_pages [-- N [shuffle]]
//! ```
//!
//! `shuffle` turns on `shuffle_label_pages` (pages in a hash order of the label ids).
//!
//! With keyset paging each page costs the same wherever it is; a server that scans and drops
//! `skip` labels per page gets slower page after page (O(N²) for the whole read).

use std::time::{Duration, Instant};

use kili_local_server::LocalServer;
use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 100_000,
    };
    let shuffle = std::env::args().nth(2).as_deref() == Some("shuffle");
    let server = LocalServer::builder()
        .api_key("bench")
        .shuffle_label_pages(shuffle)
        .start()?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let post = |query: &str, variables: Value| -> Result<Value, Box<dyn std::error::Error>> {
        let mut resp = agent
            .post(server.endpoint())
            .header("Authorization", "X-API-Key: bench")
            .send_json(json!({"query": query, "variables": variables}))?;
        let body: Value = resp.body_mut().read_json()?;
        if let Some(errors) = body.get("errors") {
            return Err(format!("graphql errors: {errors}").into());
        }
        Ok(body["data"].clone())
    };
    let project = post(
        "mutation($data: CreateProjectData!) { data: createProject(data: $data) { id } }",
        json!({"data": {"title": "pages", "inputType": "IMAGE", "jsonInterface": "{}"}}),
    )?["data"]["id"]
        .as_str()
        .ok_or("no project id")?
        .to_owned();
    let assets: Vec<String> = post(
        "mutation($data: AppendManyAssetsData!, $where: ProjectWhere!) { data: appendManyAssets(data: $data, where: $where) { id } }",
        json!({"data": {"contentArray": (0..100).map(|i| format!("https://example.com/{i}.jpg")).collect::<Vec<_>>()}, "where": {"id": project}}),
    )?["data"]
        .as_array()
        .ok_or("no assets")?
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect();
    let started = Instant::now();
    let mut written = 0;
    while written < n {
        let count = (n - written).min(1000);
        let labels: Vec<Value> = (written..written + count)
            .map(|i| json!({"assetID": assets[i % assets.len()], "jsonResponse": "{\"JOB_0\":{\"categories\":[{\"name\":\"A\"}]}}"}))
            .collect();
        post(
            "mutation($data: AppendManyLabelsData!, $where: AssetWhere!) { data: appendManyLabels(data: $data, where: $where) { id } }",
            json!({"data": {"labelType": "PREDICTION", "labelsData": labels}, "where": {"idIn": assets}}),
        )?;
        written += count;
    }
    println!("appended {n} labels in {:.1?}", started.elapsed());

    // The SDK's read: the default where (project, and the asset filter scoped to it).
    let query = "query labels($where: LabelWhere!, $first: PageSize!, $skip: Int!) { data: labels(where: $where, first: $first, skip: $skip) { id jsonResponse labelType } }";
    let where_ = json!({"project": {"id": project}, "asset": {"project": {"id": project}, "label": {}, "issue": {}}});
    let started = Instant::now();
    let mut read = 0;
    let mut samples = Vec::new();
    loop {
        let t = Instant::now();
        let page = post(query, json!({"where": where_, "first": 100, "skip": read}))?;
        let took = t.elapsed();
        let got = page["data"].as_array().map_or(0, Vec::len);
        if read == 0 || read == n / 2 || read + 100 >= n {
            samples.push((read, took));
        }
        read += got;
        if got < 100 {
            break;
        }
    }
    let total = started.elapsed();
    println!(
        "read {read} labels in {} pages in {total:.2?}",
        read.div_ceil(100)
    );
    for (skip, took) in samples {
        println!("  page at skip {skip:>6}: {took:.2?}");
    }
    println!(
        "  mean page: {:.2?}",
        total / u32::try_from(read.div_ceil(100).max(1))?
    );
    Ok(())
}
