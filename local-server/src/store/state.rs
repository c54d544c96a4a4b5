//! [`ServerState`]: the store as the rest of the crate holds it, a cheap handle on the data, its
//! label subscribers, the listing cursors and the journal.
//!
//! Every write goes through [`ServerState::commit`]: journal first, then apply. The writes
//! themselves are `ServerState` methods in the files named after what they write (`users`,
//! `projects`, `assets`, `labels`, `bucket`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::changes::Change;
use super::data::Data;
use super::error::StoreError;
use super::journal::Journal;
use super::outbox::Outbox;
use super::paging::CursorCache;
use super::subscribers::{LabelFeed, Subscribers};
use crate::error::Result;

/// The shared state of a local server.
///
/// Cloning is cheap (an `Arc`); clones share the same data. Hand a clone to
/// [`LocalServerBuilder::state`](crate::LocalServerBuilder::state) to start a new server on the
/// same data, which is how tests simulate a server restart in one process (a
/// [data file](crate::LocalServerBuilder::data_file) does it across processes). Server settings
/// (such as [`created_at_resolution`](crate::LocalServerBuilder::created_at_resolution)) are not
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
    pub(super) subscribers: Subscribers,
    /// Where the previous pages of listings ended (see [`paging`](super::paging)).
    pub(crate) cursors: Mutex<CursorCache>,
    /// The journal of writes, while a server started on a data file runs.
    journal: Mutex<Option<Journal>>,
    /// Rung when webhook deliveries are recorded or webhooks change.
    pub(super) outbox: Outbox,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            data: RwLock::new(Data::new()),
            subscribers: Subscribers::default(),
            cursors: Mutex::new(CursorCache::default()),
            journal: Mutex::new(None),
            outbox: Outbox::default(),
        }
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

impl ServerState {
    /// Creates an empty store (no users, no projects).
    pub fn new() -> Self {
        ServerState::default()
    }

    /// Returns how many labels exist, in every project.
    pub fn label_count(&self) -> usize {
        self.inner.data.read().labels.len()
    }

    /// Returns how many projects exist, for every user.
    pub fn project_count(&self) -> usize {
        self.inner.data.read().projects.len()
    }

    /// Returns how many assets exist, in every project.
    pub fn asset_count(&self) -> usize {
        self.inner.data.read().assets.len()
    }

    /// Returns how many label subscriptions are live (their connection has not dropped them).
    pub fn subscriber_count(&self) -> usize {
        self.inner.subscribers.count()
    }

    /// Locks the data for reading.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.inner.data.read()
    }

    /// Locks the data for writing.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.inner.data.write()
    }

    /// Registers a subscriber for the labels of a project, with a queue of `capacity` labels
    /// (access is checked by the caller).
    pub(crate) fn subscribe(&self, project_id: &str, capacity: usize) -> LabelFeed {
        self.inner.subscribers.subscribe(project_id, capacity)
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

    /// Opens the data file at `path` (created if missing) and replays it into a new state, which
    /// then journals every write.
    ///
    /// # Errors
    ///
    /// As [`Journal::open`].
    pub(crate) fn open_data_file(path: &Path) -> Result<ServerState> {
        let state = ServerState::new();
        let journal = Journal::open(path, &mut state.write())?;
        state.attach_journal(journal);
        Ok(state)
    }

    /// Starts writing every change to `journal` (after it was replayed into this state).
    fn attach_journal(&self, journal: Journal) {
        *self.inner.journal.lock() = Some(journal);
    }

    /// Waits until every write made so far is on disk (group commit: see the store's
    /// `durable`): a write is answered only after this. Returns at once without a data file.
    ///
    /// # Errors
    ///
    /// When the data file could not be written or synced: the writes since the last sync may
    /// be lost, and no further write is accepted.
    pub(crate) fn wait_durable(&self) -> Result<(), StoreError> {
        let durable = self.inner.journal.lock().as_ref().map(Journal::durable);
        match durable {
            None => Ok(()),
            Some(d) => d.wait().map_err(|why| {
                StoreError::new(
                    "INTERNAL_SERVER_ERROR",
                    format!("[internal] the local server could not sync its data file: {why}"),
                )
            }),
        }
    }

    /// Stops journaling: syncs and closes the data file, releasing its lock.
    ///
    /// # Errors
    ///
    /// When the data file could not be synced (it was closed all the same): the last writes
    /// may not be on disk.
    pub(crate) fn detach_journal(&self) -> std::io::Result<()> {
        let Some(mut j) = self.inner.journal.lock().take() else {
            return Ok(());
        };
        j.sync().inspect_err(|e| {
            log::error!("local server: cannot sync the data file at stop: {e}");
        })
    }

    /// Returns the directory of uploaded files, when journaled.
    pub(crate) fn blob_dir(&self) -> Option<PathBuf> {
        self.inner
            .journal
            .lock()
            .as_ref()
            .map(|j| j.blob_dir().to_path_buf())
    }
}
