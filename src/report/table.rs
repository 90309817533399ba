//! The terminal table of a run: per benchmark × dataset × metric, the median and the
//! range of the measured runs, with the memory timeline of the median run as a sparkline
//! on each benchmark's peak memory row; then how far apart the members of each group
//! are ([`group_lines`]), and what went wrong for any benchmark that failed.

use std::fmt::Write;

use super::sparkline::{WIDTH, sparkline};
use super::text::printable;
use super::units::{figure, ratio};
use crate::compare::display::{median_run, timeline_points};
use crate::compare::group::{GroupRatio, group_ratios};
use crate::compare::stats::median;
use crate::results::PEAK_MEMORY;
use crate::results::{BenchmarkResult, RunResults};

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
        "memory over time",
    ];
    let mut rows: Vec<[String; 8]> = Vec::new();
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
                memory_over_time(b),
            ]);
        }
        // The benchmark's own cells go on its first row shown; its memory over time on
        // its peak memory's row (or the first, without one).
        let mut first = true;
        let spark_on = if b
            .metrics
            .get(PEAK_MEMORY)
            .is_some_and(|m| !m.samples.is_empty())
        {
            PEAK_MEMORY
        } else {
            b.metrics
                .iter()
                .find(|(_, m)| !m.samples.is_empty())
                .map_or("", |(name, _)| name.as_str())
        };
        for (name, metric) in &b.metrics {
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
                if name == spark_on {
                    memory_over_time(b)
                } else {
                    String::new()
                },
            ]);
            first = false;
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
    let groups = group_lines(results);
    if !groups.is_empty() {
        out.push('\n');
    }
    for sentence in groups {
        let _ = writeln!(out, "{sentence}");
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

/// How far apart the members of each group are, where that is a lot (see
/// [`group_ratios`]): `pipeline-cycle uses 1.82× the memory of pipeline-weakref`.
/// Judged by the built-in thresholds (the results do not carry the project's); the
/// compiled-in file they come from is tested to parse.
pub fn group_lines(results: &RunResults) -> Vec<String> {
    let thresholds = crate::config::built_in_thresholds().unwrap_or_default();
    group_ratios(results, &thresholds)
        .iter()
        .map(group_sentence)
        .collect()
}

fn group_sentence(r: &GroupRatio) -> String {
    let name = |benchmark: &str| {
        printable(&crate::results::label(benchmark, r.dataset.as_deref())).into_owned()
    };
    let (verb, what) = match r.metric {
        PEAK_MEMORY => ("uses", "memory"),
        _ => ("takes", "time"),
    };
    format!(
        "{} {verb} {} the {what} of {}",
        name(&r.benchmark),
        ratio(r.ratio),
        name(&r.reference)
    )
}

/// The median run's memory over time, scaled to that run's own peak; `-` without one.
fn memory_over_time(b: &BenchmarkResult) -> String {
    median_run(b).map_or_else(|| "-".into(), |run| sparkline(&timeline_points(run), WIDTH))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::measure::timeline::Timeline;
    use crate::measure::units::{Bytes, Seconds};
    use crate::results::{Better, Failure, RunRecord, Status};
    use crate::testing::{self, metric};

    const MIB: u64 = 1_048_576;

    /// A run whose memory climbs to `peak` MiB at the middle of its 2.4 s and drops back.
    fn run(peak: u64) -> RunRecord {
        let mut timeline = Timeline::default();
        for i in 0..=240u64 {
            let mib = if i <= 120 { i } else { 240 - i } * peak / 120;
            timeline.push(Seconds(i as f64 / 100.0), Bytes(mib * MIB));
        }
        RunRecord {
            status: Status::Ok,
            wall_time: Seconds(2.4),
            cpu_time: Seconds(2.0),
            peak_memory: Bytes(peak * MIB),
            max_rss: Bytes(peak * MIB),
            exit_code: Some(0),
            signal: None,
            sampler_cpu_time: Seconds(0.002),
            peak_quality: None,
            samples: None,
            peak_lower_bound: None,
            peak_upper_bound: None,
            timeline,
        }
    }

    fn bench(name: &str, dataset: Option<&str>, runs: Vec<RunRecord>) -> BenchmarkResult {
        let peaks: Vec<f64> = runs.iter().map(|r| r.peak_memory.as_f64()).collect();
        let metrics = if runs.is_empty() {
            BTreeMap::new()
        } else {
            BTreeMap::from([
                (
                    "peak_memory".to_owned(),
                    metric("bytes", &peaks, Better::Lower),
                ),
                (
                    "wall_time".to_owned(),
                    metric("seconds", &vec![2.4; runs.len()], Better::Lower),
                ),
            ])
        };
        BenchmarkResult {
            benchmark: name.into(),
            dataset: dataset.map(str::to_owned),
            group: None,
            status: Status::Ok,
            command: "true".into(),
            metrics,
            runs,
            lower_bound_runs: 0,
            failure: None,
        }
    }

    #[test]
    fn the_median_runs_memory_over_time_on_each_benchmarks_first_row() {
        // The middle peak (100 MiB) is the run drawn: its hill, up and down again.
        let hill = bench("automl", Some("taxi"), vec![run(120), run(100), run(80)]);
        // Measured, but no timeline (a record of a memgate that kept none): a dash.
        let mut bare = bench("parse", None, vec![run(10)]);
        bare.runs[0].timeline = Timeline::default();
        let mut crashed = bench("export", None, vec![]);
        crashed.status = Status::Failed;
        crashed.failure = Some(Failure {
            phase: "run".into(),
            attempt: 1,
            message: "run 1 exited with code 1".into(),
            exit_code: Some(1),
            signal: None,
            after: Default::default(),
            peak_memory: Default::default(),
            stderr_tail: vec![],
        });
        let results = RunResults {
            memgate_version: "0.1.0".into(),
            testbed: testing::testbed(),
            benchmarks: vec![hill, bare, crashed],
        };
        let table = String::from_utf8(render(&results)).unwrap();
        insta::assert_snapshot!(table);
    }

    #[test]
    fn members_of_a_group_far_apart_are_said_under_the_table() {
        let grouped = |name: &str, peaks: [u64; 3]| {
            let mut b = bench(name, Some("trips"), peaks.map(run).to_vec());
            b.group = Some("pipeline".into());
            b
        };
        let results = RunResults {
            memgate_version: "0.1.0".into(),
            testbed: testing::testbed(),
            benchmarks: vec![
                grouped("pipeline-cycle", [181, 183, 182]),
                grouped("pipeline-weakref", [100, 101, 99]),
                // Twice as large, but in no group: nothing said of it.
                bench("loader", Some("trips"), vec![run(200), run(201), run(199)]),
            ],
        };
        let table = String::from_utf8(render(&results)).unwrap();
        insta::assert_snapshot!(table);
        assert_eq!(
            group_lines(&results),
            ["pipeline-cycle[trips] uses 1.82× the memory of pipeline-weakref[trips]"]
        );
    }
}
