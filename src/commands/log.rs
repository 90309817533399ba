//! `memgate log [BENCH]`: one metric along the first-parent history, newest first,
//! revisions without results shown as such.

use std::path::Path;

use super::context::Context;
use crate::cli::LogArgs;
use crate::error::{Error, Result};
use crate::report::stored::{LogRecord, LogRow, log_table};
use crate::results::BUILT_IN_METRICS;
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
    let mut metrics: std::collections::BTreeSet<String> =
        BUILT_IN_METRICS.into_iter().map(str::to_owned).collect();
    for commit in commits {
        let loaded = store.load(&commit.id)?;
        problems.extend(loaded.problems.iter().cloned());
        let record = loaded
            .latest(Some(&testbed.id), false)
            .or_else(|| loaded.latest(Some(&testbed.id), true));
        match record {
            Some(record) => {
                for b in &record.results.benchmarks {
                    for name in b.metrics.keys() {
                        if !metrics.contains(name) {
                            metrics.insert(name.clone());
                        }
                    }
                }
            }
            None => other_testbeds.extend(loaded.records.iter().map(|r| r.testbed_id().to_owned())),
        }
        rows.push(LogRow {
            commit,
            record: record.map(|r| LogRecord::new(r, &args.metric)),
        });
    }
    check_metric(&args.metric, &metrics)?;
    let text = log_table(&rows, &args.metric, args.benchmark.as_deref(), &testbed.id);
    use std::io::Write;
    std::io::stdout()
        .write_all(&text)
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    if rows.iter().all(|r| r.record.is_none()) {
        if other_testbeds.is_empty() {
            if ctx.store_dir.is_none() {
                eprintln!(
                    "memgate: no results are stored for these commits here: if they were pushed to a remote, fetch them with `memgate notes fetch [REMOTE]`"
                );
            }
        } else {
            let list: Vec<_> = other_testbeds.into_iter().collect();
            eprintln!(
                "memgate: no results for testbed {} here; stored testbeds: {} (choose one with --testbed NAME)",
                testbed.id,
                list.join(", ")
            );
        }
    }
    for problem in problems {
        eprintln!("memgate: warning: {problem}");
    }
    Ok(exit::SUCCESS)
}

/// A metric `log` can show: one of `known` (the built-in ones and those the records
/// hold). A typo is an error with a suggestion, not a column of dashes.
fn check_metric(metric: &str, known: &std::collections::BTreeSet<String>) -> Result<()> {
    if known.contains(metric) {
        return Ok(());
    }
    let hint = config::suggest(metric, known.iter().map(String::as_str))
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default();
    let list: Vec<&str> = known.iter().map(String::as_str).collect();
    Err(Error::Usage(format!(
        "no metric {metric:?} in these results{hint}: the metrics are {}",
        list.join(", ")
    )))
}
