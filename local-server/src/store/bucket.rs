//! The emulator's own bucket, behind the signed URLs of `createUploadBucketSignedUrls`.
//!
//! A file is created when a signed URL is handed out for its bucket path
//! (`projects/<projectId>/assets/...`, as the SDK names them), with a random token that the
//! URL carries; a `PUT` with that token stores its body and content type. Reads need the API
//! key of the project's owner. Bodies live in memory, or in a directory next to the data file
//! (`<data file>.files/<projectId>/<fileId>`) when there is one.
//!
//! The shape of a signed URL is decided here, [`BUCKET_PATH`] and [`SIGNATURE`] included: the
//! HTTP side serves the URLs this module makes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::changes::Change;
use super::error::StoreError;
use super::files::FileRec;
use super::journal::{private_options, sync_dir};
use super::state::ServerState;

/// Where the bucket is served: `PUT` to signed URLs, `GET` with a key.
pub(crate) const BUCKET_PATH: &str = "/api/label/v2/bucket";
/// The name of the signed URL's token parameter.
pub(crate) const SIGNATURE: &str = "X-Kili-Signature";

/// Why a bucket request is refused: an HTTP status and a message.
#[derive(Debug)]
pub(crate) struct BucketError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl BucketError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        BucketError {
            status,
            code,
            message: message.into(),
        }
    }
}

/// A file's content, as served.
#[derive(Debug)]
pub(crate) struct Blob {
    pub(crate) content_type: Option<String>,
    pub(crate) body: Arc<Vec<u8>>,
}

/// Returns the project id of a bucket path the SDK writes, `projects/<projectId>/assets/<...>` made
/// of safe characters; `None` for any other path.
pub(crate) fn project_of_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("projects/")?;
    let (project, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("assets/")?;
    let safe = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let segments_ok = rest.split('/').all(safe);
    (safe(project) && segments_ok && path.len() <= 1024).then_some(project)
}

fn blob_path(dir: &Path, project_id: &str, id: &str) -> PathBuf {
    dir.join(project_id).join(id)
}

impl ServerState {
    /// Makes signed upload URLs for these bucket paths of `user_id`'s projects, on `origin`
    /// (`http://host:port`), all or nothing.
    pub(crate) fn create_signed_urls(
        &self,
        user_id: &str,
        paths: &[String],
        origin: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut d = self.write();
        for path in paths {
            let project = project_of_path(path).ok_or_else(|| {
                StoreError::bad_input(format!(
                    "[badFilePath] {path:?} is not a bucket path of the form \
                     projects/<projectId>/assets/<name>"
                ))
            })?;
            if d.owned_project(user_id, project).is_none() {
                return Err(StoreError::no_access("project", project));
            }
        }
        let now = d.now();
        let mut changes = Vec::with_capacity(paths.len());
        let mut urls = Vec::with_capacity(paths.len());
        for path in paths {
            let project_id = project_of_path(path).unwrap_or_default().to_owned();
            let id = d.new_id(now);
            let token = d.ids_token();
            urls.push(format!(
                "{origin}{BUCKET_PATH}/{path}?{SIGNATURE}={token}&id={id}"
            ));
            changes.push(Change::File(FileRec {
                id,
                path: path.clone(),
                project_id,
                token,
                created_at: now,
                content_type: None,
                size: None,
            }));
        }
        self.commit(&mut d, &changes)?;
        Ok(urls)
    }

    /// Checks that a `PUT` to `path` with `token` may upload: a signed URL was made for the path,
    /// `token` is its signature, it has not expired and was not used yet.
    pub(crate) fn may_upload(
        &self,
        path: &str,
        token: Option<&str>,
        lifetime: std::time::Duration,
    ) -> Result<(), BucketError> {
        let d = self.read();
        let f = d.files.by_path(path).ok_or_else(|| {
            BucketError::new(404, "NOT_FOUND", "no signed URL was made for this path")
        })?;
        check_signed_url(f, token, lifetime)
    }

