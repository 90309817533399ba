//! The markdown of a comparison, made to be a pull-request comment or a job summary: a
//! headline verdict, a table of what changed, a chart of memory over time for each
//! regressed benchmark, and every comparison folded in details.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::cells::{Levels, change_with_interval, p_value, percent, summary, threshold, value};
use super::mermaid;
use crate::compare::display::{MAX_REPORT_TIMELINES, SharedGrid};
use crate::compare::{Comparison, Overall, Report, Verdict};

/// Charts of memory over time in one report at most: past a handful, a comment is a wall
/// of charts, and each costs about a kilobyte of the comment's room.
pub const MAX_CHARTS: usize = MAX_REPORT_TIMELINES;

/// What the charts leave of GitHub's limit on a comment, in bytes (the limit counts
/// characters; a byte count is never less): room for the hidden marker the comment opens
/// with (which names the testbed) and for the sentence on charts left out.
fn chart_room(report: &Report) -> usize {
    crate::github::comment::COMMENT_LIMIT.saturating_sub(report.testbed.len() + 64 + 256)
}

/// Text from benchmarks (a failure's message, a name, a unit) may hold anything: keep
/// it one table cell and plain text, so it can neither break the table nor inject
/// markup: HTML (a fold's end, an image), a link or image (`[`, `]`), code or emphasis,
/// or a mention that would notify people (`@`, kept from a name by a word joiner).
pub(crate) fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '[' | ']' | '`' | '*' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            // A mention notifies people; `#12`, `owner/repo#12` and `GH-12` link the
            // comment into another issue's timeline; `://` makes a link.
            '@' => out.push_str("@\u{2060}"),
            '#' => out.push_str("#\u{2060}"),
            ':' if text[i..].starts_with("://") => out.push_str(":\u{2060}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Regression => "🔴 regression",
        Verdict::Failure => "💥 failure",
        Verdict::Inconclusive => "🟡 inconclusive",
        Verdict::Missing => "⚪ missing",
        Verdict::Improvement => "🟢 improvement",
        Verdict::Pass => "✅ pass",
    }
}

/// Text in a line of HTML (a fold's summary), where markdown is not read: HTML's
/// specials as entities, no mention, no control character.
pub(crate) fn html_text(text: &str) -> String {
    // `#` first: the entities made after it hold one.
    crate::report::html::escape(&text.replace('#', "#\u{2060}"))
        .replace('`', "&#96;")
        .replace('@', "@\u{2060}")
        .replace("://", ":\u{2060}//")
        .replace(['\n', '\t'], " ")
}

fn rev(rev: &str) -> String {
    format!("`{}`", cell(crate::report::units::short_rev(rev)))
}

/// The report, with a chart of memory over time for each regressed benchmark whose
/// timelines it carries ([`Report::timelines`]).
pub fn render(report: &Report) -> Vec<u8> {
    let mut out = String::new();
    let headline = match report.verdict {
        Overall::Regression => "🔴 memgate: regression",
        Overall::Failure => "💥 memgate: a benchmark failed",
        Overall::Pass => "✅ memgate: no regression",
    };
    let _ = writeln!(out, "### {headline}\n");
    let _ = writeln!(
        out,
        "{}\n",
        cell(&summary(report.verdict, &report.comparisons))
    );
    let _ = write!(
        out,
        "Base {} → head {} on testbed `{}`",
        rev(&report.base.rev),
        rev(&report.head.rev),
        cell(&report.testbed)
    );
    if let Some(note) = &report.base.note {
        let _ = write!(out, " (base: {})", cell(note));
    }
    out.push_str(".\n\n");

    let notable: Vec<&Comparison> = report
        .comparisons
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .collect();
    if notable.is_empty() {
        out.push_str("Every metric is within its threshold.\n\n");
    } else {
        out.push_str("| benchmark | metric | base | head | change | threshold | verdict |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---|\n");
        for c in &notable {
            let change = match c.verdict {
                Verdict::Regression | Verdict::Improvement => format!("**{}**", percent(c.change)),
                _ => percent(c.change),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {change} | {} | {} |",
                cell(&c.label()),
                cell(&c.metric),
                cell(&value(c.base.median, &c.unit)),
                cell(&value(c.head.median, &c.unit)),
                cell(&threshold(c)),
                mark(c.verdict)
            );
        }
        out.push('\n');
        for c in notable.iter().filter(|c| c.note.is_some()) {
            let _ = writeln!(
                out,
                "- {} {}: {}",
                cell(&c.label()),
                cell(&c.metric),
                cell(c.note.as_deref().unwrap_or_default())
            );
        }
        if notable.iter().any(|c| c.note.is_some()) {
            out.push('\n');
        }
    }

    let charts_at = out.len();

    let _ = writeln!(
        out,
        "<details><summary>All {} comparisons</summary>\n",
        report.comparisons.len()
    );
    let levels = Levels::of(&report.comparisons);
    let _ = writeln!(
        out,
        "| benchmark | metric | base | head | {} | p | runs | verdict |",
        levels.header()
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
    for c in &report.comparisons {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} |",
            cell(&c.label()),
            cell(&c.metric),
            cell(&value(c.base.median, &c.unit)),
            cell(&value(c.head.median, &c.unit)),
            change_with_interval(c, &levels),
            p_value(c.p_value),
            c.base.samples.len(),
            c.head.samples.len(),
            mark(c.verdict)
        );
    }
    out.push_str("\nA change counts when it is beyond its threshold and the one-sided Mann-Whitney test finds it significant; runs = base/head samples.\n\n</details>\n");

    if let Some(explained) = &report.explain {
        let md = crate::report::explain::markdown(explained);
        // The charts give way to the explanation: it says why.
        if out.len() + md.len() < chart_room(report) {
            out.push('\n');
            out.push_str(&String::from_utf8_lossy(&md));
        } else {
            out.push_str("\nWhat `memgate explain` found does not fit in this comment: it is in report.json and the HTML report.\n");
        }
    }
    let charts = memory_charts(report, chart_room(report).saturating_sub(out.len()));
    out.insert_str(charts_at, &charts);
    out.into_bytes()
}

