//! The report as files: `index.html` (the page, charts inline) and every chart beside it
//! as SVG and PNG. A pure function from results to named bytes; the command decides
//! where they go.

use std::collections::BTreeMap;

use super::chart::data::{self, Named, Revision};
use super::chart::{self, Format, Side};
use super::comparison::cells::{
    Levels, WORST_FIRST, change_with_interval, p_value, summary, value,
};
use super::html::{FailureText, Page, Section, Table};
use super::text::printable;
use super::units::{figure, short_rev};
use crate::compare::stats::median;
use crate::compare::{Comparison, Report, Verdict};
use crate::results::{BenchmarkResult, PEAK_MEMORY, RunResults, Status, label};

/// One side of the report.
#[derive(Clone, Copy, Debug)]
pub struct Sided<'a> {
    /// The revision (a commit id or a label).
    pub rev: &'a str,
    /// How it was chosen, or what to know about it.
    pub note: Option<&'a str>,
    pub results: &'a RunResults,
}

/// Everything the report shows.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub testbed: &'a str,
    /// The comparison, when the report has two sides.
    pub report: Option<&'a Report>,
    pub base: Option<Sided<'a>>,
    pub head: Sided<'a>,
    /// Stored revisions along first parents, oldest first, for the history charts.
    pub history: Vec<Revision<'a>>,
    /// Each benchmark's memory limit, in bytes.
    pub limits: BTreeMap<String, f64>,
}

/// A file of the report: a name without any directory, and its bytes.
#[derive(Clone, Debug)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The page's file name.
pub const INDEX: &str = "index.html";

/// The report's files, `index.html` first.
pub fn build(input: &Input) -> Result<Vec<File>, String> {
    let labels = benchmarks(input);
    let digits = labels.len().to_string().len().max(2);
    let mut files = Vec::new();
    let mut sections = Vec::new();
    for (i, (benchmark, dataset)) in labels.iter().enumerate() {
        let name = label(benchmark, dataset.as_deref());
        let stem = format!("{:0digits$}-{}", i + 1, slug(&name));
        let mut section = section(input, benchmark, dataset.as_deref(), &name);
        for (kind, chart) in charts(input, benchmark, dataset.as_deref(), &name) {
            section
                .charts
                .push(emit(&chart, &format!("{stem}-{kind}"), &mut files)?);
        }
        sections.push(section);
    }
    let mut page = page(input, sections);
    if input.report.is_none() {
        let benchmarks: Vec<(String, &BenchmarkResult)> = input
            .head
            .results
            .benchmarks
            .iter()
            .map(|b| (label(&b.benchmark, b.dataset.as_deref()), b))
            .collect();
        if let Some(chart) = data::overview(&benchmarks) {
            let stem = format!("{:0digits$}-every-benchmark-timeline", 0);
            page.overview
                .push(emit(&AnyChart::Timeline(chart), &stem, &mut files)?);
        }
    }
    files.insert(
        0,
        File {
            name: INDEX.to_owned(),
            bytes: super::html::render(&page),
        },
    );
    Ok(files)
}

/// How many metrics besides peak memory get a history chart, when they regressed.
const MORE_HISTORIES: usize = 3;

/// Any of the three charts, to draw in either format.
enum AnyChart {
    Timeline(chart::TimelineChart),
    Distribution(chart::DistributionChart),
    History(chart::HistoryChart),
}

impl AnyChart {
    fn render(&self, format: Format) -> Result<Vec<u8>, String> {
        match self {
            AnyChart::Timeline(c) => chart::render(c, format),
            AnyChart::Distribution(c) => chart::render(c, format),
            AnyChart::History(c) => chart::render(c, format),
        }
    }
}

/// Draws `chart` as `STEM.svg` and `STEM.png` into `files`; returns its caption and SVG
/// for the page.
fn emit(chart: &AnyChart, stem: &str, files: &mut Vec<File>) -> Result<(String, String), String> {
    let svg = chart.render(Format::Svg)?;
    let png = chart.render(Format::Png)?;
    let inline = String::from_utf8_lossy(&svg).into_owned();
    files.push(File {
        name: format!("{stem}.svg"),
        bytes: svg,
    });
    files.push(File {
        name: format!("{stem}.png"),
        bytes: png,
    });
    Ok((format!("{stem}.svg and .png"), inline))
}

