//! What the watcher writes: one JSON line per label (serialized straight from the typed label,
//! the annotation embedded as it came), and the state file (written atomically).

use std::io::Write;
use std::path::Path;

use kili::{Checkpoint, EventOrigin, LabelEvent};
use serde::Serialize;
use serde_json::value::RawValue;

/// One label, as a line of JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    id: &'a str,
    asset_id: Option<&'a str>,
    label_type: Option<&'a str>,
    author: Option<&'a str>,
    created_at: Option<&'a str>,
    json_response: Option<Response<'a>>,
    origin: &'static str,
}

/// The annotation: embedded as the JSON it is, or as a string if the server sent something
/// that is not JSON.
#[derive(Serialize)]
#[serde(untagged)]
enum Response<'a> {
    Json(&'a RawValue),
    Text(&'a str),
}

/// Writes `event` as one line (buffered: the caller flushes).
pub fn write_line(out: &mut impl Write, event: &LabelEvent) -> std::io::Result<()> {
    let label = event.label();
    let json_response = label.json_response().map(|r| {
        serde_json::from_str::<&RawValue>(r.get()).map_or(Response::Text(r.get()), Response::Json)
    });
    let line = Line {
        id: label.id(),
        asset_id: label.asset_id(),
        label_type: label.label_type().map(|t| t.as_str()),
        author: label.author().and_then(|a| a.email),
        created_at: label.created_at(),
        json_response,
        origin: if event.origin() == EventOrigin::CatchUp {
            "catch-up"
        } else {
            "live"
        },
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// The checkpoint saved in `path`, if the file exists.
pub fn load_state(path: &Path) -> Result<Option<Checkpoint>, Box<dyn std::error::Error>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().parse()?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("reading {}: {e}", path.display()).into()),
    }
}

/// Saves `checkpoint` in `path` so that a crash at any moment leaves the old file or the new
/// one, never a mix: write a temporary file, fsync it, rename it over, fsync the directory.
pub fn save_state(path: &Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    // Appended, not a replaced extension: a state file named `x.tmp` gets `x.tmp.new`.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp)?;
        writeln!(f, "{checkpoint}")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename itself durable; some systems do not allow opening a directory.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