    /// Stores the body of the file at `path`, if `token` is its signature, the URL was made
    /// less than `lifetime` ago, and nothing was uploaded with it yet: a signed URL is good for
    /// one upload.
    pub(crate) fn put_file(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
        lifetime: std::time::Duration,
    ) -> Result<(), BucketError> {
        let (id, project_id) = {
            let d = self.read();
            let f = d.files.by_path(path).ok_or_else(|| {
                BucketError::new(404, "NOT_FOUND", "no signed URL was made for this path")
            })?;
            check_signed_url(f, token, lifetime)?;
            (f.id.clone(), f.project_id.clone())
        };
        let size = body.len() as u64;
        let body = Arc::new(body);
        let dir = self.blob_dir();
        if let Some(dir) = &dir {
            let target = blob_path(dir, &project_id, &id);
            write_blob(&target, &body).map_err(|e| {
                BucketError::new(
                    500,
                    "INTERNAL_SERVER_ERROR",
                    format!("cannot store the file: {e}"),
                )
            })?;
        }
        let mut d = self.write();
        match d.files.by_id(&id) {
            None => {
                return Err(BucketError::new(
                    404,
                    "NOT_FOUND",
                    "the file's project is gone",
                ));
            }
            // Two uploads raced on one URL: the first one in wins.
            Some(f) => check_signed_url(f, token, lifetime)?,
        }
        let change = Change::FileData {
            id: id.clone(),
            content_type: content_type.map(str::to_owned),
            size,
        };
        self.commit(&mut d, &[change])
            .map_err(|e| BucketError::new(500, "INTERNAL_SERVER_ERROR", e.message))?;
        // With a data file the body is read back from its directory; else it lives here.
        if dir.is_none() {
            d.files.keep_body(id, body);
        }
        drop(d);
        self.wait_durable()
            .map_err(|e| BucketError::new(500, "INTERNAL_SERVER_ERROR", e.message))
    }

    /// Reads the content of a file of `user_id`'s projects, by bucket path or by id.
    pub(crate) fn get_file(
        &self,
        user_id: &str,
        path: Option<&str>,
        id: Option<&str>,
    ) -> Result<Blob, BucketError> {
        let not_found = || BucketError::new(404, "NOT_FOUND", "no such file");
        let (rec, body) = {
            let d = self.read();
            let f = match (path, id) {
                (Some(p), _) => d.files.by_path(p),
                (None, Some(i)) => d.files.by_id(i),
                (None, None) => None,
            }
            .ok_or_else(not_found)?;
            if id.is_some_and(|i| i != f.id) {
                return Err(not_found());
            }
            // Another user's file is answered as a missing one: its existence is not told.
            if d.owned_project(user_id, &f.project_id).is_none() {
                return Err(not_found());
            }
            if f.size.is_none() {
                return Err(BucketError::new(
                    404,
                    "NOT_FOUND",
                    "nothing was uploaded to this file yet",
                ));
            }
            (f.clone(), d.files.body(&f.id))
        };
        let body = match (body, self.blob_dir()) {
            (Some(b), _) => b,
            (None, Some(dir)) => {
                Arc::new(read_blob(&blob_path(&dir, &rec.project_id, &rec.id), &rec)?)
            }
            (None, None) => return Err(not_found()),
        };
        Ok(Blob {
            content_type: rec.content_type,
            body,
        })
    }

    /// Removes the stored bodies of a deleted project's files.
    pub(crate) fn remove_blobs_of_project(&self, project_id: &str) {
        if let Some(dir) = self.blob_dir()
            && project_of_path(&format!("projects/{project_id}/assets/x")).is_some()
        {
            let _ = std::fs::remove_dir_all(dir.join(project_id));
        }
    }
}

/// Checks that a `PUT` may use this file's signed URL: the token matches, the URL has not
/// expired, and nothing was uploaded with it yet.
fn check_signed_url(
    f: &FileRec,
    token: Option<&str>,
    lifetime: std::time::Duration,
) -> Result<(), BucketError> {
    let forbidden = |message: &str| Err(BucketError::new(403, "FORBIDDEN", message));
    if token != Some(f.token.as_str()) {
        return forbidden("the X-Kili-Signature of the URL does not match");
    }
    let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
    if crate::time::now_ms() >= f.created_at.saturating_add(lifetime_ms) {
        return forbidden("this signed URL has expired; ask for a new one");
    }
    if f.size.is_some() {
        return forbidden("this signed URL was already used; ask for a new one");
    }
    Ok(())
}

