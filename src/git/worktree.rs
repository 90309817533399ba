//! A temporary worktree of another revision, for `memgate run --rev`: created by memgate
//! with HEAD detached at the revision, and always removed, on success, on failure and on
//! Ctrl-C (its guard's `Drop`). One left by a memgate that was killed outright is removed
//! by the next one. Main type: [`TempWorktree`].

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, WorktreeAddOptions, WorktreeLockStatus, WorktreePruneOptions};

use super::repo::{Repo, git_error};
use crate::error::{Error, Result};

/// Worktrees memgate creates are named `memgate-<pid>-<n>` and locked with the reason
/// `memgate pid <pid>`: only such a worktree is ever removed as stale, never one that
/// merely has a similar name.
const PREFIX: &str = "memgate-";
const LOCK_REASON: &str = "memgate pid ";

pub struct TempWorktree {
    repo: Repository,
    name: String,
    dir: tempfile::TempDir,
    /// An flock on `dir` for as long as it is in use: another memgate (in another pid
    /// namespace, where this pid means nothing) sees the folder is not stale.
    _held: Option<std::fs::File>,
}

impl TempWorktree {
    /// Checks `commit` (a full id) out into a new temporary worktree of `repo`.
    pub fn create(repo: &Repo, commit: &str) -> Result<TempWorktree> {
        let repo =
            Repository::open(repo.common_dir()).map_err(|e| git_error("the repository", e))?;
        remove_stale(&repo);
        remove_stale_temp_dirs();
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        let dir = tempfile::Builder::new()
            .prefix(&name)
            .tempdir()
            .map_err(|e| Error::io("cannot create a temporary directory", e))?;
        let held = hold(dir.path());
        let worktree = TempWorktree {
            repo,
            name,
            dir,
            _held: held,
        };
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
            wt.lock(Some(&format!("{LOCK_REASON}{}", std::process::id())))?;
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

/// Unlocks and forgets one of memgate's worktrees whose directory is gone.
fn prune(repo: &Repository, name: &str) {
    if let Ok(worktree) = repo.find_worktree(name) {
        let _ = worktree.unlock();
        let mut options = WorktreePruneOptions::new();
        options.valid(true).working_tree(true);
        let _ = worktree.prune(Some(&mut options));
    }
}

/// Removes worktrees left by a memgate that no longer runs (killed before its cleanup):
/// those locked with memgate's reason by a process that is gone.
fn remove_stale(repo: &Repository) {
    let Ok(names) = repo.worktrees() else { return };
    for name in names.iter().flatten().flatten() {
        if !name.starts_with(PREFIX) {
            continue;
        }
        let Ok(worktree) = repo.find_worktree(name) else {
            continue;
        };
        let Ok(WorktreeLockStatus::Locked(Some(reason))) = worktree.is_locked() else {
            continue;
        };
        let Some(pid) = reason
            .strip_prefix(LOCK_REASON)
            .and_then(|p| p.trim().parse::<i32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // A memgate in another pid namespace may hold it still.
        if worktree
            .path()
            .parent()
            .is_some_and(|dir| dir.exists() && hold(dir).is_none())
        {
            continue;
        }
        let _ = std::fs::remove_dir_all(worktree.path());
        prune(repo, name);
    }
}

/// An flock on the folder `dir`, if no other process holds one.
fn hold(dir: &Path) -> Option<std::fs::File> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(dir).ok()?;
    // SAFETY: flock on a valid descriptor.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    locked.then_some(file)
}

/// Removes the temporary folders of memgates that no longer run, left when one was
/// killed outright: `memgate-<pid>-<n>…` in the temporary directory, of this user, of a
/// process that is gone, held by no memgate (a lock), and holding nothing, or nothing but
/// memgate's checkout `tree` of that same process (the worktree itself is pruned by
/// [`remove_stale`]). Anything else of that name is left alone.
fn remove_stale_temp_dirs() {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // A real folder (not a link to one) of this user's.
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_dir() || meta.uid() != me {
            continue;
        }
        let dir = entry.path();
        let Some(_held) = hold(&dir) else {
            continue;
        };
        let Ok(inside) = std::fs::read_dir(&dir) else {
            continue;
        };
        let inside: Vec<_> = inside.flatten().map(|e| e.file_name()).collect();
        let tree = dir.join("tree");
        let ours = match inside.as_slice() {
            [] => true,
            [one] if one == "tree" => {
                // memgate's checkout: its .git names memgate's worktree of that process.
                // Read as a file someone else may have put there: never a FIFO's wait.
                let gitdir = crate::files::read_own(&tree.join(".git"), 4096)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let own = gitdir.starts_with("gitdir: ")
                    && gitdir.contains(&format!("/worktrees/{PREFIX}{pid}-"));
                own || std::fs::read_dir(&tree).is_ok_and(|mut d| d.next().is_none())
            }
            _ => false,
        };
        if ours {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
