//! The process tree at the moment of the peak, for any command in any language: each
//! process's command line, its share of the tree's memory (PSS), its own high-water
//! mark, and the tree's memory split by kind (anonymous, file-backed, shared memory).
//! Main type: [`Breakdown`].
//!
//! A capture reads `smaps_rollup` (which walks every page table of a process), `status`
//! and `cmdline` of every process: too costly for every sample, so [`PeakWatch`] takes
//! one only when the tree reaches a new high by a margin. The kept capture is then within
//! that margin of the true peak, after a number of captures that grows with the log of
//! the peak.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::measure::proc::kib_field;
use crate::measure::units::{Bytes, Seconds};
use crate::runner::execute::Watch;

/// A new capture is taken when the tree holds this much more than at the last one...
const CAPTURE_GROWTH: f64 = 1.03;
/// ...and at least this much more.
const CAPTURE_STEP: u64 = 512 << 10;
/// At most this many processes are kept per capture, the largest; the rest are summed.
pub const MAX_PROCESSES: usize = 50;
/// Share of the memory limit at which the Python helpers are asked for their report: the
/// tree is about to be killed.
pub const LIMIT_SHARE: f64 = 0.9;

/// One process at the capture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessShare {
    pub pid: i32,
    pub ppid: i32,
    /// Its command line, arguments joined by spaces (at most 300 characters).
    pub command: String,
    /// Its proportional share of the tree's resident memory.
    pub pss: Bytes,
    /// Its own resident high-water mark so far (`VmHWM`).
    pub high_water_mark: Bytes,
}

/// The tree's memory by kind, from the processes' proportional shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kinds {
    /// Heap, stacks, anonymous mappings: what programs allocate.
    pub anonymous: Bytes,
    /// Mapped files: executables, libraries, memory-mapped data.
    pub file: Bytes,
    /// Shared memory (`/dev/shm`, `memfd`, shared anonymous mappings).
    pub shared: Bytes,
}

/// The tree at one moment, near its peak.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// When, since the run started.
    pub at: Seconds,
    /// The tree's memory as the sampler measured it then.
    pub total: Bytes,
    /// The largest processes by PSS, largest first.
    pub processes: Vec<ProcessShare>,
    /// Processes beyond [`MAX_PROCESSES`]: how many, and their PSS together.
    pub others: usize,
    pub others_pss: Bytes,
    pub kinds: Kinds,
}

/// Reads the processes `pids` now.
pub fn capture(at: Seconds, total: Bytes, pids: &[i32]) -> Breakdown {
    capture_in(Path::new("/proc"), at, total, pids)
}

fn capture_in(proc: &Path, at: Seconds, total: Bytes, pids: &[i32]) -> Breakdown {
    let mut processes = Vec::with_capacity(pids.len());
    let mut kinds = Kinds::default();
    for &pid in pids {
        let dir: PathBuf = proc.join(pid.to_string());
        // A process that ended meanwhile, or one memgate may not read, is left out.
        let Ok(rollup) = std::fs::read(dir.join("smaps_rollup")) else {
            continue;
        };
        let field = |key: &[u8]| kib_field(&rollup, key).map_or(Bytes(0), Bytes::from_kib);
        kinds.anonymous = kinds.anonymous + field(b"Pss_Anon:");
        kinds.file = kinds.file + field(b"Pss_File:");
        kinds.shared = kinds.shared + field(b"Pss_Shmem:");
        let status = std::fs::read(dir.join("status")).unwrap_or_default();
        let ppid = kib_field(&status, b"\nPPid:").unwrap_or(0);
        processes.push(ProcessShare {
            pid,
            ppid: i32::try_from(ppid).unwrap_or(0),
            command: command_line(&std::fs::read(dir.join("cmdline")).unwrap_or_default()),
            pss: field(b"Pss:"),
            high_water_mark: Bytes::from_kib(kib_field(&status, b"\nVmHWM:").unwrap_or(0)),
        });
    }
    processes.sort_by(|a, b| b.pss.cmp(&a.pss).then(a.pid.cmp(&b.pid)));
    let rest = processes.split_off(processes.len().min(MAX_PROCESSES));
    Breakdown {
        at,
        total,
        others: rest.len(),
        others_pss: rest.iter().fold(Bytes(0), |sum, p| sum + p.pss),
        processes,
        kinds,
    }
}

/// `cmdline`'s NUL-separated arguments as one line, cut to 300 characters.
fn command_line(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let joined = text
        .split('\0')
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    super::python::clamp(&joined)
}

