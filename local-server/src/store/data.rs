//! [`Data`]: the records and the indices over them, which make every read of one record and
//! every page of a listing cost in proportion to what it returns.
//!
//! The index upkeep (`insert_*`, `remove_*`, `bump`) is for [`changes`](super::changes), the
//! only code that changes the data; everything else reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::created::CreatedIndex;
use super::files::Files;
use super::hooks::Hooks;
use super::ids::IdGen;
use super::issues::IssueList;
use super::kinds::LabelType;
use super::paging::Epochs;
use super::records::{AssetRec, LabelRec, ProjectRec, UserRec};
use crate::settings::shuffle_key;
use crate::time::now_ms;

/// The data proper, with its indices. Maps keyed by `seq` keep creation order (an updated
/// record keeps its place); the other maps index them.
pub(crate) struct Data {
    pub(crate) users: Vec<UserRec>,
    pub(crate) projects: Vec<ProjectRec>,
    pub(crate) assets: BTreeMap<u64, AssetRec>,
    pub(super) asset_ids: HashMap<String, u64>,
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
    /// Per project: its labels by (`createdAt`, `seq`), for `createdAt` windows.
    pub(crate) created: CreatedIndex,
    /// Per (asset, author): the newest label's `seq`, and the newest `DEFAULT` one's.
    /// Deleting labels recomputes the entries it touches.
    latest: HashMap<(String, String), (u64, Option<u64>)>,
    pub(crate) files: Files,
    /// The webhooks, their pending deliveries and logs.
    pub(crate) hooks: Hooks,
    /// The issues on assets.
    pub(crate) issues: IssueList,
    /// Write counters, for the validity of page cursors (see [`paging`](super::paging)).
    pub(crate) epochs: Epochs,
    pub(crate) project_epochs: HashMap<String, Epochs>,
    ids: IdGen,
    pub(super) last_ms: i64,
    last_seq: u64,
}

impl Data {
    /// Makes empty data.
    pub(super) fn new() -> Self {
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
            created: CreatedIndex::default(),
            latest: HashMap::new(),
            files: Files::default(),
            hooks: Hooks::default(),
            issues: IssueList::default(),
            epochs: Epochs::default(),
            project_epochs: HashMap::new(),
            ids: IdGen::new(),
            last_ms: 0,
            last_seq: 0,
        }
    }

    /// Reads the store's clock in milliseconds: it never goes backwards (not even across a restart
    /// on a journal), and several writes may share a millisecond (ordering by a timestamp is not
    /// creation order). A write reads it once, so everything one call creates shares one instant.
    pub(crate) fn now(&mut self) -> i64 {
        self.last_ms = now_ms().max(self.last_ms);
        self.last_ms
    }

    /// Moves the clock to `ms` if that is later, so that it never goes back behind a record
    /// it holds (a replayed journal sets it to the last write's instant).
    pub(super) fn see_time(&mut self, ms: i64) {
        self.last_ms = self.last_ms.max(ms);
    }

    /// Makes a new id (cuid-like).
    pub(crate) fn new_id(&mut self, now: i64) -> String {
        self.ids.next(now)
    }

    /// Makes a new random token (32 base-36 characters).
    pub(crate) fn ids_token(&mut self) -> String {
        self.ids.api_key()
    }

    /// Takes a new insertion sequence number.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    /// Returns the user with this id.
    pub(crate) fn user(&self, id: &str) -> Option<&UserRec> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Returns the first user with this email (case-insensitive).
    pub(crate) fn user_by_email(&self, email: &str) -> Option<&UserRec> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// Returns the project with this id, whoever owns it.
    pub(crate) fn project(&self, id: &str) -> Option<&ProjectRec> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// Returns the project if `user_id` may see it.
    pub(crate) fn owned_project(&self, user_id: &str, id: &str) -> Option<&ProjectRec> {
        self.project(id).filter(|p| p.owner_id == user_id)
    }

    /// Returns the asset with this id, whoever owns it.
    pub(crate) fn asset(&self, id: &str) -> Option<&AssetRec> {
        self.asset_ids.get(id).and_then(|s| self.assets.get(s))
    }

    /// Returns the asset with this id, to change in place (its place and indices stay as they are).
    pub(super) fn asset_mut(&mut self, id: &str) -> Option<&mut AssetRec> {
        let seq = self.asset_ids.get(id)?;
        self.assets.get_mut(seq)
    }

    /// Returns the asset if `user_id` owns its project.
    pub(crate) fn owned_asset(&self, user_id: &str, id: &str) -> Option<&AssetRec> {
        self.asset(id)
            .filter(|a| self.owned_project(user_id, &a.project_id).is_some())
    }

    /// Returns the label with this id, whoever owns it.
    pub(crate) fn label(&self, id: &str) -> Option<&Arc<LabelRec>> {
        self.label_ids.get(id).and_then(|s| self.labels.get(s))
    }

    /// Returns the label with this id if `user_id` owns its project.
    pub(crate) fn owned_label(&self, user_id: &str, id: &str) -> Option<&Arc<LabelRec>> {
        self.label(id)
            .filter(|l| self.owned_project(user_id, &l.project_id).is_some())
    }

    /// Returns the labels of an asset, in creation order.
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

    /// Returns the assets of a project, in creation order.
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

    /// Returns whether a label of the same author on the same asset was inserted after `label` (of
    /// type `DEFAULT` only, if `default_only`). By insertion sequence, not by timestamp: labels may
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
    pub(super) fn recompute_latest(&mut self, asset_id: &str, author_id: &str) {
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

    /// Adds a label to every index.
    pub(super) fn insert_label(&mut self, label: Arc<LabelRec>) {
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
        self.created
            .insert(&label.project_id, label.created_at, label.seq);
        self.asset_labels
            .entry(label.asset_id.clone())
            .or_default()
            .insert(label.seq);
        self.note_latest(&label);
        self.last_seq = self.last_seq.max(label.seq);
        self.labels.insert(label.seq, label);
    }

    /// Removes a label from every index; the caller recomputes `latest`.
    pub(super) fn remove_label(&mut self, id: &str) -> Option<Arc<LabelRec>> {
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
        self.created
            .remove(&label.project_id, label.created_at, seq);
        if let Some(s) = self.asset_labels.get_mut(&label.asset_id) {
            s.remove(&seq);
        }
        Some(label)
    }

    /// Adds an asset to every index.
    pub(super) fn insert_asset(&mut self, asset: AssetRec) {
        self.asset_ids.insert(asset.id.clone(), asset.seq);
        self.project_assets
            .entry(asset.project_id.clone())
            .or_default()
            .insert(asset.seq);
        self.last_seq = self.last_seq.max(asset.seq);
        self.assets.insert(asset.seq, asset);
    }

    /// Removes an asset and its labels from every index.
    pub(super) fn remove_asset(&mut self, id: &str) {
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
        self.issues.remove_asset(id);
    }

    /// Counts a write to a project, for the validity of page cursors.
    pub(super) fn bump(&mut self, project_id: Option<&str>, bump: fn(&mut Epochs)) {
        bump(&mut self.epochs);
        if let Some(p) = project_id {
            bump(self.project_epochs.entry(p.to_owned()).or_default());
        }
    }
}
