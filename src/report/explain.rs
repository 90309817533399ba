//! The renderings of `memgate explain`: terminal text, markdown (each benchmark folded in
//! details, for a pull request), an HTML section, and JSON. Pure functions from
//! [`Explained`] to bytes. Every text from a benchmark (commands, type names, file names,
//! source lines) is escaped for where it goes.

use std::fmt::Write;

use crate::diagnose::explain::{Difference, Topic};
use crate::diagnose::{Diagnosis, Explained, Explanation};
use crate::report::comparison::markdown::{cell, html_text};
use crate::report::html::escape;
use crate::report::text::printable;
use crate::report::units::{bytes, seconds, short_rev};

/// Rows of each list shown: the rest is in the JSON.
const ROWS: usize = 8;

/// `--format json`: the public contract, versioned by `explain_version`.
pub fn json(explained: &Explained) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(explained).unwrap_or_default();
    out.push(b'\n');
    crate::report::text::inert_json(out)
}

fn signed(change: i64) -> String {
    let sign = if change < 0 { "−" } else { "+" };
    format!("{sign}{}", bytes(change.unsigned_abs() as f64))
}

/// What a difference is about, in words.
fn what(d: &Difference) -> String {
    match d.topic {
        Topic::Peak => "peak memory".into(),
        Topic::MemoryKind => format!("{} memory", d.name),
        Topic::Process => format!("process {}", d.name),
        Topic::Cycle => format!("cycles of {}", d.name),
        Topic::Site => format!("line {}", d.name),
    }
}

/// One line that says the most important finding, for headlines and summaries.
pub fn headline(e: &Explanation) -> String {
    let top_cycle = e
        .differences
        .iter()
        .find(|d| d.topic == Topic::Cycle && d.change > 0);
    let peak = match &e.base {
        Some(base) => format!(
            "peak {} → {} ({})",
            bytes(base.peak_memory.as_f64()),
            bytes(e.head.peak_memory.as_f64()),
            signed(e.head.peak_memory.0 as i64 - base.peak_memory.0 as i64)
        ),
        None => format!("peak {}", bytes(e.head.peak_memory.as_f64())),
    };
    let why = match top_cycle {
        Some(d) => format!(
            "; {} held by reference cycles of {}",
            signed(d.change),
            d.name
        ),
        None => match e.head.python.as_ref().and_then(|p| p.cycles.first()) {
            Some(t) if e.base.is_none() && t.bytes.0 >= NOTABLE_CYCLE => format!(
                "; {} held by reference cycles of {}",
                bytes(t.bytes.as_f64()),
                t.type_name
            ),
            _ => String::new(),
        },
    };
    format!("{peak}{why}")
}

/// For a terminal.
pub fn text(explained: &Explained) -> Vec<u8> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "memgate explain: head {}{}",
        short_rev(&explained.head),
        explained
            .base
            .as_deref()
            .map(|b| format!(", base {}", short_rev(b)))
            .unwrap_or_default()
    );
    for e in &explained.explanations {
        let _ = writeln!(
            out,
            "\n{}: {}",
            printable(&e.benchmark),
            printable(&headline(e))
        );
        if !e.differences.is_empty() {
            let _ = writeln!(out, "  what changed, base → head (biggest growth first):");
            for d in e.differences.iter().take(ROWS * 2) {
                let _ = writeln!(
                    out,
                    "    {:>11}  {}  ({} → {}){}",
                    signed(d.change),
                    printable(&what(d)),
                    bytes(d.base.as_f64()),
                    bytes(d.head.as_f64()),
                    d.detail
                        .as_deref()
                        .map(|x| format!("  {}", printable(x)))
                        .unwrap_or_default()
                );
            }
        } else if e.base.is_some() {
            let _ = writeln!(
                out,
                "  nothing changed by 1 MiB or more between base and head"
            );
        }
        side_text(&mut out, "head", &e.head);
        if let Some(base) = &e.base {
            side_text(&mut out, "base", base);
        }
    }
    out.into_bytes()
}

