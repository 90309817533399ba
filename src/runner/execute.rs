//! One measured execution of a command: hand it to the launcher, sample the tree every
//! interval, enforce the timeout and memory limit, and combine the launcher's report with
//! the samples into a [`Measured`]. Main type: [`Executor`].

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::interrupt::interrupted;
use super::launcher::{Exit, LAUNCH_ARG, LaunchReport, Request};
use crate::error::{Error, Result};
use crate::measure::cgroup::CgroupParent;
use crate::measure::probe::{ProbeKind, TreeProbe};
use crate::measure::proc::thread_cpu;
use crate::measure::quality::{self, Evidence, PeakQuality, Samples};
use crate::measure::timeline::Timeline;
use crate::measure::units::{Bytes, Seconds};

/// Environment variables memgate never passes to a benchmark (a pull request's code):
/// the tokens of GitHub Actions, and the runner's command files, through which a step
/// sets variables, PATH entries, outputs and state for the steps after it.
pub const WITHHELD: [&str; 12] = [
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_RUNTIME_URL",
    "ACTIONS_RESULTS_URL",
    "ACTIONS_CACHE_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STATE",
    "GITHUB_STEP_SUMMARY",
];

/// The share of a core the sampler's looks at the tree may take: beyond it, the
/// interval stretches (the reads of PSS have a budget of their own within it).
const SAMPLER_SHARE: f64 = 0.04;
/// The longest the stretched interval becomes (unless the configured one is longer):
/// the sampler's own cost never puts a tree out of sight for longer.
const LONGEST_INTERVAL: Duration = Duration::from_millis(100);

/// How often a tree being killed is looked at again.
const KILL_POLL: Duration = Duration::from_millis(10);
/// How long the launcher may take to answer once the tree of a run that went over its
/// limits was killed, and once memgate was asked to stop.
const GRACE_STOPPED: Duration = Duration::from_secs(10);
const GRACE_INTERRUPTED: Duration = Duration::from_secs(2);

/// What to execute and under which limits.
pub struct Execution<'a> {
    pub argv: &'a [String],
    pub cwd: &'a Path,
    pub env: &'a [(String, String)],
    pub timeout: Duration,
    pub memory_limit: Option<Bytes>,
    pub sample_interval: Duration,
    pub stdout: &'a Path,
    pub stderr: &'a Path,
}

/// How an execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every process exited; the first one with this code or signal.
    Exited(Exit),
    /// Killed by memgate at the timeout.
    Timeout,
    /// Killed by memgate at the memory limit.
    MemoryLimit,
}

/// The figures of one execution.
#[derive(Clone, Debug)]
pub struct Measured {
    pub ending: Ending,
    pub wall_time: Seconds,
    pub cpu_time: Seconds,
    pub peak_memory: Bytes,
    pub max_rss: Bytes,
    pub timeline: Timeline,
    pub probe: ProbeKind,
    pub quality: PeakQuality,
    pub samples: Samples,
    /// The largest single process's high-water mark, where the kernel's figures show
    /// it: the peak is at least this.
    pub peak_lower_bound: Option<Bytes>,
    /// The peak is at most this, where that is known.
    pub peak_upper_bound: Option<Bytes>,
    /// CPU time memgate spent watching this run (sampling, limits): its own overhead.
    pub sampler_cpu_time: Seconds,
    /// Logs cut to their tail, and how many bytes each lost.
    pub dropped_logs: Vec<(std::path::PathBuf, u64)>,
}

/// Something that looks on while a run is measured (the diagnosis of `memgate explain`):
/// told of every sample of the tree, after the sampler took it.
pub trait Watch {
    /// The tree held `total` at `at`, in the processes `pids` (as the sample's own walk
    /// of the tree found them).
    fn sampled(&mut self, at: Seconds, total: Bytes, pids: &[i32]);
}

/// The watch of a plain run: nothing.
struct Unwatched;

impl Watch for Unwatched {
    fn sampled(&mut self, _: Seconds, _: Bytes, _: &[i32]) {}
}

/// Runs executions through one launcher process.
pub struct Executor {
    launcher: Child,
    pid: i32,
    requests: Option<ChildStdin>,
    replies: BufReader<ChildStdout>,
    cgroup: Option<CgroupParent>,
    count: u64,
}

