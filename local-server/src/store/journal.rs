//! The data file: an append-only journal of writes, one JSON line per write, replayed at start.
//!
//! ```text
//! {"format":"kili-local-server-journal","version":1}
//! {"changes":[{"type":"user","id":"c...","email":"user@local.kili",...}]}
//! {"changes":[{"type":"labels","now":1767225600000,"labels":[{...}],"replaced":[]}]}
//! ```
//!
//! Each line holds the [`Change`]s of one write, so a write is replayed whole or not at all. A
//! line is written (no buffering in the process) before its changes are applied, and synced to
//! disk (`fdatasync`, grouped: see [`durable`](super::durable)) before the client gets its
//! answer: neither a killed server nor a machine crash loses an answered write. A line whose
//! write fails part-way (a full disk) is cut back off the file at once, so the next line starts
//! where it started. A last line cut short (a crash while writing it) is dropped at the next
//! start, with a warning; any other unreadable line stops the start with [`Error::DataFile`].
//!
//! The file is created readable and writable by its owner only (`0600`).
//!
//! Appending costs one line per write, whatever the size of the data; the file grows with every
//! write (an update writes the whole new label) and is never compacted.
//!
//! The file is locked while a server uses it: a second server on the same file refuses to
//! start. Uploaded file bodies live in a directory next to it (`<file>.files/`).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::changes::Change;
use super::data::Data;
use super::durable::Durable;
use crate::error::{Error, Result};

const FORMAT: &str = "kili-local-server-journal";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    changes: Vec<Change>,
}

/// An open, locked data file.
pub(crate) struct Journal {
    file: Arc<File>,
    /// Bytes of whole lines in the file.
    len: u64,
    durable: Arc<Durable>,
    blob_dir: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("blob_dir", &self.blob_dir)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Appends the changes of one write as one line (not synced: see [`Journal::durable`]). A
    /// line written in part is cut back off the file; if even that fails, the journal refuses
    /// every later write.
    pub(crate) fn append(&mut self, changes: &[Change]) -> std::io::Result<()> {
        if let Some(why) = self.durable.failure() {
            return Err(std::io::Error::other(why));
        }
        let mut line = serde_json::to_vec(&Entry {
            changes: changes.to_vec(),
        })?;
        line.push(b'\n');
        match (&*self.file).write_all(&line) {
            Ok(()) => {
                self.len += line.len() as u64;
                self.durable.wrote(self.len);
                Ok(())
            }
            Err(e) => {
                match self.file.set_len(self.len) {
                    Ok(()) => log::warn!(
                        "local server: a write to the data file failed ({e}); its partial line \
                         was cut back off"
                    ),
                    Err(cut) => self.durable.fail(format!(
                        "a write failed ({e}) and its partial line could not be cut back ({cut})"
                    )),
                }
                Err(e)
            }
        }
    }

    /// Returns the file's progress to disk, to wait on outside the journal's lock.
    pub(crate) fn durable(&self) -> Arc<Durable> {
        Arc::clone(&self.durable)
    }

    /// Forces everything written to disk, metadata included (a clean stop).
    ///
    /// # Errors
    ///
    /// When a write or a sync failed, now or before.
    pub(crate) fn sync(&mut self) -> std::io::Result<()> {
        self.durable.wait().map_err(std::io::Error::other)?;
        self.file.sync_all()
    }

    /// Returns the directory of uploaded bodies next to the data file.
    pub(crate) fn blob_dir(&self) -> &Path {
        &self.blob_dir
    }
}

/// Returns the directory of uploaded bodies for a data file: `<file>.files`.
fn blob_dir_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".files");
    path.with_file_name(name)
}

impl Journal {
    /// Opens and locks the data file at `path` (created if missing, `0600`), replays it into
    /// `data`, and returns it ready to append, synced.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be opened, read, locked (another server uses it) or
    /// synced; [`Error::DataFile`] if a line other than a cut-short last one cannot be read.
    pub(crate) fn open(path: &Path, data: &mut Data) -> Result<Journal> {
        let shown = path.display().to_string();
        let existed = path.exists();
        let mut file = private_options()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(Error::io(format!("opening the data file {shown}")))?;
        lock(&file, &shown)?;
        let good_len = replay(data, &mut file, path)?;
        let len = file
            .seek(SeekFrom::End(0))
            .map_err(Error::io(format!("reading the data file {shown}")))?;
        if good_len < len {
            log::warn!(
                "local server: dropping a cut-short last line of the data file {shown} \
                 ({} bytes, from an interrupted write)",
                len - good_len
            );
            file.set_len(good_len)
                .map_err(Error::io(format!("repairing the data file {shown}")))?;
        }
        let mut len = good_len;
        if good_len == 0 {
            let mut header = serde_json::to_vec(&Header {
                format: FORMAT.into(),
                version: VERSION,
            })
            .map_err(|e| Error::data_file(path, 1, e.to_string()))?;
            header.push(b'\n');
            file.write_all(&header)
                .map_err(Error::io(format!("writing the data file {shown}")))?;
            len = header.len() as u64;
        }
        file.sync_all()
            .map_err(Error::io(format!("syncing the data file {shown}")))?;
        if !existed {
            sync_dir(path.parent()).map_err(Error::io(format!("syncing the folder of {shown}")))?;
        }
        let file = Arc::new(file);
        Ok(Journal {
            durable: Arc::new(Durable::new(Arc::clone(&file), len)),
            file,
            len,
            blob_dir: blob_dir_of(path),
        })
    }
}