fn side_text(out: &mut String, name: &str, d: &Diagnosis) {
    let _ = writeln!(
        out,
        "  {name}: {} in {}, peak {}",
        printable(&d.ending),
        seconds(d.wall_time.0),
        bytes(d.peak_memory.as_f64())
    );
    if let Some(p) = &d.at_peak {
        let _ = writeln!(
            out,
            "    at the peak ({} into the run): anonymous {}, file-backed {}, shared {}",
            seconds(p.at.0),
            bytes(p.kinds.anonymous.as_f64()),
            bytes(p.kinds.file.as_f64()),
            bytes(p.kinds.shared.as_f64())
        );
        for proc in p.processes.iter().take(ROWS) {
            let _ = writeln!(
                out,
                "      {:>10} PSS  {:>10} own peak  {}",
                bytes(proc.pss.as_f64()),
                bytes(proc.high_water_mark.as_f64()),
                printable(&proc.command)
            );
        }
        let more = p.processes.len().saturating_sub(ROWS) + p.others;
        if more > 0 {
            let _ = writeln!(out, "      … and {more} more processes");
        }
    }
    if let Some(g) = &d.growth {
        let _ = writeln!(out, "    end of the run: {}", growth(g));
    }
    if let Some(at) = d.limit_reached_at {
        let _ = writeln!(
            out,
            "    reached {:.0}% of its memory limit {} into the run: the Python reports below were taken then",
            100.0 * crate::diagnose::tree::LIMIT_SHARE,
            seconds(at.0)
        );
    }
    if let Some(py) = &d.python {
        let _ = writeln!(
            out,
            "    Python: {} process{}; collector: {} collection{} (generations 0/1/2: {}/{}/{}), {} in the collector, {} uncollectable",
            py.processes.len(),
            if py.processes.len() == 1 { "" } else { "es" },
            py.gc.collections.iter().sum::<u64>(),
            if py.gc.collections.iter().sum::<u64>() == 1 {
                ""
            } else {
                "s"
            },
            py.gc.collections[0],
            py.gc.collections[1],
            py.gc.collections[2],
            seconds(py.gc.time_s),
            py.gc.uncollectable
        );
        let (shown, rest) = cycles_shown(py);
        let _ = writeln!(
            out,
            "    freed only by the cyclic garbage collector: {} objects, {} in all{}",
            py.cycle_objects,
            bytes(py.cycle_bytes.as_f64()),
            if shown.is_empty() {
                format!("; no cycle held {}", bytes(NOTABLE_CYCLE as f64))
            } else {
                "; by type:".to_owned()
            }
        );
        {
            for t in &shown {
                let _ = writeln!(
                    out,
                    "      {:>10}  ×{:<6} {}{}",
                    bytes(t.bytes.as_f64()),
                    t.count,
                    printable(&t.type_name),
                    t.cycle_text
                        .as_deref()
                        .map(|c| format!("  cycle: {}", printable(c)))
                        .unwrap_or_default()
                );
            }
            if rest > 0 && !shown.is_empty() {
                let _ = writeln!(
                    out,
                    "      … and {rest} types under {}",
                    bytes(NOTABLE_CYCLE as f64)
                );
            }
        }
        if py.sites_traced {
            let _ = writeln!(
                out,
                "    allocation sites alive at the peak ({} traced in the snapshot, traced peak {}):",
                bytes(py.snapshot_traced.as_f64()),
                bytes(py.peak_traced.as_f64())
            );
            if let Some(share) = early_snapshot(py) {
                let _ = writeln!(
                    out,
                    "      (the snapshot holds {share:.0}% of the traced peak: these lines are from before the peak)"
                );
            }
            for s in py.sites.iter().take(ROWS) {
                let _ = writeln!(
                    out,
                    "      {:>10}  {}:{}  {}",
                    bytes(s.bytes.as_f64()),
                    printable(&s.file),
                    s.line,
                    printable(&s.code)
                );
            }
        }
        for p in &py.problems {
            let _ = writeln!(out, "    python helper: {}", printable(p));
        }
    }
    for n in &d.notes {
        let _ = writeln!(out, "    note: {}", printable(n));
    }
}

/// A cycle that held less is not worth a reader's line: interpreters and libraries leave
/// kilobytes of cyclic garbage (argparse, dead classes) in every run.
const NOTABLE_CYCLE: u64 = 1 << 20;

/// The types whose cycles held at least [`NOTABLE_CYCLE`] (at most [`ROWS`]), and how
/// many others there are.
fn cycles_shown(
    py: &crate::diagnose::python::PythonFindings,
) -> (Vec<&crate::diagnose::python::CycleType>, usize) {
    let shown: Vec<_> = py
        .cycles
        .iter()
        .filter(|t| t.bytes.0 >= NOTABLE_CYCLE)
        .take(ROWS)
        .collect();
    let rest = py.cycles.len() - shown.len();
    (shown, rest)
}

/// The share of the traced peak the kept snapshot holds, in percent, when it is under
/// 80%: a snapshot that could not be taken near the peak (each waits on the cost of the
/// last) names the lines of an earlier moment, and the reader must know.
fn early_snapshot(py: &crate::diagnose::python::PythonFindings) -> Option<f64> {
    let share = 100.0 * py.snapshot_traced.as_f64() / py.peak_traced.as_f64();
    (py.peak_traced.0 > 0 && share < 80.0).then_some(share)
}

