//! The server's state: users, projects, assets, labels, uploaded files, and the label
//! subscribers.
//!
//! Everything lives in memory behind `parking_lot` locks, indexed so that every read of one
//! object and every page of a listing costs in proportion to what it returns (see [`paging`]).
//! Every write is validated as a whole first, then expressed as [`Change`]s, which are written
//! to the journal when there is one ([`journal`]) and only then applied: replaying a journal
//! applies the same changes in the same way, so a restarted server has the same ids,
//! timestamps, versions and order. A rejected write leaves no trace.
//!
//! Label writes and their subscribers are in [`labels`], asset writes in [`assets`], uploaded
//! files in [`files`].

mod assets;
mod bucket;
mod changes;
mod files;
pub(crate) mod journal;
mod kinds;
mod labels;
pub(crate) mod paging;

pub(crate) use assets::{AssetUpdate, NewAsset};
pub(crate) use bucket::{BUCKET_PATH, BucketError, SIGNATURE};
pub(crate) use changes::Change;
pub(crate) use kinds::{AssetStatus, InputType, LabelType};
pub(crate) use labels::{Candidates, LabelUpdate, NewLabel, NewLabels};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;
use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use serde::{Deserialize, Serialize};

use crate::ids::IdGen;
use crate::settings::shuffle_key;
use crate::time::now_ms;
use journal::Journal;
use paging::{CursorCache, Epochs};

/// The shared state of a local server.
///
/// Cloning is cheap (an `Arc`); clones share the same data. Hand a clone to
/// [`LocalServerBuilder::state`](super::LocalServerBuilder::state) to start a new server on the
/// same data, which is how tests simulate a server restart in one process (a
/// [data file](super::LocalServerBuilder::data_file) does it across processes). Server settings
/// (such as [`created_at_resolution`](super::LocalServerBuilder::created_at_resolution)) are not
/// part of it: the restarted server uses its own builder's.
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
    /// Where the previous pages of listings ended (see [`paging`]).
    pub(crate) cursors: Mutex<CursorCache>,
    /// The journal of writes, while a server started on a data file runs.
    journal: Mutex<Option<Journal>>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            data: RwLock::new(Data::new()),
            subscribers: Mutex::new(Vec::new()),
            cursors: Mutex::new(CursorCache::default()),
            journal: Mutex::new(None),
        }
    }
}

struct Subscriber {
    project_id: String,
    tx: UnboundedSender<Arc<LabelRec>>,
}

/// A user and their one API key.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Serialize, Deserialize)]
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

/// Width and height of an asset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Resolution {
    pub(crate) width: i32,
    pub(crate) height: i32,
}

/// Width, height and rotation of one page of a document.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PageResolution {
    pub(crate) page_number: i32,
    pub(crate) width: i32,
    pub(crate) height: i32,
    pub(crate) rotation: i32,
}

/// An asset of a project.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AssetRec {
    pub(crate) id: String,
    /// Insertion order within the store, unique: the order of `assets` pages.
    pub(crate) seq: u64,
    pub(crate) project_id: String,
    pub(crate) content: String,
    pub(crate) external_id: String,
    pub(crate) json_content: String,
    pub(crate) json_metadata: String,
    pub(crate) is_honeypot: bool,
    pub(crate) status: AssetStatus,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    #[serde(default)]
    pub(crate) priority: i32,
    #[serde(default)]
    pub(crate) consensus_mark: Option<f64>,
    #[serde(default)]
    pub(crate) honeypot_mark: Option<f64>,
    #[serde(default)]
    pub(crate) is_used_for_consensus: bool,
    /// User ids.
    #[serde(default)]
    pub(crate) to_be_labeled_by: Vec<String>,
    #[serde(default)]
    pub(crate) resolution: Option<Resolution>,
    #[serde(default)]
    pub(crate) page_resolutions: Vec<PageResolution>,
}

