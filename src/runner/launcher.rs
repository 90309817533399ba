//! The launcher: a small process between memgate and the benchmark runs.
//!
//! memgate starts its own binary once per session as the launcher, which then forks and
//! executes every run it is asked for (one JSON [`Request`] a line on its stdin, one
//! JSON [`LaunchReport`] a line on its stdout). This way:
//! - the benchmark is forked from a process of about a megabyte: at exec the kernel folds
//!   the forking process's memory into the child's `ru_maxrss`, and memgate itself may be
//!   large;
//! - the launcher is a child subreaper: orphaned and daemonized descendants are
//!   re-parented to it, and it reaps every one, so a run ends when the last process of
//!   its tree has exited, and `RUSAGE_CHILDREN` holds the CPU time of the whole tree;
//! - the wall clock starts at the fork and stops at the last exit, with no memgate work in
//!   between, and a run costs a fork and an exec, not a start of memgate.
//!
//! If memgate dies, the launcher gets SIGTERM (parent-death signal), kills its tree and
//! exits; when memgate closes its stdin, it exits.

use std::ffi::CString;
use std::io::{BufRead, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::measure::proc::ProcTree;

/// The hidden first argument that makes memgate's binary act as the launcher.
pub const LAUNCH_ARG: &str = "__memgate_launch";

/// One run memgate asks the launcher for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Request {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Added to the launcher's environment (memgate's own, inherited).
    pub env: Vec<(String, String)>,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    /// A cgroup directory for the run to join, where memgate uses one.
    pub cgroup: Option<PathBuf>,
}

/// What the launcher tells memgate about one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    /// The first process reaped children of its own (its `cminflt` or `cmajflt`, the
    /// faults of the children it reaped, were not zero when it exited).
    #[serde(default)]
    pub root_reaped_children: bool,
    /// The launcher could not even try (a file it could not create, say).
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Exit {
    #[default]
    Unknown,
    Code(i32),
    Signal(i32),
    /// The child could not become the benchmark: at which step, with which errno.
    NotStarted {
        step: StartStep,
        errno: i32,
    },
}

/// The steps between fork and a running benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartStep {
    Cgroup,
    Chdir,
    Exec,
}

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_terminate(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// The launcher's `main`: serves requests until its stdin closes. Never returns.
pub fn main() -> ! {
    let code = match serve() {
        Ok(()) => 0,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "memgate launcher: {message}");
            2
        }
    };
    std::process::exit(code)
}

fn serve() -> Result<(), String> {
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
        // An ignored SIGCHLD, inherited, would have the kernel reap the benchmark's
        // first process before the launcher could wait for it.
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        // As memgate: exec made the launcher dumpable again, and its benchmarks must not
        // reach its environment or descriptors through /proc.
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        if libc::getppid() != parent {
            return Err("memgate exited before the launcher started".into());
        }
    }
    let dev_null = std::fs::File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    let to_reset = non_default_signals();
    let mut tree = ProcTree::default();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut line = String::new();
    loop {
        line.clear();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(format!("reading requests: {e}")),
        }
        if TERMINATE.load(Ordering::SeqCst) {
            return Ok(());
        }
        let request: Request =
            serde_json::from_str(&line).map_err(|e| format!("bad request: {e}"))?;
        let report = launch(&request, &dev_null, &to_reset, &mut tree).unwrap_or_else(|error| {
            LaunchReport {
                error: Some(error),
                ..LaunchReport::default()
            }
        });
        let mut reply = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        reply.push('\n');
        match stdout
            .write_all(reply.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => {}
            // memgate is gone (killed, or stopped after a signal): nobody to tell.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(format!("writing a report: {e}")),
        }
        if TERMINATE.load(Ordering::SeqCst) {
            return Ok(());
        }
    }
}

fn cstring(bytes: &[u8], what: &str) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| format!("{what} holds a NUL byte"))
}

