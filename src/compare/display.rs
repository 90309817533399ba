//! Figures for display, shared by every picture: which run stands for a benchmark, a
//! timeline thinned to what a chart can show, and two runs' timelines on one time grid.
//! Renderers take these; they compute none.

use crate::results::{BenchmarkResult, RunRecord};

/// The run that stands for a benchmark: the one with the median peak memory (the lower
/// of the two middle ones when the count is even), so its timeline is a run that
/// happened, not an average of runs. None when no run has a timeline.
pub fn median_run(benchmark: &BenchmarkResult) -> Option<&RunRecord> {
    let mut runs: Vec<&RunRecord> = benchmark
        .runs
        .iter()
        .filter(|r| !r.timeline.points.is_empty())
        .collect();
    if runs.is_empty() {
        return None;
    }
    runs.sort_by_key(|r| r.peak_memory);
    Some(runs[(runs.len() - 1) / 2])
}

/// A benchmark's peak memory as the table gives it: the median of its runs' peaks.
pub fn median_peak(benchmark: &BenchmarkResult) -> Option<f64> {
    super::stats::median(&benchmark.metrics.get(crate::results::PEAK_MEMORY)?.samples)
}

/// At most about `2 * buckets` points of `(seconds, value)` pairs for drawing: the
/// lowest and highest point of each of `buckets` equal spans of time, in time order, so
/// a sawtooth keeps its teeth and no peak or trough is thinned away. Points must be in
/// time order; non-finite ones are dropped.
pub fn envelope(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(t, v)| t.is_finite() && v.is_finite())
        .collect();
    let buckets = buckets.max(1);
    if points.len() <= 2 * buckets {
        return points;
    }
    let (start, end) = (points[0].0, points[points.len() - 1].0);
    let span = (end - start).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(2 * buckets + 2);
    let mut i = 0;
    while i < points.len() {
        let bucket = (((points[i].0 - start) / span * buckets as f64) as usize).min(buckets - 1);
        let (mut low, mut high) = (i, i);
        let mut j = i + 1;
        while j < points.len()
            && (((points[j].0 - start) / span * buckets as f64) as usize).min(buckets - 1) == bucket
        {
            if points[j].1 < points[low].1 {
                low = j;
            }
            if points[j].1 > points[high].1 {
                high = j;
            }
            j += 1;
        }
        let (first, second) = (low.min(high), low.max(high));
        out.push(points[first]);
        if second != first {
            out.push(points[second]);
        }
        i = j;
    }
    out
}

/// A run's timeline as `(seconds, bytes)` pairs of floats.
pub fn timeline_points(run: &RunRecord) -> Vec<(f64, f64)> {
    run.timeline
        .points
        .iter()
        .map(|(t, m)| (t.0, m.as_f64()))
        .collect()
}

/// Two runs' memory on one time grid, so one chart can draw them as lines of as many
/// values each: instant `i` of `n` is `i * span / (n - 1)` seconds from the start.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SharedGrid {
    /// Seconds from the start to the later run's end: the grid's last instant.
    pub span: f64,
    pub base: Option<GridLine>,
    pub head: Option<GridLine>,
}

/// One run on a [`SharedGrid`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GridLine {
    /// The side's peak memory in bytes, as the table gives it: the median of its runs'
    /// peaks (the run's own, or its timeline's highest point where that is higher, when
    /// the grid is made from runs alone). With an even count of runs it lies between the
    /// two middle runs', above this line's own highest point.
    pub peak: f64,
    /// Bytes at each instant of the grid.
    pub memory: Vec<f64>,
}

impl SharedGrid {
    /// Whether a grid read from a file (a report passed between CI jobs) can be drawn:
    /// finite figures, none below zero, lines of the same length, and not too many.
    pub fn is_sound(&self) -> bool {
        let lines: Vec<&GridLine> = [&self.base, &self.head].into_iter().flatten().collect();
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        ok(self.span)
            && !lines.is_empty()
            && lines.iter().all(|l| {
                ok(l.peak)
                    && (2..=1000).contains(&l.memory.len())
                    && l.memory.len() == lines[0].memory.len()
                    && l.memory.iter().all(|&v| ok(v))
            })
    }
}

/// A regressed benchmark × dataset's base and head memory over time, carried in the
/// report so a chart can be drawn from the report alone (the pull-request comment is
/// posted by a step that reads only the report).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportTimeline {
    pub benchmark: String,
    pub dataset: Option<String>,
    pub grid: SharedGrid,
}