impl Executor {
    /// Starts the launcher (memgate's own binary, re-executed).
    pub fn new(cgroup: Option<CgroupParent>) -> Result<Self> {
        // memgate is a subreaper as well: if the launcher itself dies, its orphans come to
        // memgate, which then kills them rather than leave them to init.
        // SAFETY: prctl with plain integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        let (launcher, pid, requests, replies) = spawn_launcher()?;
        Ok(Executor {
            launcher,
            pid,
            requests,
            replies,
            cgroup,
            count: 0,
        })
    }

    pub fn probe_kind(&self) -> ProbeKind {
        ProbeKind::of(self.cgroup.as_ref().map(CgroupParent::version))
    }

    /// Runs `spec` to the end (or to its limit) and measures it.
    pub fn execute(&mut self, spec: &Execution) -> Result<Measured> {
        self.execute_watched(spec, &mut Unwatched)
    }

    /// As [`Executor::execute`], telling `watch` of every sample.
    pub fn execute_watched(&mut self, spec: &Execution, watch: &mut dyn Watch) -> Result<Measured> {
        self.count += 1;
        let cgroup = match &self.cgroup {
            Some(parent) => Some(
                parent
                    .create(&format!(
                        "memgate-{}-{}-{:x}",
                        std::process::id(),
                        self.count,
                        start_nanos()
                    ))
                    .map_err(|e| Error::io("cannot create the run's cgroup", e))?,
            ),
            None => None,
        };
        let request = Request {
            argv: spec.argv.to_vec(),
            cwd: spec.cwd.to_path_buf(),
            env: spec.env.to_vec(),
            stdout: spec.stdout.to_path_buf(),
            stderr: spec.stderr.to_path_buf(),
            cgroup: cgroup.as_ref().map(|c| c.dir().to_path_buf()),
        };
        let mut line = serde_json::to_string(&request)
            .map_err(|e| Error::io("cannot encode a request", std::io::Error::other(e)))?;
        line.push('\n');
        let lost = |e| Error::io("the launcher has gone", e);
        let requests = self
            .requests
            .as_mut()
            .ok_or_else(|| lost(std::io::Error::other("closed")))?;
        requests.write_all(line.as_bytes()).map_err(lost)?;
        requests.flush().map_err(lost)?;

        let start = Instant::now();
        let cpu_start = thread_cpu();
        let mut probe = TreeProbe::new(self.pid, cgroup);
        let mut schedule = Schedule::new(spec.sample_interval, start);
        let mut most_processes = 0;
        let mut timeline = Timeline::default();
        let mut sampled_peak = Bytes(0);
        let mut stopped: Option<Ending> = None;
        let mut was_interrupted = false;
        let deadline = start + spec.timeout;
        let mut killing_since: Option<Instant> = None;
        let mut logs = super::logcap::LogCap::new(&[spec.stdout, spec.stderr]);
        loop {
            logs.trim();
            // Never wait past the deadline, however long the interval; once the tree is
            // being killed, look again soon for processes forked meanwhile.
            let wait = if killing_since.is_some() {
                KILL_POLL
            } else {
                schedule
                    .interval
                    .min(deadline.saturating_duration_since(Instant::now()))
            };
            if reply_ready(&self.replies, wait) {
                break;
            }
            if interrupted() && !was_interrupted {
                was_interrupted = true;
                killing_since.get_or_insert_with(Instant::now);
            }
            if let Some(since) = killing_since {
                probe.kill();
                // The tree is gone but the launcher does not answer (stuck in a system
                // call): it goes too, rather than memgate waiting on it for ever.
                let grace = if was_interrupted {
                    GRACE_INTERRUPTED
                } else {
                    GRACE_STOPPED
                };
                if since.elapsed() > grace {
                    self.abandon_launcher();
                    if was_interrupted {
                        return Err(Error::Interrupted);
                    }
                    // The run ended at its limit; the next runs get a new launcher.
                    (self.launcher, self.pid, self.requests, self.replies) = spawn_launcher()?;
                    let elapsed = Seconds::from_duration(start.elapsed());
                    return Ok(Measured {
                        ending: stopped.unwrap_or(Ending::Timeout),
                        wall_time: elapsed,
                        cpu_time: Seconds(0.0),
                        peak_memory: sampled_peak,
                        max_rss: sampled_peak,
                        timeline,
                        probe: probe.kind(),
                        // What the launcher knew went with it.
                        quality: PeakQuality::LowerBound,
                        samples: schedule.samples,
                        peak_lower_bound: None,
                        peak_upper_bound: None,
                        sampler_cpu_time: Seconds::from_duration(
                            thread_cpu().saturating_sub(cpu_start),
                        ),
                        dropped_logs: Vec::new(),
                    });
                }
                continue;
            }
            let at = Seconds::from_duration(start.elapsed());
            let cost = thread_cpu();
            let sample = probe.sample().filter(|s| s.processes > 0);
            let late = schedule.looked(
                thread_cpu().saturating_sub(cost),
                sample.map(|s| s.pss_cost),
            );
            if late > 0 && probe.held_since_last_look() {
                schedule.samples.covered += late;
            }
            if let Some(sample) = sample {
                most_processes = most_processes.max(sample.processes);
                timeline.push(at, sample.total);
                sampled_peak = sampled_peak.max(sample.total);
                if spec.memory_limit.is_some_and(|limit| sample.total > limit) {
                    stopped = Some(Ending::MemoryLimit);
                    killing_since = Some(Instant::now());
                    probe.kill();
                    continue;
                }
                watch.sampled(at, sample.total, probe.pids());
            }
            if Instant::now() >= deadline {
                stopped = Some(Ending::Timeout);
                killing_since = Some(Instant::now());
                probe.kill();
            }
        }
        schedule.finished();
        let sampler_cpu_time = Seconds::from_duration(thread_cpu().saturating_sub(cpu_start));
        let mut reply = String::new();
        let read = self.replies.read_line(&mut reply).map_err(lost)?;
        if read == 0 {
            // The launcher died: its orphans are memgate's now; none may live on.
            let status = self.abandon_launcher();
            return Err(lost(std::io::Error::other(format!(
                "it exited ({status:?}); its message, if any, is above"
            ))));
        }
        if was_interrupted {
            return Err(Error::Interrupted);
        }
        let report: LaunchReport = serde_json::from_str(&reply)
            .map_err(|e| Error::io("the launcher's report", std::io::Error::other(e)))?;
        if let Some(error) = report.error {
            return Err(Error::io("the launcher", std::io::Error::other(error)));
        }
        // Only the logs' tails are kept; say what was dropped.
        let mut dropped_logs = Vec::new();
        for path in [spec.stdout, spec.stderr] {
            // A log that cannot be cut (its folder made read-only, say) stays as it is.
            if let Ok(bytes @ 1..) = super::logcap::finish(path) {
                dropped_logs.push((path.to_path_buf(), bytes));
            }
        }
        let kernel_peak = probe.kernel_peak();
        let kind = probe.kind();
        let quality = quality::judge(Evidence {
            cgroup: kernel_peak.is_some(),
            // Below what memgate saw the cgroup hold: its high-water mark was reset
            // (a benchmark running as root may write to it).
            cgroup_reset: kernel_peak.is_some_and(|peak| peak < sampled_peak),
            samples: schedule.samples,
            most_processes,
            orphans: report.others_max_rss_kib > 0,
            root_reaped_children: report.root_reaped_children,
            own_high_water_mark: above_fold(&report),
        });
        drop(probe); // removes the run's cgroup

        let max_rss = max_rss(&report, sampled_peak);
        let peak_lower_bound = high_water_mark(&report);
        let mut peak_memory = sampled_peak.max(max_rss);
        if let Some(peak) = kernel_peak {
            peak_memory = peak_memory.max(peak);
        }
        let ending = match stopped {
            Some(ending) => ending,
            None if spec.memory_limit.is_some_and(|limit| peak_memory > limit) => {
                // Over the limit between two samples: the high-water marks tell.
                Ending::MemoryLimit
            }
            None => Ending::Exited(report.exit),
        };
        Ok(Measured {
            ending,
            wall_time: Seconds(report.wall_ns as f64 / 1e9),
            cpu_time: Seconds(report.cpu_us as f64 / 1e6),
            peak_memory,
            max_rss,
            timeline,
            probe: kind,
            quality,
            samples: schedule.samples,
            peak_lower_bound,
            peak_upper_bound: (quality == PeakQuality::Exact).then_some(peak_memory),
            sampler_cpu_time,
            dropped_logs,
        })
    }