/// Every benchmark × dataset of the report: head's in order, then any only the base has.
fn benchmarks(input: &Input) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let sides = input.base.iter().map(|b| b.results);
    for b in input
        .head
        .results
        .benchmarks
        .iter()
        .chain(sides.flat_map(|r| &r.benchmarks))
    {
        let key = (b.benchmark.clone(), b.dataset.clone());
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

/// The sides as the charts name them, each with its results of one benchmark.
fn named<'a>(
    input: &'a Input,
    benchmark: &str,
    dataset: Option<&str>,
    names: &'a [String; 2],
) -> Vec<(Named<'a>, &'a BenchmarkResult)> {
    let sides: Vec<(Side, &str, &RunResults)> = match input.base {
        Some(base) => vec![
            (Side::Base, &names[0], base.results),
            (Side::Head, &names[1], input.head.results),
        ],
        // One run: drawn in the darker colour.
        None => vec![(Side::Base, &names[1], input.head.results)],
    };
    sides
        .into_iter()
        .filter_map(|(side, name, results)| {
            Some((Named { side, name }, results.find(benchmark, dataset)?))
        })
        .collect()
}

fn charts(
    input: &Input,
    benchmark: &str,
    dataset: Option<&str>,
    name: &str,
) -> Vec<(String, AnyChart)> {
    let names = match input.base {
        Some(base) => [
            format!("base {}", short_rev(base.rev)),
            format!("head {}", short_rev(input.head.rev)),
        ],
        None => [String::new(), short_rev(input.head.rev).to_owned()],
    };
    let sides = named(input, benchmark, dataset, &names);
    let mut out = Vec::new();
    let limit = input.limits.get(benchmark).copied();
    if let Some(c) = data::timeline(name, &sides, limit) {
        out.push(("timeline".to_owned(), AnyChart::Timeline(c)));
    }
    let distribution = match input.report {
        Some(report) => {
            let mine: Vec<&Comparison> = comparisons(report, benchmark, dataset).collect();
            data::comparison_distribution(name, &mine, &report.comparisons)
        }
        None => sides
            .first()
            .and_then(|(n, b)| data::run_distribution(name, n.name, b)),
    };
    if let Some(c) = distribution {
        out.push(("distribution".to_owned(), AnyChart::Distribution(c)));
    }
    // Peak memory's history, and that of a few other metrics that regressed.
    let mut metrics = vec![PEAK_MEMORY.to_owned()];
    if let Some(report) = input.report {
        for c in comparisons(report, benchmark, dataset) {
            if c.verdict == Verdict::Regression
                && !metrics.contains(&c.metric)
                && metrics.len() <= MORE_HISTORIES
            {
                metrics.push(c.metric.clone());
            }
        }
    }
    for (i, metric) in metrics.iter().enumerate() {
        if let Some(c) = data::history(name, benchmark, dataset, metric, &input.history) {
            // Peak memory's is `history`; another metric's carries its name.
            // The index keeps two names that make the same slug apart.
            let kind = match i {
                0 => "history".to_owned(),
                _ => format!("history-{i}-{}", slug(metric)),
            };
            out.push((kind, AnyChart::History(c)));
        }
    }
    out
}

fn comparisons<'a>(
    report: &'a Report,
    benchmark: &'a str,
    dataset: Option<&'a str>,
) -> impl Iterator<Item = &'a Comparison> {
    report
        .comparisons
        .iter()
        .filter(move |c| c.benchmark == benchmark && c.dataset.as_deref() == dataset)
}

fn section(input: &Input, benchmark: &str, dataset: Option<&str>, name: &str) -> Section {
    let verdict = match input.report {
        Some(report) => {
            let mine: Vec<Verdict> = comparisons(report, benchmark, dataset)
                .map(|c| c.verdict)
                .collect();
            WORST_FIRST
                .iter()
                .find(|v| mine.contains(v))
                .map_or("missing", |v| v.as_str())
                .to_owned()
        }
        None => input
            .head
            .results
            .find(benchmark, dataset)
            .map_or("missing", |b| b.status.as_str())
            .to_owned(),
    };
    let mut failures = Vec::new();
    let sides = input
        .base
        .iter()
        .map(|b| ("base", b))
        .chain([("head", &input.head)]);
    for (side, sided) in sides {
        let Some(b) = sided.results.find(benchmark, dataset) else {
            continue;
        };
        if let Some(f) = &b.failure {
            let side = match input.base {
                Some(_) => format!("{side} {}", short_rev(sided.rev)),
                None => short_rev(sided.rev).to_owned(),
            };
            failures.push(FailureText {
                side,
                message: format!("{} ({})", printable(&f.message), b.status.as_str()),
                stderr_tail: f
                    .stderr_tail
                    .iter()
                    .map(|l| printable(l).into_owned())
                    .collect(),
            });
        }
    }
    Section {
        label: printable(name).into_owned(),
        verdict,
        charts: Vec::new(),
        failures,
    }
}