/// Locks the data file for this server, or says that another one uses it.
fn lock(file: &File, shown: &str) -> Result<()> {
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => Error::Io {
            context: format!("locking the data file {shown}"),
            source: std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "another local server is using it",
            ),
        },
        std::fs::TryLockError::Error(e) => Error::Io {
            context: format!("locking the data file {shown}"),
            source: e,
        },
    })
}

/// Options that create a file readable and writable by its owner only (`0600` on Unix).
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Syncs a folder, so that the names just created or renamed in it survive a crash (a no-op
/// where folders cannot be opened, as on Windows).
pub(crate) fn sync_dir(dir: Option<&Path>) -> std::io::Result<()> {
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if cfg!(unix) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Applies every complete line to `d`; returns the length of the readable part.
fn replay(d: &mut Data, file: &mut File, path: &Path) -> Result<u64> {
    let shown = path.display().to_string();
    file.seek(SeekFrom::Start(0))
        .map_err(Error::io(format!("reading the data file {shown}")))?;
    let mut reader = BufReader::new(&*file);
    let mut good = 0u64;
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(Error::io(format!("reading the data file {shown}")))?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = line.last() == Some(&b'\n');
        if !complete {
            // A last line without its newline: an interrupted write, never answered.
            break;
        }
        if number == 1 {
            match serde_json::from_slice::<Header>(&line) {
                Ok(h) if h.format == FORMAT && h.version == VERSION => {}
                Ok(h) => {
                    return Err(Error::data_file(
                        path,
                        1,
                        format!("unsupported format {:?} version {}", h.format, h.version),
                    ));
                }
                Err(e) => {
                    return Err(Error::data_file(
                        path,
                        1,
                        format!("not a kili-local-server data file: {e}"),
                    ));
                }
            }
        } else {
            let entry = serde_json::from_slice::<Entry>(&line)
                .map_err(|e| Error::data_file(path, number, e.to_string()))?;
            for c in &entry.changes {
                d.apply(c);
            }
        }
        good += n as u64;
    }
    Ok(good)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::project;
    use crate::store::{InputType, ServerState};

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kili-journal-{name}-{}-{}",
            std::process::id(),
            crate::time::now_ms()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("data.jsonl")
    }

    #[test]
    fn a_replayed_journal_gives_the_same_state() {
        let path = temp("replay");
        let (user, project) = {
            let s = ServerState::open_data_file(&path).unwrap();
            let u = s.ensure_user("k", "a@b.c").unwrap();
            let p = s.create_project(&u.id, project(InputType::Text)).unwrap();
            assert!(
                ServerState::open_data_file(&path).is_err(),
                "a second server cannot open it"
            );
            s.detach_journal().unwrap();
            (u, p)
        };
        let s = ServerState::open_data_file(&path).unwrap();
        assert_eq!(s.user_by_key("k").unwrap().id, user.id);
        let d = s.read();
        let p = d.project(&project.id).unwrap();
        assert_eq!((p.created_at, p.title.as_str()), (project.created_at, "t"));
        assert!(d.last_ms >= project.created_at, "the clock never goes back");
        drop(d);
        s.detach_journal().unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_cut_short_last_line_is_dropped_and_a_bad_line_refused() {
        let path = temp("torn");
        let s = ServerState::open_data_file(&path).unwrap();
        s.ensure_user("k", "a@b.c").unwrap();
        s.detach_journal().unwrap();
        let good = std::fs::read(&path).unwrap();
        let mut torn = good.clone();
        torn.extend_from_slice(br#"{"changes":[{"type":"us"#);
        std::fs::write(&path, &torn).unwrap();
        let s = ServerState::open_data_file(&path).unwrap();
        assert!(s.user_by_key("k").is_some());
        s.detach_journal().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), good, "repaired");
        let mut bad = good.clone();
        bad.extend_from_slice(b"nonsense\n");
        std::fs::write(&path, &bad).unwrap();
        let err = ServerState::open_data_file(&path).unwrap_err();
        assert!(matches!(err, Error::DataFile { line: 3, .. }), "{err:?}");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
