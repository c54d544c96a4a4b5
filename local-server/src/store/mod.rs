//! The server's in-memory state: users, projects, assets, labels, and the label subscribers.
//!
//! Everything lives in memory behind `parking_lot` locks; nothing is written to disk. Writes
//! validate their whole batch before changing anything, so a rejected batch leaves no trace.
//! Label writes and their subscribers are in [`labels`].

mod labels;

pub(crate) use labels::{LabelUpdate, NewLabel};

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;
use parking_lot::{Mutex, RwLock, RwLockReadGuard};

use crate::ids::IdGen;
use crate::schema::enums::{AssetStatus, InputType, LabelType};
use crate::time::now_ms;

/// The shared in-memory store of a local server.
///
/// Cloning is cheap (an `Arc`); clones share the same data. Hand a clone to
/// [`LocalServerBuilder::state`](super::LocalServerBuilder::state) to start a new server on the
/// same data, which is how tests simulate a server restart. Server settings (such as
/// [`created_at_resolution`](super::LocalServerBuilder::created_at_resolution)) are not part of
/// it: the restarted server uses its own builder's.
///
/// # Examples
///
/// ```
/// use kili_local_server::ServerState;
///
/// let state = ServerState::new();
/// assert_eq!(state.label_count(), 0);
/// let alias = state.clone();
/// assert_eq!(alias.project_count(), state.project_count());
/// ```
#[derive(Clone, Default)]
pub struct ServerState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    data: RwLock<Data>,
    subscribers: Mutex<Vec<Subscriber>>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            data: RwLock::new(Data::new()),
            subscribers: Mutex::new(Vec::new()),
        }
    }
}

struct Subscriber {
    project_id: String,
    tx: UnboundedSender<Arc<LabelRec>>,
}

/// A user and their one API key.
#[derive(Clone, Debug)]
pub(crate) struct UserRec {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) api_key: String,
    pub(crate) api_key_id: String,
    pub(crate) firstname: String,
    pub(crate) lastname: String,
    pub(crate) created_at: i64,
}

/// A project; it belongs to the user who created it.
#[derive(Clone, Debug)]
pub(crate) struct ProjectRec {
    pub(crate) id: String,
    pub(crate) owner_id: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) input_type: InputType,
    pub(crate) json_interface: String,
    pub(crate) compliance_tags: Vec<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// An asset of a project.
#[derive(Clone, Debug)]
pub(crate) struct AssetRec {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) content: String,
    pub(crate) external_id: String,
    pub(crate) json_content: String,
    pub(crate) json_metadata: String,
    pub(crate) is_honeypot: bool,
    pub(crate) status: AssetStatus,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// A label of an asset. Records are immutable once shared: an update replaces the `Arc`.
#[derive(Clone, Debug)]
pub(crate) struct LabelRec {
    pub(crate) id: String,
    /// Insertion order within the store, unique: what "newer" means for labels, since many
    /// labels can share a `created_at`.
    pub(crate) seq: u64,
    pub(crate) project_id: String,
    pub(crate) asset_id: String,
    pub(crate) author_id: String,
    pub(crate) label_type: LabelType,
    pub(crate) json_response: String,
    pub(crate) created_at: i64,
    /// Equals `created_at` until the first update; never before it.
    pub(crate) updated_at: i64,
    /// 0 at creation, +1 per update.
    pub(crate) version: i32,
    pub(crate) is_sent_back_to_queue: bool,
    pub(crate) model_name: Option<String>,
    pub(crate) seconds_to_label: Option<f64>,
    pub(crate) skipped: bool,
    pub(crate) client_version: Option<i32>,
    pub(crate) referenced_label_id: Option<String>,
}

/// A rejected write, reported to the client as a GraphQL error with `extensions.code`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl StoreError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn no_access(what: &str, id: &str) -> Self {
        StoreError::new(
            "NO_ACCESS_RIGHTS",
            format!(
                "[noAccessRights] {what} {id}: it does not exist or you do not have access to it"
            ),
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The data proper. Vectors keep creation order (an updated label keeps its place); the maps
/// index them by id.
pub(crate) struct Data {
    pub(crate) users: Vec<UserRec>,
    pub(crate) projects: Vec<ProjectRec>,
    pub(crate) assets: Vec<AssetRec>,
    pub(crate) labels: Vec<Arc<LabelRec>>,
    asset_index: HashMap<String, usize>,
    /// Per (asset, author): the newest label's `seq`, and the newest `DEFAULT` one's.
    /// Entries of deleted assets may stay: every later label is newer than them. Deleting
    /// labels recomputes the entries it touches.
    latest: HashMap<(String, String), (u64, Option<u64>)>,
    ids: IdGen,
    last_ms: i64,
    last_label_seq: u64,
}

/// A project to create.
pub(crate) struct NewProject {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) input_type: InputType,
    pub(crate) json_interface: String,
    pub(crate) compliance_tags: Vec<String>,
}

