//! [`Seen`]: the events a receiver handled recently, so that a redelivery is answered without
//! handling it again; kept in a bounded window and, optionally, in a state file that survives
//! restarts.
//!
//! The state file is a header line, then one JSON string per line (an event's key), appended
//! and synced as each event is handled. Reading it keeps the newest `capacity` keys; once it
//! holds twice that many lines it is rewritten with the window (a new file, synced, renamed
//! over the old one), so it stays bounded too.

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const HEADER: &str = "kili webhook receiver: handled events, v1";

/// The keys of the events handled recently, oldest first.
#[derive(Debug)]
pub(crate) struct Seen {
    capacity: usize,
    order: VecDeque<String>,
    keys: HashSet<String>,
    file: Option<StateFile>,
}

#[derive(Debug)]
struct StateFile {
    path: PathBuf,
    file: File,
    lines: usize,
}

impl Seen {
    /// Returns an empty window of `capacity` keys (at least 1), kept in memory only.
    pub(crate) fn in_memory(capacity: usize) -> Seen {
        Seen {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            keys: HashSet::new(),
            file: None,
        }
    }

    /// Returns the window saved in `path` (empty if the file does not exist), kept there from
    /// now on.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read or written; [`Error::Decode`] if it is not a
    /// state file of this crate.
    pub(crate) fn in_file(capacity: usize, path: &Path) -> Result<Seen> {
        let mut seen = Seen::in_memory(capacity);
        match File::open(path) {
            Ok(f) => seen.load(BufReader::new(f), path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        }
        seen.file = Some(seen.rewrite(path)?);
        Ok(seen)
    }

    fn load(&mut self, reader: impl BufRead, path: &Path) -> Result<()> {
        let bad = |what: &str| {
            Error::decode(
                format!("the state file {}", path.display()),
                what.to_owned(),
            )
        };
        let mut lines = reader.lines();
        match lines.next() {
            Some(Ok(first)) if first == HEADER => {}
            None => return Ok(()),
            _ => return Err(bad("it does not start with the receiver's header")),
        }
        for line in lines {
            let line = line.map_err(Error::io(format!("reading {}", path.display())))?;
            // A line cut by a crash at the end is skipped: its event was not answered.
            if let Ok(key) = serde_json::from_str::<String>(&line) {
                self.remember(key);
            }
        }
        Ok(())
    }

    /// Writes the window to a new file and renames it over `path`; returns it, open for
    /// appending.
    fn rewrite(&self, path: &Path) -> Result<StateFile> {
        let io = |what: &str| Error::io(format!("{what} {}", path.display()));
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = File::create(&tmp).map_err(io("writing"))?;
            let mut text = format!("{HEADER}\n");
            for key in &self.order {
                text.push_str(&line_of(key));
            }
            f.write_all(text.as_bytes()).map_err(io("writing"))?;
            f.sync_all().map_err(io("syncing"))?;
        }
        std::fs::rename(&tmp, path).map_err(io("replacing"))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            // Makes the rename durable; some systems do not allow opening a directory.
            let _ = d.sync_all();
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io("opening"))?;
        Ok(StateFile {
            path: path.to_owned(),
            file,
            lines: self.order.len(),
        })
    }

    /// Returns whether the event with this key was handled.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// Records a handled event, in the state file too if there is one (synced before this
    /// returns).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the state file cannot be written; the key is remembered in memory
    /// anyway.
    pub(crate) fn insert(&mut self, key: String) -> Result<()> {
        // The line is written only with a state file.
        let line = self.file.is_some().then(|| line_of(&key));
        self.remember(key);
        let (Some(line), Some(state)) = (line, &mut self.file) else {
            return Ok(());
        };
        let io = Error::io(format!("writing {}", state.path.display()));
        state.file.write_all(line.as_bytes()).map_err(io)?;
        let io = Error::io(format!("syncing {}", state.path.display()));
        state.file.sync_data().map_err(io)?;
        state.lines += 1;
        if state.lines >= 2 * self.capacity {
            let path = state.path.clone();
            self.file = Some(self.rewrite(&path)?);
        }
        Ok(())
    }

    fn remember(&mut self, key: String) {
        if !self.keys.insert(key.clone()) {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
    }
}

/// Returns a key's line in the state file: a JSON string and a newline.
fn line_of(key: &str) -> String {
    let mut line = serde_json::Value::String(key.to_owned()).to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "kili-seen-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_window_keeps_the_newest_keys() {
        let mut seen = Seen::in_memory(2);
        for k in ["a", "b", "c"] {
            seen.insert(k.into()).unwrap();
        }
        assert!(!seen.contains("a"));
        assert!(seen.contains("b") && seen.contains("c"));
        seen.insert("b".into()).unwrap();
        assert!(
            seen.contains("c"),
            "a key seen again does not push others out"
        );
    }

    #[test]
    fn the_state_file_survives_a_restart_and_stays_bounded() {
        let path = dir().join("seen.tmp");
        let _ = std::fs::remove_file(&path);
        {
            let mut seen = Seen::in_file(3, &path).unwrap();
            for i in 0..10 {
                seen.insert(format!("k\t{i}\n\"quoted\"")).unwrap();
            }
        }
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines <= 1 + 2 * 3, "{lines} lines");
        let seen = Seen::in_file(3, &path).unwrap();
        assert!(seen.contains("k\t9\n\"quoted\""));
        assert!(seen.contains("k\t7\n\"quoted\""));
        assert!(!seen.contains("k\t6\n\"quoted\""));
        // A line cut in the middle by a crash is skipped.
        std::fs::write(&path, format!("{HEADER}\n\"whole\"\n\"cut")).unwrap();
        let seen = Seen::in_file(3, &path).unwrap();
        assert!(seen.contains("whole"));
        // Not a state file: refused, not overwritten.
        std::fs::write(&path, "something else\n").unwrap();
        assert!(Seen::in_file(3, &path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "something else\n");
    }
}
