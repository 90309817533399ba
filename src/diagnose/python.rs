//! The Python side of a diagnosis: the helper memgate injects into every Python process
//! of a benchmark (through `PYTHONPATH` and `sitecustomize`, chained to any existing one),
//! and the reports it leaves, read back as untrusted input and merged over the process
//! tree. Main type: [`PythonFindings`].
//!
//! The helper is two real Python files beside this one, compiled in and tested with
//! Python itself (`tests/python/`). A report is a benchmark's file like any other: it is
//! read without following links, bounded in size, and every figure and text in it is
//! clamped before it reaches a renderer (which escapes it).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::measure::units::Bytes;

/// The `sitecustomize` that starts the helper and chains to the one it hides.
pub const SITECUSTOMIZE: &str = include_str!("python/sitecustomize.py");
/// The helper itself.
pub const HELPER: &str = include_str!("python/memgate_diag.py");
/// The report format the helper writes (its `memgate_diag` key).
const FORMAT: u32 = 1;
/// A report larger than this is not read: the helper's own are a few KiB.
const MAX_REPORT: u64 = 256 << 10;
/// At most this many reports are read per run (one per Python process).
const MAX_REPORTS: usize = 500;
/// Kept per report as read, and per side after merging.
pub(crate) const MAX_TYPES: usize = 20;
pub(crate) const MAX_SITES: usize = 25;
const MAX_TEXT: usize = 300;

/// Whether the command is Python's: `python`, `python3.11`, a script or console entry
/// point whose `#!` names python, or a shell line that calls python. `setting` (the
/// config's `python:`) wins.
pub fn is_python(argv: &[String], cwd: &Path, setting: Option<bool>) -> bool {
    if let Some(set) = setting {
        return set;
    }
    match argv {
        [] => false,
        [shell, flag, line, ..] if flag == "-c" && shell.ends_with("sh") => line
            .split(|c: char| c.is_whitespace() || ";&|(){}'\"`".contains(c))
            .any(names_python),
        [first, ..] => names_python(first) || shebang_names_python(first, cwd),
    }
}

/// Whether `word` (a program, with or without its folder) is a Python interpreter's name:
/// `python`, `python3.11`, `pypy3`.
pub fn names_python(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    base.starts_with("python") || base.starts_with("pypy")
}

fn shebang_names_python(program: &str, cwd: &Path) -> bool {
    let path = if program.contains('/') {
        cwd.join(program)
    } else {
        use std::os::unix::ffi::OsStrExt;
        let Some(paths) = std::env::var_os("PATH") else {
            return false;
        };
        match crate::files::find_program(program, cwd, Some(paths.as_bytes())) {
            Some(p) => p,
            None => return false,
        }
    };
    crate::files::shebang(&path).is_some_and(|line| line.contains("python"))
}

/// Writes the helper into a new folder `dir` (of memgate's, before any benchmark runs).
pub fn install(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dir)?;
    std::fs::write(dir.join("sitecustomize.py"), SITECUSTOMIZE)?;
    std::fs::write(dir.join("memgate_diag.py"), HELPER)
}

/// The environment that injects the helper in `dir` into a run whose reports go to
/// `reports`.
pub fn environment(
    dir: &Path,
    reports: &Path,
    sites: bool,
    env: &[(String, String)],
) -> Vec<(String, String)> {
    // The benchmark's own PYTHONPATH (its env, else memgate's) follows the helper's.
    let previous = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PYTHONPATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var("PYTHONPATH").ok())
        .filter(|p| !p.is_empty());
    let path = match previous {
        Some(p) => format!("{}:{p}", dir.display()),
        None => dir.display().to_string(),
    };
    vec![
        ("PYTHONPATH".into(), path),
        ("MEMGATE_DIAG_DIR".into(), reports.display().to_string()),
        (
            "MEMGATE_DIAG_SITES".into(),
            if sites { "1" } else { "0" }.into(),
        ),
    ]
}

/// One Python process's report, as the helper writes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Report {
    memgate_diag: u32,
    pid: i64,
    argv: Vec<String>,
    python: String,
    event: String,
    gc: GcStats,
    cycles: Cycles,
    sites: Option<Sites>,
    errors: Vec<String>,
}

