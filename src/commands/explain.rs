//! `memgate explain`: each benchmark run once more under diagnosis on head (the working
//! tree) and, when a base is given or known, on the base in a temporary worktree; their
//! findings and what changed between them, written in the chosen format. Nothing it
//! measures is stored or gated. `check` calls [`explain_plan`] after a peak-memory
//! regression when the config says `explain: auto`.

use std::path::Path;

use super::context::Context;
use crate::cli::{ExplainArgs, ExplainFormat};
use crate::config::Plan;
use crate::diagnose::{Diagnoser, Explained, Explanation, Options};
use crate::error::{Error, Result};
use crate::git::TempWorktree;
use crate::github::Actions;
use crate::report::explain;
use crate::runner::Executor;
use crate::{exit, measure, runner};

pub fn explain(ctx: &Context, config_path: Option<&Path>, args: ExplainArgs) -> Result<i32> {
    // Once each (explain_plan says so): a diagnosis is a closer look, not a measurement.
    let plan = ctx.plan(config_path, &args.benchmarks, None, None)?;
    let head = match &ctx.repo {
        Some(repo) => repo.resolve("HEAD").ok(),
        None => None,
    };
    let base = match (&args.base, args.no_base, &head) {
        (Some(rev), _, _) => Some(ctx.revision(rev)?),
        (None, true, _) | (None, false, None) => None,
        (None, false, Some(head)) => match Actions::from_env().base_sha() {
            Some(sha) => Some(ctx.revision(sha)?),
            None => ctx
                .repo
                .as_ref()
                .and_then(|r| r.default_base(head).ok())
                .map(|(base, _)| base)
                .filter(|base| base != head),
        },
    };
    runner::interrupt::install();
    let cgroup = measure::probe::choose().map_err(Error::Usage)?;
    let mut executor = Executor::new(cgroup)?;
    let mut command_files = crate::github::workflow::CommandFiles::snapshot();
    let options = Options { sites: args.sites };
    let explained = explain_plan(
        ctx,
        &plan,
        &mut executor,
        head.as_deref().unwrap_or("working tree"),
        base.as_deref(),
        options,
        args.quiet,
    )?;
    crate::github::workflow::runs_ended(true);
    command_files.verify()?;
    let mut explained = explained;
    if args.native {
        native_note(&plan, &mut explained);
    }
    let table = explain::text(&explained);
    let chosen = match args.format {
        ExplainFormat::Table => table.clone(),
        ExplainFormat::Json => explain::json(&explained),
        ExplainFormat::Markdown => explain::markdown(&explained),
    };
    // With --output the chosen format goes to the file and the table to the terminal.
    super::emit(
        &table,
        &chosen,
        crate::cli::Format::Json,
        args.output.as_deref(),
    )?;
    // Explained, but a benchmark failed (at its memory limit, say): as `run` says it.
    let failed = explained.explanations.iter().any(|e| {
        std::iter::once(&e.head)
            .chain(&e.base)
            .any(|d| d.ending != "ok")
    });
    Ok(if failed {
        exit::BENCHMARK_FAILED
    } else {
        exit::SUCCESS
    })
}

/// Diagnoses every job of `plan` on head (as checked out) and, with `base`, on the base in
/// a temporary worktree.
pub fn explain_plan(
    ctx: &Context,
    plan: &Plan,
    executor: &mut Executor,
    head: &str,
    base: Option<&str>,
    options: Options,
    quiet: bool,
) -> Result<Explained> {
    let mut plan = plan.clone();
    plan.override_counts(Some(1), Some(0));
    // A leak check is diagnosed at its largest value alone: the execution whose figures
    // are the benchmark's (the others would run for nothing).
    for job in &mut plan.jobs {
        if let Some(leak) = job.leak.take() {
            job.command = leak.command_at(&job.command, leak.largest());
        }
    }
    let testbed = ctx.testbed(executor.probe_kind(), plan.testbed.as_deref());
    let mut head_diagnoser = Diagnoser::new(options)?;
    runner::run_instrumented(
        &plan,
        executor,
        testbed.clone(),
        quiet,
        Some(("explain-head", &mut head_diagnoser)),
    )?;
    let mut base_diagnoses = match base {
        Some(base) => {
            let repo = ctx.require_repo("--base")?;
            let top = repo
                .workdir()
                .ok_or_else(|| {
                    Error::Usage("--base needs a repository with a working tree".into())
                })?
                .to_path_buf();
            let checkout = TempWorktree::create(repo, base)?;
            let mut base_plan = plan.clone();
            base_plan.move_code(&top, &checkout.path());
            let mut diagnoser = Diagnoser::new(options)?;
            runner::run_instrumented(
                &base_plan,
                executor,
                testbed,
                quiet,
                Some(("explain-base", &mut diagnoser)),
            )?;
            diagnoser.diagnoses
        }
        None => Default::default(),
    };
    let explanations = plan
        .jobs
        .iter()
        .filter_map(|job| {
            let label = job.label();
            let head = head_diagnoser.diagnoses.remove(&label)?;
            let base = base_diagnoses.remove(&label);
            Some(Explanation::new(label, head, base))
        })
        .collect();
    Ok(Explained {
        explain_version: crate::diagnose::explain::FORMAT,
        head: head.to_owned(),
        base: base.map(str::to_owned),
        explanations,
    })
}

/// `--native`: whether memray is there to be used, said plainly in each Python benchmark's
/// notes.
fn native_note(plan: &Plan, explained: &mut Explained) {
    for e in &mut explained.explanations {
        if e.head.python.is_none() {
            continue;
        }
        let job = plan.jobs.iter().find(|j| j.label() == e.benchmark);
        let python = job
            .map(|j| j.command.argv())
            .and_then(|argv| argv.first().cloned())
            .filter(|p| crate::diagnose::python::names_python(p))
            .unwrap_or_else(|| "python3".into());
        let found = std::process::Command::new(&python)
            .args(["-c", "import memray"])
            .current_dir(job.map_or(Path::new("."), |j| j.cwd.as_path()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        e.head.notes.push(if found {
            format!("--native: memray is installed for {python}, but this memgate does not read native allocation sites yet; the Python sites above are tracemalloc's")
        } else {
            format!("--native: memray is not installed for {python} (pip install memray): no native allocation sites")
        });
    }
}
