//! Renderings of stored results: `show` (every record of a revision) and `log` (one
//! metric along the history).

use std::fmt::Write;

use super::table::render;
use super::text::printable;
use super::units::{bytes, figure, short_rev as short};
use crate::compare::stats::median;
use crate::git::CommitInfo;
use crate::results::{Status, label};
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

/// One commit of `log`: what it shows of the commit's record for the testbed, if any.
pub struct LogRow {
    pub commit: CommitInfo,
    pub record: Option<LogRecord>,
}

/// What `log` shows of a record: one metric of each benchmark × dataset. Only this is
/// kept of each of a thousand records, not the records.
pub struct LogRecord {
    pub dirty: bool,
    /// In the record's order.
    pub cells: Vec<LogCell>,
}

/// One benchmark × dataset's cell.
pub struct LogCell {
    pub benchmark: String,
    /// `benchmark[dataset]`: the column.
    pub label: String,
    /// The median with its unit; `-` without figures of the metric; the status of a
    /// benchmark that did not finish.
    pub text: String,
}

impl LogRecord {
    /// What `log` shows of `record` for `metric`.
    pub fn new(record: &Record, metric: &str) -> LogRecord {
        let cells = record
            .results
            .benchmarks
            .iter()
            .map(|b| LogCell {
                benchmark: b.benchmark.clone(),
                label: label(&b.benchmark, b.dataset.as_deref()),
                text: match b.status {
                    Status::Ok => match b
                        .metrics
                        .get(metric)
                        .and_then(|m| Some((median(&m.samples)?, &m.unit)))
                    {
                        Some((value, unit)) => figure(value, unit),
                        None => "-".to_owned(),
                    },
                    other => other.as_str().to_owned(),
                },
            })
            .collect();
        LogRecord {
            dirty: record.dirty,
            cells,
        }
    }
}

/// `log`: a column per benchmark × dataset (only `benchmark`'s when given), a row per
/// commit, newest first.
pub fn log_table(rows: &[LogRow], metric: &str, benchmark: Option<&str>, testbed: &str) -> Vec<u8> {
    // Columns in the order first seen, newest commit first.
    let mut columns: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        for cell in row.record.iter().flat_map(|r| &r.cells) {
            if benchmark.is_some_and(|want| want != cell.benchmark) {
                continue;
            }
            if seen.insert(cell.label.as_str()) {
                columns.push(&cell.label);
            }
        }
    }
    let mut table: Vec<Vec<String>> = vec![
        ["revision", "date"]
            .iter()
            .map(|s| s.to_string())
            .chain(columns.iter().map(|c| c.to_string()))
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
                // The first of a label, should a record hold it twice.
                let mut by_label = std::collections::HashMap::with_capacity(record.cells.len());
                for c in &record.cells {
                    by_label.entry(c.label.as_str()).or_insert(c.text.as_str());
                }
                for column in &columns {
                    let cell = by_label.get(column).copied().unwrap_or("·");
                    cells.push(if record.dirty {
                        format!("{cell} (dirty)")
                    } else {
                        cell.to_owned()
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
