//! What `compare` and `check` share: choosing the base, finding stored results of this
//! testbed, judging, writing the report in the chosen format, the exit code.

use super::context::Context;
use crate::cli::{GateFormat, GateOutput};
use crate::compare::{Overall, Report, Rev, Thresholds, compare, overall};
use crate::config::Plan;
use crate::error::{Error, Result};
use crate::exit;
use crate::github::{Actions, workflow};
use crate::report::comparison;
use crate::report::units::short_rev as short;
use crate::results::RunResults;
use crate::store::{Record, Store};

/// How far back along first parents `compare` looks for a base with results.
pub const BASE_WALK: usize = 50;

/// The base revision the user named, or the default one, with how it was chosen.
pub fn base_revision(
    ctx: &Context,
    named: Option<&str>,
    head: &str,
) -> Result<(String, Option<String>)> {
    match named {
        Some(rev) => Ok((ctx.revision(rev)?, None)),
        None => {
            let repo = ctx.require_repo("choosing the base")?;
            let (base, how) = repo.default_base(head)?;
            Ok((base, Some(how)))
        }
    }
}

/// The newest record of `testbed` for `revision` (clean unless `allow_dirty`): its
/// figures, and its runs with their timelines when `with_runs`.
pub fn stored(
    store: &dyn Store,
    revision: &str,
    testbed: &str,
    allow_dirty: bool,
    with_runs: bool,
) -> Result<Option<Record>> {
    let loaded = if with_runs {
        store.load_with_runs(revision)?
    } else {
        store.load(revision)?
    };
    for problem in &loaded.problems {
        eprintln!("memgate: warning: {problem}");
    }
    Ok(loaded.latest(Some(testbed), allow_dirty).cloned())
}

/// The base's record, or the nearest first-parent ancestor's within [`BASE_WALK`]
/// commits (saying which was used).
pub fn stored_base(
    ctx: &Context,
    store: &dyn Store,
    base: &str,
    testbed: &str,
    allow_dirty: bool,
    with_runs: bool,
) -> Result<Option<(Record, Option<String>)>> {
    let candidates: Vec<String> = match (&ctx.repo, &ctx.store_dir) {
        (Some(repo), _) if repo.has_commit(base) => repo
            .first_parent_history(base, BASE_WALK)?
            .into_iter()
            .map(|c| c.id)
            .collect(),
        _ => vec![base.to_owned()],
    };
    for (back, candidate) in candidates.iter().enumerate() {
        if let Some(record) = stored(store, candidate, testbed, allow_dirty, with_runs)? {
            let note = (back > 0).then(|| {
                format!(
                    "{} has no results for testbed {testbed}; used {}, {back} commit{} earlier",
                    short(base),
                    short(candidate),
                    if back == 1 { "" } else { "s" }
                )
            });
            return Ok(Some((record, note)));
        }
    }
    Ok(None)
}

/// Where each benchmark's thresholds come from: the config, else the built-in ones.
pub struct ThresholdSource<'a> {
    plan: Option<&'a Plan>,
    built_in: Thresholds,
}

impl<'a> ThresholdSource<'a> {
    pub fn new(plan: Option<&'a Plan>) -> Result<ThresholdSource<'a>> {
        let built_in = match plan {
            Some(_) => Thresholds::default(),
            None => crate::config::built_in_thresholds()?,
        };
        Ok(ThresholdSource { plan, built_in })
    }

    pub fn for_benchmark(&self, benchmark: &str) -> &Thresholds {
        self.plan
            .map_or(&self.built_in, |p| p.thresholds_for(benchmark))
    }
}

/// Judges `head` against `base` into a report.
pub fn judge(
    base: Option<&RunResults>,
    head: &RunResults,
    thresholds: &ThresholdSource,
    base_rev: Rev,
    head_rev: Rev,
    testbed: &str,
) -> Report {
    let comparisons = compare(base, head, |b| thresholds.for_benchmark(b));
    let timelines = crate::compare::display::regressed_timelines(
        &comparisons,
        base,
        Some(head),
        comparison::mermaid::INSTANTS,
    );
    Report {
        verdict: overall(&comparisons),
        base: base_rev,
        head: head_rev,
        testbed: testbed.to_owned(),
        comparisons,
        timelines,
        explain: None,
    }
}

/// Writes the report as asked and returns the gate's exit code. `extra` follows the
/// table (the stderr of failed benchmarks). In GitHub Actions memgate's annotations
/// follow on stderr, where workflow commands are resumed for them alone.
pub fn finish(
    report: &Report,
    output: &GateOutput,
    extra: &str,
    actions: &Actions,
    missing_hint: &str,
) -> Result<i32> {
    // The table is printed in its format, or beside a file of another: else not made.
    let mut table = Vec::new();
    if output.format == GateFormat::Table || output.output.is_some() {
        table = comparison::table::render(report);
        table.extend_from_slice(extra.as_bytes());
    }
    let chosen = match output.format {
        GateFormat::Table => table.clone(),
        GateFormat::Json => comparison::json(report),
        GateFormat::Markdown => comparison::markdown::render(report),
        GateFormat::Junit => comparison::junit::render(report),
    };
    super::output::emit_styled(&table, &chosen, output.output.as_deref())?;
    if actions.active {
        workflow::command(&workflow::annotations(report));
    }
    if nothing_compared(report) && !output.allow_missing {
        return Err(Error::Usage(format!(
            "no base figures to compare with at all, for base {}: {missing_hint}; or pass --allow-missing to let the change through without a baseline",
            short(&report.base.rev)
        )));
    }
    Ok(match report.verdict {
        Overall::Regression => exit::REGRESSION,
        Overall::Failure => exit::BENCHMARK_FAILED,
        Overall::Pass => exit::SUCCESS,
    })
}

/// Whether no comparison had base figures: a gate that compared nothing must not pass.
fn nothing_compared(report: &Report) -> bool {
    !report.comparisons.is_empty()
        && report
            .comparisons
            .iter()
            .all(|c| c.verdict == crate::compare::Verdict::Missing)
}

/// An error for a head without results.
pub fn no_head_results(store: &dyn Store, head: &str, testbed: &str) -> Error {
    Error::Usage(format!(
        "no results for {} on testbed {testbed} in {}: run `memgate run` there first, or use `memgate check`",
        short(head),
        store.describe()
    ))
}