/// An asset to append; `id` is the client's (for idempotent retries) or generated.
pub(crate) struct NewAsset {
    pub(crate) id: Option<String>,
    pub(crate) content: String,
    pub(crate) external_id: Option<String>,
    pub(crate) json_content: String,
    pub(crate) json_metadata: String,
    pub(crate) is_honeypot: bool,
    pub(crate) status: Option<AssetStatus>,
}

impl Data {
    fn new() -> Self {
        Data {
            users: Vec::new(),
            projects: Vec::new(),
            assets: Vec::new(),
            labels: Vec::new(),
            asset_index: HashMap::new(),
            latest: HashMap::new(),
            ids: IdGen::new(),
            last_ms: 0,
            last_label_seq: 0,
        }
    }

    /// The store's clock in milliseconds: it never goes backwards, and several writes may share
    /// a millisecond (ordering by a timestamp is not creation order). A write reads it once, so
    /// everything one call creates shares one instant.
    fn now(&mut self) -> i64 {
        self.last_ms = now_ms().max(self.last_ms);
        self.last_ms
    }

    pub(crate) fn user(&self, id: &str) -> Option<&UserRec> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn project(&self, id: &str) -> Option<&ProjectRec> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The project if `user_id` may see it.
    pub(crate) fn owned_project(&self, user_id: &str, id: &str) -> Option<&ProjectRec> {
        self.project(id).filter(|p| p.owner_id == user_id)
    }

    pub(crate) fn asset(&self, id: &str) -> Option<&AssetRec> {
        self.asset_index.get(id).and_then(|&i| self.assets.get(i))
    }

    /// The asset if `user_id` owns its project.
    pub(crate) fn owned_asset(&self, user_id: &str, id: &str) -> Option<&AssetRec> {
        self.asset(id)
            .filter(|a| self.owned_project(user_id, &a.project_id).is_some())
    }

    fn reindex_assets(&mut self) {
        self.asset_index = self
            .assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
    }
}

impl fmt::Debug for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.inner.data.read();
        f.debug_struct("ServerState")
            .field("users", &d.users.len())
            .field("projects", &d.projects.len())
            .field("assets", &d.assets.len())
            .field("labels", &d.labels.len())
            .finish()
    }
}

impl ServerState {
    /// An empty store (no users, no projects).
    pub fn new() -> Self {
        ServerState::default()
    }

    /// How many labels exist, in every project.
    pub fn label_count(&self) -> usize {
        self.inner.data.read().labels.len()
    }

    /// How many projects exist, for every user.
    pub fn project_count(&self) -> usize {
        self.inner.data.read().projects.len()
    }

    /// How many assets exist, in every project.
    pub fn asset_count(&self) -> usize {
        self.inner.data.read().assets.len()
    }

    /// How many label subscriptions are live (their connection has not dropped them).
    pub fn subscriber_count(&self) -> usize {
        let mut subs = self.inner.subscribers.lock();
        subs.retain(|s| !s.tx.is_closed());
        subs.len()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.inner.data.read()
    }

    /// The user with this API key, if any.
    pub(crate) fn user_by_key(&self, key: &str) -> Option<UserRec> {
        self.inner
            .data
            .read()
            .users
            .iter()
            .find(|u| u.api_key == key)
            .cloned()
    }

    /// Adds a user with this key unless one exists; returns the user either way.
    pub(crate) fn ensure_user(&self, key: &str, email: &str) -> UserRec {
        let mut d = self.inner.data.write();
        if let Some(u) = d.users.iter().find(|u| u.api_key == key) {
            return u.clone();
        }
        let now = d.now();
        let local = email.split('@').next().unwrap_or(email);
        let user = UserRec {
            id: d.ids.next(now),
            email: email.to_owned(),
            api_key: key.to_owned(),
            api_key_id: d.ids.next(now),
            firstname: local.to_owned(),
            lastname: "Local".to_owned(),
            created_at: now,
        };
        d.users.push(user.clone());
        user
    }

    /// A fresh random API key.
    pub(crate) fn generate_key(&self) -> String {
        self.inner.data.write().ids.api_key()
    }

    pub(crate) fn create_project(&self, owner_id: &str, p: NewProject) -> ProjectRec {
        let mut d = self.inner.data.write();
        let now = d.now();
        let rec = ProjectRec {
            id: d.ids.next(now),
            owner_id: owner_id.to_owned(),
            title: p.title,
            description: p.description,
            input_type: p.input_type,
            json_interface: p.json_interface,
            compliance_tags: p.compliance_tags,
            created_at: now,
            updated_at: now,
        };
        d.projects.push(rec.clone());
        rec
    }

