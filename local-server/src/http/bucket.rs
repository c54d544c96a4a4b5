//! The bucket over HTTP: `PUT` to a signed URL stores a file, `GET` (or `HEAD`) with an API key
//! reads it back, by its bucket path (the signed URL an asset's `content` holds) or by its id
//! (`/api/label/v2/files?id=...`, the URL the SDK makes of a video frame's signed URL).
//!
//! Both live under `/api/label/v2`, like the endpoint: the SDK's HTTP client adds the API key
//! to requests under it, so it sends its key when it reads an asset's content, as against Kili.

use super::auth::authenticate;
use super::message::{RequestHead, Response};
use crate::shared::Shared;
use crate::store::{BUCKET_PATH, BucketError, SIGNATURE};

fn refuse(e: BucketError) -> Response {
    Response::graphql_error(e.status, e.code, &e.message)
}

/// Returns the bucket path of a request under `/api/label/v2/bucket/`.
fn bucket_path(head: &RequestHead) -> &str {
    head.path
        .strip_prefix(BUCKET_PATH)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or_default()
}

/// Checks an upload's signed URL from its head, before its body is read.
pub(crate) fn admit_upload(head: &RequestHead, shared: &Shared) -> Result<(), Response> {
    shared
        .state
        .may_upload(
            bucket_path(head),
            head.query_param(SIGNATURE),
            shared.config.upload_url_lifetime,
        )
        .map_err(refuse)
}

/// Serves `/api/label/v2/bucket/<path>`.
pub(crate) fn bucket(head: &RequestHead, body: Vec<u8>, shared: &Shared) -> Response {
    let path = bucket_path(head);
    match head.method.as_str() {
        "PUT" => match shared.state.put_file(
            path,
            head.query_param(SIGNATURE),
            head.header("content-type"),
            body,
            shared.config.upload_url_lifetime,
        ) {
            Ok(()) => Response::bytes(200, None, Vec::new()),
            Err(e) => refuse(e),
        },
        "GET" | "HEAD" => read(head, shared, Some(path), head.query_param("id")),
        _ => Response::method_not_allowed("GET, HEAD, PUT"),
    }
}

/// Serves `/api/label/v2/files?id=<fileId>`.
pub(crate) fn files(head: &RequestHead, shared: &Shared) -> Response {
    match head.method.as_str() {
        "GET" | "HEAD" => match head.query_param("id") {
            Some(id) => read(head, shared, None, Some(id)),
            None => Response::graphql_error(400, "BAD_REQUEST", "give the file as ?id=<fileId>"),
        },
        _ => Response::method_not_allowed("GET, HEAD"),
    }
}

fn read(head: &RequestHead, shared: &Shared, path: Option<&str>, id: Option<&str>) -> Response {
    let user = match authenticate(head, shared) {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    match shared.state.get_file(&user.id, path, id) {
        Ok(blob) => {
            let resp = Response::bytes(200, blob.content_type.as_deref(), blob.body.to_vec());
            if head.method == "HEAD" {
                resp.head_only()
            } else {
                resp
            }
        }
        Err(e) => refuse(e),
    }
}
