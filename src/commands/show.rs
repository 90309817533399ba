//! `memgate show [REV]`: every record stored for a revision; as JSON, with its runs and
//! their timelines (the table has no use for them, so it does not read them).

use super::context::Context;
use super::emit;
use crate::cli::{Format, ShowArgs};
use crate::error::{Error, Result};
use crate::exit;

pub fn show(ctx: &Context, args: ShowArgs) -> Result<i32> {
    let store = ctx.require_store()?;
    let rev = args.rev.as_deref().unwrap_or("HEAD");
    let is_full_id = rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit());
    let revision = match ctx.revision(rev) {
        Ok(revision) => revision,
        // A commit that is gone (rewritten history) may still have results: show them.
        Err(_) if is_full_id => rev.to_owned(),
        Err(e) => return Err(e),
    };
    let loaded = match args.format {
        Format::Json => store.load_with_runs(&revision)?,
        Format::Table => store.load(&revision)?,
    };
    for problem in &loaded.problems {
        eprintln!("memgate: warning: {problem}");
    }
    let commit = ctx.repo.as_ref().and_then(|r| r.commit_info(&revision));
    if ctx.repo.is_some()
        && ctx.store_dir.is_none()
        && commit.is_none()
        && !loaded.records.is_empty()
    {
        eprintln!(
            "memgate: warning: commit {revision} is not in this repository (rewritten history?); its results stay in the notes until `git notes --ref=memgate prune` and `git notes --ref=memgate-timelines prune`"
        );
    }
    let json = crate::report::text::inert_json(
        serde_json::to_vec_pretty(&loaded.records).unwrap_or_default(),
    );
    let table = crate::report::stored::show(
        &revision,
        commit.as_ref(),
        &loaded.records,
        &store.describe(),
    );
    emit(&table, &[json, b"\n".to_vec()].concat(), args.format, None)?;
    if loaded.records.is_empty() && loaded.problems.is_empty() && ctx.store_dir.is_none() {
        eprintln!(
            "memgate: if results of it were pushed to a remote, fetch them with `memgate notes fetch [REMOTE]`"
        );
    }
    if loaded.records.is_empty() && !loaded.problems.is_empty() {
        return Err(Error::Git(format!(
            "no readable record for {revision} in {}",
            store.describe()
        )));
    }
    Ok(exit::SUCCESS)
}