impl Report {
    /// Cut to what is merged, as soon as read: 500 reports of long lists are never held.
    fn bound(&mut self) {
        self.argv.truncate(20);
        self.errors.truncate(5);
        self.cycles.types.truncate(MAX_TYPES);
        if let Some(sites) = &mut self.sites {
            sites.top.truncate(MAX_SITES);
            for site in &mut sites.top {
                site.traceback.truncate(5);
            }
        }
    }
}

/// What the cyclic garbage collector did, summed over the processes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GcStats {
    /// Collections per generation.
    pub collections: [u64; 3],
    /// Objects collected per generation.
    pub collected: [u64; 3],
    pub uncollectable: u64,
    /// Seconds inside the collector.
    pub time_s: f64,
    /// Seconds the helper spent on its analysis (its own overhead).
    pub analysis_s: f64,
    pub analysed: u64,
    pub not_analysed: u64,
    /// Objects the helper could not free at once: the collector freed them later.
    pub released_late: u64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Cycles {
    objects: u64,
    bytes: u64,
    types: Vec<CycleType>,
}

/// Objects of one type freed only by the cyclic garbage collector.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CycleType {
    /// `module.QualName` (`dict` for built-ins).
    #[serde(rename = "type")]
    pub type_name: String,
    pub count: u64,
    /// What the cycles holding objects of this type held, together.
    pub bytes: Bytes,
    /// The shortest reference cycle found through one of them, edges named:
    /// `Frame.ww -> StrongWW._frame_ref -> Frame`.
    pub cycle_text: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Sites {
    peak_traced: u64,
    snapshot_traced: u64,
    top: Vec<Site>,
}

/// One line whose allocations were alive at the kept snapshot, near the peak.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Site {
    pub file: String,
    pub line: u64,
    pub bytes: Bytes,
    pub count: u64,
    /// The line's source text.
    pub code: String,
    /// Callers, innermost last.
    pub traceback: Vec<Frame>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Frame {
    pub file: String,
    pub line: u64,
}

/// One Python process that reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PythonProcess {
    pub pid: i64,
    pub command: String,
    pub python: String,
    /// `exit`, `running` (its last report before it ended without `atexit`), or `limit`
    /// (taken as the tree neared its memory limit).
    pub event: String,
}

/// The Python findings of one diagnosis run, over every Python process of the tree.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PythonFindings {
    pub processes: Vec<PythonProcess>,
    pub gc: GcStats,
    /// Objects freed only by the cyclic collector, by type, most bytes first.
    pub cycles: Vec<CycleType>,
    pub cycle_objects: u64,
    pub cycle_bytes: Bytes,
    /// Allocation sites alive near the peak, most bytes first; empty when not traced.
    pub sites: Vec<Site>,
    pub sites_traced: bool,
    /// Traced memory in the kept snapshots, and the traced peak, summed over processes.
    pub snapshot_traced: Bytes,
    pub peak_traced: Bytes,
    /// Some reports were taken as the tree neared its memory limit.
    pub at_limit: bool,
    /// What went wrong in the helpers or in reading their reports.
    pub problems: Vec<String>,
}

/// Reads the reports in `dir`: for each process its last, or, when the run was killed at
/// its memory limit (`killed`), the one taken at 90% of the limit where there is one.
/// `None` when no Python process reported.
pub fn read(dir: &Path, killed: bool) -> Option<PythonFindings> {
    let mut problems = Vec::new();
    let mut by_pid: BTreeMap<i64, Report> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return None;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("py-") && n.ends_with(".json"))
        .collect();
    names.sort();
    if names.len() > MAX_REPORTS {
        problems.push(format!(
            "{} reports; the first {MAX_REPORTS} were read",
            names.len()
        ));
        names.truncate(MAX_REPORTS);
    }
    for name in names {
        let path = dir.join(&name);
        let report = crate::files::read_own(&path, MAX_REPORT)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice::<Report>(&bytes).map_err(|e| e.to_string()));
        match report {
            Ok(mut r) if r.memgate_diag == FORMAT => {
                r.bound();
                // Which of a process's two reports wins.
                let wanted = |event: &str| (event == "limit") == killed;
                match by_pid.get(&r.pid) {
                    Some(kept) if wanted(&kept.event) && !wanted(&r.event) => {}
                    _ => {
                        by_pid.insert(r.pid, r);
                    }
                }
            }
            Ok(r) => problems.push(format!(
                "{name}: report format {} is not {FORMAT} (a helper of another memgate?)",
                r.memgate_diag
            )),
            Err(e) => problems.push(format!("{name}: unreadable: {}", clamp(&e))),
        }
    }
    if by_pid.is_empty() && problems.is_empty() {
        return None;
    }
    Some(merge(by_pid.into_values().collect(), problems))
}

