//! What one benchmark's diagnosis found, on head and on the base, and the differences
//! between them, biggest first. Main types: [`Diagnosis`] (one run looked at closely),
//! [`Explanation`] (a benchmark's diagnoses and their differences), and [`Diagnoser`],
//! the instrument that makes diagnoses out of a plan's runs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::growth::Growth;
use super::python::{self, PythonFindings};
use super::tree::{Breakdown, PeakWatch};
use crate::config::Job;
use crate::error::{Error, Result};
use crate::measure::timeline::Timeline;
use crate::measure::units::{Bytes, Seconds};
use crate::runner::execute::{Ending, Measured, Watch};
use crate::runner::launcher::Exit;

/// The JSON format of `memgate explain --format json` (its `explain_version`).
pub const FORMAT: u32 = 1;
/// Differences smaller than this are left out (noise between two runs).
const MIN_DIFFERENCE: u64 = 1 << 20;

/// One run of a benchmark looked at closely.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// How it ended: `ok`, `exit 1`, `signal 9`, `memory_limit`, `timeout`.
    pub ending: String,
    pub peak_memory: Bytes,
    pub wall_time: Seconds,
    /// The process tree at (near) the peak, with the memory's kinds.
    pub at_peak: Option<Breakdown>,
    pub growth: Option<Growth>,
    /// To the end of the run, or to the kill.
    pub timeline: Timeline,
    /// Set when the tree reached 90% of its memory limit: the Python helpers reported then.
    pub limit_reached_at: Option<Seconds>,
    /// `None` for a command that runs no Python (or that no Python process reported in).
    pub python: Option<PythonFindings>,
    /// What the reader should know: what was not looked at, and why.
    pub notes: Vec<String>,
}

/// What a difference is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// The peak as a whole.
    Peak,
    /// Anonymous, file-backed or shared memory at the peak.
    MemoryKind,
    /// A process (by command line) at the peak.
    Process,
    /// Objects of a type freed only by the cyclic garbage collector.
    Cycle,
    /// A line whose allocations were alive at the peak.
    Site,
}

/// One thing that grew (or shrank) from base to head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub topic: Topic,
    pub name: String,
    pub base: Bytes,
    pub head: Bytes,
    /// Head minus base.
    pub change: i64,
    /// The reference cycle of a type, the source line of a site.
    pub detail: Option<String>,
}

/// One benchmark's diagnoses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// `benchmark` or `benchmark[dataset]`.
    pub benchmark: String,
    pub head: Diagnosis,
    pub base: Option<Diagnosis>,
    /// Base to head, biggest growth first; empty without a base.
    pub differences: Vec<Difference>,
}

/// `memgate explain --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explained {
    pub explain_version: u32,
    pub head: String,
    pub base: Option<String>,
    pub explanations: Vec<Explanation>,
}

impl Explained {
    /// Cut to what memgate itself writes, for one read from a file (the comment step's
    /// report comes from a job that ran a pull request's code): the renderers show no
    /// more, and a crafted file makes no longer comment.
    pub fn bound(&mut self) {
        self.explanations
            .truncate(crate::compare::display::MAX_REPORT_TIMELINES);
        for e in &mut self.explanations {
            e.differences.truncate(64);
            for d in [Some(&mut e.head), e.base.as_mut()].into_iter().flatten() {
                d.notes.truncate(10);
                if let Some(p) = &mut d.at_peak {
                    p.processes.truncate(super::tree::MAX_PROCESSES);
                }
                if let Some(py) = &mut d.python {
                    py.processes.truncate(50);
                    py.cycles.truncate(super::python::MAX_TYPES);
                    py.sites.truncate(super::python::MAX_SITES);
                    py.problems.truncate(20);
                }
            }
        }
    }
}

impl Explanation {
    pub fn new(benchmark: String, head: Diagnosis, base: Option<Diagnosis>) -> Self {
        let differences = base
            .as_ref()
            .map(|b| differences(b, &head))
            .unwrap_or_default();
        Explanation {
            benchmark,
            head,
            base,
            differences,
        }
    }
}

