//! The stored record: one run of one testbed on one revision, one JSON line, its runs'
//! timelines stored apart on a line of their own ([`super::timelines`]). A public
//! contract (the note format): fields may be added; a change that older readers would
//! misread bumps [`SCHEMA_VERSION`]. (Keeping the timelines apart needed no bump: the
//! record's runs keep an empty `timeline`, which every reader takes, and older readers
//! pass over the `timelines_key` they do not know.)
//!
//! A record is read in two steps, since most readers need only the first: its figures
//! ([`Record::from_line`]: the metrics of each benchmark, its status and failure; the
//! runs passed over unbuilt), then, for what shows runs, the runs ([`Record::read_runs`]).
//! Main type: [`Record`].

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::timelines::{self, Timelines};
use crate::results::{BenchmarkResult, Failure, Metric, RunRecord, RunResults, Status, Testbed};

/// The record format this memgate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// How many points a stored timeline keeps per run: enough to see a shape, small
/// enough that a thousand notes read quickly.
pub const STORED_TIMELINE_POINTS: usize = 200;

/// How many timeline points a record keeps in all, however many runs it holds.
pub const MAX_STORED_POINTS: usize = 200_000;

/// The largest record memgate writes, and reads back: one JSON line.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone, Debug, Serialize)]
#[serde(into = "Wire<BenchmarkResult>")]
pub struct Record {
    pub schema: u32,
    /// The commit (full id) or, outside git, the label the results are stored under.
    pub revision: String,
    /// When the run finished, RFC 3339 UTC.
    pub time: String,
    /// SHA-256 of the config file the plan came from.
    pub config_digest: String,
    /// The working tree differed from the revision: not a baseline unless asked.
    pub dirty: bool,
    /// The key its runs' timelines are stored apart under (see [`super::timelines`]);
    /// none for a record that has no timelines or carries them inline, as records stored
    /// before issue 9 do.
    pub timelines_key: Option<String>,
    /// `memgate_version`, `testbed` and `benchmarks`, as `run --format json` prints them.
    pub results: RunResults,
}

/// The record as it is written: flat, the results' fields beside the record's own.
/// (Not `#[serde(flatten)]`: that buffers every record whole before reading it, which
/// made `memgate log` over a thousand notes a third slower.) Written with whole
/// [`BenchmarkResult`]s, read with their [`Figures`].
#[derive(Serialize, Deserialize)]
struct Wire<B> {
    schema: u32,
    revision: String,
    time: String,
    config_digest: String,
    dirty: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timelines_key: Option<String>,
    memgate_version: String,
    testbed: Testbed,
    benchmarks: Vec<B>,
}

/// A benchmark as most readers read it: everything but its runs, which are passed over
/// without building them (or the timelines of records that carry them inline). They are
/// most of a record: five runs of a benchmark take more bytes than its four metrics.
#[derive(Deserialize)]
struct Figures {
    benchmark: String,
    dataset: Option<String>,
    #[serde(default)]
    group: Option<String>,
    status: Status,
    command: String,
    metrics: BTreeMap<String, Metric>,
    #[expect(dead_code, reason = "required as in a whole record, then passed over")]
    runs: IgnoredAny,
    #[serde(default)]
    lower_bound_runs: u32,
    failure: Option<Failure>,
}

impl From<Figures> for BenchmarkResult {
    fn from(f: Figures) -> BenchmarkResult {
        BenchmarkResult {
            benchmark: f.benchmark,
            dataset: f.dataset,
            group: f.group,
            status: f.status,
            command: f.command,
            metrics: f.metrics,
            runs: Vec::new(),
            lower_bound_runs: f.lower_bound_runs,
            failure: f.failure,
        }
    }
}

impl From<Wire<Figures>> for Record {
    fn from(w: Wire<Figures>) -> Record {
        Record {
            schema: w.schema,
            revision: w.revision,
            time: w.time,
            config_digest: w.config_digest,
            dirty: w.dirty,
            timelines_key: w.timelines_key,
            results: RunResults {
                memgate_version: w.memgate_version,
                testbed: w.testbed,
                benchmarks: w.benchmarks.into_iter().map(Into::into).collect(),
            },
        }
    }
}

