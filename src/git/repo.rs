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

    /// The default branch: `origin/HEAD`'s target, else `main` or `master` (local, then
    /// on origin). Its full ref name.
    pub fn default_branch(&self) -> Option<String> {
        if let Ok(reference) = self.inner.find_reference("refs/remotes/origin/HEAD")
            && let Ok(Some(target)) = reference.symbolic_target()
        {
            return Some(target.to_owned());
        }
        [
            "refs/heads/main",
            "refs/heads/master",
            "refs/remotes/origin/main",
            "refs/remotes/origin/master",
        ]
        .into_iter()
        .find(|r| self.inner.find_reference(r).is_ok())
        .map(str::to_owned)
    }

    /// The branch HEAD is on (its full ref name), even before the branch's first commit.
    pub fn head_branch(&self) -> Option<String> {
        let head = self.inner.find_reference("HEAD").ok()?;
        head.symbolic_target().ok().flatten().map(str::to_owned)
    }

    /// The default base for `head` (a full id): the merge-base of head and the default
    /// branch, or head's first parent when head is on that branch already. With a
    /// sentence saying how it was chosen.
    pub fn default_base(&self, head: &str) -> Result<(String, String)> {
        let branch = self.default_branch().ok_or_else(|| {
            Error::Usage(
                "cannot tell the default branch (no origin/HEAD, main or master): name the base, like --base origin/develop".into(),
            )
        })?;
        let branch_id = self.resolve(&branch)?;
        let head_oid = Oid::from_str(head).map_err(|e| git_error(head, e))?;
        let branch_oid = Oid::from_str(&branch_id).map_err(|e| git_error(&branch, e))?;
        let base = self
            .inner
            .merge_base(head_oid, branch_oid)
            .map_err(|e| git_error(format!("no merge-base of HEAD and {branch}"), e))?;
        let short = branch
            .trim_start_matches("refs/heads/")
            .trim_start_matches("refs/remotes/");
        if base != head_oid {
            return Ok((
                base.to_string(),
                format!("the merge-base of HEAD and {short}"),
            ));
        }
        let commit = self
            .inner
            .find_commit(head_oid)
            .map_err(|e| git_error(head, e))?;
        let parent = commit.parent_id(0).map_err(|_| {
            Error::Usage(format!(
                "HEAD is on {short} and has no parent to compare with: name the base"
            ))
        })?;
        Ok((
            parent.to_string(),
            format!("HEAD's parent (HEAD is on {short})"),
        ))
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