/// Watches a diagnosis run: keeps the capture nearest the peak, and asks the Python
/// helpers for their reports when the tree nears its memory limit.
pub struct PeakWatch {
    best: Option<Breakdown>,
    /// The tree's size at the last capture tried.
    tried: Option<Bytes>,
    /// The tree's size that makes the helpers report, and the file that asks them.
    limit: Option<(Bytes, PathBuf)>,
    pub limit_reached_at: Option<Seconds>,
    /// The trigger could not be written (the folder was removed by the benchmark).
    pub trigger_error: Option<String>,
}

impl PeakWatch {
    /// `limit`: the run's memory limit, with the file to create at [`LIMIT_SHARE`] of it.
    pub fn new(limit: Option<(Bytes, PathBuf)>) -> Self {
        PeakWatch {
            best: None,
            tried: None,
            limit: limit.map(|(l, path)| (Bytes((l.0 as f64 * LIMIT_SHARE) as u64), path)),
            limit_reached_at: None,
            trigger_error: None,
        }
    }

    /// The capture nearest the peak.
    pub fn into_breakdown(self) -> Option<Breakdown> {
        self.best
    }
}

impl Watch for PeakWatch {
    fn sampled(&mut self, at: Seconds, total: Bytes, pids: &[i32]) {
        // Measured from the last capture tried, kept or not: a tree whose processes
        // cannot be read is not read again at every sample.
        let due = self.tried.is_none_or(|tried| {
            total.0 as f64 >= tried.0 as f64 * CAPTURE_GROWTH && total.0 >= tried.0 + CAPTURE_STEP
        });
        if due {
            self.tried = Some(total);
            let breakdown = capture(at, total, pids);
            if !breakdown.processes.is_empty() {
                self.best = Some(breakdown);
            }
        }
        if let Some((at_share, path)) = &self.limit
            && self.limit_reached_at.is_none()
            && total >= *at_share
        {
            self.limit_reached_at = Some(at);
            // A new file, or the one a benchmark put there: never through a link, never
            // waiting on a FIFO (the sampler must go on).
            match crate::files::create_new(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    self.trigger_error = Some(format!("cannot create {}: {e}", path.display()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_joined_and_cut() {
        assert_eq!(
            command_line(b"python3\0-c\0print(1)\0"),
            "python3 -c print(1)"
        );
        let long = vec![b'a'; 1000];
        let line = command_line(&long);
        assert_eq!(line.chars().count(), 301);
        assert!(line.ends_with('…'));
    }

    #[test]
    fn captures_a_real_process_and_its_kinds() {
        let me = std::process::id() as i32;
        let b = capture(Seconds(1.0), Bytes(1), &[me, i32::MAX]);
        assert_eq!(b.processes.len(), 1, "the missing pid is left out");
        let p = &b.processes[0];
        assert_eq!(p.pid, me);
        assert!(p.pss.0 > 0 && p.high_water_mark.0 >= p.pss.0 / 2);
        assert!(b.kinds.anonymous.0 > 0 && b.kinds.file.0 > 0);
        assert!(!p.command.is_empty());
    }

    #[test]
    fn the_watch_keeps_the_capture_nearest_the_peak_and_triggers_once() {
        let dir = tempfile::tempdir().unwrap();
        let trigger = dir.path().join("limit");
        let me = std::process::id() as i32;
        let mut watch = PeakWatch::new(Some((Bytes(100 << 20), trigger.clone())));
        let mut tried = Vec::new();
        for (i, mib) in [10u64, 10, 50, 51, 95, 40].iter().enumerate() {
            watch.sampled(Seconds(i as f64), Bytes(mib << 20), &[me]);
            tried.push(watch.tried.map(|t| t.0 >> 20));
        }
        // 10, 50 and 95 MiB are new highs; 51 is within the margin of 50.
        assert_eq!(tried, [10, 10, 50, 50, 95, 95].map(Some));
        assert_eq!(watch.limit_reached_at, Some(Seconds(4.0)));
        assert!(trigger.exists());
        assert_eq!(watch.into_breakdown().unwrap().total, Bytes(95 << 20));
    }

    /// Found in review: a tree none of whose processes could be read was read again at
    /// every sample. A capture that finds nothing waits for the next new high as well.
    #[test]
    fn a_capture_that_finds_nothing_is_not_retried_at_every_sample() {
        let mut watch = PeakWatch::new(None);
        for (i, mib) in [10u64, 10, 10].iter().enumerate() {
            watch.sampled(Seconds(i as f64), Bytes(mib << 20), &[]);
        }
        assert_eq!(watch.tried, Some(Bytes(10 << 20)));
        assert!(watch.into_breakdown().is_none());
    }
}
