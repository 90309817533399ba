//! The local git repository (git2): revisions, history, dirty state, temporary worktrees.

mod repo;
mod worktree;

pub use repo::{CommitInfo, Repo};
pub use worktree::TempWorktree;
