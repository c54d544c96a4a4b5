//! Uploading content that is not a URL, as the SDK does before it appends assets: the
//! organization's license check, signed URLs from `createUploadBucketSignedUrls` (30 per
//! request), and a `PUT` of each body to its URL cut before `&id=`. The signed URL (with its
//! `&id=`) is what the asset's `content` (or `jsonContent`) then holds.
//!
//! Uses no other operation file; `assets` uses it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::client::Kili;
use crate::client::retry::{self, Safety};
use crate::error::{Error, Result};
use crate::models::InputType;

pub(crate) const CREATE_UPLOAD_BUCKET_SIGNED_URLS: &str = "query($filePaths: [String!]) {
  urls: createUploadBucketSignedUrls(filePaths: $filePaths)
}";

pub(crate) const CURRENT_USER_EMAIL: &str = "query me {
    data: viewer {
        email
    }
}";

pub(crate) const COUNT_ORGANIZATIONS: &str =
    "query countOrganizations($where: OrganizationWhere!) {
    data: countOrganizations(where: $where)
}";

pub(crate) const ORGANIZATIONS_LICENSE: &str =
    "query organizations($where: OrganizationWhere!, $first: PageSize!, $skip: Int!) {
    data: organizations(where: $where, first: $first, skip: $skip) {
        license { uploadLocalData }
    }
}";

/// Signed URLs per `createUploadBucketSignedUrls` request, as in the SDK.
const MAX_SIGNED_URLS: usize = 30;

/// The content of one asset to import with [`Kili::append_many_to_dataset`].
///
/// [`NewAssets::new`](crate::NewAssets::new) takes strings and tells them apart as the SDK
/// does; this names each kind explicitly (see [`NewAssets::with_contents`](crate::NewAssets::with_contents)).
///
/// # Examples
///
/// ```
/// use kili::AssetContent;
/// let url = AssetContent::url("https://example.com/car.jpg");
/// let file = AssetContent::file("images/car.jpg");
/// let text = AssetContent::text("A text to label");
/// assert_ne!(url, text);
/// # let _ = file;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssetContent {
    /// Data hosted elsewhere, sent as it is.
    Url(String),
    /// A local file, uploaded to Kili's storage; its content type comes from its extension.
    File(PathBuf),
    /// Raw text, for a `TEXT` project: uploaded as `text/plain; charset=utf-8`.
    Text(String),
}

impl AssetContent {
    /// Creates a content hosted at this URL.
    pub fn url(url: impl Into<String>) -> AssetContent {
        AssetContent::Url(url.into())
    }

    /// Creates a content read from a local file, to upload.
    pub fn file(path: impl Into<PathBuf>) -> AssetContent {
        AssetContent::File(path.into())
    }

    /// Creates a raw text content to upload (`TEXT` projects).
    pub fn text(text: impl Into<String>) -> AssetContent {
        AssetContent::Text(text.into())
    }
}

/// Tells whether a content is a URL, as the SDK's `is_url`: `http://` or `https://`, any case.
pub(crate) fn is_url(content: &str) -> bool {
    let lower = content.get(..8).unwrap_or(content).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Tells a string content apart as the SDK does for this project: a URL, an existing local
/// file, else raw text (only a `TEXT` project takes raw text).
pub(crate) fn classify(content: &str, input_type: &InputType) -> Result<AssetContent> {
    if is_url(content) {
        return Ok(AssetContent::Url(content.to_owned()));
    }
    if Path::new(content).is_file() {
        return Ok(AssetContent::File(PathBuf::from(content)));
    }
    if *input_type == InputType::Text {
        return Ok(AssetContent::Text(content.to_owned()));
    }
    Err(Error::invalid(format!(
        "content {:?} is neither an http(s) URL nor an existing file (raw text is for TEXT \
         projects, this one is {input_type})",
        shorten(content)
    )))
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// Returns the content type of a file, from its extension, as Python's `mimetypes` gives it for the
/// files Kili takes; `None` when unknown (the upload then has no `Content-Type`).
pub(crate) fn content_type_of(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        "jp2" => "image/jp2",
        "ico" => "image/vnd.microsoft.icon",
        "svg" => "image/svg+xml",
        "ntf" | "nitf" => "application/vnd.nitf",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        "mkv" => "video/x-matroska",
        "mp3" => "audio/mpeg",
        "wav" => "audio/x-wav",
        "flac" => "audio/flac",
        _ => return None,
    })
}

/// One body to upload, to a bucket path.
#[derive(Debug)]
pub(crate) struct Upload {
    /// `projects/<projectId>/assets/<assetId>/...`.
    pub(crate) path: String,
    pub(crate) body: Body,
    pub(crate) content_type: Option<String>,
}

/// Where an upload's bytes come from: read only when it is sent.
#[derive(Debug)]
pub(crate) enum Body {
    Bytes(Vec<u8>),
    File(PathBuf),
}

impl Body {
    /// Reads the bytes to send.
    fn read(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            Body::Bytes(b) => Ok(std::borrow::Cow::Borrowed(b)),
            Body::File(p) => std::fs::read(p)
                .map(std::borrow::Cow::Owned)
                .map_err(Error::io(format!("reading {}", p.display()))),
        }
    }
}