/// A label of an asset. Records are immutable once shared: an update replaces the `Arc`.
#[derive(Clone, Debug, Serialize, Deserialize)]
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

    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        StoreError::new("BAD_INPUT", message)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The data proper, with its indices. Maps keyed by `seq` keep creation order (an updated
/// record keeps its place); the other maps index them.
pub(crate) struct Data {
    pub(crate) users: Vec<UserRec>,
    pub(crate) projects: Vec<ProjectRec>,
    pub(crate) assets: BTreeMap<u64, AssetRec>,
    asset_ids: HashMap<String, u64>,
    /// Per project: its assets' `seq`s.
    pub(crate) project_assets: HashMap<String, BTreeSet<u64>>,
    pub(crate) labels: BTreeMap<u64, Arc<LabelRec>>,
    label_ids: HashMap<String, u64>,
    /// Per project: its labels' `seq`s, in creation order.
    pub(crate) project_labels: HashMap<String, BTreeSet<u64>>,
    /// Every label by (shuffle key, seq): the order of shuffled pages.
    pub(crate) shuffled: BTreeSet<(u64, u64)>,
    /// Per project: its labels by (shuffle key, seq).
    pub(crate) project_shuffled: HashMap<String, BTreeSet<(u64, u64)>>,
    /// Per asset: its labels' `seq`s, in creation order.
    pub(crate) asset_labels: HashMap<String, BTreeSet<u64>>,
    /// Per (asset, author): the newest label's `seq`, and the newest `DEFAULT` one's.
    /// Deleting labels recomputes the entries it touches.
    latest: HashMap<(String, String), (u64, Option<u64>)>,
    pub(crate) files: files::Files,
    /// Write counters, for the validity of page cursors (see [`paging`]).
    pub(crate) epochs: Epochs,
    pub(crate) project_epochs: HashMap<String, Epochs>,
    ids: IdGen,
    last_ms: i64,
    last_seq: u64,
}

impl Data {
    fn new() -> Self {
        Data {
            users: Vec::new(),
            projects: Vec::new(),
            assets: BTreeMap::new(),
            asset_ids: HashMap::new(),
            project_assets: HashMap::new(),
            labels: BTreeMap::new(),
            label_ids: HashMap::new(),
            project_labels: HashMap::new(),
            shuffled: BTreeSet::new(),
            project_shuffled: HashMap::new(),
            asset_labels: HashMap::new(),
            latest: HashMap::new(),
            files: files::Files::default(),
            epochs: Epochs::default(),
            project_epochs: HashMap::new(),
            ids: IdGen::new(),
            last_ms: 0,
            last_seq: 0,
        }
    }

    /// The store's clock in milliseconds: it never goes backwards (not even across a restart
    /// on a journal), and several writes may share a millisecond (ordering by a timestamp is
    /// not creation order). A write reads it once, so everything one call creates shares one
    /// instant.
    pub(crate) fn now(&mut self) -> i64 {
        self.last_ms = now_ms().max(self.last_ms);
        self.last_ms
    }

    /// A new id (cuid-like).
    pub(crate) fn new_id(&mut self, now: i64) -> String {
        self.ids.next(now)
    }

    /// A new random token (32 base-36 characters).
    pub(crate) fn ids_token(&mut self) -> String {
        self.ids.api_key()
    }

    /// A new insertion sequence number.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    pub(crate) fn user(&self, id: &str) -> Option<&UserRec> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn user_by_email(&self, email: &str) -> Option<&UserRec> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub(crate) fn project(&self, id: &str) -> Option<&ProjectRec> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The project if `user_id` may see it.
    pub(crate) fn owned_project(&self, user_id: &str, id: &str) -> Option<&ProjectRec> {
        self.project(id).filter(|p| p.owner_id == user_id)
    }

    pub(crate) fn asset(&self, id: &str) -> Option<&AssetRec> {
        self.asset_ids.get(id).and_then(|s| self.assets.get(s))
    }

    /// The asset if `user_id` owns its project.
    pub(crate) fn owned_asset(&self, user_id: &str, id: &str) -> Option<&AssetRec> {
        self.asset(id)
            .filter(|a| self.owned_project(user_id, &a.project_id).is_some())
    }

    pub(crate) fn label(&self, id: &str) -> Option<&Arc<LabelRec>> {
        self.label_ids.get(id).and_then(|s| self.labels.get(s))
    }

    /// The label with this id if `user_id` owns its project.
    pub(crate) fn owned_label(&self, user_id: &str, id: &str) -> Option<&Arc<LabelRec>> {
        self.label(id)
            .filter(|l| self.owned_project(user_id, &l.project_id).is_some())
    }

    /// The labels of an asset, in creation order.
    pub(crate) fn labels_of_asset<'a>(
        &'a self,
        asset_id: &str,
    ) -> impl DoubleEndedIterator<Item = &'a Arc<LabelRec>> + 'a {
        self.asset_labels
            .get(asset_id)
            .into_iter()
            .flatten()
            .filter_map(|s| self.labels.get(s))
    }

    /// The assets of a project, in creation order.
    pub(crate) fn assets_of_project<'a>(
        &'a self,
        project_id: &str,
    ) -> impl Iterator<Item = &'a AssetRec> + 'a {
        self.project_assets
            .get(project_id)
            .into_iter()
            .flatten()
            .filter_map(|s| self.assets.get(s))
    }

    /// Whether a label of the same author on the same asset was inserted after `label` (of type
    /// `DEFAULT` only, if `default_only`). By insertion sequence, not by timestamp: labels may
    /// share a `createdAt`. Constant time, so reading `isLatestLabelForUser` on every label of a
    /// large project stays linear.
    pub(crate) fn has_newer(&self, label: &LabelRec, default_only: bool) -> bool {
        let key = (label.asset_id.clone(), label.author_id.clone());
        match self.latest.get(&key) {
            Some((any, default)) => {
                let newest = if default_only { *default } else { Some(*any) };
                newest.is_some_and(|seq| seq > label.seq)
            }
            None => false,
        }
    }

    fn note_latest(&mut self, label: &LabelRec) {
        let latest = self
            .latest
            .entry((label.asset_id.clone(), label.author_id.clone()))
            .or_insert((label.seq, None));
        latest.0 = latest.0.max(label.seq);
        if label.label_type == LabelType::Default {
            latest.1 = latest.1.max(Some(label.seq));
        }
    }

    /// Recomputes the newest-label entry of an (asset, author) pair from the labels left.
    fn recompute_latest(&mut self, asset_id: &str, author_id: &str) {
        let mut entry: Option<(u64, Option<u64>)> = None;
        for l in self.labels_of_asset(asset_id) {
            if l.author_id != author_id {
                continue;
            }
            let e = entry.get_or_insert((l.seq, None));
            e.0 = e.0.max(l.seq);
            if l.label_type == LabelType::Default {
                e.1 = e.1.max(Some(l.seq));
            }
        }
        let key = (asset_id.to_owned(), author_id.to_owned());
        match entry {
            Some(e) => self.latest.insert(key, e),
            None => self.latest.remove(&key),
        };
    }

    fn insert_label(&mut self, label: Arc<LabelRec>) {
        let key = (shuffle_key(&label.id), label.seq);
        self.label_ids.insert(label.id.clone(), label.seq);
        self.project_labels
            .entry(label.project_id.clone())
            .or_default()
            .insert(label.seq);
        self.project_shuffled
            .entry(label.project_id.clone())
            .or_default()
            .insert(key);
        self.shuffled.insert(key);
        self.asset_labels
            .entry(label.asset_id.clone())
            .or_default()
            .insert(label.seq);
        self.note_latest(&label);
        self.last_seq = self.last_seq.max(label.seq);
        self.labels.insert(label.seq, label);
    }

    /// Removes a label from every index; the caller recomputes `latest`.
    fn remove_label(&mut self, id: &str) -> Option<Arc<LabelRec>> {
        let seq = self.label_ids.remove(id)?;
        let label = self.labels.remove(&seq)?;
        let key = (shuffle_key(&label.id), seq);
        if let Some(s) = self.project_labels.get_mut(&label.project_id) {
            s.remove(&seq);
        }
        if let Some(s) = self.project_shuffled.get_mut(&label.project_id) {
            s.remove(&key);
        }
        self.shuffled.remove(&key);
        if let Some(s) = self.asset_labels.get_mut(&label.asset_id) {
            s.remove(&seq);
        }
        Some(label)
    }

    fn insert_asset(&mut self, asset: AssetRec) {
        self.asset_ids.insert(asset.id.clone(), asset.seq);
        self.project_assets
            .entry(asset.project_id.clone())
            .or_default()
            .insert(asset.seq);
        self.last_seq = self.last_seq.max(asset.seq);
        self.assets.insert(asset.seq, asset);
    }

    /// Removes an asset and its labels from every index.
    fn remove_asset(&mut self, id: &str) {
        let Some(seq) = self.asset_ids.remove(id) else {
            return;
        };
        let Some(asset) = self.assets.remove(&seq) else {
            return;
        };
        if let Some(s) = self.project_assets.get_mut(&asset.project_id) {
            s.remove(&seq);
        }
        let label_ids: Vec<String> = self.labels_of_asset(id).map(|l| l.id.clone()).collect();
        for l in label_ids {
            self.remove_label(&l);
        }
        self.asset_labels.remove(id);
        self.latest.retain(|(a, _), _| a != id);
    }

    /// Counts a write to a project, for the validity of page cursors.
    fn bump(&mut self, project_id: Option<&str>, bump: fn(&mut Epochs)) {
        bump(&mut self.epochs);
        if let Some(p) = project_id {
            bump(self.project_epochs.entry(p.to_owned()).or_default());
        }
    }

    /// Applies one change: the only way data changes, live or when a journal is replayed.
    pub(crate) fn apply(&mut self, change: &Change) {
        changes::apply(self, change);
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
            .field("journaled", &self.inner.journal.lock().is_some())
            .finish()
    }
}