    /// Deletes a project with its assets and labels; returns its id.
    pub(crate) fn delete_project(&self, user_id: &str, id: &str) -> Result<String, StoreError> {
        let mut d = self.inner.data.write();
        if d.owned_project(user_id, id).is_none() {
            return Err(StoreError::no_access("project", id));
        }
        d.projects.retain(|p| p.id != id);
        d.assets.retain(|a| a.project_id != id);
        d.labels.retain(|l| l.project_id != id);
        d.reindex_assets();
        Ok(id.to_owned())
    }

    /// Appends assets to a project, all or nothing.
    ///
    /// An asset whose client id already exists in this project is returned as is, not duplicated,
    /// so a retried batch is harmless.
    pub(crate) fn append_assets(
        &self,
        user_id: &str,
        project_id: &str,
        rows: Vec<NewAsset>,
    ) -> Result<Vec<AssetRec>, StoreError> {
        let mut d = self.inner.data.write();
        if d.owned_project(user_id, project_id).is_none() {
            return Err(StoreError::no_access("project", project_id));
        }
        for row in &rows {
            if let Some(id) = &row.id {
                if id.trim().is_empty() {
                    return Err(StoreError::new("BAD_INPUT", "asset ids must not be empty"));
                }
                if let Some(existing) = d.asset(id)
                    && existing.project_id != project_id
                {
                    return Err(StoreError::new(
                        "ID_ALREADY_USED",
                        format!("[assetIdAlreadyUsed] asset id {id} is used by another project"),
                    ));
                }
            }
        }
        let now = d.now();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(existing) = row.id.as_deref().and_then(|id| d.asset(id)) {
                out.push(existing.clone());
                continue;
            }
            let id = match row.id {
                Some(id) => id,
                None => d.ids.next(now),
            };
            let rec = AssetRec {
                external_id: row.external_id.unwrap_or_else(|| id.clone()),
                id,
                project_id: project_id.to_owned(),
                content: row.content,
                json_content: row.json_content,
                json_metadata: row.json_metadata,
                is_honeypot: row.is_honeypot,
                status: row.status.unwrap_or(AssetStatus::Todo),
                created_at: now,
                updated_at: now,
            };
            let index = d.assets.len();
            d.asset_index.insert(rec.id.clone(), index);
            d.assets.push(rec.clone());
            out.push(rec);
        }
        Ok(out)
    }

    /// Deletes these assets (already checked to be the user's) and their labels.
    pub(crate) fn delete_assets(&self, ids: &[String]) {
        let mut d = self.inner.data.write();
        let gone: std::collections::HashSet<&String> = ids.iter().collect();
        d.assets.retain(|a| !gone.contains(&a.id));
        d.labels.retain(|l| !gone.contains(&l.asset_id));
        d.reindex_assets();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with one user and one project.
    pub(super) fn setup() -> (ServerState, UserRec, ProjectRec) {
        let s = ServerState::new();
        let u = s.ensure_user("k1", "a@b.c");
        let p = s.create_project(
            &u.id,
            NewProject {
                title: "t".into(),
                description: String::new(),
                input_type: InputType::Image,
                json_interface: "{}".into(),
                compliance_tags: vec![],
            },
        );
        (s, u, p)
    }

    pub(super) fn asset(id: Option<&str>) -> NewAsset {
        NewAsset {
            id: id.map(str::to_owned),
            content: "c".into(),
            external_id: None,
            json_content: String::new(),
            json_metadata: "{}".into(),
            is_honeypot: false,
            status: None,
        }
    }

    #[test]
    fn client_asset_ids_make_appends_idempotent() {
        let (s, u, p) = setup();
        let first = s
            .append_assets(&u.id, &p.id, vec![asset(Some("a1")), asset(None)])
            .unwrap();
        let again = s
            .append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
            .unwrap();
        assert_eq!(first[0].id, "a1");
        assert_eq!(again[0].created_at, first[0].created_at);
        assert_eq!(s.asset_count(), 2);
    }

    #[test]
    fn other_users_cannot_write() {
        let (s, _u, p) = setup();
        let other = s.ensure_user("k2", "x@y.z");
        let err = s
            .append_assets(&other.id, &p.id, vec![asset(None)])
            .unwrap_err();
        assert_eq!(err.code, "NO_ACCESS_RIGHTS");
        assert!(s.delete_project(&other.id, &p.id).is_err());
        assert_eq!(s.project_count(), 1);
    }
}
