//! A temporary worktree of another revision, for `memgate run --rev`: created by memgate
//! with HEAD detached at the revision, and always removed, on success, on failure and on
//! Ctrl-C (its guard's `Drop`). One left by a memgate that was killed outright is removed
//! by the next one. Main type: [`TempWorktree`].

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, WorktreeAddOptions, WorktreePruneOptions};

use super::repo::{Repo, git_error};
use crate::error::{Error, Result};

/// Worktrees memgate creates are named `memgate-<pid>-<n>`.
const PREFIX: &str = "memgate-";

pub struct TempWorktree {
    repo: Repository,
    name: String,
    dir: tempfile::TempDir,
}

impl TempWorktree {
    /// Checks `commit` (a full id) out into a new temporary worktree of `repo`.
    pub fn create(repo: &Repo, commit: &str) -> Result<TempWorktree> {
        let repo =
            Repository::open(repo.common_dir()).map_err(|e| git_error("the repository", e))?;
        remove_stale(&repo);
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        let dir = tempfile::Builder::new()
            .prefix(&name)
            .tempdir()
            .map_err(|e| Error::io("cannot create a temporary directory", e))?;
        let worktree = TempWorktree { repo, name, dir };
        worktree.check_out(commit)?;
        Ok(worktree)
    }

    /// Where the revision is checked out.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("tree")
    }

    fn check_out(&self, commit: &str) -> Result<()> {
        let oid = Oid::from_str(commit).map_err(|e| git_error(commit, e))?;
        let target = self
            .repo
            .find_commit(oid)
            .map_err(|e| git_error(commit, e))?;
        // libgit2 adds a worktree on a branch; a throwaway branch it is, detached and
        // deleted at once, so that no branch of the user's is touched.
        let mut branch = self
            .repo
            .branch(&self.name, &target, true)
            .map_err(|e| git_error("cannot create a temporary branch", e))?;
        let reference = branch.get();
        let mut options = WorktreeAddOptions::new();
        options.reference(Some(reference));
        let added = self.repo.worktree(&self.name, &self.path(), Some(&options));
        let detached = added.and_then(|wt| {
            let inner = Repository::open_from_worktree(&wt)?;
            inner.set_head_detached(oid)
        });
        let deleted = branch.delete();
        detached.map_err(|e| git_error(format!("cannot check {commit} out"), e))?;
        deleted.map_err(|e| git_error("cannot delete the temporary branch", e))?;
        Ok(())
    }
}

impl Drop for TempWorktree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.path());
        prune(&self.repo, &self.name);
    }
}

/// Forgets a worktree whose directory is gone.
fn prune(repo: &Repository, name: &str) {
    if let Ok(worktree) = repo.find_worktree(name) {
        let mut options = WorktreePruneOptions::new();
        options.valid(true).working_tree(true);
        let _ = worktree.prune(Some(&mut options));
    }
}

/// Removes worktrees left by a memgate that no longer runs (killed before its cleanup).
fn remove_stale(repo: &Repository) {
    let Ok(names) = repo.worktrees() else { return };
    for name in names.iter().flatten().flatten() {
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(worktree) = repo.find_worktree(name) {
            let _ = std::fs::remove_dir_all(worktree.path());
        }
        prune(repo, name);
    }
}
