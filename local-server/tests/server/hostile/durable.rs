//! Durable means durable: a write cut short is cut back off the data file, a file served from
//! the bucket is the one uploaded, the data file and uploads are private to their owner, and the
//! program says what it had to repair.

use std::process::Command;

use kili_local_server::LocalServer;
use serde_json::json;

use super::program::Program;
use crate::persistence::temp_dir;
use crate::support::*;

const SIGNED: &str =
    "query($filePaths: [String!]) { urls: createUploadBucketSignedUrls(filePaths: $filePaths) }";

/// Sets the soft file-size limit of process `pid` (`prlimit`), in bytes.
fn file_size_limit(pid: u32, soft: Option<u64>) {
    let soft = soft.map_or("unlimited".to_owned(), |b| b.to_string());
    let status = Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            &format!("--fsize={soft}:unlimited"),
        ])
        .status()
        .expect("prlimit (util-linux)");
    assert!(status.success());
}

fn post_to(program: &Program, query: &str, variables: serde_json::Value) -> serde_json::Value {
    let mut resp = agent()
        .post(&program.endpoint)
        .header("Authorization", format!("X-API-Key: {}", program.key))
        .send_json(json!({"query": query, "variables": variables}))
        .unwrap();
    resp.body_mut().read_json().unwrap()
}

#[test]
fn a_write_cut_short_by_a_full_disk_leaves_a_data_file_that_starts() {
    let dir = temp_dir("full-disk");
    let file = dir.join("kili.jsonl");
    let file_arg = file.to_str().unwrap();
    // Writes past the file-size limit fail (EFBIG) instead of killing the program (SIGXFSZ).
    let server = Program::start(
        &["--data-file", file_arg, "--api-key", "k"],
        Some("trap '' XFSZ"),
    );
    let project = post_to(
        &server,
        CREATE_PROJECT,
        json!({"data": {"title": "kept", "inputType": "TEXT"}}),
    );
    let project = project["data"]["data"]["id"].as_str().unwrap().to_owned();
    let assets = post_to(
        &server,
        APPEND_ASSETS,
        json!({"data": {"contentArray": ["x"]}, "where": {"id": project}}),
    );
    let asset = assets["data"]["data"][0]["id"].as_str().unwrap().to_owned();
    // The disk fills up in the middle of a large write: refused, nothing applied.
    let size = std::fs::metadata(&file).unwrap().len();
    file_size_limit(server.pid(), Some(size + 1000));
    let big = json!({"JOB": "x".repeat(20_000)}).to_string();
    let labels = json!([{"assetID": asset, "jsonResponse": big}]);
    let refused = post_to(
        &server,
        APPEND_LABELS,
        json!({"data": {"labelType": "PREDICTION", "labelsData": labels}, "where": {"id": asset}}),
    );
    assert!(refused["errors"].is_array(), "{refused:.300}");
    // Room again: the next write is answered, and lands after the last whole line.
    file_size_limit(server.pid(), None);
    let labels = json!([{"assetID": asset, "jsonResponse": "{}"}]);
    let ok = post_to(
        &server,
        APPEND_LABELS,
        json!({"data": {"labelType": "PREDICTION", "labelsData": labels}, "where": {"id": asset}}),
    );
    assert!(ok.get("errors").is_none(), "{ok:.300}");
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
    let again = LocalServer::builder()
        .api_key("k")
        .data_file(&file)
        .start()
        .unwrap_or_else(|e| panic!("the data file does not start: {e}"));
    let count = gql(
        &again,
        "query($w: LabelWhere!) { data: countLabels(where: $w) }",
        json!({"w": {"project": {"id": project}}}),
    );
    assert_eq!(
        count["data"], 1,
        "the refused write is not there, the next one is"
    );
    again.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts a server on `file` with key `k`.
fn on_file(file: &std::path::Path) -> LocalServer {
    LocalServer::builder()
        .api_key("k")
        .data_file(file)
        .start()
        .unwrap()
}

/// Uploads `body` to a new file of a new project; returns the project and the signed URL.
fn upload(server: &LocalServer, body: &[u8]) -> (String, String) {
    let p = create_project(server, "k", "files");
    let data = gql(
        server,
        SIGNED,
        json!({"filePaths": [format!("projects/{p}/assets/x/content")]}),
    );
    let url = data["urls"][0].as_str().unwrap().to_owned();
    let put = agent()
        .put(url.split("&id=").next().unwrap())
        .header("Content-Type", "text/plain")
        .send(body)
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    (p, url)
}

#[test]
fn a_stored_file_cut_short_is_not_served_as_the_upload() {
    let dir = temp_dir("cut-file");
    let file = dir.join("kili.jsonl");
    let server = on_file(&file);
    let (p, url) = upload(&server, b"the whole body, 30 bytes long!");
    server.stop();
    let blobs: Vec<_> = std::fs::read_dir(dir.join("kili.jsonl.files").join(&p))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    std::fs::write(&blobs[0], b"the whole").unwrap();
    let server = on_file(&file);
    let resp = agent()
        .get(&url.replace(
            &url[7..url.find("/api").unwrap()],
            &server.addr().to_string(),
        ))
        .header("Authorization", "X-API-Key: k")
        .call()
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        500,
        "a damaged file is refused, not served short"
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn the_data_file_and_uploads_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("private");
    let file = dir.join("kili.jsonl");
    let server = on_file(&file);
    let (p, _) = upload(&server, b"secret");
    server.stop();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600, "the data file");
    let files = dir.join("kili.jsonl.files");
    assert_eq!(mode(&files), 0o700, "the uploads' folder");
    assert_eq!(mode(&files.join(&p)), 0o700, "a project's folder");
    for blob in std::fs::read_dir(files.join(&p)).unwrap() {
        assert_eq!(mode(&blob.unwrap().path()), 0o600, "an upload");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_program_warns_of_what_it_repairs() {
    let dir = temp_dir("warns");
    let file = dir.join("kili.jsonl");
    let server = on_file(&file);
    server.stop();
    let mut torn = std::fs::read(&file).unwrap();
    torn.extend_from_slice(br#"{"changes":[{"type":"us"#);
    std::fs::write(&file, &torn).unwrap();
    let program = Program::start(&["--data-file", file.to_str().unwrap()], None);
    let (status, stderr) = program.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("WARN") && stderr.contains("cut-short"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