impl From<Record> for Wire<BenchmarkResult> {
    fn from(r: Record) -> Wire<BenchmarkResult> {
        Wire {
            schema: r.schema,
            revision: r.revision,
            time: r.time,
            config_digest: r.config_digest,
            dirty: r.dirty,
            timelines_key: r.timelines_key,
            memgate_version: r.results.memgate_version,
            testbed: r.results.testbed,
            benchmarks: r.results.benchmarks,
        }
    }
}

impl Record {
    /// A record of `results`, its timelines thinned for storage.
    pub fn new(revision: &str, results: &RunResults, config_digest: &str, dirty: bool) -> Record {
        let mut results = results.clone();
        // At most STORED_TIMELINE_POINTS a run, and MAX_STORED_POINTS in all: a record of
        // many runs stays well within what memgate reads back (64 MiB a record).
        let runs: usize = results.benchmarks.iter().map(|b| b.runs.len()).sum();
        let per_run = (MAX_STORED_POINTS / runs.max(1)).clamp(1, STORED_TIMELINE_POINTS);
        for benchmark in &mut results.benchmarks {
            for run in &mut benchmark.runs {
                run.timeline = run.timeline.thinned(per_run);
            }
        }
        Record {
            schema: SCHEMA_VERSION,
            revision: revision.to_owned(),
            time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            config_digest: config_digest.to_owned(),
            dirty,
            timelines_key: None,
            results,
        }
    }

