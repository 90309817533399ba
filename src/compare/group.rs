//! Benchmarks of one group (the config's `group:`) compared with each other in one run:
//! per dataset, each member against the group's smallest, in peak memory and in wall
//! time, said only where the difference is large and beyond the runs' noise. Pure, like
//! the gate. Main function: [`group_ratios`]; main type: [`GroupRatio`].
//!
//! "Large and beyond the noise" is the gate's own rule, [`judge`], with the smallest
//! member as the base and each other one as the head: its median more than
//! [`MIN_RATIO`] times the smallest's, by at least the thresholds' absolute floor (the
//! built-in ones: 1 MiB, 20 ms), and significant by the one-sided rank test at their
//! alpha (0.05 for memory, 0.01 for time; full separation where the runs are too few for the
//! test to reach it). Below 3 runs a side the gate goes by the threshold alone; so does
//! this for memory, which is steady run to run, but not for time, which varies by 15%
//! on a loaded machine: a time ratio of one or two runs is not said.

use super::threshold::{Threshold, Thresholds};
use super::verdict::{MIN_SAMPLES_FOR_TEST, Verdict, judge};
use crate::compare::stats::median;
use crate::results::{BenchmarkResult, Better, PEAK_MEMORY, RunResults, Status, WALL_TIME};

/// How many times the smallest member's median a member's must be, at least, to be said.
pub const MIN_RATIO: f64 = 1.10;

/// The metrics compared within a group, each with the fewest runs a side it is compared
/// on.
const METRICS: [(&str, usize); 2] = [(PEAK_MEMORY, 1), (WALL_TIME, MIN_SAMPLES_FOR_TEST)];

/// One member of a group that is far above the group's smallest in one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRatio {
    pub group: String,
    pub dataset: Option<String>,
    /// `peak_memory` or `wall_time`.
    pub metric: &'static str,
    /// The member, and the group's smallest in that metric (on that dataset).
    pub benchmark: String,
    pub reference: String,
    /// The member's median over the reference's.
    pub ratio: f64,
}

/// A group on one dataset (or on none).
type GroupKey<'a> = (&'a str, Option<&'a str>);

