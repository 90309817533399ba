//! One measured execution of a command: spawn the launcher, sample the tree every
//! interval, enforce the timeout and memory limit, and combine the launcher's report with
//! the samples into a [`Measured`].

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::interrupt::interrupted;
use super::launcher::{Exit, LAUNCH_ARG, LaunchReport};
use crate::error::{Error, Result};
use crate::measure::cgroup::CgroupParent;
use crate::measure::probe::{ProbeKind, TreeProbe};
use crate::measure::timeline::Timeline;
use crate::measure::units::{Bytes, Seconds};

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
    /// CPU time memgate spent watching this run (sampling, limits): its own overhead.
    pub sampler_cpu_time: Seconds,
}

/// Runs executions; holds what stays the same between them.
pub struct Executor {
    exe: PathBuf,
    cgroup: Option<CgroupParent>,
    report_dir: tempfile::TempDir,
    count: u64,
}

impl Executor {
    pub fn new(cgroup: Option<CgroupParent>) -> Result<Self> {
        let exe = std::env::current_exe()
            .map_err(|e| Error::io("cannot find memgate's own executable", e))?;
        let report_dir = tempfile::Builder::new()
            .prefix("memgate-")
            .tempdir()
            .map_err(|e| Error::io("cannot create a temporary directory", e))?;
        Ok(Executor {
            exe,
            cgroup,
            report_dir,
            count: 0,
        })
    }

    pub fn probe_kind(&self) -> ProbeKind {
        match self.cgroup {
            Some(_) => ProbeKind::Cgroup,
            None => ProbeKind::Proc,
        }
    }

    /// Runs `spec` to the end (or to its limit) and measures it.
    pub fn execute(&mut self, spec: &Execution) -> Result<Measured> {
        self.count += 1;
        let report_path = self
            .report_dir
            .path()
            .join(format!("launch-{}", self.count));
        let cgroup = match &self.cgroup {
            Some(parent) => Some(
                parent
                    .create(&format!("memgate-{}-{}", std::process::id(), self.count))
                    .map_err(|e| Error::io("cannot create the run's cgroup", e))?,
            ),
            None => None,
        };
        let cgroup_arg = cgroup
            .as_ref()
            .map_or_else(|| "-".into(), |c| c.dir().display().to_string());
        let open = |path: &Path| {
            std::fs::File::create(path)
                .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))
        };
        let mut child = Command::new(&self.exe)
            .arg(LAUNCH_ARG)
            .arg(&report_path)
            .arg(&cgroup_arg)
            .arg("--")
            .args(spec.argv)
            .current_dir(spec.cwd)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(open(spec.stdout)?)
            .stderr(open(spec.stderr)?)
            // Its own process group: Ctrl-C on the terminal reaches memgate alone, which
            // then stops the tree itself.
            .process_group(0)
            .spawn()
            .map_err(|e| Error::io(format!("cannot start {}", self.exe.display()), e))?;
        let start = Instant::now();
        let cpu_start = thread_cpu_time();
        let pid = child.id() as i32;
        let mut probe = TreeProbe::new(pid, cgroup);
        let pidfd = pidfd_open(pid);

        let mut timeline = Timeline::default();
        let mut sampled_peak = Bytes(0);
        let mut stopped: Option<Ending> = None;
        let mut was_interrupted = false;
        loop {
            if wait_exit(pidfd.as_ref(), &mut child, spec.sample_interval)? {
                break;
            }
            if interrupted() {
                was_interrupted = true;
                probe.kill();
                continue;
            }
            if stopped.is_some() {
                probe.kill();
                continue;
            }
            let sample = probe.sample().unwrap_or_default();
            let at = Seconds::from_duration(start.elapsed());
            if sample.processes > 0 {
                timeline.push(at, sample.total);
                sampled_peak = sampled_peak.max(sample.total);
            }
            if spec.memory_limit.is_some_and(|limit| sample.total > limit) {
                stopped = Some(Ending::MemoryLimit);
                probe.kill();
            } else if start.elapsed() > spec.timeout {
                stopped = Some(Ending::Timeout);
                probe.kill();
            }
        }
        let sampler_cpu_time = Seconds((thread_cpu_time() - cpu_start).max(0.0));
        child
            .wait()
            .map_err(|e| Error::io("cannot wait for the launcher", e))?;
        if was_interrupted {
            return Err(Error::Interrupted);
        }
        let kernel_peak = probe.kernel_peak();
        let kind = probe.kind();
        drop(probe); // removes the run's cgroup
        let text = std::fs::read_to_string(&report_path).unwrap_or_default();
        let Some(report) = LaunchReport::parse(&text) else {
            let stderr = std::fs::read_to_string(spec.stderr).unwrap_or_default();
            let said = stderr.lines().rfind(|l| l.starts_with("memgate launcher:"));
            return Err(Error::io(
                "the launcher did not report",
                std::io::Error::other(said.unwrap_or("it exited without a word").to_string()),
            ));
        };
        let _ = std::fs::remove_file(&report_path);

        let max_rss = max_rss(&report, sampled_peak);
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
            sampler_cpu_time,
        })
    }
}

/// The largest single process's high-water mark. The first process's `ru_maxrss` holds
/// the launcher's copy folded in at exec; a figure above that fold is the benchmark's
/// own. At or below it, the process never grew beyond the fold (about a megabyte), and
/// the samples, where there are any, say more exactly what it held.
fn max_rss(report: &LaunchReport, sampled: Bytes) -> Bytes {
    let root = if report.root_max_rss_kib > report.fold_kib {
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

/// CPU time of the calling thread, in seconds.
fn thread_cpu_time() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags; a valid result is a new fd we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Waits up to `timeout` for the launcher to exit; true once it has.
fn wait_exit(pidfd: Option<&OwnedFd>, child: &mut Child, timeout: Duration) -> Result<bool> {
    match pidfd {
        Some(fd) => {
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ts = libc::timespec {
                tv_sec: timeout.as_secs() as libc::time_t,
                tv_nsec: timeout.subsec_nanos() as libc::c_long,
            };
            // SAFETY: one valid pollfd and a valid timespec; EINTR just returns early.
            let ready = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
            Ok(ready > 0)
        }
        None => {
            std::thread::sleep(timeout);
            Ok(child
                .try_wait()
                .map_err(|e| Error::io("cannot wait for the launcher", e))?
                .is_some())
        }
    }
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
    }
}
