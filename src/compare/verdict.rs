//! Comparing two result sets: per benchmark × dataset × metric, the medians, the change
//! with its confidence interval, the one-sided test, and a verdict; and the overall
//! verdict. The JSON of `compare` and `check` is [`Report`] (a public contract: fields may
//! be added, none renamed).

use serde::{Deserialize, Serialize};

use super::stats::{median, rank_sum_tails, shift};
use super::threshold::{Threshold, Thresholds};
use crate::report::units::Significant;
use crate::results::{BUILT_IN_METRICS, BenchmarkResult, Better, PEAK_MEMORY, RunResults, Status};

/// The confidence level of the reported interval of a change.
pub const CI_LEVEL: f64 = 0.95;

/// The fewest samples on each side for the test to run; with fewer, the threshold alone
/// decides.
pub const MIN_SAMPLES_FOR_TEST: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse beyond the threshold, and significant.
    Regression,
    /// Better beyond the threshold, and significant.
    Improvement,
    /// Within the threshold (or better, but not significantly).
    Pass,
    /// Worse beyond the threshold, but not significant: run more repeats to tell.
    Inconclusive,
    /// The benchmark failed on head.
    Failure,
    /// No base figures to compare with.
    Missing,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regression => "regression",
            Verdict::Improvement => "improvement",
            Verdict::Pass => "pass",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Failure => "failure",
            Verdict::Missing => "missing",
        }
    }
}

/// Which rule decided a regression, improvement or inconclusive verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Beyond the threshold, and the one-sided rank test is significant at alpha.
    Test,
    /// Beyond the threshold, with too few runs for the test to reach alpha: every head
    /// run on the worse (or better) side of every base run counts as significant.
    FullSeparation,
    /// Fewer than [`MIN_SAMPLES_FOR_TEST`] runs on a side: the threshold alone.
    ThresholdOnly,
    /// Some runs' peak is only a lower bound (their sampling fell below the floor, or a
    /// cgroup's high-water mark was reset), or the two sides' memory was measured
    /// through different probes: `peak_memory` is not a figure to judge by.
    NotExact,
}

/// The verdict of a whole comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    Regression,
    Failure,
    Pass,
}

impl Overall {
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Regression => "regression",
            Overall::Failure => "failure",
            Overall::Pass => "pass",
        }
    }
}

/// One side's figures of a metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub median: Option<f64>,
    pub samples: Vec<f64>,
}

/// One benchmark × dataset × metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub benchmark: String,
    pub dataset: Option<String>,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub base: Side,
    pub head: Side,
    /// (head median - base median) / |base median|: head / base - 1 for positive medians.
    pub change: Option<f64>,
    /// head median - base median, in the metric's unit.
    pub abs_change: Option<f64>,
    /// The Hodges–Lehmann shift of head from base as a fraction of the base median,
    /// with its confidence interval: `[low, high]` at `ci_level`.
    pub change_ci: Option<[f64; 2]>,
    pub ci_level: Option<f64>,
    /// One-sided p-value of the rank-sum test in the direction the median moved.
    pub p_value: Option<f64>,
    pub threshold: Threshold,
    pub verdict: Verdict,
    /// The rule that made a regression, improvement or inconclusive verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Rule>,
    /// Why, in a sentence, when the verdict needs one: the rule that made it, a
    /// failure's message, what is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Comparison {
    /// `automl[taxi]`.
    pub fn label(&self) -> String {
        crate::results::label(&self.benchmark, self.dataset.as_deref())
    }
}