fn merge(reports: Vec<Report>, mut problems: Vec<String>) -> PythonFindings {
    let mut out = PythonFindings::default();
    let mut types: BTreeMap<String, CycleType> = BTreeMap::new();
    let mut sites: BTreeMap<(String, u64), Site> = BTreeMap::new();
    // Each report was cut to size as read (`Report::bound`).
    for r in reports {
        out.processes.push(PythonProcess {
            pid: r.pid,
            command: clamp(&r.argv.join(" ")),
            python: clamp(&r.python),
            event: clamp(&r.event),
        });
        out.at_limit |= r.event == "limit";
        let g = &r.gc;
        for i in 0..3 {
            out.gc.collections[i] = out.gc.collections[i].saturating_add(g.collections[i]);
            out.gc.collected[i] = out.gc.collected[i].saturating_add(g.collected[i]);
        }
        out.gc.uncollectable = out.gc.uncollectable.saturating_add(g.uncollectable);
        out.gc.time_s += finite(g.time_s);
        out.gc.analysis_s += finite(g.analysis_s);
        out.gc.analysed = out.gc.analysed.saturating_add(g.analysed);
        out.gc.not_analysed = out.gc.not_analysed.saturating_add(g.not_analysed);
        out.gc.released_late = out.gc.released_late.saturating_add(g.released_late);
        out.cycle_objects = out.cycle_objects.saturating_add(r.cycles.objects);
        out.cycle_bytes = out.cycle_bytes + Bytes(r.cycles.bytes);
        for t in r.cycles.types {
            let entry = types
                .entry(clamp(&t.type_name))
                .or_insert_with(|| CycleType {
                    type_name: clamp(&t.type_name),
                    ..CycleType::default()
                });
            entry.count = entry.count.saturating_add(t.count);
            entry.bytes = entry.bytes + t.bytes;
            if entry.cycle_text.is_none() {
                entry.cycle_text = t.cycle_text.as_deref().map(clamp);
            }
        }
        if let Some(s) = r.sites {
            out.sites_traced = true;
            out.snapshot_traced = out.snapshot_traced + Bytes(s.snapshot_traced);
            out.peak_traced = out.peak_traced + Bytes(s.peak_traced);
            for site in s.top {
                let file = clamp(&site.file);
                let entry = sites
                    .entry((file.clone(), site.line))
                    .or_insert_with(|| Site {
                        file,
                        line: site.line,
                        code: clamp(&site.code),
                        traceback: site
                            .traceback
                            .iter()
                            .map(|f| Frame {
                                file: clamp(&f.file),
                                line: f.line,
                            })
                            .collect(),
                        ..Site::default()
                    });
                entry.bytes = entry.bytes + site.bytes;
                entry.count = entry.count.saturating_add(site.count);
            }
        }
        for e in &r.errors {
            problems.push(format!("python process {}: {}", r.pid, clamp(e)));
        }
    }
    out.cycles = types.into_values().collect();
    out.cycles
        .sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.type_name.cmp(&b.type_name)));
    out.cycles.truncate(MAX_TYPES);
    out.sites = sites.into_values().collect();
    out.sites.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then((&a.file, a.line).cmp(&(&b.file, b.line)))
    });
    out.sites.truncate(MAX_SITES);
    problems.truncate(20);
    out.problems = problems;
    out
}