/// Every member far above its group's smallest: groups in the order of the results,
/// each dataset apart (a benchmark is compared only with others on the same dataset),
/// peak memory before wall time, the biggest ratios first.
/// `thresholds` give each metric's absolute floor and alpha (the ratio is
/// [`MIN_RATIO`]'s).
pub fn group_ratios(results: &RunResults, thresholds: &Thresholds) -> Vec<GroupRatio> {
    // (group, dataset) in order of first appearance, with their members.
    let mut groups: Vec<(GroupKey, Vec<&BenchmarkResult>)> = Vec::new();
    for b in results.benchmarks.iter().filter(|b| b.status == Status::Ok) {
        let Some(group) = b.group.as_deref() else {
            continue;
        };
        let key = (group, b.dataset.as_deref());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(b),
            None => groups.push((key, vec![b])),
        }
    }
    let mut out = Vec::new();
    for ((group, dataset), members) in groups.iter().filter(|(_, m)| m.len() > 1) {
        for (metric, min_runs) in METRICS {
            // A peak that is only a lower bound is no figure to compare (as in the gate).
            let figures: Vec<(&BenchmarkResult, &[f64], f64)> = members
                .iter()
                .filter(|b| metric != PEAK_MEMORY || b.lower_bound_runs == 0)
                .filter_map(|b| {
                    let samples = b.metrics.get(metric)?.samples.as_slice();
                    let enough = samples.len() >= min_runs;
                    Some((*b, samples, median(samples).filter(|_| enough)?))
                })
                .collect();
            let Some(&(reference, reference_samples, smallest)) =
                figures.iter().min_by(|a, b| a.2.total_cmp(&b.2))
            else {
                continue;
            };
            if smallest <= 0.0 {
                continue;
            }
            let threshold = Threshold {
                max_worse: MIN_RATIO - 1.0,
                ..thresholds.resolve(metric, Better::Lower)
            };
            let mut found: Vec<GroupRatio> = figures
                .iter()
                .filter(|(b, _, _)| !std::ptr::eq(*b, reference))
                .filter(|(_, samples, _)| {
                    judge(reference_samples, samples, Better::Lower, threshold).verdict
                        == Verdict::Regression
                })
                .map(|(b, _, mid)| GroupRatio {
                    group: (*group).to_owned(),
                    dataset: dataset.map(str::to_owned),
                    metric,
                    benchmark: b.benchmark.clone(),
                    reference: reference.benchmark.clone(),
                    ratio: mid / smallest,
                })
                .collect();
            found.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
            out.extend(found);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::testing::{metric, testbed};

    const MIB: f64 = 1024.0 * 1024.0;

    /// A benchmark of `group` that ran with these peaks (MiB) and wall times (s).
    fn bench(name: &str, group: Option<&str>, peaks: &[f64], times: &[f64]) -> BenchmarkResult {
        let peaks: Vec<f64> = peaks.iter().map(|p| p * MIB).collect();
        BenchmarkResult {
            benchmark: name.into(),
            dataset: None,
            group: group.map(str::to_owned),
            status: Status::Ok,
            command: "x".into(),
            metrics: BTreeMap::from([
                (
                    PEAK_MEMORY.to_owned(),
                    metric("bytes", &peaks, Better::Lower),
                ),
                (
                    WALL_TIME.to_owned(),
                    metric("seconds", times, Better::Lower),
                ),
            ]),
            runs: vec![],
            lower_bound_runs: 0,
            failure: None,
        }
    }

    fn ratios(benchmarks: Vec<BenchmarkResult>) -> Vec<(String, &'static str, String, f64)> {
        let results = RunResults {
            memgate_version: "0".into(),
            testbed: testbed(),
            benchmarks,
        };
        let built_in = crate::config::built_in_thresholds().unwrap();
        group_ratios(&results, &built_in)
            .into_iter()
            .map(|r| {
                let ratio = (r.ratio * 1000.0).round() / 1000.0;
                (r.benchmark, r.metric, r.reference, ratio)
            })
            .collect()
    }

    fn line(
        b: &str,
        metric: &'static str,
        reference: &str,
        ratio: f64,
    ) -> (String, &'static str, String, f64) {
        (b.into(), metric, reference.into(), ratio)
    }

    const TIMES: [f64; 5] = [1.0, 1.01, 0.99, 1.02, 0.98];

    #[test]
    fn each_member_against_the_smallest_biggest_first() {
        let g = Some("pipeline");
        let found = ratios(vec![
            bench("weak", g, &[100.0, 101.0, 99.0, 100.5, 99.5], &TIMES),
            bench("cycle", g, &[182.0, 183.0, 181.0, 182.5, 181.5], &TIMES),
            bench(
                "huge",
                g,
                &[300.0, 301.0, 299.0, 300.5, 299.5],
                &[1.5, 1.51, 1.49, 1.52, 1.48],
            ),
            // Not in the group, however different: never compared.
            bench("other", None, &[1000.0; 5], &[9.0; 5]),
        ]);
        assert_eq!(
            found,
            [
                line("huge", PEAK_MEMORY, "weak", 3.0),
                line("cycle", PEAK_MEMORY, "weak", 1.82),
                line("huge", WALL_TIME, "weak", 1.5),
            ]
        );
    }

    #[test]
    fn a_small_difference_is_not_said() {
        let g = Some("pipeline");
        // 8% more memory, with clean separation: real, but not a lot.
        let found = ratios(vec![
            bench("a", g, &[100.0, 100.1, 99.9, 100.0, 100.0], &TIMES),
            bench("b", g, &[108.0, 108.1, 107.9, 108.0, 108.0], &TIMES),
        ]);
        assert_eq!(found, []);
        // A large ratio of figures too small to matter (below the 1 MiB floor).
        let found = ratios(vec![
            bench("a", g, &[0.5; 5], &[0.001; 5]),
            bench("b", g, &[0.9; 5], &[0.010; 5]),
        ]);
        assert_eq!(found, []);
    }

    #[test]
    fn a_ratio_within_the_noise_is_not_said() {
        let g = Some("pipeline");
        // Medians 1.5× apart in time, but the runs overlap: the rank test does not
        // tell them apart (p ≥ 0.01).
        let found = ratios(vec![
            bench("a", g, &[100.0; 5], &[1.0, 3.0, 0.5, 2.5, 0.6]),
            bench("b", g, &[100.0; 5], &[1.5, 0.4, 2.9, 1.6, 0.55]),
        ]);
        assert_eq!(found, []);
        // Three runs a side: only full separation would do, and one run crosses over.
        let found = ratios(vec![
            bench("a", g, &[100.0, 100.0, 140.0], &TIMES[..3]),
            bench("b", g, &[130.0, 130.0, 135.0], &TIMES[..3]),
        ]);
        assert_eq!(found, []);
        // Fully separated, it is said.
        let found = ratios(vec![
            bench("a", g, &[100.0, 100.0, 101.0], &TIMES[..3]),
            bench("b", g, &[130.0, 130.0, 135.0], &TIMES[..3]),
        ]);
        assert_eq!(found, [line("b", PEAK_MEMORY, "a", 1.3)]);
    }

    #[test]
    fn one_run_a_side_has_only_the_ratio_to_go_by_and_only_for_memory() {
        let g = Some("pipeline");
        let found = ratios(vec![
            bench("a", g, &[200.0], &[2.0]),
            bench("b", g, &[100.0], &[1.0]),
        ]);
        // Time varies too much run to run for one run to say 2× (or 1.15×).
        assert_eq!(found, [line("a", PEAK_MEMORY, "b", 2.0)]);
        let found = ratios(vec![
            bench("a", g, &[200.0; 2], &[2.0, 2.1]),
            bench("b", g, &[100.0; 2], &[1.0, 1.1]),
        ]);
        assert_eq!(found, [line("a", PEAK_MEMORY, "b", 2.0)]);
        // From 3 runs a side, fully separated, it is said.
        let found = ratios(vec![
            bench("a", g, &[200.0; 3], &[2.0, 2.1, 2.05]),
            bench("b", g, &[100.0; 3], &[1.0, 1.1, 1.05]),
        ]);
        assert_eq!(
            found,
            [
                line("a", PEAK_MEMORY, "b", 2.0),
                line("a", WALL_TIME, "b", 1.952)
            ]
        );
    }

    #[test]
    fn datasets_are_compared_apart_and_failures_and_lower_bounds_not_at_all() {
        let g = Some("pipeline");
        let on = |mut b: BenchmarkResult, dataset: &str| {
            b.dataset = Some(dataset.into());
            b
        };
        let mut failed = bench("failed", g, &[500.0; 5], &TIMES);
        failed.status = Status::Failed;
        let mut bound = bench("bound", g, &[400.0; 5], &TIMES);
        bound.lower_bound_runs = 1;
        let found = ratios(vec![
            on(bench("a", g, &[100.0; 5], &TIMES), "small"),
            on(bench("a", g, &[1000.0; 5], &TIMES), "large"),
            on(bench("b", g, &[200.0; 5], &TIMES), "small"),
            on(bench("b", g, &[1050.0; 5], &TIMES), "large"),
            // Alone in its group on this dataset: nothing to compare with.
            on(bench("c", g, &[300.0; 5], &TIMES), "other"),
            failed,
            bound,
            bench("alone", g, &[100.0; 5], &TIMES),
        ]);
        // On `large`, b is only 1.05× a.
        assert_eq!(found, [line("b", PEAK_MEMORY, "a", 2.0)]);
    }
}
