//! The figures of a comparison as people read them, shared by every rendering.

use crate::compare::{Comparison, Overall, Verdict};
use crate::report::units::figure;

/// `+30.0%`, `-4.2%`, `0.0%`; `n/a` where there is no ratio.
pub fn percent(change: Option<f64>) -> String {
    match change {
        Some(c) if c.is_finite() => format!("{:+.1}%", c * 100.0),
        _ => "n/a".into(),
    }
}

/// `+30.0% [+25.1%, +34.8%]`: the change with its confidence interval, and the
/// interval's level after it when the header cannot give one level for all.
pub fn change_with_interval(c: &Comparison, levels: &Levels) -> String {
    match (c.change_ci, c.ci_level) {
        (Some([low, high]), level) => {
            let mut text = format!(
                "{} [{}, {}]",
                percent(c.change),
                percent(Some(low)),
                percent(Some(high))
            );
            if let (Levels::Mixed, Some(level)) = (levels, level) {
                text.push_str(&format!(" ({} CI)", level_text(level)));
            }
            text
        }
        _ => percent(c.change),
    }
}

/// The confidence levels of a report's intervals. With few runs the exact rank
/// distribution cannot give 95% itself; each interval has the nearest level at or above
/// it (or the widest one possible, below it).
#[derive(Clone, Debug, PartialEq)]
pub enum Levels {
    None,
    /// Every interval has this level (as shown, like `96.8%`).
    One(String),
    /// They differ: each cell says its own.
    Mixed,
}

impl Levels {
    pub fn of(comparisons: &[Comparison]) -> Levels {
        let mut shown: Vec<String> = comparisons
            .iter()
            .filter(|c| c.change_ci.is_some())
            .filter_map(|c| c.ci_level.map(level_text))
            .collect();
        shown.sort();
        shown.dedup();
        match shown.len() {
            0 => Levels::None,
            1 => Levels::One(shown.remove(0)),
            _ => Levels::Mixed,
        }
    }

    /// The change column's header: `change [96.8% CI]`.
    pub fn header(&self) -> String {
        match self {
            Levels::None => "change".into(),
            Levels::One(level) => format!("change [{level} CI]"),
            Levels::Mixed => "change [CI, level]".into(),
        }
    }
}

/// `95%`, `96.8%`.
fn level_text(level: f64) -> String {
    let text = format!("{:.1}", level * 100.0);
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

pub fn value(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "-".into(), |v| figure(v, unit))
}

pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "-".into(),
    }
}

/// `5%` or `5% and 1.00 MiB`: what the change had to exceed.
pub fn threshold(c: &Comparison) -> String {
    let relative = format!("{}%", trim(c.threshold.max_worse * 100.0));
    if c.threshold.min_change > 0.0 {
        format!("{relative} and {}", figure(c.threshold.min_change, &c.unit))
    } else {
        relative
    }
}

fn trim(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `regression`, `regressions`: a verdict after a count.
fn counted(verdict: Verdict, n: usize) -> &'static str {
    match (verdict, n) {
        (Verdict::Regression, 1) => "regression",
        (Verdict::Regression, _) => "regressions",
        (Verdict::Failure, 1) => "failure",
        (Verdict::Failure, _) => "failures",
        (Verdict::Improvement, 1) => "improvement",
        (Verdict::Improvement, _) => "improvements",
        (Verdict::Pass, 1) => "pass",
        (Verdict::Pass, _) => "passes",
        (Verdict::Inconclusive, _) => "inconclusive",
        (Verdict::Missing, _) => "missing",
    }
}

/// The verdicts, the worst first: the order a summary counts them in, and a
/// benchmark's badge takes its verdict by.
pub const WORST_FIRST: [Verdict; 6] = [
    Verdict::Regression,
    Verdict::Failure,
    Verdict::Inconclusive,
    Verdict::Missing,
    Verdict::Improvement,
    Verdict::Pass,
];

/// One line on the whole report: `regression: 1 regression, 10 passes`.
pub fn summary(verdict: Overall, comparisons: &[Comparison]) -> String {
    let counts: Vec<String> = WORST_FIRST
        .iter()
        .filter_map(|v| {
            let n = comparisons.iter().filter(|c| c.verdict == *v).count();
            (n > 0).then(|| format!("{n} {}", counted(*v, n)))
        })
        .collect();
    let word = verdict.as_str();
    if counts.is_empty() {
        format!("{word}: nothing to compare")
    } else {
        format!("{word}: {}", counts.join(", "))
    }
}
