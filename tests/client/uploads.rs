//! Importing what is not a URL: raw text, local files and JSON contents are uploaded through
//! signed URLs as the SDK does, then served back by the local server byte for byte.

use std::path::PathBuf;

use crate::support::*;
use kili::{AssetContent, AssetQuery, Error, InputType, Kili, NewAssets, NewProject};
use kili_local_server::LocalServer;
use serde_json::{Value, json};

fn project(kili: &Kili, input_type: InputType) -> String {
    kili.create_project(&NewProject::new("uploads", input_type))
        .expect("project created")
}

/// Reads a URL with the API key, as the SDK reads an asset's content.
fn fetch(server: &LocalServer, url: &str) -> (Option<String>, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let mut resp = agent
        .get(url)
        .header("Authorization", format!("X-API-Key: {}", server.api_key()))
        .call()
        .expect("the content is served");
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (content_type, resp.body_mut().read_to_vec().unwrap())
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kili-client-uploads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn field(asset: &kili::Asset, name: &str) -> String {
    asset.extra()[name].as_str().unwrap_or_default().to_owned()
}

#[test]
fn raw_text_in_a_text_project_is_uploaded_as_the_sdk_does() {
    let server = server();
    let kili = client(&server);
    let p = project(&kili, InputType::Text);
    let m = mark(&server);
    let ids = kili
        .append_many_to_dataset(
            &NewAssets::new(&p, ["Hello, émulateur!", "https://example.com/a.txt"])
                .external_ids(["t1", "t2"])
                .json_metadata([json!({"n": 1}), json!({"n": 2})]),
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        calls_since(&server, &m),
        [
            "projects",
            "viewer",
            "countOrganizations",
            "organizations",
            "filterExistingAssets",
            "createUploadBucketSignedUrls",
            "appendManyAssets"
        ]
    );
    let reqs = requests_since(&server, &m);
    assert_eq!(
        reqs[5].variables,
        json!({"filePaths": [format!("projects/{p}/assets/{}/content", ids[0])]}),
        "only the text is uploaded, at the SDK's path"
    );
    let content = reqs[6].variables["data"]["contentArray"].clone();
    assert!(content[0].as_str().unwrap().contains("&id="), "{content}");
    assert_eq!(content[1], "https://example.com/a.txt", "URLs are kept");

    let assets = kili
        .assets(&AssetQuery::new(&p).fields(["id", "externalId", "content", "jsonMetadata"]))
        .unwrap()
        .collect_all()
        .unwrap();
    let t1 = assets.iter().find(|a| a.id() == ids[0]).unwrap();
    let (content_type, body) = fetch(&server, t1.content().unwrap());
    assert_eq!(String::from_utf8(body).unwrap(), "Hello, émulateur!");
    assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(t1.json_metadata(), &json!({"n": 1}));
}

#[test]
fn local_files_are_uploaded_byte_for_byte_with_their_content_type() {
    let server = server();
    let kili = client(&server);
    let p = project(&kili, InputType::Image);
    let png: Vec<u8> = [0x89, b'P', b'N', b'G', 13, 10, 26, 10]
        .into_iter()
        .chain(0..=255)
        .collect();
    let path = temp_file("pixel.png", &png);
    let ids = kili
        .append_many_to_dataset(&NewAssets::with_contents(&p, [AssetContent::file(&path)]))
        .unwrap();
    let asset = kili
        .assets(&AssetQuery::new(&p).fields(["id", "content"]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(asset[0].id(), ids[0]);
    let (content_type, body) = fetch(&server, asset[0].content().unwrap());
    assert_eq!(body, png);
    assert_eq!(content_type.as_deref(), Some("image/png"));

    // A path given as a string is recognised as a file, as the SDK does.
    let pdf_project = project(&kili, InputType::Pdf);
    let pdf = temp_file("doc.pdf", b"%PDF-1.4 tiny");
    kili.append_many_to_dataset(&NewAssets::new(&pdf_project, [pdf.to_str().unwrap()]))
        .unwrap();
    let asset = kili
        .assets(&AssetQuery::new(&pdf_project).fields(["content"]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(
        fetch(&server, asset[0].content().unwrap()).1,
        b"%PDF-1.4 tiny"
    );
}

#[test]
fn json_contents_are_uploaded_for_rich_text_and_video_frames() {
    let server = server();
    let kili = client(&server);
    let text = project(&kili, InputType::Text);
    let rich = json!([{"type": "p", "children": [{"text": "Rich", "bold": true}]}]);
    kili.append_many_to_dataset(&NewAssets::from_json_contents(&text, [rich.clone()]))
        .unwrap();
    let a = kili
        .assets(&AssetQuery::new(&text).fields(["id", "jsonContent"]))
        .unwrap()
        .collect_all()
        .unwrap();
    let body = fetch(&server, &field(&a[0], "jsonContent")).1;
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), rich);

    let video = project(&kili, InputType::Video);
    let frames = [
        temp_file("f0.png", b"frame zero"),
        temp_file("f1.png", b"frame one"),
    ];
    let m = mark(&server);
    kili.append_many_to_dataset(&NewAssets::from_json_contents(
        &video,
        [json!([
            frames[0].to_str().unwrap(),
            "https://example.com/hosted.png",
            frames[1].to_str().unwrap()
        ])],
    ))
    .unwrap();
    assert_eq!(
        calls_since(&server, &m),
        [
            "projects",
            "createUploadBucketSignedUrls",
            "createUploadBucketSignedUrls",
            "appendManyAssets"
        ],
        "frames first, then the index; no license check (as the SDK: no local content)"
    );
    let a = kili
        .assets(&AssetQuery::new(&video).fields(["id", "jsonContent", "jsonMetadata"]))
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(a[0].json_metadata(), &json!({"processingParameters": {}}));
    let index: Value =
        serde_json::from_slice(&fetch(&server, &field(&a[0], "jsonContent")).1).unwrap();
    assert_eq!(index["1"], "https://example.com/hosted.png");
    let frame0 = index["0"].as_str().unwrap();
    assert!(frame0.contains("/api/label/v2/files?id="), "{frame0}");
    assert_eq!(fetch(&server, frame0).1, b"frame zero");
    assert_eq!(fetch(&server, index["2"].as_str().unwrap()).1, b"frame one");
}

#[test]
fn refused_uploads_are_clear_errors() {
    let server = server();
    let kili = client(&server);
    let image = project(&kili, InputType::Image);
    let e = kili
        .append_many_to_dataset(&NewAssets::new(&image, ["not a url nor a file"]))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    let e = kili
        .append_many_to_dataset(&NewAssets::with_contents(&image, [AssetContent::text("x")]))
        .unwrap_err();
    assert!(e.to_string().contains("TEXT"), "{e}");
    let missing = std::env::temp_dir().join("kili-no-such-file.png");
    let e = kili
        .append_many_to_dataset(&NewAssets::with_contents(
            &image,
            [AssetContent::file(missing)],
        ))
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert_eq!(kili.count_assets(&AssetQuery::new(&image)).unwrap(), 0);

    let forbidding = LocalServer::builder()
        .api_key(KEY)
        .upload_local_data(false)
        .start()
        .unwrap();
    let kili = client(&forbidding);
    let text = project(&kili, InputType::Text);
    let e = kili
        .append_many_to_dataset(&NewAssets::new(&text, ["some text"]))
        .unwrap_err();
    assert!(e.to_string().contains("uploadLocalData"), "{e}");
    // Hosted content needs no license.
    kili.append_many_to_dataset(&NewAssets::new(&text, ["https://example.com/a.txt"]))
        .unwrap();
}