/// Judges one metric from its samples.
pub fn judge(base: &[f64], head: &[f64], better: Better, threshold: Threshold) -> Judged {
    let (Some(mb), Some(mh)) = (median(base), median(head)) else {
        return Judged::missing();
    };
    let abs_change = mh - mb;
    // Relative to the base's size: head/base - 1 for positive medians, and the right
    // sign for a custom metric whose values are negative.
    let change = if mb != 0.0 {
        Some((mh - mb) / mb.abs())
    } else if mh == 0.0 {
        Some(0.0)
    } else {
        None // from nothing to something: no ratio
    };
    // Positive `worse` is a change for the worse, whichever way better points.
    let sign = match better {
        Better::Lower => 1.0,
        Better::Higher => -1.0,
    };
    let worse_abs = sign * abs_change;
    let worse_rel = change.map_or(f64::INFINITY * worse_abs.signum(), |c| sign * c);
    let beyond_worse =
        worse_rel > threshold.max_worse && worse_abs >= threshold.min_change && worse_abs > 0.0;
    let beyond_better =
        -worse_rel > threshold.max_worse && -worse_abs >= threshold.min_change && worse_abs < 0.0;

    let testable = base.len() >= MIN_SAMPLES_FOR_TEST && head.len() >= MIN_SAMPLES_FOR_TEST;
    let tails = testable.then(|| rank_sum_tails(base, head)).flatten();
    // (greater, less): head larger is worse where lower is better.
    let (p_worse, p_better) = match (tails, better) {
        (Some((greater, less)), Better::Lower) => (Some(greater), Some(less)),
        (Some((greater, less)), Better::Higher) => (Some(less), Some(greater)),
        (None, _) => (None, None),
    };
    // With few runs the test cannot reach alpha at all (3 against 3: the smallest
    // one-sided p is 1/20 = 0.05). Then the strongest evidence those runs can give, every
    // head run on the worse side of every base run, counts as significant.
    let smallest_p = testable.then(|| smallest_p(base.len(), head.len()));
    let out_of_reach = smallest_p.is_some_and(|p| p >= threshold.alpha);
    let rule = if !testable {
        Rule::ThresholdOnly
    } else if out_of_reach {
        Rule::FullSeparation
    } else {
        Rule::Test
    };
    let significant = |p: Option<f64>| match (rule, p, smallest_p) {
        (Rule::ThresholdOnly, _, _) => true,
        (Rule::FullSeparation, Some(p), Some(least)) => p <= least * (1.0 + 1e-9),
        (_, Some(p), _) => p < threshold.alpha,
        (_, None, _) => true,
    };
    let (verdict, decided_by) = if beyond_worse {
        if significant(p_worse) {
            (Verdict::Regression, Some(rule))
        } else {
            (Verdict::Inconclusive, Some(rule))
        }
    } else if beyond_better && significant(p_better) {
        (Verdict::Improvement, Some(rule))
    } else {
        (Verdict::Pass, None)
    };
    let p_value = if worse_abs >= 0.0 { p_worse } else { p_better };
    let note = decided_by.map(|rule| {
        why(
            verdict,
            rule,
            p_value,
            threshold.alpha,
            (base.len(), head.len()),
        )
    });
    let interval = testable
        .then(|| relative_interval(base, head, mb))
        .flatten();
    Judged {
        base_median: Some(mb),
        head_median: Some(mh),
        change,
        abs_change: Some(abs_change),
        change_ci: interval.map(|(low, high, _)| [low, high]),
        ci_level: interval.map(|(_, _, level)| level),
        p_value,
        verdict,
        decided_by,
        note,
    }
}

/// The sentence that says which rule made `verdict`.
fn why(verdict: Verdict, rule: Rule, p: Option<f64>, alpha: f64, (n, m): (usize, usize)) -> String {
    // Two significant digits: 0.0040, 0.22.
    let p = p.map_or_else(|| "-".to_owned(), |p| Significant(p, 2, 12).to_string());
    match (verdict, rule) {
        (Verdict::Inconclusive, Rule::FullSeparation) => format!(
            "beyond the threshold, but not significant: with {n} against {m} runs only full separation would be (the test cannot reach alpha {alpha}), and the runs overlap; more repeats would tell"
        ),
        (Verdict::Inconclusive, _) => format!(
            "beyond the threshold, but not significant (p {p} >= alpha {alpha}): more repeats would tell"
        ),
        (_, Rule::Test) => format!(
            "beyond the threshold, and significant by the one-sided rank test (p {p} < alpha {alpha})"
        ),
        (_, Rule::FullSeparation) => format!(
            "beyond the threshold, and every head run is on the same side of every base run: the smallest p-value {n} against {m} runs can give is {p}, not below alpha {alpha}, so full separation counts as significant"
        ),
        (_, Rule::ThresholdOnly) => format!(
            "beyond the threshold; fewer than {MIN_SAMPLES_FOR_TEST} runs on a side, so no significance test: the threshold alone decides"
        ),
        // Written where the rule is applied: it names the runs.
        (_, Rule::NotExact) => "not judged: some peaks are only lower bounds".to_owned(),
    }
}

