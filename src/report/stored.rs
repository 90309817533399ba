//! Renderings of stored results: `show` (every record of a revision) and `log` (one
//! metric along the history).

use std::fmt::Write;

use super::table::render;
use super::text::printable;
use super::units::{bytes, figure, short_rev as short};
use crate::compare::stats::median;
use crate::git::CommitInfo;
use crate::results::label;
use crate::store::Record;

/// A commit's date, `2026-12-01`. Its time is the committer's word: one beyond the year
/// 9999 (which RFC 3339 cannot write) is shown as such, not taken for a mistake of ours.
fn date(seconds: i64) -> String {
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if seconds > LAST {
        return "after 9999".into();
    }
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()[..10].to_owned()
}

/// `show`: a header for the revision, then each record with its testbed and table.
pub fn show(
    revision: &str,
    commit: Option<&CommitInfo>,
    records: &[Record],
    store: &str,
) -> Vec<u8> {
    let mut out = String::new();
    let _ = match commit {
        Some(c) => writeln!(
            out,
            "revision {} ({}, \"{}\")",
            printable(short(revision)),
            date(c.time),
            printable(&c.summary)
        ),
        None => writeln!(out, "revision {}", printable(short(revision))),
    };
    if records.is_empty() {
        let _ = writeln!(out, "no results stored for it in {store}");
        return out.into_bytes();
    }
    let count = match records.len() {
        1 => "1 record".to_owned(),
        n => format!("{n} records"),
    };
    let _ = writeln!(out, "{count} in {store}");
    for record in records {
        let t = &record.results.testbed;
        let probe = t.probe.describe();
        let header = format!(
            "testbed {} ({}, {} cores, {}, {} {}, {probe} probe)",
            t.id,
            t.cpu,
            t.cores,
            bytes(t.memory.as_f64()),
            t.os,
            t.kernel
        );
        let _ = writeln!(out, "\n{}", printable(&header));
        let _ = writeln!(
            out,
            "measured {} by memgate {}{}",
            printable(&record.time),
            printable(&record.results.memgate_version),
            if record.dirty {
                ", DIRTY working tree: not a baseline"
            } else {
                ""
            }
        );
        out.push_str(&String::from_utf8_lossy(&render(&record.results)));
    }
    out.into_bytes()
}

/// One commit of `log`: its record for the testbed, if any.
pub struct LogRow {
    pub commit: CommitInfo,
    pub record: Option<Record>,
}

/// `log`: a column per benchmark × dataset (only `benchmark`'s when given), a row per
/// commit, newest first.
pub fn log_table(rows: &[LogRow], metric: &str, benchmark: Option<&str>, testbed: &str) -> Vec<u8> {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        for b in row.record.iter().flat_map(|r| &r.results.benchmarks) {
            if benchmark.is_some_and(|want| want != b.benchmark) {
                continue;
            }
            let label = label(&b.benchmark, b.dataset.as_deref());
            if !columns.contains(&label) {
                columns.push(label);
            }
        }
    }
    let mut table: Vec<Vec<String>> = vec![
        ["revision", "date"]
            .iter()
            .map(|s| s.to_string())
            .chain(columns.iter().cloned())
            .chain(["subject".to_string()])
            .collect(),
    ];
    for row in rows {
        let mut cells = vec![short(&row.commit.id).to_owned(), date(row.commit.time)];
        match &row.record {
            None => {
                cells.extend(columns.iter().map(|_| "·".to_owned()));
                cells.push(format!("{}  (no results)", printable(&row.commit.summary)));
            }
            Some(record) => {
                for column in &columns {
                    let found = record
                        .results
                        .benchmarks
                        .iter()
                        .find(|b| &label(&b.benchmark, b.dataset.as_deref()) == column);
                    let cell = match found {
                        None => "·".to_owned(),
                        Some(b) if b.status.as_str() != "ok" => b.status.as_str().to_owned(),
                        Some(b) => match b
                            .metrics
                            .get(metric)
                            .and_then(|m| Some((median(&m.samples)?, &m.unit)))
                        {
                            Some((value, unit)) => figure(value, unit),
                            None => "-".to_owned(),
                        },
                    };
                    cells.push(if record.dirty {
                        format!("{cell} (dirty)")
                    } else {
                        cell
                    });
                }
                cells.push(printable(&row.commit.summary).into_owned());
            }
        }
        table.push(cells);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "{metric}{} on testbed {testbed}, newest first\n",
        benchmark.map(|b| format!(" of {b}")).unwrap_or_default()
    );
    for row in &table {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            // Figures align right; the subject, last, is not padded.
            if i + 1 == row.len() {
                line.push_str(cell);
            } else if i >= 2 {
                let _ = write!(line, "{}{cell}  ", " ".repeat(pad));
            } else {
                let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if columns.is_empty() {
        out.push_str("no stored results in this range\n");
    }
    out.into_bytes()
}