    /// Kills the launcher and whatever of its tree is left, and reaps them: it no longer
    /// answers, so no further run can go through it. Returns how the launcher ended.
    fn abandon_launcher(&mut self) -> Option<std::process::ExitStatus> {
        let mut tree = crate::measure::proc::ProcTree::default();
        super::launcher::kill_tree(&mut tree, self.pid);
        // SAFETY: kill has no memory preconditions; the pid is our own child's.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        self.requests = None;
        let status = self.launcher.wait().ok();
        let mut tree = crate::measure::proc::ProcTree::default();
        super::launcher::kill_tree(&mut tree, std::process::id() as i32);
        reap_orphans();
        status
    }
}

impl Drop for Executor {
    /// Stops whatever still runs and lets the launcher go: closing its stdin ends it.
    fn drop(&mut self) {
        // Not for a launcher already reaped: its pid may be another process's by now.
        if matches!(self.launcher.try_wait(), Ok(None)) {
            let mut tree = crate::measure::proc::ProcTree::default();
            super::launcher::kill_tree(&mut tree, self.pid);
        }
        self.requests = None;
        let _ = self.launcher.wait();
    }
}

/// The sampler's pace: the configured interval, stretched while a look at the tree
/// costs more than [`SAMPLER_SHARE`] of it, and the count of looks kept against due.
struct Schedule {
    configured: Duration,
    interval: Duration,
    /// A look's CPU cost, smoothed.
    cost: Duration,
    last: Instant,
    /// The last look found the tree.
    found: bool,
    samples: Samples,
}

