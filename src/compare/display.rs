//! Figures for display, shared by every picture: which run stands for a benchmark, and a
//! timeline thinned to what a chart can show. Renderers take these; they compute none.

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

#[cfg(test)]
mod tests {
    use super::*;

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
