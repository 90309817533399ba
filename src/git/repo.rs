//! The local git repository as memgate needs it (git2): which commit a run belongs to,
//! whether the working tree is dirty, first-parent history. Main type: [`Repo`].

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, StatusOptions};

use crate::error::{Error, Result};

/// A git repository, opened from a directory inside it.
pub struct Repo {
    pub(crate) inner: Repository,
}

/// One commit of the history, as `log` shows it.
#[derive(Clone, Debug)]
pub struct CommitInfo {
    pub id: String,
    /// Seconds since the epoch, committer time.
    pub time: i64,
    pub summary: String,
}

pub(crate) fn git_error(what: impl std::fmt::Display, e: git2::Error) -> Error {
    Error::Git(format!("{what}: {}", e.message()))
}

impl Repo {
    /// The repository holding `dir`, if there is one.
    pub fn discover(dir: &Path) -> Option<Repo> {
        Repository::discover(dir).ok().map(|inner| Repo { inner })
    }

    /// The working tree's top directory (none for a bare repository).
    pub fn workdir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// The directory shared by all worktrees (`.git` of the main one).
    pub fn common_dir(&self) -> PathBuf {
        self.inner.commondir().to_path_buf()
    }

    /// The full id of the commit `rev` names (a sha, a branch, `HEAD~3`, ...).
    pub fn resolve(&self, rev: &str) -> Result<String> {
        let object = self.inner.revparse_single(rev).map_err(|e| {
            Error::Usage(format!(
                "revision {rev:?} is not known in this repository ({}): give a commit, branch or tag",
                e.message()
            ))
        })?;
        let commit = object
            .peel_to_commit()
            .map_err(|_| Error::Usage(format!("revision {rev:?} does not name a commit")))?;
        Ok(commit.id().to_string())
    }

    /// Whether a commit with this full id exists here.
    pub fn has_commit(&self, id: &str) -> bool {
        Oid::from_str(id).is_ok_and(|oid| self.inner.find_commit(oid).is_ok())
    }

    /// Whether tracked files differ from HEAD (untracked files do not count: scratch
    /// files and datasets are common, and never part of the revision).
    pub fn is_dirty(&self) -> Result<bool> {
        let mut options = StatusOptions::new();
        options.include_untracked(false).include_ignored(false);
        let statuses = self
            .inner
            .statuses(Some(&mut options))
            .map_err(|e| git_error("cannot read the working tree's status", e))?;
        Ok(!statuses.is_empty())
    }

    /// Up to `n` commits from `start` along first parents, newest first.
    pub fn first_parent_history(&self, start: &str, n: usize) -> Result<Vec<CommitInfo>> {
        let oid = Oid::from_str(start).map_err(|e| git_error(start, e))?;
        let mut walk = self.inner.revwalk().map_err(|e| git_error("history", e))?;
        walk.push(oid).map_err(|e| git_error("history", e))?;
        walk.simplify_first_parent()
            .map_err(|e| git_error("history", e))?;
        let mut out = Vec::new();
        for oid in walk.take(n) {
            let oid = oid.map_err(|e| git_error("history", e))?;
            let commit = self.inner.find_commit(oid).map_err(|e| git_error(oid, e))?;
            out.push(CommitInfo {
                id: oid.to_string(),
                time: commit.time().seconds(),
                summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                    .into_owned(),
            });
        }
        Ok(out)
    }

    /// The summary line and time of one commit, if it exists.
    pub fn commit_info(&self, id: &str) -> Option<CommitInfo> {
        let commit = self.inner.find_commit(Oid::from_str(id).ok()?).ok()?;
        Some(CommitInfo {
            id: id.to_owned(),
            time: commit.time().seconds(),
            summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                .into_owned(),
        })
    }
}
