//! The gate's statistics, thresholds and verdicts: pure functions of two result sets and
//! the thresholds, no I/O.

pub mod display;
pub mod fit;
pub mod group;
pub mod stats;
pub mod threshold;
pub mod verdict;

pub use threshold::{Threshold, ThresholdSpec, Thresholds};
pub use verdict::{Comparison, Overall, Report, Rev, Rule, Side, Verdict, compare, overall};