/// How many regressed benchmarks a report carries the timelines of.
pub const MAX_REPORT_TIMELINES: usize = 10;

/// The timelines of the first [`MAX_REPORT_TIMELINES`] regressed benchmark × datasets
/// (one each, however many of its metrics regressed) that have a timeline on a side, on
/// a grid of `instants`.
pub fn regressed_timelines(
    comparisons: &[crate::compare::Comparison],
    base: Option<&crate::results::RunResults>,
    head: Option<&crate::results::RunResults>,
    instants: usize,
) -> Vec<ReportTimeline> {
    let mut out: Vec<ReportTimeline> = Vec::new();
    for c in comparisons
        .iter()
        .filter(|c| c.verdict == crate::compare::Verdict::Regression)
    {
        if out.len() == MAX_REPORT_TIMELINES {
            break;
        }
        if out
            .iter()
            .any(|t| t.benchmark == c.benchmark && t.dataset == c.dataset)
        {
            continue;
        }
        let key = (c.benchmark.as_str(), c.dataset.as_deref());
        let b = base.and_then(|r| r.find(key.0, key.1));
        let h = head.and_then(|r| r.find(key.0, key.1));
        if let Some(mut grid) =
            shared_grid(b.and_then(median_run), h.and_then(median_run), instants)
        {
            // Each side's peak is the one the table gives: the median of its runs'.
            for (line, side) in [(&mut grid.base, b), (&mut grid.head, h)] {
                if let (Some(line), Some(peak)) = (line.as_mut(), side.and_then(median_peak)) {
                    line.peak = peak;
                }
            }
            out.push(ReportTimeline {
                benchmark: c.benchmark.clone(),
                dataset: c.dataset.clone(),
                grid,
            });
        }
    }
    out
}

/// The shortest span a grid gets: a run that ended (or was sampled only) at its start
/// still needs an axis that goes somewhere.
const MIN_SPAN: f64 = 1e-3;

/// `base` and `head` (each the run that stands for its side, see [`median_run`]) on one
/// grid of `instants` instants from the start to the later run's end. A side without a
/// run, or whose run has no timeline, is None; when both are, there is nothing to draw.
pub fn shared_grid(
    base: Option<&RunRecord>,
    head: Option<&RunRecord>,
    instants: usize,
) -> Option<SharedGrid> {
    let base = base.filter(|r| !r.timeline.points.is_empty());
    let head = head.filter(|r| !r.timeline.points.is_empty());
    if base.is_none() && head.is_none() {
        return None;
    }
    let span = [base, head]
        .into_iter()
        .flatten()
        .map(run_end)
        .fold(MIN_SPAN, f64::max);
    let line = |run: &RunRecord| {
        let memory = resample(&timeline_points(run), run_end(run), span, instants);
        let peak = memory
            .iter()
            .copied()
            .fold(run.peak_memory.as_f64(), f64::max);
        GridLine { peak, memory }
    };
    Some(SharedGrid {
        span,
        base: base.map(line),
        head: head.map(line),
    })
}

/// When a run ended, in seconds from its start: its wall time, or its timeline's last
/// point where that is later (a figure that is not finite counts for nothing).
fn run_end(run: &RunRecord) -> f64 {
    let last = run.timeline.points.last().map_or(0.0, |p| p.0.0);
    [run.wall_time.0, last]
        .into_iter()
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max)
}

