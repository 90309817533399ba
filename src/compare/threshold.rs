//! Thresholds: how much worse a metric may get before it counts, and how sure the test
//! must be. Main types: [`Thresholds`] (what a benchmark's config says, per metric) and
//! [`Threshold`] (resolved for one metric and its direction).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::results::Better;

/// One metric's threshold as the config gives it; any field may be left to a lower layer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThresholdSpec {
    /// Fraction (0.05 for 5%) by which a lower-is-better metric may grow.
    pub max_increase: Option<f64>,
    /// Fraction by which a higher-is-better metric may shrink.
    pub max_decrease: Option<f64>,
    /// An absolute change, in the metric's unit, below which no change counts.
    pub min_change: Option<f64>,
    /// The significance level of the one-sided test.
    pub alpha: Option<f64>,
}

impl ThresholdSpec {
    /// This layer's fields where set, `below`'s elsewhere.
    pub fn over(&self, below: &ThresholdSpec) -> ThresholdSpec {
        ThresholdSpec {
            max_increase: self.max_increase.or(below.max_increase),
            max_decrease: self.max_decrease.or(below.max_decrease),
            min_change: self.min_change.or(below.min_change),
            alpha: self.alpha.or(below.alpha),
        }
    }
}

/// A benchmark's thresholds: per metric, and a default for metrics not named (custom
/// ones), each already laid over the lower layers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thresholds {
    pub per_metric: BTreeMap<String, ThresholdSpec>,
    pub default: ThresholdSpec,
}

impl Thresholds {
    /// `self` over `below`, metric by metric and field by field.
    pub fn over(&self, below: &Thresholds) -> Thresholds {
        let mut per_metric = below.per_metric.clone();
        for (metric, spec) in &self.per_metric {
            let merged = match below.per_metric.get(metric) {
                Some(lower) => spec.over(lower),
                None => spec.clone(),
            };
            per_metric.insert(metric.clone(), merged);
        }
        Thresholds {
            per_metric,
            default: self.default.over(&below.default),
        }
    }

    /// The threshold for `metric`, which is better when `better`.
    pub fn resolve(&self, metric: &str, better: Better) -> Threshold {
        let spec = match self.per_metric.get(metric) {
            Some(spec) => spec.over(&self.default),
            None => self.default.clone(),
        };
        let max_worse = match better {
            Better::Lower => spec.max_increase,
            Better::Higher => spec.max_decrease,
        };
        Threshold {
            max_worse: max_worse.unwrap_or(Threshold::FALLBACK.max_worse),
            min_change: spec.min_change.unwrap_or(Threshold::FALLBACK.min_change),
            alpha: spec.alpha.unwrap_or(Threshold::FALLBACK.alpha),
        }
    }
}

/// One metric's threshold, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Threshold {
    /// The fraction by which the metric may get worse (grow if lower is better).
    pub max_worse: f64,
    /// The absolute change below which no change counts, in the metric's unit.
    pub min_change: f64,
    /// The significance level.
    pub alpha: f64,
}

impl Threshold {
    /// Used only where neither the built-in defaults nor the config say anything.
    pub const FALLBACK: Threshold = Threshold {
        max_worse: 0.05,
        min_change: 0.0,
        alpha: 0.05,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        inc: Option<f64>,
        dec: Option<f64>,
        min: Option<f64>,
        alpha: Option<f64>,
    ) -> ThresholdSpec {
        ThresholdSpec {
            max_increase: inc,
            max_decrease: dec,
            min_change: min,
            alpha,
        }
    }

    #[test]
    fn layers_merge_field_by_field() {
        let built_in = Thresholds {
            per_metric: [(
                "peak_memory".to_string(),
                spec(Some(0.05), None, Some(1e6), Some(0.05)),
            )]
            .into(),
            default: spec(Some(0.05), Some(0.05), None, Some(0.05)),
        };
        let project = Thresholds {
            per_metric: [(
                "peak_memory".to_string(),
                spec(Some(0.10), None, None, None),
            )]
            .into(),
            default: ThresholdSpec::default(),
        };
        let bench = Thresholds {
            per_metric: [("score".to_string(), spec(None, Some(0.01), None, None))].into(),
            default: ThresholdSpec::default(),
        };
        let t = bench.over(&project.over(&built_in));
        assert_eq!(
            t.resolve("peak_memory", Better::Lower),
            Threshold {
                max_worse: 0.10,
                min_change: 1e6,
                alpha: 0.05
            }
        );
        assert_eq!(
            t.resolve("score", Better::Higher),
            Threshold {
                max_worse: 0.01,
                min_change: 0.0,
                alpha: 0.05
            }
        );
        // An unnamed custom metric takes the default of its direction.
        assert_eq!(t.resolve("rows", Better::Higher).max_worse, 0.05);
    }
}