/// Reads a stored body, checked against the size recorded at its upload: a body cut short or
/// grown on disk since is refused (`500`), never served as the file.
fn read_blob(path: &Path, rec: &FileRec) -> Result<Vec<u8>, BucketError> {
    let failed = |message: String| BucketError::new(500, "INTERNAL_SERVER_ERROR", message);
    let body = std::fs::read(path).map_err(|e| failed(format!("cannot read the file: {e}")))?;
    match rec.size {
        Some(size) if size == body.len() as u64 => Ok(body),
        recorded => {
            log::error!(
                "local server: the stored body of file {} is {} bytes, {recorded:?} were uploaded",
                rec.id,
                body.len()
            );
            Err(failed(format!(
                "the stored file is damaged: {} bytes on disk, {} uploaded",
                body.len(),
                recorded.unwrap_or(0)
            )))
        }
    }
}

/// Writes a body to a temporary file (`0600`), syncs it, renames it in place and syncs its
/// folder, so that a crash never leaves half a body under the file's name and an answered upload
/// is on disk. Folders are created `0700`, each synced into its parent.
fn write_blob(target: &Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = target.parent() {
        create_dirs(parent)?;
    }
    let tmp = target.with_extension("part");
    let mut file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    file.write_all(body)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, target)?;
    sync_dir(target.parent())
}

/// Creates `dir` and its missing parents (`0700`), syncing each new one into its parent.
fn create_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => sync_dir(dir.parent()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::setup;
    use super::*;
    use std::time::Duration;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn bucket_paths_are_checked() {
        assert_eq!(project_of_path("projects/p1/assets/c1"), Some("p1"));
        assert_eq!(project_of_path("projects/p1/assets/c1/content"), Some("p1"));
        for bad in [
            "",
            "projects/p1",
            "projects/p1/assets/",
            "projects/p1/other/x",
            "projects/../assets/x",
            "projects/p1/assets/../x",
            "projects/p1/assets/a b",
            "/projects/p1/assets/x",
        ] {
            assert_eq!(project_of_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn uploads_need_the_token_and_reads_the_owner() {
        let (s, u, p) = setup();
        let other = s.ensure_user("k2", "x@y.z").unwrap();
        let path = format!("projects/{}/assets/c1", p.id);
        let urls = s
            .create_signed_urls(&u.id, std::slice::from_ref(&path), "http://h:1")
            .unwrap();
        let (_, query) = urls[0].split_once('?').unwrap();
        let token = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Kili-Signature="))
            .unwrap();
        assert!(
            s.create_signed_urls(&other.id, std::slice::from_ref(&path), "http://h:1")
                .is_err()
        );
        assert_eq!(
            s.put_file(&path, Some("wrong"), None, b"x".to_vec(), HOUR)
                .unwrap_err()
                .status,
            403
        );
        assert_eq!(
            s.get_file(&u.id, Some(&path), None).unwrap_err().status,
            404
        );
        s.put_file(
            &path,
            Some(token),
            Some("text/plain"),
            b"hello".to_vec(),
            HOUR,
        )
        .unwrap();
        assert_eq!(
            s.put_file(&path, Some(token), None, b"again".to_vec(), HOUR)
                .unwrap_err()
                .status,
            403,
            "a signed URL is good for one upload"
        );
        let blob = s.get_file(&u.id, Some(&path), None).unwrap();
        assert_eq!(
            (blob.body.as_slice(), blob.content_type.as_deref()),
            (&b"hello"[..], Some("text/plain"))
        );
        assert_eq!(
            s.get_file(&other.id, Some(&path), None).unwrap_err().status,
            404,
            "another user's file is answered as a missing one"
        );
        let again = s
            .create_signed_urls(&u.id, std::slice::from_ref(&path), "http://h:1")
            .unwrap();
        let token = again[0].split("X-Kili-Signature=").nth(1).unwrap();
        let token = token.split('&').next().unwrap();
        let expired = s.put_file(&path, Some(token), None, b"x".to_vec(), Duration::ZERO);
        assert_eq!(expired.unwrap_err().status, 403, "an expired URL");
    }
}
