//! `memgate log [BENCH]`: one metric along the first-parent history, newest first,
//! revisions without results shown as such.

use std::path::Path;

use super::context::Context;
use crate::cli::LogArgs;
use crate::error::{Error, Result};
use crate::report::stored::{LogRow, log_table};
use crate::{config, exit, measure};

pub fn log(ctx: &Context, config_path: Option<&Path>, args: LogArgs) -> Result<i32> {
    let repo = ctx.require_repo("memgate log")?;
    let store = ctx.require_store()?;
    let start = repo.resolve(&args.from)?;
    let commits = repo.first_parent_history(&start, args.count)?;
    // The config only names the testbed here; log works without one.
    let config_testbed = config::find(config_path, &ctx.cwd)
        .ok()
        .and_then(|p| config::load(&p).ok())
        .and_then(|p| p.testbed);
    let probe = measure::probe::choose_kind().map_err(Error::Usage)?;
    let testbed = ctx.testbed(probe, config_testbed.as_deref());

    let mut rows = Vec::with_capacity(commits.len());
    let mut problems = Vec::new();
    let mut other_testbeds = std::collections::BTreeSet::new();
    for commit in commits {
        let loaded = store.load(&commit.id)?;
        problems.extend(loaded.problems.iter().cloned());
        let record = loaded
            .latest(Some(&testbed.id), false)
            .or_else(|| loaded.latest(Some(&testbed.id), true));
        if record.is_none() {
            other_testbeds.extend(loaded.records.iter().map(|r| r.testbed_id().to_owned()));
        }
        rows.push(LogRow {
            commit,
            record: record.cloned(),
        });
    }
    let text = log_table(&rows, &args.metric, args.benchmark.as_deref(), &testbed.id);
    use std::io::Write;
    std::io::stdout()
        .write_all(&text)
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    if rows.iter().all(|r| r.record.is_none()) && !other_testbeds.is_empty() {
        let list: Vec<_> = other_testbeds.into_iter().collect();
        eprintln!(
            "memgate: no results for testbed {} here; stored testbeds: {} (choose one with --testbed NAME)",
            testbed.id,
            list.join(", ")
        );
    }
    for problem in problems {
        eprintln!("memgate: warning: {problem}");
    }
    Ok(exit::SUCCESS)
}
