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
        let line = record.to_line();
        use sha2::Digest;
        let id: String = sha2::Sha256::digest(line.as_bytes())
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("{}-{id}.json", record.time.replace(':', ""));
        let mut temp = tempfile::NamedTempFile::new_in(&dir)
            .map_err(|e| Error::io(format!("cannot write in {}", dir.display()), e))?;
        use std::io::Write;
        temp.write_all(line.as_bytes())
            .and_then(|()| temp.write_all(b"\n"))
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| Error::io(format!("cannot write in {}", dir.display()), e))?;
        temp.persist(dir.join(&name)).map_err(|e| {
            Error::io(
                format!("cannot write {}", dir.join(&name).display()),
                e.error,
            )
        })?;
        Ok(())
    }

    fn load(&self, revision: &str) -> Result<Loaded> {
        let dir = self.revision_dir(revision)?;
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => return Err(Error::io(format!("cannot read {}", dir.display()), e)),
        };
        files.sort();
        let mut texts = Vec::new();
        for file in &files {
            match std::fs::read_to_string(file) {
                Ok(text) => texts.push((text, file.display().to_string())),
                Err(e) => texts.push((String::new(), format!("{} ({e})", file.display()))),
            }
        }
        Ok(Loaded::parse(
            texts.iter().map(|(text, at)| (text.trim_end(), at.clone())),
            "remove or fix the file",
        ))
    }
}
