//! `memgate check`: the CI entry point. Runs the working tree; takes the base's stored
//! results of this testbed, or runs the base in a temporary worktree in the same
//! session, base and head interleaved; judges; exits 0, 1 or 3.

use std::path::Path;

use super::context::Context;
use super::gate::{base_revision, finish, judge, short, stored, thresholds_of};
use crate::cli::CheckArgs;
use crate::compare::Rev;
use crate::error::{Error, Result};
use crate::git::TempWorktree;
use crate::store::Record;
use crate::{config, measure, runner};

pub fn check(ctx: &Context, config_path: Option<&Path>, args: CheckArgs) -> Result<i32> {
    let path = config::find(config_path, &ctx.cwd)?;
    let mut plan = config::load(&path)?;
    plan.select(&args.benchmarks)?;
    plan.override_counts(args.repeat, args.warmup);
    let repo = ctx.require_repo("memgate check")?;
    let store = ctx.require_store()?;
    let head = repo
        .resolve("HEAD")
        .map_err(|_| Error::Usage("the repository has no commit yet: commit first".into()))?;
    let dirty = repo.is_dirty()?;
    let (base, how) = base_revision(ctx, args.base.as_deref(), &head)?;

    runner::interrupt::install();
    let cgroup = measure::probe::choose().map_err(Error::Usage)?;
    let mut executor = runner::Executor::new(cgroup)?;
    let testbed = ctx.testbed(executor.probe_kind(), plan.testbed.as_deref());

    let stored_base = if args.rerun_base {
        None
    } else {
        stored(store.as_ref(), &base, &testbed.id, args.output.allow_dirty)?
    };
    let (base_results, head_results, base_note) = match stored_base {
        Some(record) => {
            let note = if record.config_digest != plan.config_digest {
                Some("stored results, measured with a different memgate.yml".to_owned())
            } else {
                Some("stored results".to_owned())
            };
            let head_results = runner::run_plan(&plan, &mut executor, testbed.clone(), args.quiet)?;
            (record.results, head_results, note)
        }
        None => {
            if !args.quiet {
                let why = if args.rerun_base {
                    "--rerun-base"
                } else {
                    "no stored results for this testbed"
                };
                eprintln!(
                    "memgate: running base {} and head interleaved ({why})",
                    short(&base)
                );
            }
            let top = repo
                .workdir()
                .ok_or_else(|| Error::Usage("memgate check needs a working tree".into()))?
                .to_path_buf();
            let checkout = TempWorktree::create(repo, &base)?;
            let mut base_plan = plan.clone();
            base_plan.move_code(&top, &checkout.path());
            let (base_results, head_results) = runner::run_pair(
                &base_plan,
                &plan,
                &mut executor,
                testbed.clone(),
                args.quiet,
            )?;
            drop(checkout);
            // The base ran clean in its own worktree: keep it for the next check.
            store.save(
                &base,
                &Record::new(&base, &base_results, &plan.config_digest, false),
            )?;
            (
                base_results,
                head_results,
                Some("run in this session, interleaved with head".to_owned()),
            )
        }
    };
    if args.save {
        store.save(
            &head,
            &Record::new(&head, &head_results, &plan.config_digest, dirty),
        )?;
    }
    let base_rev = Rev {
        rev: base,
        note: match (how, base_note) {
            (Some(how), Some(note)) => Some(format!("{how}; {note}")),
            (how, note) => how.or(note),
        },
    };
    let head_rev = Rev {
        rev: head,
        note: dirty.then(|| "the working tree, with uncommitted changes".to_owned()),
    };
    let report = judge(
        Some(&base_results),
        &head_results,
        thresholds_of(Some(&plan))?,
        base_rev,
        head_rev,
        &testbed.id,
    );
    finish(&report, &args.output)
}
