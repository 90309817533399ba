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

/// `+30.0% [+25.1%, +34.8%]`: the change with its confidence interval.
pub fn change_with_interval(c: &Comparison) -> String {
    match c.change_ci {
        Some([low, high]) => format!(
            "{} [{}, {}]",
            percent(c.change),
            percent(Some(low)),
            percent(Some(high))
        ),
        None => percent(c.change),
    }
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

/// One line on the whole report: `regression: 1 regression, 10 pass`.
pub fn summary(verdict: Overall, comparisons: &[Comparison]) -> String {
    let order = [
        Verdict::Regression,
        Verdict::Failure,
        Verdict::Inconclusive,
        Verdict::Missing,
        Verdict::Improvement,
        Verdict::Pass,
    ];
    let counts: Vec<String> = order
        .iter()
        .filter_map(|v| {
            let n = comparisons.iter().filter(|c| c.verdict == *v).count();
            (n > 0).then(|| format!("{n} {}", v.as_str()))
        })
        .collect();
    let word = match verdict {
        Overall::Regression => "regression",
        Overall::Failure => "failure",
        Overall::Pass => "pass",
    };
    if counts.is_empty() {
        format!("{word}: nothing to compare")
    } else {
        format!("{word}: {}", counts.join(", "))
    }
}
