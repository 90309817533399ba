//! Sharing notes through a remote with the `git` command, so the user's credentials and
//! transport settings apply: fetch into a side ref and merge with `cat_sort_uniq` (every
//! line of both sides kept, nothing a local run saved is lost), push and, when another
//! runner pushed first, fetch, merge and retry with backoff. The records
//! (`refs/notes/memgate`) and their timelines (`refs/notes/memgate-timelines`) travel
//! alike; a remote that older memgates pushed to has no timelines ref, and needs none.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use super::notes::{NOTES_REF, TIMELINES_REF};
use crate::error::{Error, Result};

const PUSH_ATTEMPTS: u32 = 6;

/// What a fetch did.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    /// The remote has no memgate notes yet.
    Nothing,
    /// Local notes now hold the remote's too.
    Merged,
}

fn git(repo: &Path, args: &[&str]) -> Result<Output> {
    let mut command = Command::new("git");
    command.arg("-C").arg(repo).args(args);
    // A notes merge makes a commit; where the user has no identity (CI), memgate signs.
    let has = |key: &str| {
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["config", "--get", key])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("user.email") || !has("user.name") {
        for (key, value) in [
            ("GIT_AUTHOR_NAME", "memgate"),
            ("GIT_AUTHOR_EMAIL", "memgate@localhost"),
            ("GIT_COMMITTER_NAME", "memgate"),
            ("GIT_COMMITTER_EMAIL", "memgate@localhost"),
        ] {
            command.env(key, value);
        }
    }
    command
        .output()
        .map_err(|e| Error::io("cannot run git (is it installed?)", e))
}

fn failure(what: &str, output: &Output) -> Error {
    Error::Git(format!(
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// The side ref a remote's notes of `notes_ref` are fetched into.
fn side_ref(notes_ref: &str, remote: &str) -> String {
    // A URL or a path is a remote too; a ref name takes none of its ':' and '/'.
    let name: String = remote
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{notes_ref}-remote/{}", name.trim_start_matches('.'))
}

/// A remote as git takes it: a name, a URL or a path, never an option. (Everything is
/// passed after `--` as well.)
fn check_remote(remote: &str) -> Result<()> {
    if remote.is_empty() || remote.starts_with('-') || remote.chars().any(char::is_control) {
        return Err(Error::Usage(format!(
            "{remote:?} is not a remote: give a remote's name (like origin), a URL or a path"
        )));
    }
    Ok(())
}

/// Fetches `remote`'s notes and merges them into the local ones.
pub fn fetch(repo: &Path, remote: &str) -> Result<Fetched> {
    check_remote(remote)?;
    if !fetch_ref(repo, remote, NOTES_REF)? {
        return Ok(Fetched::Nothing);
    }
    fetch_ref(repo, remote, TIMELINES_REF)?;
    Ok(Fetched::Merged)
}

/// Fetches `remote`'s `notes_ref` and merges it into the local one; false if the remote
/// has none.
fn fetch_ref(repo: &Path, remote: &str, notes_ref: &str) -> Result<bool> {
    let side = side_ref(notes_ref, remote);
    let refspec = format!("+{notes_ref}:{side}");
    let out = git(repo, &["fetch", "--quiet", "--", remote, &refspec])?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("couldn't find remote ref") {
            return Ok(false);
        }
        return Err(failure(&format!("git fetch {remote} {refspec}"), &out));
    }
    let local = git(repo, &["rev-parse", "--verify", "--quiet", notes_ref])?;
    let out = if local.status.success() {
        git(
            repo,
            &[
                "notes",
                "--ref",
                notes_ref,
                "merge",
                "--quiet",
                "-s",
                "cat_sort_uniq",
                &side,
            ],
        )?
    } else {
        git(repo, &["update-ref", notes_ref, &side])?
    };
    if !out.status.success() {
        return Err(failure(&format!("merging {side} into {notes_ref}"), &out));
    }
    Ok(true)
}

/// Pushes the local notes to `remote`, merging in what others pushed first.
pub fn push(repo: &Path, remote: &str) -> Result<u32> {
    check_remote(remote)?;
    let local = git(repo, &["rev-parse", "--verify", "--quiet", NOTES_REF])?;
    if !local.status.success() {
        return Err(Error::Usage(
            "there are no memgate notes to push: run `memgate run` first".into(),
        ));
    }
    let mut refspecs = vec![format!("{NOTES_REF}:{NOTES_REF}")];
    let timelines = git(repo, &["rev-parse", "--verify", "--quiet", TIMELINES_REF])?;
    if timelines.status.success() {
        refspecs.push(format!("{TIMELINES_REF}:{TIMELINES_REF}"));
    }
    let mut args = vec!["push", "--quiet", "--", remote];
    args.extend(refspecs.iter().map(String::as_str));
    for attempt in 1..=PUSH_ATTEMPTS {
        let out = git(repo, &args)?;
        if out.status.success() {
            return Ok(attempt);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let raced = [
            "non-fast-forward",
            "fetch first",
            "rejected",
            "cannot lock ref",
            "failed to update ref",
        ]
        .iter()
        .any(|s| stderr.contains(s));
        if !raced || attempt == PUSH_ATTEMPTS {
            return Err(failure(
                &format!("git push {remote} {}", refspecs.join(" ")),
                &out,
            ));
        }
        // Another runner pushed first: take its notes in, then try again, a little later
        // each time (with jitter, so racing runners do not collide again in step).
        fetch(repo, remote)?;
        let jitter = u64::from(std::process::id() % 100);
        std::thread::sleep(Duration::from_millis(100 * (1 << attempt) + jitter));
    }
    unreachable!("the loop returns on its last attempt")
}
