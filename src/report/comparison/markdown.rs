//! The markdown of a comparison, made to be a pull-request comment or a job summary: a
//! headline verdict, a table of what changed, and every comparison folded in details.

use std::fmt::Write;

use super::cells::{Levels, change_with_interval, p_value, percent, summary, threshold, value};
use crate::compare::{Comparison, Overall, Report, Verdict};

/// Text from benchmarks (a failure's message, a name, a unit) may hold anything: keep
/// it one table cell and plain text, so it can neither break the table nor inject
/// markup: HTML (a fold's end, an image), a link or image (`[`, `]`), code or emphasis,
/// or a mention that would notify people (`@`, kept from a name by a word joiner).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '[' | ']' | '`' | '*' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{2060}"),
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

fn rev(rev: &str) -> String {
    format!("`{}`", cell(crate::report::units::short_rev(rev)))
}

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
    out.into_bytes()
}
