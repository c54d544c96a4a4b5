//! Keys and secrets: a new key replaces the data file's, signed upload URLs are good for one
//! upload within their lifetime, and another user's file is answered as a missing one.

use std::time::Duration;

use kili_local_server::LocalServer;
use serde_json::json;

use crate::persistence::temp_dir;
use crate::support::*;

const SIGNED: &str =
    "query($filePaths: [String!]) { urls: createUploadBucketSignedUrls(filePaths: $filePaths) }";

#[test]
fn a_new_api_key_replaces_the_data_files_key() {
    let dir = temp_dir("new-key");
    let file = dir.join("kili.jsonl");
    let first = LocalServer::builder()
        .api_key("k1")
        .data_file(&file)
        .start()
        .unwrap();
    let p = create_project(&first, "k1", "mine");
    first.stop();
    let again = LocalServer::builder()
        .api_key("k2")
        .data_file(&file)
        .start()
        .unwrap();
    let (status, _) = post(&again, Some("k1"), &json!({"query": "{ viewer { id } }"}));
    assert_eq!(status, 401, "the old key no longer works");
    let found = gql_as(
        &again,
        "k2",
        "query($w: ProjectWhere!) { data: countProjects(where: $w) }",
        json!({"w": {"id": p}}),
    );
    assert_eq!(found["data"], 1, "the new key is the same user's");
    again.stop();
    let restarted = LocalServer::builder().data_file(&file).start().unwrap();
    assert_eq!(
        restarted.api_key(),
        "k2",
        "and it is the data file's key from now on"
    );
    restarted.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

fn signed_url(server: &LocalServer, key: &str) -> String {
    let p = create_project(server, key, "files");
    let data = gql_as(
        server,
        key,
        SIGNED,
        json!({"filePaths": [format!("projects/{p}/assets/x/content")]}),
    );
    data["urls"][0].as_str().unwrap().to_owned()
}

fn put(url: &str, body: &[u8]) -> u16 {
    agent()
        .put(url.split("&id=").next().unwrap())
        .send(body)
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn a_signed_url_is_good_for_one_upload() {
    let server = LocalServer::builder().api_key("k").start().unwrap();
    let url = signed_url(&server, "k");
    assert_eq!(put(&url, b"first"), 200);
    assert_eq!(put(&url, b"second"), 403, "used already");
    let mut resp = agent()
        .get(&url)
        .header("Authorization", "X-API-Key: k")
        .call()
        .unwrap();
    assert_eq!(resp.body_mut().read_to_vec().unwrap(), b"first");
}

#[test]
fn a_signed_url_expires() {
    let server = LocalServer::builder()
        .api_key("k")
        .upload_url_lifetime(Duration::ZERO)
        .start()
        .unwrap();
    let url = signed_url(&server, "k");
    assert_eq!(put(&url, b"late"), 403);
}

#[test]
fn another_users_file_is_answered_as_a_missing_one() {
    let server = LocalServer::builder()
        .api_key("k")
        .user("k2", "two@x.y")
        .start()
        .unwrap();
    let url = signed_url(&server, "k");
    assert_eq!(put(&url, b"mine"), 200);
    let status = |key: &str, url: &str| {
        agent()
            .get(url)
            .header("Authorization", format!("X-API-Key: {key}"))
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    let missing = url.replace("/content?", "/other?");
    assert_eq!(status("k2", &url), status("k2", &missing));
    assert_eq!(status("k2", &url), 404);
}