impl Schedule {
    /// A schedule from `start`, when the run was handed to the launcher.
    fn new(configured: Duration, start: Instant) -> Self {
        Schedule {
            configured,
            interval: configured,
            cost: Duration::ZERO,
            last: start,
            found: false,
            samples: Samples::default(),
        }
    }

    /// Records a look that cost `cost` of CPU and found the tree, `pss_cost` of it on
    /// PSS reads (which have their own budget), or found none (the tree not started
    /// yet, or gone: nothing was due). The looks due since the last one are the
    /// intervals that passed: a sampler starved of CPU owes them. Returns how many
    /// were missed.
    fn looked(&mut self, cost: Duration, pss_cost: Option<Duration>) -> u64 {
        let now = Instant::now();
        let mut missed = 0;
        self.found = pss_cost.is_some();
        if let Some(pss_cost) = pss_cost {
            let due = ((now - self.last).as_secs_f64() / self.interval.as_secs_f64()).round();
            let due = (due as u64).max(1);
            self.samples.kept += 1;
            self.samples.due += due;
            missed = due - 1;
            self.cost = (self.cost * 7 + cost.saturating_sub(pss_cost)) / 8;
        }
        self.last = now;
        let affordable = self.cost.div_f64(SAMPLER_SHARE);
        self.interval = affordable.clamp(self.configured, LONGEST_INTERVAL.max(self.configured));
        missed
    }

    /// The run ended: the looks due since the last one, while the tree was still there,
    /// were missed (whole intervals only: the tree may have ended just after it).
    fn finished(&mut self) {
        if self.found {
            let due = (self.last.elapsed().as_secs_f64() / self.interval.as_secs_f64()).floor();
            self.samples.due += due as u64;
        }
    }
}

/// Starts the launcher (memgate's own binary, re-executed): the child, its pid, its
/// stdin for requests and its stdout for reports.
fn spawn_launcher() -> Result<(Child, i32, Option<ChildStdin>, BufReader<ChildStdout>)> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("cannot find memgate's own executable", e))?;
    let mut command = Command::new(&exe);
    // CI secrets and command files stay out of reach of the benchmarks.
    for name in WITHHELD {
        command.env_remove(name);
    }
    let mut launcher = command
        .arg(LAUNCH_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Its own process group: Ctrl-C on the terminal reaches memgate alone, which
        // then stops the tree itself.
        .process_group(0)
        .spawn()
        .map_err(|e| Error::io(format!("cannot start {}", exe.display()), e))?;
    let pid = launcher.id() as i32;
    let requests = launcher.stdin.take();
    let replies = launcher
        .stdout
        .take()
        .map(BufReader::new)
        .ok_or_else(|| Error::io("the launcher", std::io::Error::other("no stdout")))?;
    Ok((launcher, pid, requests, replies))
}