/// The report as it would be with the timelines of `base` and `head`: for the tests, whose
/// reports are made by hand (commands have `judge` carry the timelines).
#[cfg(test)]
pub fn render_with_timelines(
    report: &Report,
    base: Option<&crate::results::RunResults>,
    head: Option<&crate::results::RunResults>,
) -> Vec<u8> {
    let mut report = report.clone();
    report.timelines = crate::compare::display::regressed_timelines(
        &report.comparisons,
        base,
        head,
        mermaid::INSTANTS,
    );
    render(&report)
}

/// A fold with a chart of memory over time for each regressed benchmark × dataset (one
/// however many of its metrics regressed) whose timelines the report carries: at most
/// [`MAX_CHARTS`], within `room` bytes, and a sentence for those left out. A report read
/// from a file may carry anything: only sound grids are drawn.
fn memory_charts(report: &Report, room: usize) -> String {
    let grids: HashMap<(&str, Option<&str>), &SharedGrid> = report
        .timelines
        .iter()
        .filter(|t| t.grid.is_sound())
        .map(|t| ((t.benchmark.as_str(), t.dataset.as_deref()), &t.grid))
        .collect();
    let mut seen = HashSet::new();
    let regressed = report
        .comparisons
        .iter()
        .filter(|c| c.verdict == Verdict::Regression && seen.insert((&c.benchmark, &c.dataset)));
    let mut out = String::new();
    let (mut shown, mut beyond_count, mut beyond_room, mut met) = (0, 0, 0, 0);
    for c in regressed {
        let key = (c.benchmark.as_str(), c.dataset.as_deref());
        let Some(grid) = grids.get(&key) else {
            // The report carries the timelines of the first MAX_REPORT_TIMELINES
            // regressed benchmarks that have them: past those, one without is left out.
            if grids.len() >= MAX_REPORT_TIMELINES && met == grids.len() {
                beyond_count += 1;
            }
            continue;
        };
        met += 1;
        if shown == MAX_CHARTS {
            beyond_count += 1;
            continue;
        }
        if beyond_room > 0 {
            // Once one did not fit, none after it is shown: the charts shown are the
            // first ones, in the report's order.
            beyond_room += 1;
            continue;
        }
        let Some(chart) = mermaid::chart(grid) else {
            continue;
        };
        let fold = format!(
            "<details><summary>memory over time: {}</summary>\n\n{chart}\n</details>\n\n",
            html_text(&c.label())
        );
        if out.len() + fold.len() > room {
            beyond_room += 1;
            continue;
        }
        out.push_str(&fold);
        shown += 1;
    }
    let charts = |n: usize| if n == 1 { "chart" } else { "charts" };
    if beyond_count > 0 {
        let _ = write!(
            out,
            "{beyond_count} more {} of memory over time left out: a report shows at most {MAX_CHARTS}. ",
            charts(beyond_count)
        );
    }
    if beyond_room > 0 {
        let _ = write!(
            out,
            "{beyond_room} {} of memory over time left out: with {}, the report would pass the 65,536 characters of a pull-request comment. ",
            charts(beyond_room),
            if beyond_room == 1 { "it" } else { "them" }
        );
    }
    if beyond_count + beyond_room > 0 {
        out.truncate(out.trim_end().len());
        out.push_str("\n\n");
    }
    out
}