/// What changed from `base` to `head`, biggest growth first, then biggest shrinking;
/// changes under 1 MiB left out.
pub fn differences(base: &Diagnosis, head: &Diagnosis) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut add = |topic, name: String, b: Bytes, h: Bytes, detail: Option<String>| {
        let change = h.0 as i128 - b.0 as i128;
        if change.unsigned_abs() >= u128::from(MIN_DIFFERENCE) {
            out.push(Difference {
                topic,
                name,
                base: b,
                head: h,
                change: change.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
                detail,
            });
        }
    };
    add(
        Topic::Peak,
        "peak memory".into(),
        base.peak_memory,
        head.peak_memory,
        None,
    );
    if let (Some(b), Some(h)) = (&base.at_peak, &head.at_peak) {
        for (name, bk, hk) in [
            ("anonymous", b.kinds.anonymous, h.kinds.anonymous),
            ("file-backed", b.kinds.file, h.kinds.file),
            ("shared", b.kinds.shared, h.kinds.shared),
        ] {
            add(Topic::MemoryKind, name.into(), bk, hk, None);
        }
        for (command, (bp, hp)) in paired(
            b.processes.iter().map(|p| (program(&p.command), p.pss)),
            h.processes.iter().map(|p| (program(&p.command), p.pss)),
        ) {
            add(Topic::Process, command, bp, hp, None);
        }
    }
    if let (Some(b), Some(h)) = (&base.python, &head.python) {
        let cycle_of: BTreeMap<&str, Option<&String>> = b
            .cycles
            .iter()
            .chain(&h.cycles)
            .map(|t| (t.type_name.as_str(), t.cycle_text.as_ref()))
            .rev()
            .collect();
        for (name, (bb, hb)) in paired(
            b.cycles.iter().map(|t| (t.type_name.clone(), t.bytes)),
            h.cycles.iter().map(|t| (t.type_name.clone(), t.bytes)),
        ) {
            let detail = cycle_of.get(name.as_str()).copied().flatten().cloned();
            add(Topic::Cycle, name, bb, hb, detail);
        }
        let code_of: BTreeMap<String, &String> = b
            .sites
            .iter()
            .chain(&h.sites)
            .map(|s| (format!("{}:{}", s.file, s.line), &s.code))
            .collect();
        for (name, (bb, hb)) in paired(
            b.sites
                .iter()
                .map(|s| (format!("{}:{}", s.file, s.line), s.bytes)),
            h.sites
                .iter()
                .map(|s| (format!("{}:{}", s.file, s.line), s.bytes)),
        ) {
            let detail = code_of
                .get(&name)
                .map(|c| c.to_string())
                .filter(|c| !c.is_empty());
            add(Topic::Site, name, bb, hb, detail);
        }
    }
    out.sort_by(|a, b| {
        (b.change > 0)
            .cmp(&(a.change > 0))
            .then(b.change.unsigned_abs().cmp(&a.change.unsigned_abs()))
            .then(a.topic.cmp(&b.topic))
            .then(a.name.cmp(&b.name))
    });
    out
}

/// A process's name across base and head, whose command lines differ in paths (the
/// base runs in a worktree of its own) and arguments: its first two words that are not
/// options, each cut to its file name (`python3 pipeline.py`).
fn program(command: &str) -> String {
    command
        .split_whitespace()
        .filter(|w| !w.starts_with('-'))
        .take(2)
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Figures by name from both sides (summed within a side), missing ones as zero.
fn paired(
    base: impl Iterator<Item = (String, Bytes)>,
    head: impl Iterator<Item = (String, Bytes)>,
) -> BTreeMap<String, (Bytes, Bytes)> {
    let mut out: BTreeMap<String, (Bytes, Bytes)> = BTreeMap::new();
    for (name, b) in base {
        let e = out.entry(name).or_default();
        e.0 = e.0 + b;
    }
    for (name, h) in head {
        let e = out.entry(name).or_default();
        e.1 = e.1 + h;
    }
    out
}

/// How to diagnose.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Trace Python allocation sites (tracemalloc), besides the cycle report.
    pub sites: bool,
}

/// The instrument of `memgate explain`: injects the Python helper where the command is
/// Python, watches the tree for its peak, and turns each run into a [`Diagnosis`].
pub struct Diagnoser {
    options: Options,
    folder: tempfile::TempDir,
    /// The helper's files, written once before any benchmark runs.
    helper: PathBuf,
    /// The current run's watch and reports folder.
    current: Option<(PeakWatch, PathBuf, bool)>,
    /// Diagnoses by job label.
    pub diagnoses: BTreeMap<String, Diagnosis>,
}

impl Diagnoser {
    pub fn new(options: Options) -> Result<Self> {
        let cannot = |e| Error::io("cannot create a folder for the diagnosis", e);
        let folder = tempfile::Builder::new()
            .prefix("memgate-explain-")
            .tempdir()
            .map_err(cannot)?;
        let helper = folder.path().join("helper");
        python::install(&helper).map_err(cannot)?;
        Ok(Diagnoser {
            options,
            folder,
            helper,
            current: None,
            diagnoses: BTreeMap::new(),
        })
    }
}

impl crate::runner::Instrument for Diagnoser {
    fn prepare(&mut self, job: &Job) -> Result<Vec<(String, String)>> {
        // A folder of a name no benchmark can guess (an earlier one knew its own): none
        // can have put a link or a FIFO where memgate reads or writes.
        let reports = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(self.folder.path())
            .map_err(|e| Error::io("cannot create a folder for the diagnosis", e))?
            .keep();
        let python = python::is_python(&job.command.argv(), &job.cwd, job.python);
        let env = if python {
            python::environment(&self.helper, &reports, self.options.sites, &job.env)
        } else {
            Vec::new()
        };
        let limit = job.memory_limit.map(|l| (l, reports.join("limit")));
        self.current = Some((PeakWatch::new(limit), reports, python));
        Ok(env)
    }