/// The interval of the change, relative to the base median, with its actual level.
///
/// For figures that are all positive (bytes, seconds, most custom metrics) it is the
/// Hodges–Lehmann interval of the ratio head/base, found on the log scale, so it can
/// never reach below -100%. Otherwise it is the interval of the shift divided by the
/// base median's size, and for figures that are never negative its low end is held at
/// -100%.
fn relative_interval(base: &[f64], head: &[f64], base_median: f64) -> Option<(f64, f64, f64)> {
    let all = || base.iter().chain(head);
    if all().all(|&v| v > 0.0) {
        let logs = |s: &[f64]| s.iter().map(|v| v.ln()).collect::<Vec<_>>();
        let s = shift(&logs(base), &logs(head), CI_LEVEL)?;
        return Some((s.low.exp_m1(), s.high.exp_m1(), s.level));
    }
    if base_median == 0.0 {
        return None;
    }
    let s = shift(base, head, CI_LEVEL)?;
    let (mut low, high) = (s.low / base_median.abs(), s.high / base_median.abs());
    if all().all(|&v| v >= 0.0) {
        low = low.max(-1.0);
    }
    Some((low, high, s.level))
}

/// The smallest one-sided p-value of the exact rank-sum test with `n` and `m` runs and no
/// ties: 1 / C(n + m, m).
fn smallest_p(n: usize, m: usize) -> f64 {
    // C(n+m, m) as a running product: every partial product is itself a binomial
    // coefficient, so it stays exact while it fits in f64's 53 bits (60 runs and more).
    let choose = (1..=m).fold(1.0f64, |c, i| c * (n + i) as f64 / i as f64);
    1.0 / choose
}

/// What [`judge`] finds for one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    pub base_median: Option<f64>,
    pub head_median: Option<f64>,
    pub change: Option<f64>,
    pub abs_change: Option<f64>,
    pub change_ci: Option<[f64; 2]>,
    pub ci_level: Option<f64>,
    pub p_value: Option<f64>,
    pub verdict: Verdict,
    pub decided_by: Option<Rule>,
    pub note: Option<String>,
}

impl Judged {
    fn missing() -> Judged {
        Judged {
            base_median: None,
            head_median: None,
            change: None,
            abs_change: None,
            change_ci: None,
            ci_level: None,
            p_value: None,
            verdict: Verdict::Missing,
            decided_by: None,
            note: None,
        }
    }
}

/// Metrics in the order people read them: the built-in ones first, then custom ones.
fn metric_order(b: &BenchmarkResult) -> Vec<&String> {
    let mut names: Vec<&String> = b.metrics.keys().collect();
    names.sort_by_key(|m| {
        (
            BUILT_IN_METRICS
                .iter()
                .position(|b| b == m)
                .unwrap_or(usize::MAX),
            *m,
        )
    });
    names
}