/// Creates a log file that must not exist yet (memgate cleared its place), and never
/// through a link or into a FIFO a benchmark put there.
fn create(path: &Path) -> Result<OwnedFd, String> {
    crate::files::create_new(path)
        .map(OwnedFd::from)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Runs one request to the end of its tree.
fn launch(
    request: &Request,
    dev_null: &std::fs::File,
    to_reset: &[i32],
    tree: &mut ProcTree,
) -> Result<LaunchReport, String> {
    // Everything the child needs is made before the fork: it then only makes system calls.
    let Some(program) = request.argv.first() else {
        return Err("empty argv".into());
    };
    let mut env: Vec<(Vec<u8>, Vec<u8>)> = std::env::vars_os()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    for (key, value) in &request.env {
        env.retain(|(k, _)| k != key.as_bytes());
        env.push((key.as_bytes().to_vec(), value.as_bytes().to_vec()));
    }
    let path_var = env
        .iter()
        .find(|(k, _)| k == b"PATH")
        .map(|(_, v)| v.clone());
    let resolved = resolve(program, &request.cwd, path_var.as_deref());
    let exe = cstring(resolved.as_os_str().as_bytes(), "the program")?;
    let argv: Vec<CString> = request
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes(), "an argument"))
        .collect::<Result<_, _>>()?;
    let envp: Vec<CString> = env
        .iter()
        .map(|(k, v)| {
            cstring(
                &[k.as_slice(), b"=", v.as_slice()].concat(),
                "the environment",
            )
        })
        .collect::<Result<_, _>>()?;
    let cwd = cstring(request.cwd.as_os_str().as_bytes(), "the working directory")?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|a| a.as_ptr()).collect();
    envp_ptrs.push(std::ptr::null());
    let out = create(&request.stdout)?;
    let err = create(&request.stderr)?;
    let cgroup = match &request.cgroup {
        Some(dir) => {
            let procs = dir.join("cgroup.procs");
            Some(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&procs)
                    .map_err(|e| format!("cannot open {}: {e}", procs.display()))?,
            )
        }
        None => None,
    };

    // A close-on-exec pipe carries the child's pre-exec ru_maxrss (8 bytes), then, only
    // if a step fails, the step (1 byte) and errno (4 bytes); EOF after the first 8
    // means exec succeeded.
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-int array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    let mut before: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut before) };
    let started = now_ns();
    // SAFETY: the launcher is single-threaded, so the child may do anything
    // async-signal-safe before exec; it only makes system calls, then execve or _exit.
    let root = unsafe { libc::fork() };
    if root < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if root == 0 {
        unsafe {
            libc::close(fds[0]);
            reset_signals(to_reset);
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0);
            // Its own process group: a benchmark's `kill 0` stays within its own tree.
            libc::setpgid(0, 0);
            // No descriptor memgate was started with reaches the benchmark: all above
            // stderr close at exec (the error pipe too, as it should).
            if libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            ) != 0
            {
                for fd in 3..4096 {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            }
            let fail = |step: u8| -> ! {
                let errno = *libc::__errno_location();
                let mut message = [0u8; 5];
                message[0] = step;
                message[1..].copy_from_slice(&errno.to_ne_bytes());
                libc::write(fds[1], message.as_ptr().cast(), 5);
                libc::_exit(127)
            };
            if let Some(procs) = &cgroup
                && libc::write(procs.as_raw_fd(), b"0".as_ptr().cast(), 1) != 1
            {
                fail(0);
            }
            if libc::chdir(cwd.as_ptr()) != 0 {
                fail(1);
            }
            libc::dup2(dev_null.as_raw_fd(), 0);
            libc::dup2(out.as_raw_fd(), 1);
            libc::dup2(err.as_raw_fd(), 2);
            let mut own: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut own);
            let fold = own.ru_maxrss as i64;
            libc::write(fds[1], (&fold as *const i64).cast(), 8);
            libc::execve(exe.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr());
            fail(2)
        }
    }
    drop((out, err, cgroup));
    unsafe { libc::close(fds[1]) };
    let mut message = [0u8; 13];
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
    let mut report = LaunchReport::default();
    // Before a failed step the fold was not written: the failure comes first then.
    let (fold, failure) = match got {
        5 => (None, Some(&message[..5])),
        8 => (Some(&message[..8]), None),
        13 => (Some(&message[..8]), Some(&message[8..])),
        _ => (None, None),
    };
    if let Some(fold) = fold {
        report.fold_kib = i64::from_ne_bytes(fold.try_into().unwrap_or_default()).max(0) as u64;
    }
    if let Some(failure) = failure {
        let errno = i32::from_ne_bytes(failure[1..5].try_into().unwrap_or_default());
        let step = match failure[0] {
            0 => StartStep::Cgroup,
            1 => StartStep::Chdir,
            _ => StartStep::Exec,
        };
        report.exit = Exit::NotStarted { step, errno };
    }

    // Reap every process of the tree: the first one and all re-parented orphans.
    loop {
        // Checked each time round, not only when wait4 is interrupted: the parent-death
        // signal may land while wait4 is returning a pid.
        if TERMINATE.load(Ordering::SeqCst) {
            kill_tree(tree, std::process::id() as i32);
        }
        // Which process ended, left unreaped: the first one's `stat` is still readable
        // as a zombie, and tells whether it reaped children of its own.
        // SAFETY: siginfo_t is plain old data, written by the kernel.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        if unsafe { libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOWAIT) } != 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue, // TERMINATE is checked at the top
                _ => break,                    // ECHILD: the last process is gone.
            }
        }
        // SAFETY: waitid succeeded, so si_pid is set.
        let ended = unsafe { info.si_pid() };
        if ended == root {
            // A process that ignores SIGCHLD has its children reaped by the kernel,
            // which leaves no trace in its counters: it may have had any number.
            let ignores_children = std::fs::read_to_string(format!("/proc/{root}/status"))
                .ok()
                .and_then(|status| {
                    let hex = status.lines().find_map(|l| l.strip_prefix("SigIgn:"))?;
                    u64::from_str_radix(hex.trim(), 16).ok()
                })
                .is_some_and(|ignored| ignored & (1 << (libc::SIGCHLD - 1)) != 0);
            report.root_reaped_children = ignores_children
                || std::fs::read(format!("/proc/{root}/stat"))
                    .ok()
                    .and_then(|stat| crate::measure::proc::parse_reaped(&stat))
                    .is_some_and(|faults| faults > 0);
        }
        let mut status = 0;
        // SAFETY: rusage is plain old data, written by the kernel.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(ended, &mut status, 0, &mut usage) };
        if pid < 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => {
                    if TERMINATE.load(Ordering::SeqCst) {
                        kill_tree(tree, std::process::id() as i32);
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
    let mut after: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut after) };
    let us = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    report.cpu_us = (us(after.ru_utime) + us(after.ru_stime))
        .saturating_sub(us(before.ru_utime) + us(before.ru_stime));
    Ok(report)
}

