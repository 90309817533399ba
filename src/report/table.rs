//! The terminal table of a run: per benchmark × dataset × metric, the median and the
//! range of the measured runs, then what went wrong for any benchmark that failed.

use std::fmt::Write;

use super::text::printable;
use super::units::figure;
use crate::compare::stats::median;
use crate::results::RunResults;

/// Renders the table as text.
pub fn render(results: &RunResults) -> Vec<u8> {
    let header = [
        "benchmark",
        "status",
        "metric",
        "median",
        "min … max",
        "spread",
        "runs",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for b in &results.benchmarks {
        let label =
            printable(&crate::results::label(&b.benchmark, b.dataset.as_deref())).into_owned();
        if b.metrics.is_empty() {
            rows.push([
                label.clone(),
                b.status.as_str().into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "0".into(),
            ]);
        }
        for (i, (name, metric)) in b.metrics.iter().enumerate() {
            let Some(mid) = median(&metric.samples) else {
                continue;
            };
            let lo = metric.samples.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = metric
                .samples
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            let spread = if mid != 0.0 {
                format!("±{:.1}%", (hi - lo) / 2.0 / mid.abs() * 100.0)
            } else {
                "-".into()
            };
            let first = i == 0;
            rows.push([
                if first { label.clone() } else { String::new() },
                if first {
                    b.status.as_str().into()
                } else {
                    String::new()
                },
                printable(name).into_owned(),
                printable(&figure(mid, &metric.unit)).into_owned(),
                printable(&format!(
                    "{} … {}",
                    figure(lo, &metric.unit),
                    figure(hi, &metric.unit)
                ))
                .into_owned(),
                spread,
                metric.samples.len().to_string(),
            ]);
        }
    }
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            // Figures align right, words left.
            if (3..=6).contains(&i) {
                let _ = write!(text, "{}{cell}  ", " ".repeat(pad));
            } else {
                let _ = write!(text, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut out, &header.map(String::from));
    for row in &rows {
        line(&mut out, row);
    }
    for b in &results.benchmarks {
        if let Some(f) = &b.failure {
            let _ = writeln!(
                out,
                "\n{} {}: {}",
                printable(&b.benchmark),
                b.status.as_str(),
                printable(&f.message)
            );
            for l in &f.stderr_tail {
                let _ = writeln!(out, "  | {}", printable(l));
            }
        }
    }
    let failed = results
        .benchmarks
        .iter()
        .filter(|b| b.failure.is_some())
        .count();
    let total = results.benchmarks.len();
    let _ = writeln!(
        out,
        "\n{total} {}: {} ok, {failed} failed (memory figures: {} probe)",
        if total == 1 {
            "benchmark"
        } else {
            "benchmarks"
        },
        total - failed,
        results.testbed.probe.describe()
    );
    out.into_bytes()
}
