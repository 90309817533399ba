//! `memgate run`: run the plan (in the working tree, or in a temporary worktree of
//! another revision), save the results under the revision, print them.

use std::path::Path;

use super::context::Context;
use super::emit;
use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::git::TempWorktree;
use crate::report::bundle::Sided;
use crate::results::Status;
use crate::store::Record;
use crate::{config, exit, measure, runner};

pub fn run(ctx: &Context, config: Option<&Path>, args: RunArgs) -> Result<i32> {
    let _ballast = match &args.debug_hold_memory {
        Some(size) => Some(hold_memory(size)?),
        None => None,
    };
    let mut plan = ctx.plan(config, &args.benchmarks, args.repeat, args.warmup)?;

    // Where the results go is settled before anything runs: a mistake costs nothing.
    if args.label.is_some() && (ctx.store_dir.is_none() || args.rev.is_some()) {
        return Err(Error::Usage(
            "--label names results in a --store directory outside git; in git they are saved under the commit".into(),
        ));
    }
    if let Some(label) = &args.label {
        crate::names::check_name("label", label)
            .map_err(|e| Error::Usage(format!("{e}: it names a directory in the store")))?;
    }
    let store = if args.no_save { None } else { ctx.store()? };
    let mut worktree = None;
    let (revision, dirty) = match (&args.rev, &ctx.repo, &args.label) {
        (Some(rev), _, _) => {
            let repo = ctx.require_repo("--rev")?;
            let commit = repo.resolve(rev)?;
            let top = repo
                .workdir()
                .ok_or_else(|| Error::Usage("--rev needs a repository with a working tree".into()))?
                .to_path_buf();
            let checkout = TempWorktree::create(repo, &commit)?;
            plan.move_code(&top, &checkout.path());
            worktree = Some(checkout);
            (Some(commit), false)
        }
        (None, _, Some(label)) => (Some(label.clone()), false),
        (None, Some(repo), None) if store.is_some() => {
            let head = repo.resolve("HEAD").map_err(|_| {
                Error::Usage(
                    "the repository has no commit yet: commit first, or pass --no-save".into(),
                )
            })?;
            (Some(head), repo.is_dirty()?)
        }
        (None, None, None) if store.is_some() => {
            return Err(Error::Usage(
                "not in a git repository: pass --label NAME to save under a name in --store, or --no-save".into(),
            ));
        }
        _ => (None, false),
    };

    runner::interrupt::install();
    let cgroup = measure::probe::choose().map_err(Error::Usage)?;
    let mut executor = runner::Executor::new(cgroup)?;
    let testbed = ctx.testbed(executor.probe_kind(), plan.testbed.as_deref());
    let mut command_files = crate::github::workflow::CommandFiles::snapshot();
    let workspace = crate::workspace::pin(&crate::workspace::root(&plan.config_path));
    let results = runner::run_plan(&plan, &mut executor, testbed, args.quiet)?;
    drop(worktree);
    crate::github::workflow::runs_ended(true);
    command_files.verify()?;

    match (&store, &revision) {
        (Some(store), Some(revision)) => {
            let record = Record::new(revision, &results, &plan.config_digest, dirty);
            store.save(revision, &record)?;
            if !args.quiet {
                let short = crate::report::units::short_rev(revision);
                let note = if dirty {
                    " (marked dirty: the working tree has changes)"
                } else {
                    ""
                };
                eprintln!("memgate: saved under {short} in {}{note}", store.describe());
            }
        }
        _ if !args.no_save && !args.quiet => {
            eprintln!(
                "memgate: not saved: not in a git repository (use --store DIR --label NAME to keep results)"
            );
        }
        _ => {}
    }

    if !args.no_report {
        // Not saved in a repository: still HEAD's working tree, for the history.
        let (head_commit, head_dirty) = match (&revision, &ctx.repo) {
            (None, Some(repo)) => (repo.resolve("HEAD").ok(), repo.is_dirty().unwrap_or(false)),
            _ => (None, dirty),
        };
        let head = match (&revision, &head_commit) {
            (Some(rev), _) => Sided {
                rev,
                note: dirty.then_some("the working tree, with uncommitted changes"),
                results: &results,
            },
            (None, Some(commit)) => Sided {
                rev: commit,
                note: Some(if head_dirty {
                    "the working tree, with uncommitted changes; not saved"
                } else {
                    "not saved"
                }),
                results: &results,
            },
            (None, None) => super::report::unsaved(&results),
        };
        super::report::after_run(
            ctx, &plan, &workspace, None, None, head, head_dirty, args.quiet,
        );
    }
    emit(
        &crate::report::table::render(&results),
        &crate::report::json(&results),
        args.format,
        args.output.as_deref(),
    )?;
    let failed = results.benchmarks.iter().any(|b| b.status != Status::Ok);
    Ok(if failed {
        exit::BENCHMARK_FAILED
    } else {
        exit::SUCCESS
    })
}

/// Touches `size` of memory and keeps it until dropped.
fn hold_memory(size: &str) -> Result<Vec<u8>> {
    let bytes = config::units::parse_size(size)
        .map_err(|e| Error::Usage(format!("--debug-hold-memory: {e}")))?;
    Ok(vec![1u8; bytes.0 as usize])
}
