//! A record's memory timelines, kept apart from its figures. `log`, `compare` and
//! `check` read every record along a stretch of history and need no timeline, yet the
//! timelines (up to 200 points a run) were most of a record's bytes; `show` alone
//! prints them. So a record is stored as two JSON lines: its figures (each run's
//! `timeline` empty, the record naming a `timelines_key`) where it always was, and its
//! timelines, under that key, in `refs/notes/memgate-timelines` (a note on the same
//! commit, merged line by line like the records) or `DIR/.timelines/<revision>/<key>.json`.
//! Records stored before carry their timelines inline, read with their runs. Main type:
//! [`Timelines`].

use serde::{Deserialize, Serialize};

use super::record::{Record, read_versioned};
use crate::measure::timeline::Timeline;
use crate::report::units::short_rev;

/// One record's timelines: one line of `refs/notes/memgate-timelines`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timelines {
    pub schema: u32,
    /// The revision of the record, as the record says it.
    pub revision: String,
    /// The `timelines_key` of the record they belong to.
    pub key: String,
    /// In the order of the record's benchmarks.
    pub benchmarks: Vec<BenchmarkTimelines>,
}

/// The timelines of one benchmark × dataset's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkTimelines {
    pub benchmark: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// One per measured run, in the order of the record's `runs`.
    pub runs: Vec<Timeline>,
}

impl Timelines {
    /// Reads one line; the error says what is wrong with it (the caller says where).
    pub fn from_line(line: &str) -> Result<Timelines, String> {
        read_versioned(
            line,
            |t: &Timelines| t.schema,
            ["damaged timelines", "not memgate timelines"],
        )
    }

