//! `memgate comment --report FILE`: post a saved report on the pull request. The report
//! was written by a step that ran a pull request's benchmarks, so it is read as untrusted
//! input: a bounded regular file, every name and unit checked, and the comment rendered
//! anew from its figures (never pasted), escaped like any other report.

use crate::cli::CommentArgs;
use crate::compare::Report;
use crate::error::{Error, Result};
use crate::exit;
use crate::github::Actions;
use crate::names::{check_name, check_unit};

/// The largest report memgate reads.
const MAX_REPORT: u64 = 64 * 1024 * 1024;

pub fn comment(args: CommentArgs) -> Result<i32> {
    let shown = args.report.display();
    let bytes = crate::files::read_bounded(&args.report, MAX_REPORT)
        .map_err(|why| Error::Usage(format!("cannot read the report {shown}: {why}")))?;
    let report: Report = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{shown} is not a memgate report ({e}): give the file `memgate check --format json` writes"
        ))
    })?;
    check_report(&report).map_err(|e| Error::Usage(format!("{shown}: {e}")))?;
    // The headline follows the comparisons, whatever the file says it is.
    let mut report = report;
    report.verdict = crate::compare::overall(&report.comparisons);
    if let Some(explained) = &mut report.explain {
        explained.bound();
    }
    crate::runner::interrupt::install();
    crate::github::post::comment(&report, &Actions::from_env(), args.pr)?;
    Ok(exit::SUCCESS)
}

/// Names and units as memgate itself writes them; anything else is not memgate's report.
fn check_report(report: &Report) -> std::result::Result<(), String> {
    check_name("testbed", &report.testbed)?;
    for rev in [&report.base.rev, &report.head.rev] {
        let commit = rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit());
        if !commit {
            check_name("revision", rev)?;
        }
    }
    for c in &report.comparisons {
        check_name("benchmark name", &c.benchmark)?;
        if let Some(d) = &c.dataset {
            check_name("dataset name", d)?;
        }
        check_name("metric name", &c.metric)?;
        check_unit(&c.unit)?;
    }
    Ok(())
}
