//! The results of `memgate run`: what `--format json` prints and what the store keeps.
//! A public contract: fields may be added, none renamed. Main type: [`RunResults`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::measure::probe::ProbeKind;
use crate::measure::quality::{PeakQuality, Samples};
use crate::measure::timeline::Timeline;
use crate::measure::units::{Bytes, Seconds};

/// The metric names memgate measures itself.
pub const PEAK_MEMORY: &str = "peak_memory";
pub const MAX_RSS: &str = "max_rss";
pub const WALL_TIME: &str = "wall_time";
pub const CPU_TIME: &str = "cpu_time";
pub const BUILT_IN_METRICS: [&str; 4] = [PEAK_MEMORY, MAX_RSS, WALL_TIME, CPU_TIME];
/// Bytes of peak memory per unit of a benchmark's leak parameter (the slope of the
/// least-squares line through one measured run's peaks): measured by memgate, but only
/// for benchmarks with a `leak:` check.
pub const LEAK_SLOPE: &str = "leak_slope";

/// `automl` or `automl[taxi]`: how people, progress lines and log folders name one
/// benchmark × dataset. Built here only.
pub fn label(benchmark: &str, dataset: Option<&str>) -> String {
    match dataset {
        Some(d) => format!("{benchmark}[{d}]"),
        None => benchmark.to_owned(),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResults {
    pub memgate_version: String,
    pub testbed: Testbed,
    pub benchmarks: Vec<BenchmarkResult>,
}

impl RunResults {
    /// The benchmark × dataset named `benchmark` and `dataset`.
    pub fn find(&self, benchmark: &str, dataset: Option<&str>) -> Option<&BenchmarkResult> {
        self.benchmarks
            .iter()
            .find(|b| b.benchmark == benchmark && b.dataset.as_deref() == dataset)
    }
}

/// The machine the figures were measured on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Testbed {
    /// What results are grouped by: the name if one was given, else a fingerprint of
    /// the machine. Figures are compared only within one testbed.
    pub id: String,
    /// The name given with `testbed:`, `MEMGATE_TESTBED` or `--testbed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub os: String,
    pub kernel: String,
    pub arch: String,
    pub cpu: String,
    pub cores: usize,
    pub memory: Bytes,
    /// Where the memory figures came from.
    pub probe: ProbeKind,
}

/// Every run of one benchmark over one dataset.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchmarkResult {
    pub benchmark: String,
    pub dataset: Option<String>,
    /// The config's `group:`: benchmarks of one group are compared with each other in
    /// the run's table. Absent from records of memgates before it, and when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub status: Status,
    pub command: String,
    /// Metric name → unit and one sample per measured run that succeeded.
    pub metrics: BTreeMap<String, Metric>,
    /// The measured runs, in order, with their timelines.
    pub runs: Vec<RunRecord>,
    /// How many of the runs' peaks are only lower bounds (`peak_quality`): kept beside
    /// the runs so the gate knows without reading them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lower_bound_runs: u32,
    /// What went wrong, when `status` is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    Timeout,
    MemoryLimit,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::MemoryLimit => "memory_limit",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Lower,
    Higher,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// `bytes`, `seconds`, or what a custom metric says.
    pub unit: String,
    pub samples: Vec<f64>,
    /// Which direction is an improvement.
    pub better: Better,
}

/// One measured run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub status: Status,
    pub wall_time: Seconds,
    pub cpu_time: Seconds,
    pub peak_memory: Bytes,
    pub max_rss: Bytes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// CPU time memgate itself spent watching the run (its sampler's overhead).
    pub sampler_cpu_time: Seconds,
    /// How `peak_memory` was obtained (absent in records of memgate 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_quality: Option<PeakQuality>,
    /// The sampler's looks at the tree: kept and due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<Samples>,
    /// The peak is at least this: the largest single process's high-water mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_lower_bound: Option<Bytes>,
    /// The peak is at most this, where that is known (an exact peak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_upper_bound: Option<Bytes>,
    /// The tree's resident memory over time, `[seconds, bytes]`.
    pub timeline: Timeline,
}

/// Why a benchmark did not finish its runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    /// `prepare`, `setup`, `warmup` or `run`.
    pub phase: String,
    /// Which run of that phase (from 1).
    pub attempt: u32,
    /// A sentence for people: what happened, when, at what figure.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// After how long it ended.
    pub after: Seconds,
    /// The tree's peak memory in that run.
    pub peak_memory: Bytes,
    /// The last lines the benchmark wrote to stderr.
    pub stderr_tail: Vec<String>,
}