/// A project to create.
pub(crate) struct NewProject {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) input_type: InputType,
    pub(crate) json_interface: String,
    pub(crate) compliance_tags: Vec<String>,
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

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.inner.data.write()
    }

    /// Writes `changes` to the journal (if any), then applies them. Call it with the data's
    /// write lock held, after validating the whole write: applying cannot fail.
    ///
    /// # Errors
    ///
    /// When the journal cannot be written: nothing is applied.
    pub(crate) fn commit(&self, d: &mut Data, changes: &[Change]) -> Result<(), StoreError> {
        if let Some(journal) = self.inner.journal.lock().as_mut() {
            journal.append(changes).map_err(|e| {
                StoreError::new(
                    "INTERNAL_SERVER_ERROR",
                    format!("[internal] the local server could not write its data file: {e}"),
                )
            })?;
        }
        for c in changes {
            d.apply(c);
        }
        Ok(())
    }

    /// Starts writing every change to `journal` (after it was replayed into this state).
    pub(crate) fn attach_journal(&self, journal: Journal) {
        *self.inner.journal.lock() = Some(journal);
    }

    /// Stops journaling: flushes and closes the data file, releasing its lock.
    pub(crate) fn detach_journal(&self) {
        if let Some(mut j) = self.inner.journal.lock().take()
            && let Err(e) = j.sync()
        {
            log::warn!("local server: cannot sync the data file: {e}");
        }
    }

    /// The directory of uploaded files, when journaled.
    pub(crate) fn blob_dir(&self) -> Option<std::path::PathBuf> {
        self.inner
            .journal
            .lock()
            .as_ref()
            .map(|j| j.blob_dir().to_path_buf())
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

    /// The key of the first user with this email, if any (a restarted server keeps its key).
    pub(crate) fn key_of(&self, email: &str) -> Option<String> {
        self.read().user_by_email(email).map(|u| u.api_key.clone())
    }

    /// Adds a user with this key unless one exists; returns the user either way.
    ///
    /// # Errors
    ///
    /// When the journal cannot be written.
    pub(crate) fn ensure_user(&self, key: &str, email: &str) -> Result<UserRec, StoreError> {
        let mut d = self.inner.data.write();
        if let Some(u) = d.users.iter().find(|u| u.api_key == key) {
            return Ok(u.clone());
        }
        let now = d.now();
        let local = email.split('@').next().unwrap_or(email);
        let user = UserRec {
            id: d.new_id(now),
            email: email.to_owned(),
            api_key: key.to_owned(),
            api_key_id: d.new_id(now),
            firstname: local.to_owned(),
            lastname: "Local".to_owned(),
            created_at: now,
        };
        self.commit(&mut d, &[Change::User(user.clone())])?;
        Ok(user)
    }

    /// A fresh random API key.
    pub(crate) fn generate_key(&self) -> String {
        self.inner.data.write().ids.api_key()
    }

    pub(crate) fn create_project(
        &self,
        owner_id: &str,
        p: NewProject,
    ) -> Result<ProjectRec, StoreError> {
        let mut d = self.inner.data.write();
        let now = d.now();
        let rec = ProjectRec {
            id: d.new_id(now),
            owner_id: owner_id.to_owned(),
            title: p.title,
            description: p.description,
            input_type: p.input_type,
            json_interface: p.json_interface,
            compliance_tags: p.compliance_tags,
            created_at: now,
            updated_at: now,
        };
        self.commit(&mut d, &[Change::Project(rec.clone())])?;
        Ok(rec)
    }

    /// Deletes a project with its assets, labels and files; returns its id.
    pub(crate) fn delete_project(&self, user_id: &str, id: &str) -> Result<String, StoreError> {
        let mut d = self.inner.data.write();
        if d.owned_project(user_id, id).is_none() {
            return Err(StoreError::no_access("project", id));
        }
        self.commit(&mut d, &[Change::DeleteProject { id: id.to_owned() }])?;
        drop(d);
        self.remove_blobs_of_project(id);
        Ok(id.to_owned())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A store with one user and one project.
    pub(crate) fn setup() -> (ServerState, UserRec, ProjectRec) {
        let s = ServerState::new();
        let u = s.ensure_user("k1", "a@b.c").unwrap();
        let p = s
            .create_project(
                &u.id,
                NewProject {
                    title: "t".into(),
                    description: String::new(),
                    input_type: InputType::Image,
                    json_interface: "{}".into(),
                    compliance_tags: vec![],
                },
            )
            .unwrap();
        (s, u, p)
    }

    pub(crate) fn asset(id: Option<&str>) -> NewAsset {
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
        let other = s.ensure_user("k2", "x@y.z").unwrap();
        let err = s
            .append_assets(&other.id, &p.id, vec![asset(None)])
            .unwrap_err();
        assert_eq!(err.code, "NO_ACCESS_RIGHTS");
        assert!(s.delete_project(&other.id, &p.id).is_err());
        assert_eq!(s.project_count(), 1);
    }

    #[test]
    fn deleting_a_project_empties_every_index() {
        let (s, u, p) = setup();
        let a = s.append_assets(&u.id, &p.id, vec![asset(None)]).unwrap();
        s.append_labels(
            &u.id,
            NewLabels::new(vec![labels::tests::label(
                &a[0].id,
                "{}",
                LabelType::Default,
            )]),
            &crate::settings::LabelSettings::DEFAULT,
        )
        .unwrap();
        s.delete_project(&u.id, &p.id).unwrap();
        let d = s.read();
        assert!(d.labels.is_empty() && d.assets.is_empty() && d.shuffled.is_empty());
        assert!(d.asset(&a[0].id).is_none());
        assert!(d.project_labels.get(&p.id).is_none_or(BTreeSet::is_empty));
    }
}