/// How far above the launcher's fold the first process's `ru_maxrss` may still be the
/// fold: the fold is read just before exec, and the launcher's copy touches a few more
/// pages on its way into exec (seen: up to half a megabyte, more as memgate's binary
/// grows).
const FOLD_SLACK_KIB: u64 = 1024;

/// Whether the first process's `ru_maxrss` is its own high-water mark, not the fold.
fn above_fold(report: &LaunchReport) -> bool {
    report.root_max_rss_kib > report.fold_kib + FOLD_SLACK_KIB
}

/// The largest single process's high-water mark. The first process's `ru_maxrss` holds
/// the launcher's copy folded in at exec; a figure above that fold is the benchmark's
/// own. At or below it, the process never grew beyond the fold (about a megabyte), and
/// the samples, where there are any, say more exactly what it held.
fn max_rss(report: &LaunchReport, sampled: Bytes) -> Bytes {
    let root = if above_fold(report) {
        Bytes::from_kib(report.root_max_rss_kib)
    } else {
        Bytes(0)
    };
    let known = root.max(Bytes::from_kib(report.others_max_rss_kib));
    if known > Bytes(0) {
        known
    } else if sampled > Bytes(0) {
        sampled
    } else {
        Bytes::from_kib(report.root_max_rss_kib)
    }
}

/// The largest high-water mark the kernel reported for a single process of the tree,
/// if any was above the launcher's fold (below it, the fold hides the process's own).
fn high_water_mark(report: &LaunchReport) -> Option<Bytes> {
    let root = above_fold(report).then_some(report.root_max_rss_kib);
    let largest = root.unwrap_or(0).max(report.others_max_rss_kib);
    (largest > 0).then(|| Bytes::from_kib(largest))
}

/// The wall clock's nanoseconds: a run cgroup's name is unique even where pids repeat
/// (containers sharing a cgroup parent).
fn start_nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

/// Reaps whatever children memgate has left (orphans of a dead launcher).
fn reap_orphans() {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer; WNOHANG never blocks.
        if unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } <= 0 {
            return;
        }
    }
}

/// Waits up to `timeout` for the launcher's report to arrive; true once it has.
fn reply_ready(replies: &BufReader<ChildStdout>, timeout: Duration) -> bool {
    if !replies.buffer().is_empty() {
        return true;
    }
    let mut pfd = libc::pollfd {
        fd: replies.get_ref().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // Saturated at 68 years, which fits every libc's time_t (musl deprecates naming the
    // type), so a long wait cannot wrap into an invalid one.
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as _,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: one valid pollfd and a valid timespec; EINTR just returns early. POLLHUP
    // (the launcher died) counts as ready: the read then tells.
    unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) > 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(root: u64, others: u64, fold: u64) -> LaunchReport {
        LaunchReport {
            root_max_rss_kib: root,
            others_max_rss_kib: others,
            fold_kib: fold,
            ..LaunchReport::default()
        }
    }

    #[test]
    fn max_rss_ignores_the_launchers_fold() {
        let mib = |n: u64| Bytes(n << 20);
        // A large first process: its own figure.
        assert_eq!(max_rss(&report(200 * 1024, 0, 1500), mib(150)), mib(200));
        // A tiny first process: the fold dominates, the sample is better.
        assert_eq!(
            max_rss(&report(1500, 0, 1500), Bytes(900 << 10)),
            Bytes(900 << 10)
        );
        // Orphans count.
        assert_eq!(max_rss(&report(1500, 100 * 1024, 1500), mib(1)), mib(100));
        // Nothing sampled: the only figure there is.
        assert_eq!(max_rss(&report(1500, 0, 1500), Bytes(0)), Bytes(1500 << 10));
        // A little above the fold is still the fold (pages the launcher's copy touched
        // on its way into exec): the sample is better. Well above it, the process's own.
        assert_eq!(
            max_rss(&report(1500 + 500, 0, 1500), Bytes(1200 << 10)),
            Bytes(1200 << 10)
        );
        assert_eq!(
            max_rss(&report(1500 + 2048, 0, 1500), Bytes(1200 << 10)),
            Bytes((1500 + 2048) << 10)
        );
    }
}