fn page(input: &Input, sections: Vec<Section>) -> Page {
    let mut facts = vec![("testbed".to_owned(), printable(input.testbed).into_owned())];
    let mut fact = |name: &str, sided: &Sided| {
        let mut text = printable(sided.rev).into_owned();
        if let Some(note) = sided.note {
            text.push_str(&format!(" ({})", printable(note)));
        }
        facts.push((name.to_owned(), text));
    };
    if let Some(base) = &input.base {
        fact("base", base);
        fact("head", &input.head);
    } else {
        fact("revision", &input.head);
    }
    facts.push((
        "measured by".to_owned(),
        format!("memgate {}", printable(&input.head.results.memgate_version)),
    ));
    let (title, verdict, summary_text, table, groups) = match (input.report, &input.base) {
        (Some(report), Some(base)) => (
            format!(
                "memgate: {} → {}",
                short_rev(base.rev),
                short_rev(input.head.rev)
            ),
            report.verdict.as_str().to_owned(),
            summary(report.verdict, &report.comparisons),
            comparison_table(report),
            Vec::new(),
        ),
        _ => {
            let results = input.head.results;
            let failed = results
                .benchmarks
                .iter()
                .filter(|b| b.status != Status::Ok)
                .count();
            let n = results.benchmarks.len();
            (
                format!("memgate: {}", short_rev(input.head.rev)),
                if failed > 0 { "failed" } else { "ok" }.to_owned(),
                format!(
                    "{n} benchmark{} run, {failed} failed",
                    if n == 1 { "" } else { "s" }
                ),
                run_table(results),
                super::table::group_lines(results),
            )
        }
    };
    let mut notes = Vec::new();
    // Runs that succeeded, none with a timeline: say why there is no timeline chart.
    let sides = || {
        input
            .base
            .iter()
            .chain([&input.head])
            .flat_map(|s| &s.results.benchmarks)
    };
    let measured = sides().any(|b| b.metrics.values().any(|m| !m.samples.is_empty()));
    let timelines = sides().any(|b| b.runs.iter().any(|r| !r.timeline.points.is_empty()));
    if measured && !timelines {
        notes.push(
            "No run has a timeline to draw: results stored by memgate 0.1, or whose timelines were not fetched (memgate notes fetch brings refs/notes/memgate-timelines too).".to_owned(),
        );
    }
    Page {
        title: printable(&title).into_owned(),
        verdict,
        summary: summary_text,
        facts,
        table,
        groups,
        overview: Vec::new(),
        sections,
        explain: input
            .report
            .and_then(|r| r.explain.as_ref())
            .map(crate::report::explain::html),
        notes,
    }
}

fn comparison_table(report: &Report) -> Table {
    let levels = Levels::of(&report.comparisons);
    Table {
        header: [
            "benchmark",
            "metric",
            "base",
            "head",
            &levels.header(),
            "p",
            "verdict",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: report
            .comparisons
            .iter()
            .map(|c| {
                (
                    c.verdict.as_str().to_owned(),
                    vec![
                        printable(&c.label()).into_owned(),
                        printable(&c.metric).into_owned(),
                        value(c.base.median, &c.unit),
                        value(c.head.median, &c.unit),
                        change_with_interval(c, &levels),
                        p_value(c.p_value),
                        c.verdict.as_str().to_owned(),
                    ],
                )
            })
            .collect(),
    }
}

fn run_table(results: &RunResults) -> Table {
    let mut rows = Vec::new();
    for b in &results.benchmarks {
        let name = printable(&label(&b.benchmark, b.dataset.as_deref())).into_owned();
        if b.metrics.is_empty() {
            let cells = vec![name.clone(), "-".into(), "-".into(), "-".into(), "0".into()];
            rows.push((
                b.status.as_str().to_owned(),
                [cells, vec![b.status.as_str().into()]].concat(),
            ));
        }
        for (metric, m) in &b.metrics {
            let Some(mid) = median(&m.samples) else {
                continue;
            };
            let lo = m.samples.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = m.samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            rows.push((
                b.status.as_str().to_owned(),
                vec![
                    name.clone(),
                    printable(metric).into_owned(),
                    figure(mid, &m.unit),
                    format!("{} … {}", figure(lo, &m.unit), figure(hi, &m.unit)),
                    m.samples.len().to_string(),
                    b.status.as_str().to_owned(),
                ],
            ));
        }
    }
    Table {
        header: [
            "benchmark",
            "metric",
            "median",
            "min … max",
            "runs",
            "status",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
    }
}

/// A label as part of a file name: letters, digits, `-` and `_` only, at most 60
/// characters, never empty. The index before it keeps names apart.
fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if s.is_empty() { "_".to_owned() } else { s }
}

#[cfg(test)]
mod tests;
