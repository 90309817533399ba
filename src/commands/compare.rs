//! `memgate compare [BASE [HEAD]]`: the gate over stored results, running nothing.

use std::path::Path;

use super::context::Context;
use super::gate::{
    ThresholdSource, base_revision, finish, judge, no_head_results, stored, stored_base,
};
use crate::cli::CompareArgs;
use crate::compare::Rev;
use crate::error::{Error, Result};
use crate::measure;

pub fn compare(ctx: &Context, config_path: Option<&Path>, args: CompareArgs) -> Result<i32> {
    let store = ctx.require_store()?;
    // The config gives thresholds and the testbed name; without one, the defaults.
    let plan = ctx.optional_plan(config_path)?;
    let probe = measure::probe::choose_kind().map_err(Error::Usage)?;
    let testbed = ctx.testbed(probe, plan.as_ref().and_then(|p| p.testbed.as_deref()));
    let head = ctx.revision(args.head.as_deref().unwrap_or("HEAD"))?;
    let (base, how) = base_revision(ctx, args.base.as_deref(), &head)?;

    // The markdown draws the timelines of regressed benchmarks: only it reads the runs,
    // which are most of a record.
    let with_runs = args.output.format == crate::cli::GateFormat::Markdown;
    let head_record = stored(store.as_ref(), &head, &testbed.id, true, with_runs)?
        .ok_or_else(|| no_head_results(store.as_ref(), &head, &testbed.id))?;
    let found = stored_base(
        ctx,
        store.as_ref(),
        &base,
        &testbed.id,
        args.output.allow_dirty,
        with_runs,
    )?;
    let (base_results, base_note) = match &found {
        Some((record, note)) => (Some(&record.results), note.clone()),
        None => (
            None,
            Some(format!(
                "no results for it or the {} commits before it on testbed {}",
                super::gate::BASE_WALK - 1,
                testbed.id
            )),
        ),
    };
    let base_rev = Rev {
        rev: found
            .as_ref()
            .map_or(base.clone(), |(r, _)| r.revision.clone()),
        note: base_note.or(how),
    };
    let head_rev = Rev {
        rev: head,
        note: head_record
            .dirty
            .then(|| "measured on a working tree with changes".to_owned()),
    };
    let mut report = judge(
        base_results,
        &head_record.results,
        &ThresholdSource::new(plan.as_ref())?,
        base_rev,
        head_rev,
        &testbed.id,
    );
    // The JSON carries the timelines of regressed benchmarks, as `check`'s does: read
    // only when there is a regression (a report passed on to `memgate comment` draws
    // its charts from them).
    if !with_runs
        && args.output.format == crate::cli::GateFormat::Json
        && report.verdict == crate::compare::Overall::Regression
    {
        // The same records as above (the newest of each), with their runs.
        let runs = |rev: &str, dirty| stored(store.as_ref(), rev, &testbed.id, dirty, true);
        let base_runs = match &found {
            Some((record, _)) => runs(&record.revision, args.output.allow_dirty)?,
            None => None,
        };
        let head_runs = runs(&report.head.rev, true)?;
        report.timelines = crate::compare::display::regressed_timelines(
            &report.comparisons,
            base_runs.as_ref().map(|r| &r.results),
            head_runs.as_ref().map(|r| &r.results),
            crate::report::comparison::mermaid::INSTANTS,
        );
    }
    let hint = if ctx.store_dir.is_some() {
        format!(
            "{} holds no results of it on testbed {}: save some with `memgate --store DIR run --label NAME`",
            store.describe(),
            testbed.id
        )
    } else {
        format!(
            "{} holds no results of it or the {} commits before it on testbed {}: fetch them with `memgate notes fetch`, or use `memgate check`, which runs the base itself",
            store.describe(),
            super::gate::BASE_WALK - 1,
            testbed.id
        )
    };
    finish(
        &report,
        &args.output,
        "",
        &crate::github::Actions::from_env(),
        &hint,
    )
}