/// Compares every benchmark × dataset of `head` with `base` (if any), each under the
/// thresholds `thresholds_for` gives its benchmark.
pub fn compare<'a>(
    base: Option<&RunResults>,
    head: &RunResults,
    thresholds_for: impl Fn(&str) -> &'a Thresholds,
) -> Vec<Comparison> {
    let mut out = Vec::new();
    // Each head benchmark's base found by name, not by a walk over the base's: that was
    // quadratic, a million walks at 2,500 benchmarks. The first of a name, as a walk
    // would find it.
    let mut bases = std::collections::HashMap::new();
    for b in base.iter().flat_map(|base| &base.benchmarks) {
        bases
            .entry((b.benchmark.as_str(), b.dataset.as_deref()))
            .or_insert(b);
    }
    for h in &head.benchmarks {
        let b = bases
            .get(&(h.benchmark.as_str(), h.dataset.as_deref()))
            .copied();
        let thresholds = thresholds_for(&h.benchmark);
        let comparison =
            |metric: &str, unit: &str, better: Better, base: Side, head: Side, judged: Judged| {
                Comparison {
                    benchmark: h.benchmark.clone(),
                    dataset: h.dataset.clone(),
                    metric: metric.to_owned(),
                    unit: unit.to_owned(),
                    better,
                    base,
                    head,
                    change: judged.change,
                    abs_change: judged.abs_change,
                    change_ci: judged.change_ci,
                    ci_level: judged.ci_level,
                    p_value: judged.p_value,
                    threshold: thresholds.resolve(metric, better),
                    verdict: judged.verdict,
                    decided_by: judged.decided_by,
                    note: judged.note,
                }
            };
        if h.status != Status::Ok {
            // No head figures: one failure per metric the base had (or one in all).
            let message = h
                .failure
                .as_ref()
                .map_or_else(|| h.status.as_str().to_owned(), |f| f.message.clone());
            let metrics: Vec<(String, String, Better, Vec<f64>)> =
                match b.filter(|b| !b.metrics.is_empty()) {
                    Some(b) => metric_order(b)
                        .into_iter()
                        .map(|m| {
                            (
                                m.clone(),
                                b.metrics[m].unit.clone(),
                                b.metrics[m].better,
                                b.metrics[m].samples.clone(),
                            )
                        })
                        .collect(),
                    None => vec![("peak_memory".into(), "bytes".into(), Better::Lower, vec![])],
                };
            for (metric, unit, better, samples) in metrics {
                let mut judged = Judged::missing();
                judged.verdict = Verdict::Failure;
                judged.base_median = median(&samples);
                judged.note = Some(format!("{} on head: {message}", h.status.as_str()));
                let base_side = Side {
                    median: judged.base_median,
                    samples,
                };
                let head_side = Side {
                    median: None,
                    samples: vec![],
                };
                out.push(comparison(
                    &metric, &unit, better, base_side, head_side, judged,
                ));
            }
            continue;
        }
        for metric in metric_order(h) {
            let hm = &h.metrics[metric];
            let base_samples: Vec<f64> = b
                .filter(|b| b.status == Status::Ok)
                .and_then(|b| b.metrics.get(metric))
                .map(|m| m.samples.clone())
                .unwrap_or_default();
            let mut judged = judge(
                &base_samples,
                &hm.samples,
                hm.better,
                thresholds.resolve(metric, hm.better),
            );
            if metric == PEAK_MEMORY && judged.verdict != Verdict::Missing {
                let base_ok = b.filter(|b| b.status == Status::Ok);
                let note = match base_ok.zip(base) {
                    Some((_, base)) if base.testbed.probe != head.testbed.probe => Some(format!(
                        "not judged: the base's memory was measured through {}, the head's through {}, which count different things",
                        base.testbed.probe.describe(),
                        head.testbed.probe.describe()
                    )),
                    _ => not_exact(base_ok, h, judged.verdict),
                };
                if let Some(note) = note {
                    judged.verdict = Verdict::Inconclusive;
                    judged.decided_by = Some(Rule::NotExact);
                    judged.note = Some(note);
                }
            }
            if judged.verdict == Verdict::Missing {
                judged.head_median = median(&hm.samples);
                judged.note = Some(match b {
                    None => {
                        "no base figures: the benchmark is new, or the base did not run it".into()
                    }
                    Some(b) if b.status != Status::Ok => {
                        format!("the base {}: no figures to compare with", b.status.as_str())
                    }
                    Some(_) => format!("the base has no {metric} figures"),
                });
            }
            let base_side = Side {
                median: judged.base_median,
                samples: base_samples,
            };
            let head_side = Side {
                median: judged.head_median,
                samples: hm.samples.clone(),
            };
            out.push(comparison(
                metric, &hm.unit, hm.better, base_side, head_side, judged,
            ));
        }
    }
    out
}

