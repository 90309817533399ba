//! What the charts show, prepared from results and comparisons: which run is the median
//! one, the points thinned for drawing, the labels. The figures come from `compare`;
//! this only chooses and arranges them.

use super::{DistributionChart, HistoryChart, HistoryPoint, Killed, Panel, Side, Strip};
use super::{TimelineChart, TimelineSide};
use crate::compare::display::{envelope, median_peak, median_run, timeline_points};
use crate::compare::stats::median;
use crate::compare::{Comparison, Verdict};
use crate::report::comparison::cells::{Levels, WORST_FIRST, change_with_interval};
use crate::report::text::printable;
use crate::results::{BUILT_IN_METRICS, BenchmarkResult, RunResults, Status};

/// Time spans a faint run's line is thinned to (two points each at most)...
const FAINT_BUCKETS: usize = 120;
/// ...and all of a side's faint runs together, so a page of many runs stays small.
const FAINT_BUCKETS_PER_SIDE: usize = 240;
/// The most faint runs a side draws: past it they are a smear, not runs. Those drawn
/// are spread over the side's range of peaks, the lowest and highest among them.
const FAINT_RUNS: usize = 9;
/// Time spans the median run's line is thinned to.
const MEDIAN_BUCKETS: usize = 360;

/// One side of a report as the charts name it.
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    pub side: Side,
    /// `base 1a2b3c4d5e6f`, or the revision alone in a report of one run.
    pub name: &'a str,
}

/// The timeline of one benchmark × dataset over the sides that have it; none when no
/// side has a timeline or a killed run to show.
pub fn timeline(
    label: &str,
    sides: &[(Named, &BenchmarkResult)],
    limit: Option<f64>,
) -> Option<TimelineChart> {
    let sides: Vec<TimelineSide> = sides
        .iter()
        .map(|(named, b)| timeline_side(named, b))
        .filter(|s| !s.median.is_empty() || !s.killed.is_empty())
        .collect();
    if sides.is_empty() {
        return None;
    }
    Some(TimelineChart {
        title: format!("{}: memory over time", printable(label)),
        sides,
        limit,
    })
}

fn timeline_side(named: &Named, b: &BenchmarkResult) -> TimelineSide {
    let median = median_run(b);
    let mut others: Vec<&crate::results::RunRecord> = b
        .runs
        .iter()
        .filter(|r| !r.timeline.points.is_empty())
        .filter(|r| !median.is_some_and(|m| std::ptr::eq(*r, m)))
        .collect();
    let count = others.len() + usize::from(median.is_some());
    others.sort_by_key(|r| r.peak_memory);
    let drawn = spread(&others, FAINT_RUNS);
    let buckets = (FAINT_BUCKETS_PER_SIDE / drawn.len().max(1)).clamp(20, FAINT_BUCKETS);
    let runs = drawn
        .iter()
        .map(|r| envelope(&timeline_points(r), buckets))
        .collect::<Vec<_>>();
    let line = median.map_or_else(Vec::new, |m| envelope(&timeline_points(m), MEDIAN_BUCKETS));
    // The peak is marked at the time the median run's line is highest, with the figure
    // the table gives: the median of the runs' peaks (which, for an even count of runs,
    // lies between the two middle runs', and can sit a little above a sampled line).
    let peak = median.and_then(|m| {
        let at = m
            .timeline
            .points
            .iter()
            .max_by_key(|p| p.1)
            .map(|p| p.0.0)?;
        Some((at, peak_figure(b, m)))
    });
    let killed = match (&b.failure, b.status) {
        (Some(f), Status::Timeout | Status::MemoryLimit) => vec![Killed {
            at: f.after.0,
            memory: f.peak_memory.as_f64(),
            what: match b.status {
                Status::Timeout => "timeout",
                _ => "memory limit",
            }
            .to_owned(),
        }],
        _ => Vec::new(),
    };
    let name = match (count, runs.len()) {
        (0 | 1, _) => printable(named.name).into_owned(),
        (n, faint) if faint + 1 == n => format!(
            "{} (median of {n} runs; the others faint)",
            printable(named.name)
        ),
        (n, faint) => format!(
            "{} (median of {n} runs; {faint} others faint)",
            printable(named.name)
        ),
    };
    TimelineSide {
        side: named.side,
        name,
        runs,
        median: line,
        peak,
        killed,
    }
}

/// At most `most` of `items`, evenly spread over them, the first and last among them.
fn spread<'a, T>(items: &[&'a T], most: usize) -> Vec<&'a T> {
    if items.len() <= most {
        return items.to_vec();
    }
    let mut picked: Vec<usize> = (0..most)
        .map(|k| (k * (items.len() - 1) + (most - 1) / 2) / (most - 1).max(1))
        .collect();
    picked.dedup();
    picked.into_iter().map(|i| items[i]).collect()
}

/// The most lines an overview draws: past it, colours repeat and the chart is a tangle.
pub const OVERVIEW_LINES: usize = 6;

/// Each benchmark × dataset's median run on one chart, to see how they compare; none
/// unless two to [`OVERVIEW_LINES`] of them have a timeline.
pub fn overview(benchmarks: &[(String, &BenchmarkResult)]) -> Option<TimelineChart> {
    let with_timelines: Vec<_> = benchmarks
        .iter()
        .filter_map(|(label, b)| Some((label, b, median_run(b)?)))
        .collect();
    if !(2..=OVERVIEW_LINES).contains(&with_timelines.len()) {
        return None;
    }
    // Past three, the peaks' figures go in the legend only.
    let labelled = with_timelines.len() <= 3;
    let sides = with_timelines
        .iter()
        .enumerate()
        .map(|(i, (label, b, run))| {
            let at = run
                .timeline
                .points
                .iter()
                .max_by_key(|p| p.1)
                .map_or(0.0, |p| p.0.0);
            TimelineSide {
                side: Side::nth(i),
                name: format!(
                    "{} (peak {})",
                    printable(label),
                    crate::report::units::bytes(peak_figure(b, run))
                ),
                runs: Vec::new(),
                median: envelope(&timeline_points(run), MEDIAN_BUCKETS),
                peak: labelled.then_some((at, peak_figure(b, run))),
                killed: Vec::new(),
            }
        })
        .collect();
    Some(TimelineChart {
        title: "every benchmark: memory over time (median runs)".to_owned(),
        sides,
        limit: None,
    })
}

