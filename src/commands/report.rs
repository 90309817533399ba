//! `memgate report [BASE [HEAD]] [-- BENCH...]`: the HTML report of stored results (one
//! revision: a run; two: a comparison), and the writing of the report that `run` and
//! `check` share.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::context::Context;
use super::gate::{ThresholdSource, judge, no_head_results};
use crate::cli::ReportArgs;
use crate::compare::Rev;
use crate::config::Plan;
use crate::error::{Error, Result};
use crate::report::bundle::{self, Input, Sided};
use crate::report::chart::Side;
use crate::report::chart::data::Revision;
use crate::report::units::short_rev;
use crate::results::RunResults;
use crate::store::{Record, Store};
use crate::workspace::{Pin, pin};
use crate::{config, exit, measure};

/// How many first-parent commits the history charts go back.
pub const HISTORY_DEPTH: usize = 50;

/// The report's folder inside memgate's own: `.memgate/report/`.
pub fn default_dir(workspace: &Path) -> PathBuf {
    workspace.join("report")
}

pub fn report(ctx: &Context, config_path: Option<&Path>, args: ReportArgs) -> Result<i32> {
    let store = ctx.require_store()?;
    let plan = ctx.optional_plan(config_path)?;
    let probe = measure::probe::choose_kind().map_err(Error::Usage)?;
    let testbed = ctx.testbed(probe, plan.as_ref().and_then(|p| p.testbed.as_deref()));
    let (base, head) = match args.revisions.as_slice() {
        [] => (None, "HEAD"),
        [head] => (None, head.as_str()),
        [base, head, ..] => (Some(base.as_str()), head.as_str()),
    };
    let head = ctx.revision(head)?;
    let mut head_record = with_runs(store.as_ref(), &head, &testbed.id)?
        .ok_or_else(|| no_head_results(store.as_ref(), &head, &testbed.id))?;
    let mut base_record = match base {
        Some(rev) => {
            let rev = ctx.revision(rev)?;
            Some(
                with_runs(store.as_ref(), &rev, &testbed.id)?
                    .ok_or_else(|| no_head_results(store.as_ref(), &rev, &testbed.id))?,
            )
        }
        None => None,
    };
    if !args.benchmarks.is_empty() {
        let mut known = std::collections::BTreeSet::new();
        for results in std::iter::once(&mut head_record.results)
            .chain(base_record.as_mut().map(|r| &mut r.results))
        {
            known.extend(results.benchmarks.iter().map(|b| b.benchmark.clone()));
            results
                .benchmarks
                .retain(|b| args.benchmarks.contains(&b.benchmark));
        }
        for name in &args.benchmarks {
            if !known.contains(name) {
                let hint = config::suggest(name, known.iter().map(String::as_str))
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                return Err(Error::Usage(format!(
                    "no benchmark {name:?} in these results{hint}"
                )));
            }
        }
    }

    let comparison = base_record.as_ref().map(|base| {
        Ok::<_, Error>(judge(
            Some(&base.results),
            &head_record.results,
            &ThresholdSource::new(plan.as_ref())?,
            Rev {
                rev: base.revision.clone(),
                note: None,
            },
            Rev {
                rev: head_record.revision.clone(),
                note: head_record
                    .dirty
                    .then(|| "measured on a working tree with changes".to_owned()),
            },
            &testbed.id,
        ))
    });
    let comparison = comparison.transpose()?;
    let history = stored_history(
        ctx,
        store.as_ref(),
        &head,
        &testbed.id,
        base_record.as_ref().map(|r| r.revision.as_str()),
    );
    let dirty_note = head_record
        .dirty
        .then_some("measured on a working tree with changes");
    let input = Input {
        testbed: &testbed.id,
        report: comparison.as_ref(),
        base: base_record.as_ref().map(|r| Sided {
            rev: &r.revision,
            note: r.dirty.then_some("measured on a working tree with changes"),
            results: &r.results,
        }),
        head: Sided {
            rev: &head_record.revision,
            note: dirty_note,
            results: &head_record.results,
        },
        history: revisions(&history),
        limits: limits(plan.as_ref()),
    };
    let index = match &args.output {
        Some(dir) => write(&input, &ctx.cwd.join(dir), None)?,
        None => {
            let root = workspace(ctx, plan.as_ref());
            write(&input, &default_dir(&root), Some(&pin(&root)))?
        }
    };
    println!("{}", index.display());
    Ok(exit::SUCCESS)
}

/// `.memgate/` beside the config, else at the repository's top, else here.
fn workspace(ctx: &Context, plan: Option<&Plan>) -> PathBuf {
    match (plan, &ctx.repo) {
        (Some(plan), _) => crate::workspace::root(&plan.config_path),
        (None, Some(repo)) => repo
            .workdir()
            .unwrap_or(&ctx.cwd)
            .join(crate::workspace::DIR),
        (None, None) => ctx.cwd.join(crate::workspace::DIR),
    }
}

/// The newest record of `testbed` for `revision`, dirty ones too, with its runs.
fn with_runs(store: &dyn Store, revision: &str, testbed: &str) -> Result<Option<Record>> {
    let loaded = store.load_with_runs(revision)?;
    for problem in &loaded.problems {
        eprintln!("memgate: warning: {problem}");
    }
    Ok(loaded
        .latest(Some(testbed), false)
        .or_else(|| loaded.latest(Some(testbed), true))
        .cloned())
}