/// Why the peaks of these benchmarks' runs cannot be judged as `verdict` says, if
/// some are only lower bounds that could change it: on the head, any verdict but a
/// regression (its true peaks may be higher still); on the base, a regression (the
/// base's may be too).
fn not_exact(
    base: Option<&BenchmarkResult>,
    head: &BenchmarkResult,
    verdict: Verdict,
) -> Option<String> {
    let lower = |b: &BenchmarkResult| {
        let runs = b.metrics.get(PEAK_MEMORY).map_or(0, |m| m.samples.len());
        (b.lower_bound_runs as usize, runs)
    };
    let (name, (n, of)) = if verdict == Verdict::Regression {
        ("base", base.map_or((0, 0), lower))
    } else {
        ("head", lower(head))
    };
    (n > 0).then(|| format!(
        "not judged: the peak of {n} of {of} {name} runs is only a lower bound: memgate's sampler was starved of CPU and kept fewer than half of its looks at a tree of several processes (or a cgroup's high-water mark was reset); run on a less busy machine, or where memgate may create a memory cgroup (exact)"
    ))
}

/// The overall verdict: a regression if any comparison regressed, a failure if a
/// benchmark failed, else a pass.
pub fn overall(comparisons: &[Comparison]) -> Overall {
    if comparisons.iter().any(|c| c.verdict == Verdict::Regression) {
        Overall::Regression
    } else if comparisons.iter().any(|c| c.verdict == Verdict::Failure) {
        Overall::Failure
    } else {
        Overall::Pass
    }
}