/// The most metrics a distribution chart draws: a benchmark may report any number, and
/// the chart grows with each.
pub const MAX_PANELS: usize = 8;

/// `` or ` (8 of 120 metrics)`.
fn of_metrics(shown: usize, total: usize) -> String {
    if shown < total {
        format!(" ({shown} of {total} metrics)")
    } else {
        String::new()
    }
}

/// The peak a benchmark's charts give: the table's, the median of its runs' peaks (the
/// median run's own where there are no figures).
fn peak_figure(b: &BenchmarkResult, run: &crate::results::RunRecord) -> f64 {
    median_peak(b).unwrap_or(run.peak_memory.as_f64())
}

/// The distributions of a comparison's metrics of one benchmark × dataset: base against
/// head, with each change and its interval. `all` gives the report's interval levels.
pub fn comparison_distribution(
    label: &str,
    comparisons: &[&Comparison],
    all: &[Comparison],
) -> Option<DistributionChart> {
    let levels = Levels::of(all);
    let mut shown: Vec<&&Comparison> = comparisons
        .iter()
        .filter(|c| !c.base.samples.is_empty() || !c.head.samples.is_empty())
        .collect();
    let total = shown.len();
    // The worst verdicts first (a regression is never left out for an inconclusive
    // one), then memgate's own metrics, then the rest.
    shown.sort_by_key(|c| {
        (
            WORST_FIRST.iter().position(|v| *v == c.verdict),
            !BUILT_IN_METRICS.contains(&c.metric.as_str()),
        )
    });
    shown.truncate(MAX_PANELS);
    let panels: Vec<Panel> = shown
        .into_iter()
        .map(|c| {
            let change = match c.verdict {
                Verdict::Missing | Verdict::Failure => None,
                v => Some(format!(
                    "{}: {}",
                    change_with_interval(c, &levels),
                    v.as_str()
                )),
            };
            Panel {
                metric: printable(&c.metric).into_owned(),
                unit: c.unit.clone(),
                strips: vec![
                    Strip {
                        side: Side::Base,
                        name: "base".into(),
                        samples: c.base.samples.clone(),
                        median: c.base.median,
                    },
                    Strip {
                        side: Side::Head,
                        name: "head".into(),
                        samples: c.head.samples.clone(),
                        median: c.head.median,
                    },
                ],
                change,
            }
        })
        .collect();
    (!panels.is_empty()).then(|| DistributionChart {
        title: format!(
            "{}: every run, base against head{}",
            printable(label),
            of_metrics(panels.len(), total)
        ),
        panels,
    })
}

/// The distributions of one run's metrics of one benchmark × dataset.
pub fn run_distribution(label: &str, name: &str, b: &BenchmarkResult) -> Option<DistributionChart> {
    let mut shown: Vec<_> = b
        .metrics
        .iter()
        .filter(|(_, m)| !m.samples.is_empty())
        .collect();
    let total = shown.len();
    // memgate's own metrics first.
    shown.sort_by_key(|(metric, _)| !BUILT_IN_METRICS.contains(&metric.as_str()));
    shown.truncate(MAX_PANELS);
    let panels: Vec<Panel> = shown
        .into_iter()
        .map(|(metric, m)| Panel {
            metric: printable(metric).into_owned(),
            unit: m.unit.clone(),
            strips: vec![Strip {
                side: Side::Base,
                name: printable(name).into_owned(),
                samples: m.samples.clone(),
                median: median(&m.samples),
            }],
            change: None,
        })
        .collect();
    (!panels.is_empty()).then(|| DistributionChart {
        title: format!(
            "{}: every run{}",
            printable(label),
            of_metrics(panels.len(), total)
        ),
        panels,
    })
}

/// One stored revision, for the history.
#[derive(Clone, Copy, Debug)]
pub struct Revision<'a> {
    /// As people read it.
    pub rev: &'a str,
    pub dirty: bool,
    pub role: Option<Side>,
    pub results: &'a RunResults,
}

/// A metric of one benchmark × dataset across `revisions` (oldest first); none when
/// fewer than two revisions have figures of it.
pub fn history(
    label: &str,
    benchmark: &str,
    dataset: Option<&str>,
    metric: &str,
    revisions: &[Revision],
) -> Option<HistoryChart> {
    let mut unit = None;
    let points: Vec<HistoryPoint> = revisions
        .iter()
        .filter_map(|r| {
            let m = r.results.find(benchmark, dataset)?.metrics.get(metric)?;
            let mid = median(&m.samples).filter(|v| super::drawable(*v))?;
            unit.get_or_insert_with(|| m.unit.clone());
            Some(HistoryPoint {
                rev: r.rev.to_owned(),
                samples: m.samples.clone(),
                median: mid,
                dirty: r.dirty,
                role: r.role,
            })
        })
        .collect();
    (points.len() >= 2).then(|| HistoryChart {
        title: format!(
            "{}: {} across revisions",
            printable(label),
            printable(metric)
        ),
        metric: printable(metric).into_owned(),
        unit: unit.unwrap_or_default(),
        points,
    })
}
