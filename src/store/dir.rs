//! The directory store (`--store DIR`), for projects without git and for CI steps that
//! pass results on as artifacts: `DIR/<revision>/<time>-<id>.json`, one record a file,
//! written to a temporary file and renamed into place, so a killed memgate leaves no half
//! record and directories from many runners merge by copying. Main type: [`DirStore`].

use std::path::PathBuf;

use super::lock::FileLock;
use super::record::Record;
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
}

impl Store for DirStore {
    fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }

    fn save(&self, revision: &str, record: &Record) -> Result<()> {
        let dir = self.revision_dir(revision)?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        let _lock = FileLock::acquire(&self.dir.join(".lock"))?;
        let line = record.stored_line().map_err(Error::Usage)?;
        use sha2::Digest;
        let id: String = sha2::Sha256::digest(line.as_bytes())
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = dir.join(format!("{}-{id}.json", record.time.replace(':', "")));
        crate::files::replace(&path, &[line.as_bytes(), b"\n"])
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }

    fn load(&self, revision: &str) -> Result<Loaded> {
        self.read(revision, false)
    }

    fn load_with_runs(&self, revision: &str) -> Result<Loaded> {
        self.read(revision, true)
    }
}

impl DirStore {
    /// The records of `revision`, with their runs (and the timelines they carry) if `runs`.
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
            match crate::files::read_bounded(path, MAX_RECORD) {
                Ok(bytes) => match String::from_utf8(bytes) {
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
                    Err(_) => loaded.problem(&at, "not UTF-8 text: not a record", fix),
                },
                Err(why) => loaded.problem(&at, &format!("not read: {why}"), fix),
            }
        }
        Ok(loaded)
    }
}

/// The largest record file memgate reads: the largest it writes, and a line's end.
const MAX_RECORD: u64 = super::record::MAX_RECORD_BYTES as u64 + 1;