/// `(seconds, value)` points of a run that ended at `ends_at` as `instants` values
/// evenly spread from 0 to `span` seconds. Each instant stands for the cell of time
/// nearest it and takes the highest point in that cell, so no peak falls between two
/// instants; a cell without a point carries the last value on while the run lives
/// (samples are sparser than the grid), and is 0 after it ended: the process is gone.
/// Points that are not finite, or before the start, are dropped.
pub fn resample(points: &[(f64, f64)], ends_at: f64, span: f64, instants: usize) -> Vec<f64> {
    let instants = instants.max(2);
    let span = if span.is_finite() && span > 0.0 {
        span
    } else {
        MIN_SPAN
    };
    let step = span / (instants - 1) as f64;
    let mut highest: Vec<Option<f64>> = vec![None; instants];
    for &(t, v) in points {
        if !(t.is_finite() && v.is_finite() && t >= 0.0) {
            continue;
        }
        // The nearest instant; a point past the span (a run that outlived the grid it
        // was given) belongs to the last one.
        let cell = ((t / step + 0.5) as usize).min(instants - 1);
        highest[cell] = Some(highest[cell].map_or(v, |h: f64| h.max(v)));
    }
    let mut last = None;
    highest
        .into_iter()
        .enumerate()
        .map(|(i, high)| {
            let starts = (i as f64 - 0.5) * step;
            match high {
                Some(v) => {
                    last = Some(v);
                    v
                }
                None if starts <= ends_at => last.unwrap_or(0.0),
                None => 0.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::run;

    #[test]
    fn resampling_keeps_the_peak_carries_gaps_and_ends_at_zero() {
        // A spike between two instants of a 5-instant grid over 4 s (instants 0, 1, .. 4 s).
        let points = [
            (0.0, 10.0),
            (0.9, 20.0),
            (1.1, 90.0),
            (1.3, 30.0),
            (2.0, 30.0),
        ];
        let line = resample(&points, 2.2, 4.0, 5);
        // 1.1 s is nearest 1 s: its cell takes the spike; 2.2 s is the run's end, so the
        // cell of 3 s (from 2.5 s) is after it.
        assert_eq!(line, vec![10.0, 90.0, 30.0, 0.0, 0.0]);
        // Sparse samples: the value carries on through empty cells while the run lives.
        let sparse = resample(&[(0.0, 5.0), (3.0, 7.0)], 3.0, 4.0, 5);
        assert_eq!(sparse, vec![5.0, 5.0, 5.0, 7.0, 0.0]);
        // Damaged points are dropped, and a span of nothing still makes a grid.
        let damaged = [
            (f64::NAN, 1.0),
            (-1.0, 2.0),
            (0.0, f64::INFINITY),
            (0.0, 3.0),
        ];
        assert_eq!(resample(&damaged, 0.0, 0.0, 3), vec![3.0, 0.0, 0.0]);
        assert_eq!(resample(&[], 1.0, f64::NAN, 1).len(), 2);
    }

    #[test]
    fn the_shared_grid_spans_the_longer_run() {
        let short = run(&[(0.0, 100), (1.0, 400)], 1.0);
        let long = run(&[(0.0, 100), (2.0, 200), (4.0, 300)], 4.0);
        let grid = shared_grid(Some(&short), Some(&long), 5).unwrap();
        assert_eq!(grid.span, 4.0);
        let (base, head) = (grid.base.unwrap(), grid.head.unwrap());
        assert_eq!(base.memory, vec![100.0, 400.0, 0.0, 0.0, 0.0]);
        assert_eq!(head.memory, vec![100.0, 100.0, 200.0, 200.0, 300.0]);
        assert_eq!((base.peak, head.peak), (400.0, 300.0));
        // One side alone, or none.
        let alone = shared_grid(None, Some(&short), 5).unwrap();
        assert!(alone.base.is_none() && alone.head.is_some());
        assert_eq!(alone.span, 1.0);
        let empty = run(&[], 3.0);
        assert!(shared_grid(Some(&empty), None, 5).is_none());
        assert!(shared_grid(None, None, 5).is_none());
    }

    #[test]
    fn the_envelope_keeps_every_peak_and_trough_of_a_sawtooth() {
        // 100,000 points: ten teeth rising 0..1000 and dropping.
        let points: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64 / 1000.0, (i % 10_000) as f64 / 10.0))
            .collect();
        let thin = envelope(&points, 400);
        assert!(thin.len() <= 800, "{}", thin.len());
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0));
        let tops = thin.iter().filter(|p| p.1 == 999.9).count();
        let bottoms = thin.iter().filter(|p| p.1 == 0.0).count();
        assert_eq!((tops, bottoms), (10, 10));
        assert_eq!(thin[0], points[0]);
        assert_eq!(thin.last(), points.last());
    }

    #[test]
    fn short_or_damaged_timelines() {
        assert!(envelope(&[], 10).is_empty());
        let few = [(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0)];
        assert_eq!(envelope(&few, 10), vec![(0.0, 1.0), (2.0, 3.0)]);
        // All at one instant: one bucket, its low and high.
        let same: Vec<_> = (0..100).map(|i| (5.0, i as f64)).collect();
        assert_eq!(envelope(&same, 10), vec![(5.0, 0.0), (5.0, 99.0)]);
    }
}
