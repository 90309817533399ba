//! memgate's folder in a project: `.memgate/` beside `memgate.yml`, holding the logs and
//! the reports. It is created with a `.gitignore` of `*` (as pytest and ruff do for their
//! caches), so it never shows as untracked in the user's repository.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The folder's name.
pub const DIR: &str = ".memgate";

/// `.memgate/` beside the config at `config_path`.
pub fn root(config_path: &Path) -> PathBuf {
    config_path.parent().unwrap_or(Path::new(".")).join(DIR)
}

/// Creates `dir`, a folder inside `.memgate/` (or `.memgate/` itself), and gives
/// `.memgate/` its `.gitignore` if it has none.
pub fn create(root: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let ignore = root.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# memgate's logs and reports: nothing here belongs in git.\n*\n",
        )
        .map_err(|e| Error::io(format!("cannot write {}", ignore.display()), e))?;
    }
    Ok(())
}

/// Where `.memgate/` led before the benchmarks ran. A folder linked elsewhere on purpose
/// (a bigger disk) stays linked to the same place; a benchmark that put a link in its
/// place (or moved the link) while it ran is found out before memgate empties anything
/// in it.
pub struct Pin {
    root: PathBuf,
    real: Option<PathBuf>,
}

/// Notes where `.memgate/` at `root` leads now.
pub fn pin(root: &Path) -> Pin {
    Pin {
        root: root.to_path_buf(),
        real: std::fs::canonicalize(root).ok(),
    }
}

impl Pin {
    /// Whether `.memgate/` still leads where it did, or, where there was none, is
    /// missing or a folder of its own (not a link).
    pub fn holds(&self) -> bool {
        match &self.real {
            Some(real) => std::fs::canonicalize(&self.root).is_ok_and(|now| &now == real),
            None => std::fs::symlink_metadata(&self.root).map_or(true, |m| m.is_dir()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}