    /// The record as one line of JSON (no newline).
    pub fn to_line(&self) -> String {
        // Cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The lines to store: the record without its timelines, and the timelines apart
    /// under the key the record names, unless the runs have none or they are too large to
    /// store even thinned (then the figures are kept without them). An error if the
    /// record is too large even so: memgate would not read it back.
    pub fn stored_lines(&self) -> Result<StoredLines, String> {
        let mut lean = self.clone();
        let runs = timelines::take(&mut lean);
        lean.timelines_key = None;
        let bare = lean.to_line();
        if bare.len() > MAX_RECORD_BYTES {
            return Err(format!(
                "the results are too large to store ({} MiB, more than {} MiB): fewer runs or custom metrics",
                bare.len() >> 20,
                MAX_RECORD_BYTES >> 20
            ));
        }
        if runs
            .iter()
            .all(|b| b.runs.iter().all(|t| t.points.is_empty()))
        {
            return Ok(StoredLines {
                record: bare,
                timelines: None,
            });
        }
        let mut apart = Timelines {
            schema: SCHEMA_VERSION,
            revision: self.revision.clone(),
            key: String::new(),
            benchmarks: runs,
        };
        // Of the figures and the timelines both, so two records of a revision share a key
        // only if they are the same record.
        apart.key = hex_digest(&[bare.as_bytes(), apart.to_line().as_bytes()], 8);
        let line = apart.to_line();
        if line.len() > MAX_RECORD_BYTES {
            return Ok(StoredLines {
                record: bare,
                timelines: None,
            });
        }
        lean.timelines_key = Some(apart.key.clone());
        Ok(StoredLines {
            record: lean.to_line(),
            timelines: Some((apart.key, line)),
        })
    }

    /// Reads one line, the runs passed over (see [`Record::read_runs`]); the error says
    /// what is wrong with it (the caller says where). One parse in the common case; the
    /// schema is looked at alone only to explain a line that did not parse.
    pub fn from_line(line: &str) -> Result<Record, String> {
        let wire: Wire<Figures> = read_versioned(
            line,
            |w: &Wire<Figures>| w.schema,
            ["a damaged record", "not a memgate record"],
        )?;
        Ok(wire.into())
    }

    /// Reads the runs of the record from its `line` (the one it was read from): their
    /// figures, and their timelines where the line carries them inline.
    pub fn read_runs(&mut self, line: &str) -> Result<(), String> {
        #[derive(Deserialize)]
        struct Line {
            benchmarks: Vec<Runs>,
        }
        #[derive(Deserialize)]
        struct Runs {
            runs: Vec<RunRecord>,
        }
        let line: Line = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let benchmarks = &mut self.results.benchmarks;
        if line.benchmarks.len() != benchmarks.len() {
            return Err(format!(
                "the line holds runs of {} benchmarks, the record {}",
                line.benchmarks.len(),
                benchmarks.len()
            ));
        }
        for (b, read) in benchmarks.iter_mut().zip(line.benchmarks) {
            b.runs = read.runs;
        }
        Ok(())
    }

    /// Checks what parsing cannot: that the record is one memgate wrote under
    /// `revision`, with names and units as memgate writes them. A record that names
    /// another revision (copied from another commit's note, say) must not stand for this
    /// one.
    pub fn check(&self, revision: &str) -> Result<(), String> {
        if self.schema == 0 {
            return Err("schema 0 does not exist: not a record memgate wrote".into());
        }
        if self.revision != revision {
            return Err(format!(
                "it is stored under {} but says it was measured on {}: a record copied from elsewhere",
                crate::report::units::short_rev(revision),
                crate::report::units::short_rev(&self.revision)
            ));
        }
        if humantime::parse_rfc3339(&self.time).is_err() {
            return Err(format!(
                "its time {:?} is not an RFC 3339 time like 2026-12-01T12:00:00Z",
                self.time
            ));
        }
        use crate::names::{check_name, check_unit};
        check_name("testbed", self.testbed_id())?;
        for b in &self.results.benchmarks {
            check_name("benchmark name", &b.benchmark)?;
            if let Some(d) = &b.dataset {
                check_name("dataset name", d)?;
            }
            if let Some(g) = &b.group {
                check_name("group name", g)?;
            }
            for (name, metric) in &b.metrics {
                check_name("metric name", name)?;
                check_unit(&metric.unit)?;
            }
        }
        Ok(())
    }

    /// The testbed the record was measured on.
    pub fn testbed_id(&self) -> &str {
        &self.results.testbed.id
    }
}

/// Reads a stored line of `T`, which has a `schema`: in the common case in one parse;
/// the schema is looked at alone only to explain a line that did not parse. The error
/// says what is wrong: written by a newer memgate, or `damaged` or `foreign` (the
/// schema could be read, or not even that) with serde's words.
pub(super) fn read_versioned<T: serde::de::DeserializeOwned>(
    line: &str,
    schema: impl Fn(&T) -> u32,
    [damaged, foreign]: [&str; 2],
) -> Result<T, String> {
    #[derive(Deserialize)]
    struct Version {
        schema: u32,
    }
    let newer = |schema: u32| {
        format!(
            "written by a newer memgate (schema {schema} > {SCHEMA_VERSION}): upgrade memgate to read it"
        )
    };
    match serde_json::from_str::<T>(line) {
        Ok(read) if schema(&read) > SCHEMA_VERSION => Err(newer(schema(&read))),
        Ok(read) => Ok(read),
        Err(e) => match serde_json::from_str::<Version>(line) {
            Ok(v) if v.schema > SCHEMA_VERSION => Err(newer(v.schema)),
            Ok(_) => Err(format!("{damaged} ({e})")),
            Err(e) => Err(format!("{foreign} ({e})")),
        },
    }
}

/// What [`Record::stored_lines`] gives: one line for the record, and one for its
/// timelines with the key the record names them by.
#[derive(Debug)]
pub struct StoredLines {
    pub record: String,
    pub timelines: Option<(String, String)>,
}

/// The first `bytes` bytes of the SHA-256 of `parts` one after the other, in hex.
pub(super) fn hex_digest(parts: &[&[u8]], bytes: usize) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_runs_keep_fewer_points_each() {
        // Found in review: a record of many runs could outgrow what memgate reads back.
        use crate::measure::timeline::Timeline;
        use crate::measure::units::{Bytes, Seconds};
        let mut timeline = Timeline::default();
        for i in 0..2000u64 {
            timeline.push(Seconds(i as f64), Bytes(i));
        }
        let run = crate::results::RunRecord {
            status: crate::results::Status::Ok,
            wall_time: Seconds(1.0),
            cpu_time: Seconds(1.0),
            peak_memory: Bytes(1),
            max_rss: Bytes(1),
            exit_code: Some(0),
            signal: None,
            sampler_cpu_time: Seconds(0.0),
            peak_quality: None,
            samples: None,
            peak_lower_bound: None,
            peak_upper_bound: None,
            timeline,
        };
        let results = RunResults {
            memgate_version: "0.1.0".into(),
            testbed: crate::testing::testbed(),
            benchmarks: vec![crate::results::BenchmarkResult {
                benchmark: "b".into(),
                dataset: None,
                group: None,
                status: crate::results::Status::Ok,
                command: "x".into(),
                metrics: Default::default(),
                runs: vec![run; 4000],
                lower_bound_runs: 0,
                failure: None,
            }],
        };
        let record = Record::new("r", &results, "", false);
        let points: usize = record.results.benchmarks[0]
            .runs
            .iter()
            .map(|r| r.timeline.points.len())
            .sum();
        assert!(points <= MAX_STORED_POINTS, "{points}");
        let lines = record.stored_lines().unwrap();
        assert!(lines.record.len() <= MAX_RECORD_BYTES);
        assert!(lines.timelines.unwrap().1.len() <= MAX_RECORD_BYTES);
    }

