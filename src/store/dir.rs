//! The directory store (`--store DIR`), for projects without git and for CI steps that
//! pass results on as artifacts: `DIR/<revision>/<time>-<id>.json`, one record a file,
//! its timelines in `DIR/.timelines/<revision>/<key>.json`, each written to a temporary
//! file and renamed into place, so a killed memgate leaves no half record and directories
//! from many runners merge by copying. (The timelines live outside the revision's
//! directory because older memgates take every file there for a record; no label starts
//! with a dot, so `.timelines` is no revision's.) Main type: [`DirStore`].

use std::path::PathBuf;

use super::lock::FileLock;
use super::record::{Record, hex_digest};
use super::timelines;
use super::{Loaded, Store};
use crate::error::{Error, Result};

pub struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    pub fn new(dir: PathBuf) -> DirStore {
        DirStore { dir }
    }

    fn revision_dir(&self, revision: &str) -> Result<PathBuf> {
        crate::names::check_name("label", revision)
            .map_err(|e| Error::Usage(format!("{e}: it names a directory in the store")))?;
        Ok(self.dir.join(revision))
    }

    /// Where the timelines of `revision`'s records are kept.
    fn timelines_dir(&self, revision: &str) -> Result<PathBuf> {
        Ok(self
            .dir
            .join(TIMELINES_DIR)
            .join(self.revision_dir(revision)?.file_name().unwrap_or_default()))
    }

    /// The records of `revision`, with their runs (and the timelines they carry inline)
    /// if `runs`.
    fn read(&self, revision: &str, runs: bool) -> Result<Loaded> {
        let dir = self.revision_dir(revision)?;
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => return Err(Error::io(format!("cannot read {}", dir.display()), e)),
        };
        entries.sort();
        let mut loaded = Loaded::default();
        let fix = "remove or fix the file";
        for path in &entries {
            let at = path.display().to_string();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            if name.starts_with(".tmp") {
                loaded.problem(
                    &at,
                    "an unfinished record, left by a memgate stopped while saving",
                    "remove the file",
                );
                continue;
            }
            if !name.ends_with(".json") {
                loaded.problem(&at, "not a record (records end in .json)", "remove it");
                continue;
            }
            // One file at a time: its text is dropped once read, whatever the folder holds.
            match read_text(path) {
                Ok(text) => {
                    let line = std::iter::once((text.trim_end(), at));
                    let one = if runs {
                        Loaded::parse_with_runs(revision, line, fix)
                    } else {
                        Loaded::parse(revision, line, fix)
                    };
                    loaded.records.extend(one.records);
                    loaded.problems.extend(one.problems);
                }
                Err(why) => loaded.problem(&at, &why.to_string(), fix),
            }
        }
        Ok(loaded)
    }
}

/// The folder of `DIR` that holds the timelines.
const TIMELINES_DIR: &str = ".timelines";

/// A record's or timelines' file as text, within the bound.
fn read_text(path: &std::path::Path) -> Result<String, Unread> {
    let bytes = crate::files::read_bounded(path, MAX_RECORD)?;
    String::from_utf8(bytes).map_err(|_| Unread::NotText)
}

/// Why a file of the store was not read.
enum Unread {
    NotText,
    File(crate::files::Unread),
}

impl From<crate::files::Unread> for Unread {
    fn from(why: crate::files::Unread) -> Unread {
        Unread::File(why)
    }
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::NotText => write!(f, "not UTF-8 text: not a record"),
            Unread::File(why) => write!(f, "not read: {why}"),
        }
    }
}

impl Store for DirStore {
    fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }

    fn save(&self, revision: &str, record: &Record) -> Result<()> {
        let dir = self.revision_dir(revision)?;
        let lines = record.stored_lines().map_err(Error::Usage)?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        let _lock = FileLock::acquire(&self.dir.join(".lock"))?;
        // The timelines first: a memgate stopped between the two files leaves timelines
        // that no record names, never a record whose timelines are missing.
        if let Some((key, line)) = &lines.timelines {
            let dir = self.timelines_dir(revision)?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            let path = dir.join(format!("{key}.json"));
            crate::files::replace(&path, &[line.as_bytes(), b"\n"])
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        }
        let id = hex_digest(&[lines.record.as_bytes()], 4);
        let path = dir.join(format!("{}-{id}.json", record.time.replace(':', "")));
        crate::files::replace(&path, &[lines.record.as_bytes(), b"\n"])
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }

    fn load(&self, revision: &str) -> Result<Loaded> {
        self.read(revision, false)
    }

    fn load_with_runs(&self, revision: &str) -> Result<Loaded> {
        let mut loaded = self.read(revision, true)?;
        let dir = self.timelines_dir(revision)?;
        let place = dir.display().to_string();
        let complete = "its figures are complete";
        let mut texts = Vec::new();
        // Keys whose trouble is said already: not said again as missing timelines.
        let mut said = Vec::new();
        let keys: Vec<String> = loaded
            .records
            .iter()
            .filter_map(|r| r.timelines_key.clone())
            .collect();
        for key in keys {
            if !timelines::valid_key(&key) {
                loaded.problem(
                    &place,
                    &format!(
                        "a record names its timelines {key:?}, which is not a key memgate makes"
                    ),
                    complete,
                );
                said.push(key);
                continue;
            }
            let path = dir.join(format!("{key}.json"));
            match read_text(&path) {
                Ok(text) => texts.push((text, path.display().to_string())),
                // Said below, with the record it belongs to.
                Err(Unread::File(crate::files::Unread::Io(e)))
                    if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(why) => {
                    loaded.problem(
                        &path.display().to_string(),
                        &why.to_string(),
                        "remove or fix the file",
                    );
                    said.push(key);
                }
            }
        }
        let missing = loaded.attach_timelines(
            revision,
            texts.iter().map(|(text, at)| (text.trim_end(), at.clone())),
            "remove or fix the file",
        );
        for i in missing {
            let record = &loaded.records[i];
            if record
                .timelines_key
                .as_ref()
                .is_some_and(|k| said.contains(k))
            {
                continue;
            }
            let what = timelines::missing(record, &place);
            loaded.problem(
                &place,
                &what,
                "copy them along with the record; its figures are complete",
            );
        }
        Ok(loaded)
    }
}

/// The largest record file memgate reads: the largest it writes, and a line's end.
const MAX_RECORD: u64 = super::record::MAX_RECORD_BYTES as u64 + 1;