/// The program to execute: a name with a slash as it is (relative to `cwd`), else the
/// first executable of that name on `PATH` (the run's own PATH, which may differ from
/// the launcher's). Not found: the name, for exec to fail on.
fn resolve(program: &str, cwd: &Path, path: Option<&[u8]>) -> PathBuf {
    if program.contains('/') {
        return cwd.join(program);
    }
    crate::files::find_program(program, cwd, path).unwrap_or_else(|| PathBuf::from(program))
}

/// The signals whose action is not the default in the launcher: the child resets them
/// before exec, for a benchmark to start from a known state. An ignored signal stays
/// ignored across exec, and the launcher ignores some: SIGPIPE (the Rust runtime) and
/// glibc's two internal signals (posix_spawn, which started the launcher, sets them to
/// SIG_IGN). glibc's own wrappers refuse its internal signals, so this asks the kernel.
/// Found once, so the child makes a handful of system calls, not 64, in the timed span.
fn non_default_signals() -> Vec<i32> {
    (1..=64)
        .filter(|&signal| {
            // A kernel `struct sigaction` of any architecture fits; its first word is
            // the handler, 0 for SIG_DFL.
            let mut old = [0u64; 4];
            // SAFETY: rt_sigaction writes at most the kernel struct into `old`; the
            // kernel's sigset is 8 bytes. Invalid signal numbers fail harmlessly.
            let ok = unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    std::ptr::null::<u64>(),
                    old.as_mut_ptr(),
                    8usize,
                )
            } == 0;
            ok && old[0] != 0
        })
        .collect()
}

/// Sets `signals` to their default action; async-signal-safe, for between fork and exec.
fn reset_signals(signals: &[i32]) {
    let default = [0u64; 4];
    for &signal in signals {
        // SAFETY: as in `non_default_signals`, reading a zeroed struct: SIG_DFL, no
        // flags, empty mask.
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
    fn programs_are_found_on_the_runs_path() {
        let cwd = Path::new("/");
        assert_eq!(
            resolve("sh", cwd, Some(b"/nonexistent:/bin")),
            PathBuf::from("/bin/sh")
        );
        assert_eq!(
            resolve("./x", Path::new("/tmp"), None),
            PathBuf::from("/tmp/./x")
        );
        assert_eq!(
            resolve("no-such-program-here", cwd, Some(b"/bin")),
            PathBuf::from("no-such-program-here")
        );
    }
}
