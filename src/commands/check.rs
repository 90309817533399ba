//! `memgate check`: the CI entry point. Runs the working tree; takes the base's stored
//! results of this testbed, or runs the base in a temporary worktree in the same
//! session, base and head interleaved; judges; exits 0, 1 or 3.

use std::path::Path;

use super::context::Context;
use super::gate::{ThresholdSource, base_revision, finish, judge, stored};
use super::report::after_run;
use crate::cli::CheckArgs;
use crate::compare::{Report, Rev, Verdict};
use crate::config::{ExplainMode, Plan};
use crate::diagnose::Explained;
use crate::error::{Error, Result};
use crate::git::TempWorktree;
use crate::github::Actions;
use crate::github::workflow;
use crate::report::bundle::Sided;
use crate::report::comparison;
use crate::report::text::printable;
use crate::results::PEAK_MEMORY;
use crate::store::Record;
use crate::{measure, runner};

pub fn check(ctx: &Context, config_path: Option<&Path>, args: CheckArgs) -> Result<i32> {
    let plan = ctx.plan(config_path, &args.benchmarks, args.repeat, args.warmup)?;
    let repo = ctx.require_repo("memgate check")?;
    let store = ctx.require_store()?;
    let head = repo
        .resolve("HEAD")
        .map_err(|_| Error::Usage("the repository has no commit yet: commit first".into()))?;
    let dirty = repo.is_dirty()?;
    let actions = Actions::from_env();
    let (base, how) = match (&args.base, actions.base_sha()) {
        // In a pull request's workflow the base is the pull request's base commit.
        (None, Some(sha)) => (
            repo.resolve(sha).map_err(|_| {
                Error::Usage(format!(
                    "the pull request's base {sha} is not in this clone: check out with fetch-depth: 0"
                ))
            })?,
            Some("the pull request's base".to_owned()),
        ),
        _ => base_revision(ctx, args.base.as_deref(), &head)?,
    };

    runner::interrupt::install();
    let cgroup = measure::probe::choose().map_err(Error::Usage)?;
    let mut executor = runner::Executor::new(cgroup)?;
    let testbed = ctx.testbed(executor.probe_kind(), plan.testbed.as_deref());

    let mut command_files = workflow::CommandFiles::snapshot();
    let workspace = crate::workspace::pin(&crate::workspace::root(&plan.config_path));
    let stored_base = if args.rerun_base {
        None
    } else {
        // With its runs: the report draws their timelines.
        stored(
            store.as_ref(),
            &base,
            &testbed.id,
            args.output.allow_dirty,
            true,
        )?
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
                    crate::report::units::short_rev(&base)
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
    let base_rev = Rev {
        rev: base,
        note: match (how, base_note) {
            (Some(how), Some(note)) => Some(format!("{how}; {note}")),
            (how, note) => how.or(note),
        },
    };
    let head_rev = Rev {
        rev: head.clone(),
        note: dirty.then(|| "the working tree, with uncommitted changes".to_owned()),
    };
    let mut report = judge(
        Some(&base_results),
        &head_results,
        &ThresholdSource::new(Some(&plan))?,
        base_rev,
        head_rev,
        &testbed.id,
    );
    // Before the command files are checked: the diagnosis runs benchmark code too.
    if plan.explain == ExplainMode::Auto {
        // The explanation serves the verdict; trouble with it never replaces it.
        report.explain = match explain_regressions(ctx, &plan, &mut executor, &report, args.quiet) {
            Ok(explained) => explained,
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) => {
                eprintln!("memgate: warning: explain: auto could not explain the regression: {e}");
                None
            }
        };
    }
    workflow::runs_ended(
        args.output.output.is_some() || args.output.format != crate::cli::GateFormat::Junit,
    );
    command_files.verify()?;
    if args.save {
        store.save(
            &head,
            &Record::new(&head, &head_results, &plan.config_digest, dirty),
        )?;
    }
    let html = if args.no_report {
        None
    } else {
        after_run(
            ctx,
            &plan,
            &workspace,
            Some(&report),
            Some(Sided {
                rev: &report.base.rev,
                note: report.base.note.as_deref(),
                results: &base_results,
            }),
            Sided {
                rev: &report.head.rev,
                note: report.head.note.as_deref(),
                results: &head_results,
            },
            dirty,
            args.quiet,
        )
    };
    publish(
        &report,
        &actions,
        &workspace,
        args.github_comment,
        html.as_deref(),
    )?;
    finish(
        &report,
        &args.output,
        &stderr_tails(&[&base_results, &head_results]),
        &actions,
        "the base has no figures of these benchmarks (its runs failed, or it does not have them: see above)",
    )
}