fn growth(g: &crate::diagnose::growth::Growth) -> String {
    let rate = format!(
        "{}{}/s over its last {}",
        if g.bytes_per_second < 0.0 { "−" } else { "+" },
        bytes(g.bytes_per_second.abs()),
        seconds(g.over.0)
    );
    if g.still_growing {
        format!("still growing, {rate} (R² {:.2})", g.r_squared)
    } else if g.flat() {
        format!("not growing ({rate})")
    } else {
        format!("no steady trend ({rate}, R² {:.2})", g.r_squared)
    }
}

/// For a pull request or a job summary: one fold per benchmark.
pub fn markdown(explained: &Explained) -> Vec<u8> {
    let mut out = String::from("### memgate explain\n\n");
    for e in &explained.explanations {
        let _ = writeln!(
            out,
            "<details><summary><b>{}</b>: {}</summary>\n",
            html_text(&e.benchmark),
            html_text(&headline(e))
        );
        if !e.differences.is_empty() {
            out.push_str("| change | what | base | head | detail |\n|---:|---|---:|---:|---|\n");
            for d in e.differences.iter().take(ROWS * 2) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    signed(d.change),
                    cell(&what(d)),
                    bytes(d.base.as_f64()),
                    bytes(d.head.as_f64()),
                    d.detail.as_deref().map(cell).unwrap_or_default()
                );
            }
            out.push('\n');
        }
        side_markdown(&mut out, "head", &e.head);
        if let Some(base) = &e.base {
            side_markdown(&mut out, "base", base);
        }
        out.push_str("</details>\n\n");
    }
    out.into_bytes()
}

fn side_markdown(out: &mut String, name: &str, d: &Diagnosis) {
    let _ = writeln!(
        out,
        "**{name}**: {} in {}, peak {}.",
        cell(&d.ending),
        seconds(d.wall_time.0),
        bytes(d.peak_memory.as_f64())
    );
    if let Some(p) = &d.at_peak {
        let _ = writeln!(
            out,
            "At the peak: anonymous {}, file-backed {}, shared {}.\n",
            bytes(p.kinds.anonymous.as_f64()),
            bytes(p.kinds.file.as_f64()),
            bytes(p.kinds.shared.as_f64())
        );
        out.push_str("| PSS | own peak | process |\n|---:|---:|---|\n");
        for proc in p.processes.iter().take(ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                bytes(proc.pss.as_f64()),
                bytes(proc.high_water_mark.as_f64()),
                cell(&proc.command)
            );
        }
        out.push('\n');
    }
    if let Some(g) = &d.growth {
        let _ = writeln!(out, "End of the run: {}.\n", growth(g));
    }
    if let Some(py) = &d.python {
        let (shown, _) = cycles_shown(py);
        if !shown.is_empty() {
            out.push_str("| held | objects | freed only by the cyclic GC | shortest cycle |\n|---:|---:|---|---|\n");
            for t in shown {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    bytes(t.bytes.as_f64()),
                    t.count,
                    cell(&t.type_name),
                    t.cycle_text.as_deref().map(cell).unwrap_or_default()
                );
            }
            out.push('\n');
        }
        if !py.sites.is_empty() {
            if let Some(share) = early_snapshot(py) {
                let _ = writeln!(
                    out,
                    "The snapshot of allocation sites holds {share:.0}% of the traced peak: its lines are from before the peak.\n"
                );
            }
            out.push_str("| alive at the peak | line | code |\n|---:|---|---|\n");
            for s in py.sites.iter().take(ROWS) {
                let _ = writeln!(
                    out,
                    "| {} | {}:{} | {} |",
                    bytes(s.bytes.as_f64()),
                    cell(&s.file),
                    s.line,
                    cell(&s.code)
                );
            }
            out.push('\n');
        }
    }
    for n in &d.notes {
        let _ = writeln!(out, "Note: {}\n", cell(n));
    }
}

/// A section of the HTML report.
pub fn html(explained: &Explained) -> String {
    let mut out = String::from("<section class=\"explain\"><h2>What grew, and why</h2>\n");
    for e in &explained.explanations {
        let _ = writeln!(
            out,
            "<h3>{}</h3>\n<p>{}</p>",
            escape(&e.benchmark),
            escape(&headline(e))
        );
        if !e.differences.is_empty() {
            out.push_str("<div class=\"scroll\"><table><thead><tr><th>change</th><th>what</th><th>base</th><th>head</th><th>detail</th></tr></thead><tbody>\n");
            for d in e.differences.iter().take(ROWS * 2) {
                let _ = writeln!(
                    out,
                    "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
                    escape(&signed(d.change)),
                    escape(&what(d)),
                    bytes(d.base.as_f64()),
                    bytes(d.head.as_f64()),
                    escape(d.detail.as_deref().unwrap_or(""))
                );
            }
            out.push_str("</tbody></table></div>\n");
        }
        let mut text = String::new();
        side_text(&mut text, "head", &e.head);
        if let Some(base) = &e.base {
            side_text(&mut text, "base", base);
        }
        let _ = writeln!(out, "<pre>{}</pre>", escape(&text));
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