    fn watch(&mut self) -> &mut dyn Watch {
        match &mut self.current {
            Some((watch, _, _)) => watch,
            None => unreachable!("prepare comes before watch"),
        }
    }

    fn measured(&mut self, job: &Job, measured: &Measured) {
        let Some((watch, reports, python)) = self.current.take() else {
            return;
        };
        let mut notes = Vec::new();
        if let Some(e) = &watch.trigger_error {
            notes.push(format!(
                "the Python helpers could not be asked to report at the memory limit: {e}"
            ));
        }
        let limit_reached_at = watch.limit_reached_at;
        let at_peak = watch.into_breakdown();
        if at_peak.is_none() {
            notes.push("the run ended before its tree could be read: no process breakdown".into());
        }
        let python_findings = python::read(&reports, measured.ending == Ending::MemoryLimit);
        if python && self.options.sites {
            notes.push("allocation sites were traced: tracemalloc's own time and memory are in this run's figures".into());
        }
        if python && python_findings.is_none() {
            notes.push("no Python process reported: the helper did not load (is it CPython 3.8 or later, and does the command keep PYTHONPATH?)".into());
        }
        let diagnosis = Diagnosis {
            ending: ending(&measured.ending),
            peak_memory: measured.peak_memory,
            wall_time: measured.wall_time,
            at_peak,
            growth: Growth::of(&measured.timeline),
            timeline: measured
                .timeline
                .thinned(crate::store::STORED_TIMELINE_POINTS),
            limit_reached_at,
            python: python_findings,
            notes,
        };
        self.diagnoses.insert(job.label(), diagnosis);
    }
}

fn ending(ending: &Ending) -> String {
    match ending {
        Ending::Exited(Exit::Code(0)) => "ok".into(),
        Ending::Exited(Exit::Code(c)) => format!("exit {c}"),
        Ending::Exited(Exit::Signal(s)) => format!("signal {s}"),
        Ending::Exited(_) => "failed".into(),
        Ending::Timeout => "timeout".into(),
        Ending::MemoryLimit => "memory_limit".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::python::CycleType;
    use crate::diagnose::tree::{Kinds, ProcessShare};

    fn side(peak_mib: u64, frames_mib: u64) -> Diagnosis {
        Diagnosis {
            ending: "ok".into(),
            peak_memory: Bytes(peak_mib << 20),
            at_peak: Some(Breakdown {
                processes: vec![ProcessShare {
                    pid: 1,
                    command: "python3 pipeline.py".into(),
                    pss: Bytes(peak_mib << 20),
                    ..ProcessShare::default()
                }],
                kinds: Kinds {
                    anonymous: Bytes((peak_mib - 10) << 20),
                    file: Bytes(10 << 20),
                    shared: Bytes(0),
                },
                ..Breakdown::default()
            }),
            python: Some(PythonFindings {
                cycles: (frames_mib > 0)
                    .then(|| CycleType {
                        type_name: "__main__.Frame".into(),
                        count: 4,
                        bytes: Bytes(frames_mib << 20),
                        cycle_text: Some("Frame.ww -> StrongWW._frame_ref -> Frame".into()),
                    })
                    .into_iter()
                    .collect(),
                ..PythonFindings::default()
            }),
            ..Diagnosis::default()
        }
    }

    #[test]
    fn differences_put_the_biggest_growth_first_and_drop_noise() {
        let d = differences(&side(140, 0), &side(260, 110));
        let names: Vec<_> = d.iter().map(|d| (d.topic, d.name.as_str())).collect();
        assert_eq!(
            names,
            [
                (Topic::Peak, "peak memory"),
                (Topic::MemoryKind, "anonymous"),
                (Topic::Process, "python3 pipeline.py"),
                (Topic::Cycle, "__main__.Frame"),
            ]
        );
        assert_eq!(d[3].change, 110 << 20);
        assert_eq!(
            d[3].detail.as_deref(),
            Some("Frame.ww -> StrongWW._frame_ref -> Frame")
        );
        // The same figures twice: nothing to say.
        assert!(differences(&side(140, 5), &side(140, 5)).is_empty());
    }

    #[test]
    fn shrinking_comes_after_growth() {
        let d = differences(&side(260, 110), &side(140, 0));
        assert!(d.iter().all(|d| d.change < 0));
        assert_eq!(d[0].topic, Topic::Peak);
        // Found in review: with every change of one sign the order was not tested. The
        // cycle's 100 MiB fall is the biggest change, and still comes after the growth.
        let d = differences(&side(200, 100), &side(260, 0));
        let changes: Vec<_> = d.iter().map(|d| (d.topic, d.change >> 20)).collect();
        assert_eq!(
            changes,
            [
                (Topic::Peak, 60),
                (Topic::MemoryKind, 60),
                (Topic::Process, 60),
                (Topic::Cycle, -100),
            ]
        );
    }
}