impl Kili {
    /// Fails unless the organization's license allows uploading local data, checked as the
    /// SDK does: the user's email, then `license.uploadLocalData` of their organization.
    pub(crate) fn check_upload_allowed(&self) -> Result<()> {
        let me = self.execute_data(CURRENT_USER_EMAIL, &json!({}), Safety::Idempotent)?;
        let email = me
            .get("email")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::decode("the current user", "no email"))?;
        let where_ = json!({"user": {"email": email}});
        let count = self.execute_data(
            COUNT_ORGANIZATIONS,
            &json!({ "where": where_ }),
            Safety::Idempotent,
        )?;
        let allowed = if count.as_u64().unwrap_or(0) == 0 {
            false
        } else {
            let orgs = self.execute_data(
                ORGANIZATIONS_LICENSE,
                &json!({"where": where_, "skip": 0, "first": 1}),
                Safety::Idempotent,
            )?;
            orgs.pointer("/0/license/uploadLocalData")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::invalid(
                "the organization's license does not allow uploading local data \
                 (license.uploadLocalData is false): import hosted URLs instead",
            ))
        }
    }

    /// Asks for signed URLs for bucket paths, 30 per request, in order.
    pub(crate) fn signed_urls(&self, paths: &[String]) -> Result<Vec<String>> {
        let mut urls = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(MAX_SIGNED_URLS) {
            let data = self.execute(
                CREATE_UPLOAD_BUCKET_SIGNED_URLS,
                &json!({ "filePaths": chunk }),
                Safety::Idempotent,
            )?;
            let list = data.get("urls").and_then(Value::as_array).ok_or_else(|| {
                Error::decode(
                    "createUploadBucketSignedUrls",
                    format!("no url list in {data}"),
                )
            })?;
            if list.len() != chunk.len() {
                return Err(Error::decode(
                    "createUploadBucketSignedUrls",
                    format!("{} urls for {} paths", list.len(), chunk.len()),
                ));
            }
            for u in list {
                let u = u.as_str().ok_or_else(|| {
                    Error::decode("createUploadBucketSignedUrls", "a url is not a string")
                })?;
                urls.push(u.to_owned());
            }
        }
        Ok(urls)
    }

    /// Uploads each body to a signed URL; returns the signed URLs (with their `&id=`), in
    /// order. A `PUT` is retried on transient failures: it stores the same body again.
    pub(crate) fn upload_all(&self, uploads: &[Upload]) -> Result<Vec<String>> {
        if uploads.is_empty() {
            return Ok(Vec::new());
        }
        let paths: Vec<String> = uploads.iter().map(|u| u.path.clone()).collect();
        let urls = self.signed_urls(&paths)?;
        for (upload, url) in uploads.iter().zip(&urls) {
            let body = upload.body.read()?;
            let target = url.split("&id=").next().unwrap_or(url);
            let config = &self.inner.config;
            // Not rate limited: the SDK's limiter counts GraphQL calls, not uploads.
            retry::run(
                &config.retry,
                Safety::Idempotent,
                "uploading a file",
                || {
                    self.inner
                        .transport
                        .put(config, target, upload.content_type.as_deref(), &body)
                },
            )?;
        }
        Ok(urls)
    }
}

/// Returns the URL the SDK gives a video frame once uploaded: `.../api/label/v2/files?id=<id>` of the
/// signed URL's `id` (its `clean_signed_url`).
pub(crate) fn frame_url(endpoint: &str, signed_url: &str) -> String {
    let id = signed_url
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("id="))
        .unwrap_or_default();
    format!("{}?id={id}", endpoint.replace("/graphql", "/files"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_are_told_apart_as_the_sdk_does() {
        let file = std::env::temp_dir().join(format!("kili-upload-{}.png", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        let path = file.to_str().unwrap();
        assert_eq!(
            classify("HTTPS://x/a.png", &InputType::Image).unwrap(),
            AssetContent::url("HTTPS://x/a.png")
        );
        assert_eq!(
            classify(path, &InputType::Image).unwrap(),
            AssetContent::file(path)
        );
        assert_eq!(
            classify("some text", &InputType::Text).unwrap(),
            AssetContent::text("some text")
        );
        let e = classify("some text", &InputType::Image).unwrap_err();
        assert!(e.to_string().contains("raw text is for TEXT"), "{e}");
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(content_type_of(Path::new("a/B.PNG")), Some("image/png"));
        assert_eq!(
            content_type_of(Path::new("doc.pdf")),
            Some("application/pdf")
        );
        assert_eq!(content_type_of(Path::new("noext")), None);
    }

    #[test]
    fn frame_urls_keep_the_file_id() {
        assert_eq!(
            frame_url(
                "http://h:1/api/label/v2/graphql",
                "http://h:1/api/label/v2/bucket/projects/p/assets/a/frame/0?X-Kili-Signature=s&id=f1"
            ),
            "http://h:1/api/label/v2/files?id=f1"
        );
    }
}