/// One stored revision of the history: its role in the report, and its record.
pub struct Stored {
    pub role: Option<Side>,
    pub record: Record,
}

/// The stored records of `testbed` along first parents from `head` (at most
/// [`HISTORY_DEPTH`] commits), oldest first, `head` and `base` marked. Outside git, or
/// where the history cannot be read, none: the history is something extra, and a
/// warning says why it is missing.
pub fn stored_history(
    ctx: &Context,
    store: &dyn Store,
    head: &str,
    testbed: &str,
    base: Option<&str>,
) -> Vec<Stored> {
    let Some(repo) = ctx.repo.as_ref().filter(|r| r.has_commit(head)) else {
        return Vec::new();
    };
    let commits = match repo.first_parent_history(head, HISTORY_DEPTH) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("memgate: warning: the report has no history: {e}");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for commit in commits {
        let loaded = match store.load(&commit.id) {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "memgate: warning: the report's history stops at {}: {e}",
                    short_rev(&commit.id)
                );
                break;
            }
        };
        let record = loaded
            .latest(Some(testbed), false)
            .or_else(|| loaded.latest(Some(testbed), true));
        if let Some(record) = record {
            let role = if commit.id == head {
                Some(Side::Head)
            } else if Some(commit.id.as_str()) == base {
                Some(Side::Base)
            } else {
                None
            };
            out.push(Stored {
                role,
                record: record.clone(),
            });
        }
    }
    out.reverse();
    out
}

/// The history as the charts take it.
pub fn revisions(history: &[Stored]) -> Vec<Revision<'_>> {
    history
        .iter()
        .map(|s| Revision {
            rev: short_rev(&s.record.revision),
            dirty: s.record.dirty,
            role: s.role,
            results: &s.record.results,
        })
        .collect()
}

/// Each benchmark's memory limit in the plan, in bytes.
pub fn limits(plan: Option<&Plan>) -> BTreeMap<String, f64> {
    plan.map(|p| {
        p.jobs
            .iter()
            .filter_map(|j| Some((j.benchmark.clone(), j.memory_limit?.as_f64())))
            .collect()
    })
    .unwrap_or_default()
}

/// Writes the report into `dir` and returns the page's path. memgate's own folder
/// (`.memgate/report/`, with the pin of `.memgate/` taken before any benchmark ran) is
/// emptied first, so no file of an earlier report, nor anything a benchmark put there,
/// is left beside the new one; a folder the user named only has memgate's files written
/// into it, each replacing whatever stood at its name.
pub fn write(input: &Input, dir: &Path, own: Option<&Pin>) -> Result<PathBuf> {
    let files =
        bundle::build(input).map_err(|e| Error::Usage(format!("cannot draw the report: {e}")))?;
    if let Some(pin) = own {
        // Emptied only where `.memgate/` leads where it did before the benchmarks ran.
        // (A link at `report` itself is removed, never followed.)
        if !pin.holds() {
            return Err(Error::Usage(format!(
                "{} was removed, replaced by a link or moved while the benchmarks ran: memgate empties and writes its report only in the folder it had; remove what took its place",
                pin.root().display()
            )));
        }
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("cannot empty {}", dir.display()), e)),
        }
        crate::workspace::create(pin.root(), dir)?;
    } else {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    for file in &files {
        let path = dir.join(&file.name);
        // Readable like any file a command writes: a report is for sharing.
        crate::files::replace_with_mode(&path, &[&file.bytes], 0o644)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    }
    Ok(dir.join(bundle::INDEX))
}

/// The report of `run` or `check` from results in hand: written into `.memgate/report/`
/// beside the config, its path said on stderr. Trouble drawing or writing it is a
/// warning: the figures and the verdict stand without it.
#[allow(clippy::too_many_arguments)]
pub fn after_run(
    ctx: &Context,
    plan: &Plan,
    pin: &Pin,
    report: Option<&crate::compare::Report>,
    base: Option<Sided>,
    head: Sided,
    head_dirty: bool,
    quiet: bool,
) -> Option<PathBuf> {
    let testbed = head.results.testbed.id.as_str();
    let history = match ctx.store() {
        Ok(Some(store)) => {
            stored_history(ctx, store.as_ref(), head.rev, testbed, base.map(|b| b.rev))
        }
        _ => Vec::new(),
    };
    // The head just measured is the history's head, whatever was stored for it before.
    let mut revisions = revisions(&history);
    if revisions.last().is_some_and(|r| r.role == Some(Side::Head)) {
        revisions.pop();
    }
    if !revisions.is_empty() {
        revisions.push(Revision {
            rev: short_rev(head.rev),
            dirty: head_dirty,
            role: Some(Side::Head),
            results: head.results,
        });
    }
    let input = Input {
        testbed,
        report,
        base,
        head,
        history: revisions,
        limits: limits(Some(plan)),
    };
    match write(&input, &default_dir(pin.root()), Some(pin)) {
        Ok(index) => {
            if !quiet {
                eprintln!("memgate: report: {}", index.display());
            }
            Some(index)
        }
        Err(e) => {
            eprintln!("memgate: warning: no HTML report: {e}");
            None
        }
    }
}

/// For `run`: results not saved under a commit have no place in the history.
pub fn unsaved(results: &RunResults) -> Sided<'_> {
    Sided {
        rev: "this run",
        note: Some("not saved"),
        results,
    }
}
