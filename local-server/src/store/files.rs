//! The bucket's files as records: what a signed URL was made for, and, once uploaded, its
//! content type and size; indexed by id and by bucket path, with the bodies kept in memory when
//! there is no data file. How URLs are signed, and uploads checked and served, is
//! [`bucket`](super::bucket)'s.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A file of the bucket.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FileRec {
    pub(crate) id: String,
    /// The bucket path, `projects/<projectId>/assets/...`.
    pub(crate) path: String,
    pub(crate) project_id: String,
    /// What a `PUT` must carry in `X-Kili-Signature`.
    pub(crate) token: String,
    pub(crate) created_at: i64,
    /// Set once uploaded.
    #[serde(default)]
    pub(crate) content_type: Option<String>,
    #[serde(default)]
    pub(crate) size: Option<u64>,
}

/// The files, by id and by path, and the bodies kept in memory.
#[derive(Default)]
pub(crate) struct Files {
    by_id: HashMap<String, FileRec>,
    by_path: HashMap<String, String>,
    bodies: HashMap<String, Arc<Vec<u8>>>,
}

impl Files {
    /// Adds a file, replacing the one at the same bucket path.
    pub(crate) fn insert(&mut self, f: FileRec) {
        if let Some(old) = self.by_path.insert(f.path.clone(), f.id.clone()) {
            self.by_id.remove(&old);
            self.bodies.remove(&old);
        }
        self.by_id.insert(f.id.clone(), f);
    }

    /// Records that a file's content was uploaded.
    pub(crate) fn set_data(&mut self, id: &str, content_type: Option<String>, size: u64) {
        if let Some(f) = self.by_id.get_mut(id) {
            f.content_type = content_type;
            f.size = Some(size);
        }
    }

    /// Removes the files of a project.
    pub(crate) fn remove_project(&mut self, project_id: &str) {
        let gone: Vec<String> = self
            .by_id
            .values()
            .filter(|f| f.project_id == project_id)
            .map(|f| f.id.clone())
            .collect();
        for id in gone {
            if let Some(f) = self.by_id.remove(&id) {
                self.by_path.remove(&f.path);
            }
            self.bodies.remove(&id);
        }
    }

    /// Returns the file with this id.
    pub(crate) fn by_id(&self, id: &str) -> Option<&FileRec> {
        self.by_id.get(id)
    }

    /// Returns the file at this bucket path.
    pub(crate) fn by_path(&self, path: &str) -> Option<&FileRec> {
        self.by_path.get(path).and_then(|id| self.by_id.get(id))
    }

    /// Keeps a file's body in memory (when there is no data file to keep it next to).
    pub(crate) fn keep_body(&mut self, id: String, body: Arc<Vec<u8>>) {
        self.bodies.insert(id, body);
    }

    /// Returns the body kept in memory for a file, if any.
    pub(crate) fn body(&self, id: &str) -> Option<Arc<Vec<u8>>> {
        self.bodies.get(id).cloned()
    }
}