    /// A note as memgate 0.1.0 wrote it: two records, each run's timeline inline.
    const GOLDEN: &str = include_str!("../../tests/fixtures/note-schema-1-inline-timelines.jsonl");

    fn golden(runs: bool) -> crate::store::Loaded {
        let lines = GOLDEN
            .lines()
            .enumerate()
            .map(|(i, line)| (line, format!("line {}", i + 1)));
        let revision = "0123456789abcdef0123456789abcdef01234567";
        let loaded = if runs {
            crate::store::Loaded::parse_with_runs(revision, lines, "fix")
        } else {
            crate::store::Loaded::parse(revision, lines, "fix")
        };
        assert_eq!(loaded.problems, Vec::<String>::new());
        assert_eq!(loaded.records.len(), 2);
        loaded
    }

    #[test]
    fn records_of_memgate_0_1_0_read_without_their_runs_unless_asked() {
        let figures = golden(false);
        let runs = |loaded: &crate::store::Loaded| -> Vec<usize> {
            let benchmarks = loaded.records.iter().flat_map(|r| &r.results.benchmarks);
            benchmarks.map(|b| b.runs.len()).collect()
        };
        assert_eq!(runs(&figures), [0, 0, 0, 0]);
        let load = &figures.records[0].results.benchmarks[0];
        assert_eq!(
            (load.benchmark.as_str(), load.dataset.as_deref()),
            ("load", Some("small"))
        );
        assert_eq!(load.metrics["peak_memory"].samples.len(), 2);
        let crash = &figures.records[0].results.benchmarks[1];
        assert!(
            crash
                .failure
                .as_ref()
                .unwrap()
                .message
                .contains("exited with code 3")
        );
        // With their runs: two runs of the benchmark that held 8 MiB for 60 ms, sampled
        // every 5 ms, in each record; none of the one that exited 3.
        let with = golden(true);
        assert_eq!(runs(&with), [2, 0, 2, 0]);
        let points: Vec<usize> = with
            .records
            .iter()
            .flat_map(|r| &r.results.benchmarks[0].runs)
            .map(|r| r.timeline.points.len())
            .collect();
        assert!(points.iter().all(|&n| n > 5), "{points:?}");
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert!(
            Record::from_line("{")
                .unwrap_err()
                .starts_with("not a memgate record")
        );
        assert_eq!(
            Record::from_line(r#"{"schema": 7}"#).unwrap_err(),
            "written by a newer memgate (schema 7 > 1): upgrade memgate to read it"
        );
        assert!(
            Record::from_line(r#"{"schema": 1, "revision": 3}"#)
                .unwrap_err()
                .starts_with("a damaged record")
        );
    }
}