    /// The line to store (no newline).
    pub fn to_line(&self) -> String {
        // Cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks what parsing cannot: that they are timelines memgate wrote, stored under
    /// the revision they name.
    pub fn check(&self, revision: &str) -> Result<(), String> {
        if self.schema == 0 {
            return Err("schema 0 does not exist: not timelines memgate wrote".into());
        }
        if self.revision != revision {
            return Err(format!(
                "they are stored under {} but name {}: timelines copied from elsewhere",
                short_rev(revision),
                short_rev(&self.revision)
            ));
        }
        Ok(())
    }
}

/// Takes the timelines out of `record`'s runs, leaving them empty.
pub fn take(record: &mut Record) -> Vec<BenchmarkTimelines> {
    record
        .results
        .benchmarks
        .iter_mut()
        .map(|b| BenchmarkTimelines {
            benchmark: b.benchmark.clone(),
            dataset: b.dataset.clone(),
            runs: b
                .runs
                .iter_mut()
                .map(|r| std::mem::take(&mut r.timeline))
                .collect(),
        })
        .collect()
}

/// Puts `timelines` into `record`'s runs, if they are the timelines of its benchmarks
/// and runs; otherwise says how they differ and leaves the record as it was.
pub fn attach(record: &mut Record, timelines: Vec<BenchmarkTimelines>) -> Result<(), String> {
    let benchmarks = &mut record.results.benchmarks;
    if timelines.len() != benchmarks.len() {
        return Err(format!(
            "they are of {} benchmarks and the record has {}",
            timelines.len(),
            benchmarks.len()
        ));
    }
    for (b, t) in benchmarks.iter().zip(&timelines) {
        let label = crate::results::label(&b.benchmark, b.dataset.as_deref());
        if (&b.benchmark, &b.dataset) != (&t.benchmark, &t.dataset) {
            let theirs = crate::results::label(&t.benchmark, t.dataset.as_deref());
            return Err(format!(
                "they name {theirs:?} where the record has {label:?}"
            ));
        }
        if t.runs.len() != b.runs.len() {
            return Err(format!(
                "{label:?} has {} runs in the record and {} in them",
                b.runs.len(),
                t.runs.len()
            ));
        }
    }
    for (b, t) in benchmarks.iter_mut().zip(timelines) {
        for (run, timeline) in b.runs.iter_mut().zip(t.runs) {
            run.timeline = timeline;
        }
    }
    Ok(())
}

/// Whether `key` can be a record's `timelines_key`: lowercase hex, as memgate makes them,
/// so it is safe as a file name too.
pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What to say of a record whose timelines are not in `place`, where it says they are.
pub fn missing(record: &Record, place: &str) -> String {
    format!(
        "the timelines of its record of {} on testbed {} (key {}) are not in {place}",
        record.time,
        record.testbed_id(),
        record.timelines_key.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Loaded;

    const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";

    /// A note as memgate 0.1.0 wrote it: two records, timelines inline.
    const INLINE: &str = include_str!("../../tests/fixtures/note-schema-1-inline-timelines.jsonl");

    fn lines(text: &str) -> impl Iterator<Item = (&str, String)> {
        text.lines()
            .enumerate()
            .map(|(i, line)| (line, format!("line {}", i + 1)))
    }

    fn points(loaded: &Loaded) -> Vec<usize> {
        loaded
            .records
            .iter()
            .flat_map(|r| &r.results.benchmarks)
            .flat_map(|b| &b.runs)
            .map(|r| r.timeline.points.len())
            .collect()
    }

    /// The fixture's records, read with their inline timelines.
    fn golden() -> Vec<Record> {
        let loaded = Loaded::parse_with_runs(REVISION, lines(INLINE), "fix");
        assert_eq!(loaded.problems, Vec::<String>::new());
        loaded.records
    }

    #[test]
    fn a_record_is_stored_as_its_figures_and_its_timelines_apart() {
        let record = golden().remove(0);
        let stored = record.stored_lines().unwrap();
        let (key, line) = stored.timelines.expect("the runs have timelines");
        assert!(valid_key(&key), "{key}");
        // Every run keeps an empty timeline, which older memgates require.
        let json: serde_json::Value = serde_json::from_str(&stored.record).unwrap();
        assert_eq!(json["timelines_key"], key.as_str());
        for b in json["benchmarks"].as_array().unwrap() {
            for run in b["runs"].as_array().unwrap() {
                assert_eq!(run["timeline"], serde_json::json!({"points": []}));
            }
        }
        let mut loaded = Loaded::parse_with_runs(
            REVISION,
            std::iter::once((stored.record.as_str(), "r".to_owned())),
            "fix",
        );
        assert_eq!(points(&loaded), [0, 0]);
        let missing = loaded.attach_timelines(REVISION, lines(&line), "fix");
        assert_eq!((missing, loaded.problems.clone()), (vec![], vec![]));
        let timelines = |r: &Record| -> Vec<Timeline> {
            r.results
                .benchmarks
                .iter()
                .flat_map(|b| b.runs.iter().map(|r| r.timeline.clone()))
                .collect()
        };
        assert_eq!(timelines(&loaded.records[0]), timelines(&record));
        // Two records of a revision have keys of their own.
        let other = golden().remove(1).stored_lines().unwrap();
        assert_ne!(other.timelines.unwrap().0, key);
    }

    #[test]
    fn a_record_without_timelines_names_none() {
        let mut record = golden().remove(0);
        take(&mut record);
        let stored = record.stored_lines().unwrap();
        assert!(stored.timelines.is_none());
        assert!(!stored.record.contains("timelines_key"));
    }

    #[test]
    fn bad_timelines_are_named_and_the_figures_kept() {
        let record = golden().remove(0);
        let stored = record.stored_lines().unwrap();
        let (key, good) = stored.timelines.unwrap();
        let other_rev = good.replace(REVISION, &"f".repeat(40));
        let fewer_runs = {
            let mut t = Timelines::from_line(&good).unwrap();
            t.benchmarks[0].runs.pop();
            t.to_line()
        };
        let renamed = good.replace("\"benchmark\":\"load\"", "\"benchmark\":\"lode\"");
        let damaged = [
            "not json",
            r#"{"schema": 9, "x": 1}"#,
            r#"{"schema": 1, "revision": 5}"#,
            &other_rev,
        ]
        .join("\n");
        let read = |note: &str| {
            let mut loaded = Loaded::parse_with_runs(
                REVISION,
                std::iter::once((stored.record.as_str(), "r".to_owned())),
                "fix",
            );
            let missing = loaded.attach_timelines(REVISION, lines(note), "fix it");
            (loaded, missing)
        };
        let (loaded, missing) = read(&damaged);
        assert_eq!(missing, [0], "no line names the record");
        assert_eq!(loaded.records.len(), 1, "the figures stand");
        assert_eq!(points(&loaded), [0, 0]);
        let expected = [
            "line 1: not memgate timelines (expected ident at line 1 column 2); fix it",
            "line 2: written by a newer memgate (schema 9 > 1): upgrade memgate to read it; fix it",
            "line 3: damaged timelines (invalid type: integer `5`, expected a string at line 1 column 27); fix it",
            "line 4: they are stored under 0123456789ab but name ffffffffffff: timelines copied from elsewhere; fix it",
        ];
        assert_eq!(loaded.problems, expected);
        // After them, the good line is found; lines after what is wanted are not read.
        let (loaded, missing) = read(&format!("{damaged}\n{good}\nnot json either"));
        assert_eq!((missing, loaded.problems.len()), (vec![], expected.len()));
        assert!(points(&loaded).iter().all(|&n| n > 5));
        assert!(loaded.records[0].timelines_key.as_deref() == Some(key.as_str()));
        // The first line that names the record is its timelines: if they do not fit it,
        // it has none, and that is said.
        for (unfit, why) in [
            (
                &fewer_runs,
                "\"load[small]\" has 2 runs in the record and 1 in them",
            ),
            (
                &renamed,
                "they name \"lode[small]\" where the record has \"load[small]\"",
            ),
        ] {
            let (loaded, missing) = read(&format!("{unfit}\n{good}"));
            assert_eq!(missing, Vec::<usize>::new());
            assert_eq!(points(&loaded), [0, 0]);
            assert_eq!(
                loaded.problems,
                [format!(
                    "line 1: they do not fit the record they belong to: {why}; fix it"
                )]
            );
        }
    }

    #[test]
    fn keys_are_what_memgate_makes() {
        assert!(valid_key("0f1e2d3c4b5a6978"));
        for bad in ["", "../etc", "ABCDEF", "0f1e 2d", &"a".repeat(65)] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }
}
