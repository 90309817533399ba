//! The launcher: a small process between memgate and one benchmark run.
//!
//! memgate re-executes its own binary as the launcher for every run, so that:
//! - the benchmark is forked from a process of about a megabyte: at exec the kernel folds
//!   the forking process's memory into the child's `ru_maxrss`, and memgate itself may be
//!   large;
//! - the launcher is a child subreaper: orphaned and daemonized descendants are
//!   re-parented to it, and it reaps every one, so the run ends when the last process of
//!   the tree has exited and `RUSAGE_CHILDREN` holds the CPU time of the whole tree;
//! - the wall clock starts at the fork and stops at the last exit, with no memgate work in
//!   between.
//!
//! It writes a [`LaunchReport`] to a file named on its command line and exits. If memgate
//! dies, the launcher gets SIGTERM (parent-death signal) and kills its tree.

use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::measure::proc::ProcTree;

/// The hidden first argument that makes memgate's binary act as the launcher.
pub const LAUNCH_ARG: &str = "__memgate_launch";

/// What the launcher tells memgate about one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaunchReport {
    /// How the benchmark's first process ended.
    pub exit: Exit,
    /// From the fork of the first process to the exit of the last one.
    pub wall_ns: u64,
    /// User + system CPU time of every process of the tree.
    pub cpu_us: u64,
    /// The largest `ru_maxrss` of any process the launcher reaped, the first process
    /// left out (see `root_max_rss_kib`).
    pub others_max_rss_kib: u64,
    /// `ru_maxrss` of the first process (it covers the children it waited for itself).
    pub root_max_rss_kib: u64,
    /// The first process's `ru_maxrss` just before its exec: what the kernel folds in
    /// at exec from the launcher's copy. A `root_max_rss_kib` above it is the
    /// benchmark's own; one equal to it may be the fold.
    pub fold_kib: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Exit {
    #[default]
    Unknown,
    Code(i32),
    Signal(i32),
    /// The program could not be executed (errno).
    NotStarted(i32),
}

impl LaunchReport {
    fn to_text(&self) -> String {
        let exit = match self.exit {
            Exit::Unknown => "unknown 0".to_string(),
            Exit::Code(c) => format!("code {c}"),
            Exit::Signal(s) => format!("signal {s}"),
            Exit::NotStarted(e) => format!("not_started {e}"),
        };
        format!(
            "exit {exit}\nwall_ns {}\ncpu_us {}\nothers_max_rss_kib {}\nroot_max_rss_kib {}\nfold_kib {}\n",
            self.wall_ns,
            self.cpu_us,
            self.others_max_rss_kib,
            self.root_max_rss_kib,
            self.fold_kib
        )
    }

    /// Reads what [`LaunchReport::to_text`] wrote; `None` if the file is incomplete.
    pub fn parse(text: &str) -> Option<Self> {
        let mut report = LaunchReport::default();
        let mut seen = 0;
        for line in text.lines() {
            let mut words = line.split_ascii_whitespace();
            let key = words.next()?;
            let mut num = || words.next().and_then(|w| w.parse::<i64>().ok());
            match key {
                "exit" => {
                    let kind = line.split_ascii_whitespace().nth(1)?;
                    let value = line.split_ascii_whitespace().nth(2)?.parse().ok()?;
                    report.exit = match kind {
                        "code" => Exit::Code(value),
                        "signal" => Exit::Signal(value),
                        "not_started" => Exit::NotStarted(value),
                        _ => Exit::Unknown,
                    };
                }
                "wall_ns" => report.wall_ns = num()? as u64,
                "cpu_us" => report.cpu_us = num()? as u64,
                "others_max_rss_kib" => report.others_max_rss_kib = num()? as u64,
                "root_max_rss_kib" => report.root_max_rss_kib = num()? as u64,
                "fold_kib" => report.fold_kib = num()? as u64,
                _ => continue,
            }
            seen += 1;
        }
        (seen == 6).then_some(report)
    }
}

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_terminate(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// The launcher's `main`: `memgate __memgate_launch REPORT CGROUP -- PROGRAM ARGS...`,
/// where CGROUP is a cgroup directory to join or `-`. Never returns.
pub fn main() -> ! {
    let args: Vec<_> = std::env::args_os().collect();
    let code = match run(&args) {
        Ok(()) => 0,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "memgate launcher: {message}");
            2
        }
    };
    std::process::exit(code)
}