/// `explain: auto`: after a peak-memory regression, each regressed benchmark diagnosed on
/// head and base (in a worktree of its own). Its runs are never gated.
fn explain_regressions(
    ctx: &Context,
    plan: &Plan,
    executor: &mut runner::Executor,
    report: &Report,
    quiet: bool,
) -> Result<Option<Explained>> {
    let mut regressed: Vec<String> = report
        .comparisons
        .iter()
        .filter(|c| c.metric == PEAK_MEMORY && c.verdict == Verdict::Regression)
        .map(|c| c.benchmark.clone())
        .collect();
    regressed.dedup();
    if regressed.is_empty() {
        return Ok(None);
    }
    if !quiet {
        eprintln!(
            "memgate: peak memory regressed; explaining {} (explain: auto)",
            regressed.join(", ")
        );
    }
    let mut plan = plan.clone();
    plan.select(&regressed)?;
    // The cycle report alone: allocation sites cost too much to run unasked in CI.
    let options = crate::diagnose::Options { sites: false };
    let explained = super::explain::explain_plan(
        ctx,
        &plan,
        executor,
        &report.head.rev,
        Some(&report.base.rev),
        options,
        quiet,
    )?;
    Ok(Some(explained))
}

/// The last lines of stderr of every benchmark that failed, to follow the table.
fn stderr_tails(sides: &[&crate::results::RunResults]) -> String {
    let mut out = String::new();
    for (side, results) in ["base", "head"].iter().zip(sides) {
        for b in &results.benchmarks {
            let Some(failure) = b.failure.as_ref().filter(|f| !f.stderr_tail.is_empty()) else {
                continue;
            };
            let label = crate::results::label(&b.benchmark, b.dataset.as_deref());
            out.push_str(&format!("\nlast lines of stderr of {label} ({side}):\n"));
            for line in &failure.stderr_tail {
                out.push_str(&format!("  | {}\n", printable(line)));
            }
        }
    }
    out
}

/// The GitHub surfaces: report files, job summary, outputs, and the comment if asked.
/// Trouble with the comment is a warning: it never changes the verdict. Ctrl-C or SIGTERM
/// during it is no trouble but an order to stop.
fn publish(
    report: &Report,
    actions: &Actions,
    pin: &crate::workspace::Pin,
    comment: bool,
    html: Option<&Path>,
) -> Result<()> {
    let dir = pin.root();
    if !actions.active && !comment {
        return Ok(());
    }
    let markdown = String::from_utf8_lossy(&comparison::markdown::render(report)).into_owned();
    let (md_path, json_path) = (dir.join("report.md"), dir.join("report.json"));
    // Only into `.memgate/` as it was before the benchmarks ran; never through a link
    // one of them put in its place.
    let files = pin.holds();
    if files {
        crate::workspace::create(dir, dir)?;
        // A fresh file each, in case a benchmark put a link in their place.
        for (path, bytes) in [
            (&md_path, markdown.as_bytes()),
            (&json_path, comparison::json(report).as_slice()),
        ] {
            crate::files::replace(path, &[bytes])
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        }
    } else {
        let text = format!(
            "no report.md or report.json: {} was removed, replaced by a link or moved while the benchmarks ran",
            dir.display()
        );
        if actions.active {
            workflow::command(&workflow::warning(&text));
        } else {
            eprintln!("memgate: warning: {text}");
        }
    }
    if let Some(summary) = &actions.step_summary {
        workflow::append_summary(summary, &markdown, &md_path.display().to_string())?;
    }
    if let Some(output) = &actions.output {
        let verdict = serde_json::to_value(report.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        let mut outputs = vec![("verdict", verdict.unwrap_or_default())];
        if files {
            outputs.push(("report", md_path.display().to_string()));
            outputs.push(("report-json", json_path.display().to_string()));
        }
        if let Some(index) = html {
            outputs.push(("report-html", index.display().to_string()));
            let folder = index.parent().unwrap_or(index);
            outputs.push(("report-dir", folder.display().to_string()));
        }
        workflow::set_outputs(output, &outputs)?;
    }
    if comment {
        crate::github::post::comment(report, actions, None)?;
    }
    Ok(())
}