/// Which revision a side is, and anything to say about how it was chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rev {
    pub rev: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The result of `compare` and `check`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub verdict: Overall,
    pub base: Rev,
    pub head: Rev,
    pub testbed: String,
    pub comparisons: Vec<Comparison>,
    /// Base and head memory over time of regressed benchmarks, where the results had
    /// runs: what the markdown's charts are drawn from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timelines: Vec<super::display::ReportTimeline>,
    /// What `memgate explain` found after a peak-memory regression (`explain: auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<crate::diagnose::Explained>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MEMORY: Threshold = Threshold {
        max_worse: 0.05,
        min_change: 1_048_576.0,
        alpha: 0.05,
    };
    const MIB: f64 = 1_048_576.0;

    fn around(center: f64, spread: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| center * (1.0 + spread * ((i as f64 / (n - 1).max(1) as f64) - 0.5)))
            .collect()
    }

    fn bench(runs: usize, lower_bound_runs: u32) -> BenchmarkResult {
        let mut metrics = std::collections::BTreeMap::new();
        metrics.insert(
            PEAK_MEMORY.to_owned(),
            crate::testing::metric("bytes", &vec![100.0; runs], Better::Lower),
        );
        BenchmarkResult {
            benchmark: "b".into(),
            dataset: None,
            group: None,
            status: Status::Ok,
            command: "c".into(),
            metrics,
            runs: vec![],
            lower_bound_runs,
            failure: None,
        }
    }

    #[test]
    fn a_peak_that_is_only_a_lower_bound_is_not_judged() {
        let exact = bench(3, 0);
        let starved = bench(2, 1);
        for verdict in [Verdict::Pass, Verdict::Regression, Verdict::Improvement] {
            assert_eq!(not_exact(Some(&exact), &exact, verdict), None);
        }
        // Lower bounds on the head could hide a regression...
        assert_eq!(
            not_exact(Some(&exact), &starved, Verdict::Pass).unwrap(),
            "not judged: the peak of 1 of 2 head runs is only a lower bound: memgate's sampler was starved of CPU and kept fewer than half of its looks at a tree of several processes (or a cgroup's high-water mark was reset); run on a less busy machine, or where memgate may create a memory cgroup (exact)"
        );
        // ...but not undo one they already show.
        assert_eq!(not_exact(Some(&exact), &starved, Verdict::Regression), None);
        // On the base, they could make a regression that is not one.
        assert!(
            not_exact(Some(&starved), &exact, Verdict::Regression)
                .unwrap()
                .contains("1 of 2 base runs")
        );
        assert_eq!(not_exact(Some(&starved), &exact, Verdict::Pass), None);
        assert_eq!(not_exact(None, &exact, Verdict::Regression), None);
    }

    #[test]
    fn a_clear_memory_regression() {
        let j = judge(
            &around(100.0 * MIB, 0.002, 5),
            &around(130.0 * MIB, 0.002, 5),
            Better::Lower,
            MEMORY,
        );
        assert_eq!(j.verdict, Verdict::Regression);
        assert!((j.change.unwrap() - 0.30).abs() < 1e-9);
        assert!(j.p_value.unwrap() < 0.005);
        let [low, high] = j.change_ci.unwrap();
        assert!(low > 0.25 && high < 0.35, "{low} {high}");
    }

    #[test]
    fn below_the_relative_threshold_passes_however_significant() {
        let j = judge(
            &around(100.0 * MIB, 0.001, 10),
            &around(103.0 * MIB, 0.001, 10),
            Better::Lower,
            MEMORY,
        );
        assert!(j.p_value.unwrap() < 1e-4);
        assert_eq!(j.verdict, Verdict::Pass);
    }

    #[test]
    fn below_the_absolute_floor_passes() {
        // +50% of 1 MiB is half a MiB: under the 1 MiB floor.
        let j = judge(
            &around(MIB, 0.001, 5),
            &around(1.5 * MIB, 0.001, 5),
            Better::Lower,
            MEMORY,
        );
        assert_eq!(j.verdict, Verdict::Pass);
    }

    #[test]
    fn beyond_the_threshold_but_noisy_is_inconclusive() {
        let base = [100.0, 150.0, 90.0, 140.0, 95.0].map(|v| v * MIB);
        let head = [160.0, 100.0, 150.0, 92.0, 155.0].map(|v| v * MIB);
        let j = judge(&base, &head, Better::Lower, MEMORY);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{j:?}");
        assert!(j.note.unwrap().contains("not significant"));
    }

    #[test]
    fn higher_is_better_turns_the_test_around() {
        let score = Threshold {
            max_worse: 0.01,
            min_change: 0.0,
            alpha: 0.05,
        };
        let j = judge(
            &around(0.90, 0.001, 5),
            &around(0.85, 0.001, 5),
            Better::Higher,
            score,
        );
        assert_eq!(j.verdict, Verdict::Regression);
        let j = judge(
            &around(0.85, 0.001, 5),
            &around(0.90, 0.001, 5),
            Better::Higher,
            score,
        );
        assert_eq!(j.verdict, Verdict::Improvement);
    }

    #[test]
    fn too_few_runs_are_decided_by_the_threshold() {
        let j = judge(&[100.0 * MIB], &[130.0 * MIB], Better::Lower, MEMORY);
        assert_eq!(j.verdict, Verdict::Regression);
        assert_eq!(j.p_value, None);
        assert_eq!(j.decided_by, Some(Rule::ThresholdOnly));
        assert!(j.note.unwrap().contains("the threshold alone decides"));
    }

    #[test]
    fn three_runs_a_side_still_catch_a_clear_regression() {
        // 3 against 3 cannot reach alpha 0.05 (the smallest p is 1/20); full separation
        // beyond the threshold counts.
        let j = judge(
            &around(100.0 * MIB, 0.002, 3),
            &around(130.0 * MIB, 0.002, 3),
            Better::Lower,
            MEMORY,
        );
        assert_eq!(j.verdict, Verdict::Regression, "{j:?}");
        assert_eq!(j.decided_by, Some(Rule::FullSeparation));
        // Issue 8: "cannot reach alpha" beside a regression read as a contradiction.
        assert_eq!(
            j.note.unwrap(),
            "beyond the threshold, and every head run is on the same side of every base run: the smallest p-value 3 against 3 runs can give is 0.050, not below alpha 0.05, so full separation counts as significant"
        );
        // Overlapping runs do not.
        let base = [100.0, 140.0, 101.0].map(|v| v * MIB);
        let head = [139.0, 141.0, 142.0].map(|v| v * MIB);
        assert_eq!(
            judge(&base, &head, Better::Lower, MEMORY).verdict,
            Verdict::Inconclusive
        );
        assert!((smallest_p(3, 3) - 0.05).abs() < 1e-12);
        assert!((smallest_p(7, 7) - 1.0 / 3432.0).abs() < 1e-15);
    }

    #[test]
    fn negative_figures_keep_their_direction() {
        // Review finding: a custom metric going from -10 to -20 where higher is better
        // passed, and its change and interval had opposite signs.
        let score = Threshold {
            max_worse: 0.05,
            min_change: 0.0,
            alpha: 0.05,
        };
        let j = judge(
            &around(-10.0, 0.01, 5),
            &around(-20.0, 0.01, 5),
            Better::Higher,
            score,
        );
        assert_eq!(j.verdict, Verdict::Regression);
        assert!((j.change.unwrap() + 1.0).abs() < 1e-9, "{:?}", j.change);
        let [low, high] = j.change_ci.unwrap();
        assert!(low < 0.0 && high < 0.0);
        let j = judge(
            &around(-10.0, 0.01, 5),
            &around(-5.0, 0.01, 5),
            Better::Lower,
            score,
        );
        assert_eq!(j.verdict, Verdict::Regression);
    }

    #[test]
    fn a_relative_interval_never_falls_below_minus_100_percent() {
        // Issue 8: a time whose base had an outlier read -39.7% [-214.1%, +32.8%].
        let time = Threshold {
            max_worse: 0.10,
            min_change: 0.02,
            alpha: 0.01,
        };
        let base = [1.0, 1.1, 0.9, 5.0, 1.0];
        let head = [0.6, 0.7, 0.5, 0.65, 0.62];
        let j = judge(&base, &head, Better::Lower, time);
        let [low, high] = j.change_ci.unwrap();
        assert!(low > -1.0 && low < high, "{low} {high}");
        // The additive interval, as it was, went below -100% here.
        let additive = shift(&base, &head, CI_LEVEL).unwrap();
        assert!(additive.low / 1.0 < -1.0, "{additive:?}");
        // Figures that may be negative keep the additive interval.
        let j = judge(
            &[-1.0, -1.1, -0.9],
            &[-2.0, -2.1, -1.9],
            Better::Higher,
            time,
        );
        assert!(j.change_ci.is_some());
    }

    #[test]
    fn the_rule_of_each_verdict_is_said() {
        let j = judge(
            &around(100.0 * MIB, 0.002, 5),
            &around(130.0 * MIB, 0.002, 5),
            Better::Lower,
            MEMORY,
        );
        assert_eq!(j.decided_by, Some(Rule::Test));
        assert_eq!(
            j.note.unwrap(),
            "beyond the threshold, and significant by the one-sided rank test (p 0.0040 < alpha 0.05)"
        );
        let same = around(100.0 * MIB, 0.002, 5);
        let j = judge(&same, &same, Better::Lower, MEMORY);
        assert_eq!((j.decided_by, j.note), (None, None));
    }

    #[test]
    fn no_base_is_missing() {
        assert_eq!(
            judge(&[], &[1.0], Better::Lower, MEMORY).verdict,
            Verdict::Missing
        );
    }

    proptest! {
        #[test]
        fn identical_samples_always_pass(samples in prop::collection::vec(1.0f64..1e9, 1..12)) {
            let j = judge(&samples, &samples, Better::Lower, MEMORY);
            prop_assert_eq!(j.verdict, Verdict::Pass);
            prop_assert_eq!(j.change, Some(0.0));
        }

        #[test]
        fn swapping_sides_swaps_regression_and_improvement(
            base in prop::collection::vec(1.0f64..1e9, 3..10),
            factor in 1.2f64..3.0,
        ) {
            let head: Vec<f64> = base.iter().map(|v| v * factor + 2e6).collect();
            let up = judge(&base, &head, Better::Lower, MEMORY);
            let down = judge(&head, &base, Better::Lower, MEMORY);
            prop_assert_eq!(up.verdict == Verdict::Regression, down.verdict == Verdict::Improvement);
        }

        #[test]
        fn a_regression_is_always_beyond_both_thresholds(
            base in prop::collection::vec(1.0f64..1e9, 1..10),
            head in prop::collection::vec(1.0f64..1e9, 1..10),
        ) {
            let j = judge(&base, &head, Better::Lower, MEMORY);
            if j.verdict == Verdict::Regression {
                prop_assert!(j.change.unwrap() > MEMORY.max_worse);
                prop_assert!(j.abs_change.unwrap() >= MEMORY.min_change);
            }
        }
    }
}