fn run(args: &[std::ffi::OsString]) -> Result<(), String> {
    let [_, _, report_path, cgroup, dashes, program @ ..] = args else {
        return Err("usage: memgate __memgate_launch REPORT CGROUP -- PROGRAM ARGS...".into());
    };
    if dashes != "--" || program.is_empty() {
        return Err("expected -- and a program".into());
    }
    let parent = unsafe { libc::getppid() };
    // SAFETY: plain prctl/sigaction calls with valid arguments; the handler only stores
    // to an atomic.
    unsafe {
        if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            return Err(format!(
                "cannot become a subreaper: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_terminate as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
        if libc::getppid() != parent {
            return Err("memgate exited before the run started".into());
        }
    }
    if cgroup != "-" {
        let procs = std::path::Path::new(cgroup).join("cgroup.procs");
        std::fs::write(&procs, "0").map_err(|e| format!("cannot join {}: {e}", procs.display()))?;
    }

    let argv: Vec<CString> = program
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(|_| "an argument holds a NUL byte".to_string()))
        .collect::<Result<_, _>>()?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());

    let mut tree = ProcTree::default();
    let mut report = LaunchReport::default();

    // A close-on-exec pipe carries the child's pre-exec ru_maxrss (8 bytes), then, only
    // if exec fails, its errno (4 bytes); EOF after the first 8 means exec succeeded.
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-int array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    let started = now_ns();
    // SAFETY: the launcher is single-threaded, so the child may do anything
    // async-signal-safe before exec; it only makes system calls, then execvp or _exit.
    let root = unsafe { libc::fork() };
    if root < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if root == 0 {
        unsafe {
            libc::close(fds[0]);
            reset_signal_dispositions();
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0);
            let mut own: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut own);
            let fold = own.ru_maxrss as i64;
            libc::write(fds[1], (&fold as *const i64).cast(), 8);
            libc::execvp(argv_ptrs[0], argv_ptrs.as_ptr());
            let errno = *libc::__errno_location();
            libc::write(fds[1], (&errno as *const i32).cast(), 4);
            libc::_exit(127);
        }
    }
    unsafe { libc::close(fds[1]) };
    let mut message = [0u8; 12];
    let mut got = 0;
    while got < message.len() {
        // SAFETY: reads into the unfilled rest of `message`.
        let n = unsafe {
            libc::read(
                fds[0],
                message[got..].as_mut_ptr().cast(),
                message.len() - got,
            )
        };
        match n {
            0 => break,
            n if n > 0 => got += n as usize,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => break,
        }
    }
    unsafe { libc::close(fds[0]) };
    if got >= 8 {
        let fold = i64::from_ne_bytes(message[..8].try_into().unwrap_or_default());
        report.fold_kib = fold.max(0) as u64;
    }
    if got == 12 {
        let errno = i32::from_ne_bytes(message[8..].try_into().unwrap_or_default());
        report.exit = Exit::NotStarted(errno);
    }

    // Reap every process of the tree: the first one and all re-parented orphans.
    loop {
        let mut status = 0;
        // SAFETY: rusage is plain old data, written by the kernel.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(-1, &mut status, 0, &mut usage) };
        if pid < 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => {
                    if TERMINATE.load(Ordering::SeqCst) {
                        kill_tree(&mut tree, std::process::id() as i32);
                    }
                    continue;
                }
                _ => break, // ECHILD: the last process is gone.
            }
        }
        let max_rss = usage.ru_maxrss.max(0) as u64;
        if pid == root {
            report.root_max_rss_kib = max_rss;
            if report.exit == Exit::Unknown {
                report.exit = if libc::WIFSIGNALED(status) {
                    Exit::Signal(libc::WTERMSIG(status))
                } else {
                    Exit::Code(libc::WEXITSTATUS(status))
                };
            }
        } else {
            report.others_max_rss_kib = report.others_max_rss_kib.max(max_rss);
        }
    }
    report.wall_ns = now_ns().saturating_sub(started);
    // SAFETY: as above.
    let mut children: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut children) };
    let us = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    report.cpu_us = us(children.ru_utime) + us(children.ru_stime);

    std::fs::write(report_path, report.to_text())
        .map_err(|e| format!("cannot write {}: {e}", report_path.display()))
}

/// Sets every signal to its default action, for a benchmark to start from a known state.
/// An ignored signal stays ignored across exec, and the launcher ignores some: SIGPIPE
/// (the Rust runtime) and glibc's two internal signals (posix_spawn, which started the
/// launcher, sets them to SIG_IGN). glibc's own wrappers refuse its internal signals, so
/// this uses the system call; it is async-signal-safe, for use between fork and exec.
fn reset_signal_dispositions() {
    // A zeroed kernel `struct sigaction` of any architecture: handler SIG_DFL (0), no
    // flags, empty mask.
    let default = [0u64; 4];
    for signal in 1..=64 {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction reads a valid, large enough struct; the kernel's sigset
        // is 8 bytes. Invalid signal numbers fail harmlessly.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                default.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8usize,
            );
        }
    }
}

/// SIGKILLs every descendant of `root` until none is left. Orphans of killed processes
/// are re-parented to the launcher (the subreaper), so each pass finds them; zombies
/// waiting to be reaped are not counted.
pub fn kill_tree(tree: &mut ProcTree, root: i32) {
    for _ in 0..1000 {
        let pids = tree.descendants(root);
        if pids.is_empty() {
            return;
        }
        for &pid in pids {
            // SAFETY: kill has no memory preconditions; a pid that has gone is harmless.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_round_trip() {
        for exit in [Exit::Code(3), Exit::Signal(9), Exit::NotStarted(2)] {
            let r = LaunchReport {
                exit,
                wall_ns: 12,
                cpu_us: 34,
                others_max_rss_kib: 56,
                root_max_rss_kib: 78,
                fold_kib: 90,
            };
            assert_eq!(LaunchReport::parse(&r.to_text()), Some(r));
        }
        assert_eq!(LaunchReport::parse("exit code 0\nwall_ns 5\n"), None);
    }
}
