//! What the SDK checks and calls before importing local content: the organization's license,
//! signed URLs, and the bucket that takes the `PUT` and serves the content back.

use kili_local_server::LocalServer;
use serde_json::{Value, json};

use crate::support::*;

const ORGS: &str = "query organizations($where: OrganizationWhere!, $first: PageSize!, $skip: Int!) { data: organizations(where: $where, first: $first, skip: $skip) { license { uploadLocalData } id } }";
const COUNT_ORGS: &str = "query countOrganizations($where: OrganizationWhere!) { data: countOrganizations(where: $where) }";
const SIGNED: &str =
    "query($filePaths: [String!]) { urls: createUploadBucketSignedUrls(filePaths: $filePaths) }";

fn signed_urls(server: &LocalServer, key: &str, paths: &[String]) -> Vec<String> {
    let data = gql_as(server, key, SIGNED, json!({ "filePaths": paths }));
    data["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect()
}

/// `PUT`s `body` as the SDK does: to the URL cut before `&id=`.
fn put(url: &str, content_type: &str, body: &[u8]) -> u16 {
    let upload = url.split("&id=").next().unwrap();
    let resp = agent()
        .put(upload)
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    resp.status().as_u16()
}

/// `GET`s a URL with `key` (or none): status, content type and body.
fn get(url: &str, key: Option<&str>) -> (u16, Option<String>, Vec<u8>) {
    let mut req = agent().get(url);
    if let Some(k) = key {
        req = req.header("Authorization", format!("X-API-Key: {k}"));
    }
    let mut resp = req.call().unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.body_mut().read_to_vec().unwrap();
    (status, content_type, body)
}

#[test]
fn the_sdk_start_of_an_upload_finds_a_license_that_allows_it() {
    let server = LocalServer::builder().api_key("k").start().unwrap();
    let me = gql(&server, "query me { data: viewer { email } }", json!({}));
    let email = me["data"]["email"].as_str().unwrap().to_owned();
    let w = json!({"where": {"user": {"email": email}}});
    let count = gql(&server, COUNT_ORGS, w.clone());
    assert_eq!(count["data"], 1);
    let mut vars = w.clone();
    vars["first"] = json!(1);
    vars["skip"] = json!(0);
    let orgs = gql(&server, ORGS, vars);
    assert_eq!(orgs["data"][0]["license"]["uploadLocalData"], true);
    let nobody = gql(
        &server,
        COUNT_ORGS,
        json!({"where": {"user": {"email": "nobody@x"}}}),
    );
    assert_eq!(nobody["data"], 0);
}

#[test]
fn a_license_without_local_data_refuses_signed_urls() {
    let server = LocalServer::builder()
        .api_key("k")
        .upload_local_data(false)
        .start()
        .unwrap();
    let orgs = gql(&server, ORGS, json!({"where": {}, "first": 1, "skip": 0}));
    assert_eq!(orgs["data"][0]["license"]["uploadLocalData"], false);
    let p = create_project(&server, "k", "p");
    let (_, message, code) = gql_failure(
        &server,
        "k",
        SIGNED,
        json!({"filePaths": [format!("projects/{p}/assets/a/content")]}),
    );
    assert_eq!(code, "FORBIDDEN", "{message}");
}

#[test]
fn signed_urls_take_a_put_and_serve_it_back_to_the_owner_only() {
    let server = LocalServer::builder()
        .api_key("k")
        .user("k2", "other@x")
        .start()
        .unwrap();
    let p = create_project(&server, "k", "p");
    let paths: Vec<String> = (0..3)
        .map(|i| format!("projects/{p}/assets/c{i}/content"))
        .collect();
    let urls = signed_urls(&server, "k", &paths);
    assert_eq!(urls.len(), 3);
    for (url, path) in urls.iter().zip(&paths) {
        assert!(
            url.starts_with(&format!(
                "http://{}/api/label/v2/bucket/{path}?",
                server.addr()
            )),
            "{url}"
        );
        assert!(url.contains("&id="), "{url}");
    }
    let png = [0x89u8, b'P', b'N', b'G', 0, 1, 2, 255];
    // Without the signature: refused; with it: stored.
    let unsigned = format!("http://{}/api/label/v2/bucket/{}", server.addr(), paths[0]);
    let resp = agent().put(&unsigned).send(&png[..]).unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(put(&urls[0], "image/png", &png), 200);
    assert_eq!(
        put(&urls[1], "text/plain; charset=utf-8", "héllo".as_bytes()),
        200
    );

    let (status, content_type, body) = get(&urls[0], Some("k"));
    assert_eq!(
        (status, content_type.as_deref(), body.as_slice()),
        (200, Some("image/png"), &png[..]),
        "byte for byte, with its content type"
    );
    let (_, content_type, body) = get(&urls[1], Some("k"));
    assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(String::from_utf8(body).unwrap(), "héllo");
    assert_eq!(get(&urls[0], None).0, 401, "no key");
    assert_eq!(
        get(&urls[0], Some("k2")).0,
        404,
        "another user's file is answered as a missing one"
    );
    assert_eq!(get(&urls[2], Some("k")).0, 404, "nothing uploaded yet");
    // By id, as the SDK rewrites a video frame's URL.
    let id = urls[0].rsplit("&id=").next().unwrap();
    let by_id = format!("http://{}/api/label/v2/files?id={id}", server.addr());
    assert_eq!(get(&by_id, Some("k")).2, png);
    let head = agent()
        .head(&urls[0])
        .header("Authorization", "X-API-Key: k")
        .call()
        .unwrap();
    assert_eq!(head.headers()["content-type"], "image/png");
}

#[test]
fn signed_urls_need_a_project_of_the_caller_and_a_bucket_path() {
    let server = LocalServer::builder()
        .api_key("k")
        .user("k2", "other@x")
        .start()
        .unwrap();
    let p = create_project(&server, "k", "p");
    for (key, path) in [
        ("k2", format!("projects/{p}/assets/a")),
        ("k", "projects/unknown/assets/a".to_owned()),
        ("k", format!("projects/{p}/assets/../../etc")),
        ("k", "elsewhere/a".to_owned()),
    ] {
        let (_, message, code) = gql_failure(&server, key, SIGNED, json!({"filePaths": [path]}));
        assert!(
            code == "NO_ACCESS_RIGHTS" || code == "BAD_INPUT",
            "{path}: {code} {message}"
        );
    }
}

#[test]
fn signed_urls_follow_the_host_the_client_used() {
    let server = LocalServer::builder().api_key("k").start().unwrap();
    let p = create_project(&server, "k", "p");
    let mut resp = agent()
        .post(server.endpoint())
        .header("Authorization", "X-API-Key: k")
        .header("Host", format!("localhost:{}", server.addr().port()))
        .send_json(json!({"query": SIGNED, "variables": {"filePaths": [format!("projects/{p}/assets/a")]}}))
        .unwrap();
    let body: Value = resp.body_mut().read_json().unwrap();
    let url = body["data"]["urls"][0].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://localhost:{}/", server.addr().port())),
        "{url}"
    );
}
