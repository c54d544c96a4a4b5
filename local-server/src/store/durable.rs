//! Group commit: how far the data file is written and how far it is on disk, and waiting until
//! everything written so far is on disk.
//!
//! Writers append their line under the data's write lock (so lines keep the order of the writes)
//! and do not sync. Whoever must answer a client then calls [`Durable::wait`], outside every
//! lock: the first waiter syncs the file for every line appended so far, and the writers that
//! appended meanwhile wait for the next sync, which covers all of them. One `fdatasync` thus
//! makes a whole group of concurrent writes durable.
//!
//! A failed sync leaves the file in a state nobody can vouch for (the kernel may have dropped
//! the pages it could not write): the journal is marked failed, every waiter gets the error, and
//! every later write is refused.

use std::fs::File;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
struct Progress {
    /// Bytes appended to the file.
    written: u64,
    /// Bytes known to be on disk.
    synced: u64,
    /// Whether a waiter is syncing now.
    syncing: bool,
    /// Why the file can no longer be trusted, once a write or a sync failed.
    failed: Option<String>,
}

/// The data file's progress to disk, shared by its writers and by whoever waits on them.
#[derive(Debug)]
pub(crate) struct Durable {
    file: Arc<File>,
    progress: Mutex<Progress>,
    synced: Condvar,
}

impl Durable {
    /// Tracks `file`, whose first `len` bytes are on disk.
    pub(crate) fn new(file: Arc<File>, len: u64) -> Self {
        Durable {
            file,
            progress: Mutex::new(Progress {
                written: len,
                synced: len,
                ..Progress::default()
            }),
            synced: Condvar::new(),
        }
    }

    /// Records that the file now holds `len` bytes.
    pub(crate) fn wrote(&self, len: u64) {
        let mut p = self.progress.lock();
        p.written = p.written.max(len);
    }

    /// Marks the file as failed: nothing more is written, every waiter gets `why`.
    pub(crate) fn fail(&self, why: String) {
        log::error!("local server: the data file cannot be trusted any more: {why}");
        let mut p = self.progress.lock();
        p.failed.get_or_insert(why);
        self.synced.notify_all();
    }

    /// Returns why the file failed, if it did.
    pub(crate) fn failure(&self) -> Option<String> {
        self.progress.lock().failed.clone()
    }

    /// Waits until every byte written before the call is on disk, syncing it if no one else is.
    ///
    /// # Errors
    ///
    /// Why the file failed (now or before).
    pub(crate) fn wait(&self) -> Result<(), String> {
        let mut p = self.progress.lock();
        let target = p.written;
        loop {
            if let Some(why) = &p.failed {
                return Err(why.clone());
            }
            if p.synced >= target {
                return Ok(());
            }
            if p.syncing {
                self.synced.wait(&mut p);
                continue;
            }
            // Lead this group: sync everything appended so far, outside the lock.
            p.syncing = true;
            let upto = p.written;
            drop(p);
            let result = self.file.sync_data();
            p = self.progress.lock();
            p.syncing = false;
            match result {
                Ok(()) => p.synced = p.synced.max(upto),
                Err(e) => {
                    let why = format!("syncing the data file failed: {e}");
                    log::error!("local server: {why}");
                    p.failed.get_or_insert(why);
                }
            }
            self.synced.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_return_once_synced_and_fail_once_failed() {
        let dir = std::env::temp_dir().join(format!("kili-durable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = Arc::new(File::create(dir.join("f")).unwrap());
        let d = Arc::new(Durable::new(Arc::clone(&file), 0));
        d.wrote(10);
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let d = Arc::clone(&d);
                std::thread::spawn(move || d.wait())
            })
            .collect();
        for w in waiters {
            assert_eq!(w.join().unwrap(), Ok(()));
        }
        assert_eq!(d.progress.lock().synced, 10);
        d.fail("disk gone".into());
        assert_eq!(d.wait(), Err("disk gone".into()));
        assert_eq!(d.failure().as_deref(), Some("disk gone"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