/// A benchmark's text cut to [`MAX_TEXT`] characters (renderers escape it).
pub(super) fn clamp(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn finite(x: f64) -> f64 {
    if x.is_finite() && x >= 0.0 { x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn python_is_found_in_commands() {
        let cwd = Path::new("/");
        assert!(is_python(&argv(&["python3", "x.py"]), cwd, None));
        assert!(is_python(
            &argv(&["/usr/bin/python3.11", "-m", "x"]),
            cwd,
            None
        ));
        assert!(is_python(
            &argv(&["sh", "-c", "cd x && python3 run.py"]),
            cwd,
            None
        ));
        assert!(is_python(
            &argv(&["sh", "-c", "cat x | (python3 -c 'pass')"]),
            cwd,
            None
        ));
        assert!(!is_python(&argv(&["sh", "-c", "cargo bench"]), cwd, None));
        assert!(!is_python(&argv(&["ls"]), cwd, None));
        assert!(is_python(&argv(&["ls"]), cwd, Some(true)));
        assert!(!is_python(&argv(&["python3"]), cwd, Some(false)));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tool"),
            "#!/usr/bin/env python3\nprint(1)\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("other"), "#!/bin/sh\necho\n").unwrap();
        assert!(is_python(&argv(&["./tool"]), dir.path(), None));
        assert!(!is_python(&argv(&["./other"]), dir.path(), None));
    }

    #[test]
    fn reports_are_merged_and_limit_reports_win() {
        let dir = tempfile::tempdir().unwrap();
        let report = |pid: u32, event: &str, bytes: u64| {
            format!(
                r#"{{"memgate_diag": 1, "pid": {pid}, "argv": ["x.py"], "python": "3.11.7", "event": "{event}",
                "gc": {{"collections": [10, 2, 1], "collected": [5, 0, 7], "uncollectable": 0, "time_s": 0.5}},
                "cycles": {{"objects": 3, "bytes": {bytes}, "types": [{{"type": "__main__.Frame", "count": 2, "bytes": {bytes}, "cycle_text": "Frame.ww -> StrongWW._frame_ref -> Frame"}}]}},
                "sites": {{"peak_traced": 100, "snapshot_traced": 90, "top": [{{"file": "a.py", "line": 3, "bytes": 50, "count": 1, "code": "x = [0] * n", "traceback": []}}]}},
                "errors": []}}"#
            )
        };
        std::fs::write(dir.path().join("py-10.json"), report(10, "exit", 1000)).unwrap();
        std::fs::write(dir.path().join("py-11.json"), report(11, "running", 10)).unwrap();
        std::fs::write(
            dir.path().join("py-11-limit.json"),
            report(11, "limit", 500),
        )
        .unwrap();
        std::fs::write(dir.path().join("py-12.json"), "not json").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("py-13.json")).unwrap();
        let f = read(dir.path(), true).unwrap();
        assert_eq!(f.processes.len(), 2);
        assert!(f.at_limit);
        // A run that ended on its own: its processes' last reports.
        let survived = read(dir.path(), false).unwrap();
        assert!(!survived.at_limit);
        assert_eq!(survived.cycles[0].bytes, Bytes(1010));
        assert_eq!(f.cycles.len(), 1);
        assert_eq!(f.cycles[0].bytes, Bytes(1500));
        assert_eq!(f.cycles[0].count, 4);
        assert_eq!(f.gc.collections, [20, 4, 2]);
        assert_eq!(f.sites[0].bytes, Bytes(100));
        assert_eq!(f.problems.len(), 2, "{:?}", f.problems);
        assert!(f.problems.iter().any(|p| p.contains("symbolic link")));
    }

    #[test]
    fn no_reports_is_none_and_hostile_text_is_clamped() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path(), false).is_none());
        let long = "x".repeat(10_000);
        let text = format!(
            r#"{{"memgate_diag": 1, "pid": 1, "argv": ["{long}"], "cycles": {{"types": [{{"type": "{long}", "count": 1, "bytes": 18446744073709551615}}, {{"type": "b", "count": 1, "bytes": 18446744073709551615}}]}}}}"#
        );
        std::fs::write(dir.path().join("py-1.json"), text).unwrap();
        let f = read(dir.path(), false).unwrap();
        assert!(f.processes[0].command.chars().count() <= MAX_TEXT + 1);
        assert!(f.cycles[0].type_name.chars().count() <= MAX_TEXT + 1);
    }
}
