//! The test builder: a temporary project with a `memgate.yml`, the real memgate binary run
//! in it, and helpers to read its JSON. `{shapes}` in a config stands for the path of the
//! helper program with known memory shapes (`tests/helper/shapes.c`), built once;
//! `{leak_py}` for the Python helper whose peak grows with a count
//! (`tests/helper/leak.py`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

pub const MIB: f64 = 1024.0 * 1024.0;

/// The helper program, compiled with the system C compiler on first use.
pub fn shapes() -> &'static Path {
    static SHAPES: OnceLock<PathBuf> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helper/shapes.c");
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shapes");
        let status = Command::new("cc")
            .args(["-O2", "-Wall", "-o"])
            .arg(&out)
            .arg(&source)
            .status()
            .expect("a C compiler (cc) is needed to build the test helper");
        assert!(status.success(), "building {} failed", source.display());
        out
    })
}

/// A temporary project directory holding a config.
pub struct Project {
    /// The temporary directory, removed with the project.
    _temp: tempfile::TempDir,
    /// The project's folder: the temporary directory, or a folder in it.
    root: PathBuf,
}

impl Project {
    /// A project whose `memgate.yml` is `config`, with `{shapes}`, `{leak_py}` and `{dir}`
    /// filled in.
    pub fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let root = dir.path().to_path_buf();
        let project = Project { _temp: dir, root };
        project.write("memgate.yml", config);
        project
    }

    /// A project with no config yet, in a folder whose name holds a space and a quote
    /// (`it's a repo`), as paths in commands must survive.
    pub fn bare() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let root = dir.path().join("it's a repo");
        std::fs::create_dir(&root).expect("project folder");
        Project { _temp: dir, root }
    }

    /// A git project of `config` whose benchmarks read how many MiB to hold from
    /// `size.txt`, set to `size`.
    pub fn sized(config: &str, size: u32) -> Self {
        let project = Project::new(config);
        project.write("size.txt", &format!("{size}\n"));
        project.git_init();
        project
    }

    pub fn dir(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes a file, filling in `{shapes}`, `{leak_py}` and `{dir}`.
    pub fn write(&self, name: &str, text: &str) {
        let leak_py = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helper/leak.py");
        let text = text
            .replace("{shapes}", &shapes().display().to_string())
            .replace("{leak_py}", leak_py)
            .replace("{dir}", &self.dir().display().to_string());
        std::fs::write(self.path(name), text).expect("write file");
    }

    pub fn read_or_empty(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    }

    /// Makes the project a git repository with one commit of everything in it.
    pub fn git_init(&self) -> &Self {
        git(self.dir(), &["init", "-q", "-b", "main"]);
        std::fs::write(self.path(".gitignore"), ".memgate/\n").unwrap();
        self.commit("first");
        self
    }

    /// Commits every change, returning the new commit's id.
    pub fn commit(&self, message: &str) -> String {
        git(self.dir(), &["add", "-A"]);
        git(
            self.dir(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(self.dir(), &["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// memgate, ready to run in this project, as outside GitHub Actions whatever runs the
    /// tests: a test that wants a step's environment sets it.
    pub fn memgate(&self) -> Memgate {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_memgate"));
        cmd.current_dir(self.dir())
            .env_remove("MEMGATE_PROBE")
            .env_remove("GITHUB_ACTIONS")
            .stdin(Stdio::null());
        for name in memgate::runner::execute::WITHHELD {
            cmd.env_remove(name);
        }
        Memgate { cmd }
    }

    /// `memgate run --format json -q` with `args`; asserts the exit code and returns the JSON.
    #[track_caller]
    pub fn run_json(&self, args: &[&str], code: i32) -> Value {
        self.run_json_with(self.memgate(), args, code)
    }

    /// As [`Project::run_json`], through the /proc probe whatever the machine offers:
    /// for figures checked against the kernel's per-process truths, which is what the
    /// sampler stands in for.
    #[track_caller]
    pub fn run_json_proc(&self, args: &[&str], code: i32) -> Value {
        self.run_json_with(self.memgate().env("MEMGATE_PROBE", "proc"), args, code)
    }

    #[track_caller]
    fn run_json_with(&self, memgate: Memgate, args: &[&str], code: i32) -> Value {
        run_json_with(memgate, args, code)
    }

    /// `memgate check --base BASE --format json -q`; asserts the exit code and returns the
    /// report.
    #[track_caller]
    pub fn check_json(&self, base: &str, code: i32) -> Value {
        let out = self
            .memgate()
            .args(["check", "--base", base, "--format", "json", "-q"])
            .run();
        out.code(code);
        out.json()
    }

    /// The truth file the helper writes, in bytes.
    #[track_caller]
    pub fn truth(&self, name: &str) -> f64 {
        let text = self.read(name);
        let kib: f64 = text
            .trim()
            .strip_prefix("truth_kib ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("bad truth file: {text:?}"));
        kib * 1024.0
    }
}

pub struct Memgate {
    cmd: Command,
}

impl Memgate {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn command(self) -> Command {
        self.cmd
    }

    pub fn run(mut self) -> Outcome {
        Outcome(self.cmd.output().expect("memgate runs"))
    }

    /// Runs memgate, killing it if it has not ended within 18 s (the test then fails on
    /// its exit status instead of hanging). For runs a defect could make hang.
    pub fn run_bounded(self) -> Outcome {
        self.spawn().finish(std::time::Duration::from_secs(18)).0
    }

    /// Starts memgate, its output read as it comes, so that a full pipe never holds it up.
    pub fn spawn(mut self) -> Running {
        let mut child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("memgate starts");
        let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
        Running {
            child,
            stdout,
            stderr,
        }
    }
}

/// A memgate started with [`Memgate::spawn`].
pub struct Running {
    pub child: std::process::Child,
    stdout: std::thread::JoinHandle<Vec<u8>>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
}

impl Running {
    /// Waits at most `cap` for memgate to end, then kills it: how it ended and what it
    /// wrote, and whether it ended by itself.
    pub fn finish(mut self, cap: std::time::Duration) -> (Outcome, bool) {
        let deadline = std::time::Instant::now() + cap;
        let mut ended = false;
        while !ended && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            ended = self.child.try_wait().unwrap().is_some();
        }
        // Never signals a process already reaped.
        let _ = self.child.kill();
        let outcome = Outcome(Output {
            status: self.child.wait().expect("memgate ends"),
            stdout: self.stdout.join().expect("stdout read"),
            stderr: self.stderr.join().expect("stderr read"),
        });
        (outcome, ended)
    }
}

pub struct Outcome(pub Output);

impl Outcome {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.0.status.code(),
            Some(expected),
            "exit status {:?}\nstdout:\n{}\nstderr:\n{}",
            self.0.status,
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }
}

/// `memgate run --format json -q` with `args`, through `memgate` (its project and
/// environment); asserts the exit code and returns the JSON.
#[track_caller]
pub fn run_json_with(memgate: Memgate, args: &[&str], code: i32) -> Value {
    let out = memgate
        .args(["run", "--format", "json", "-q"])
        .args(args)
        .run();
    out.code(code);
    out.json()
}

/// The `key=value` lines of a GitHub output file, as a map.
pub fn outputs(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The median of a metric's samples in the first benchmark named `name`.
#[track_caller]
pub fn median(results: &Value, name: &str, metric: &str) -> f64 {
    let mut samples: Vec<f64> = benchmark(results, name)["metrics"][metric]["samples"]
        .as_array()
        .unwrap_or_else(|| panic!("no samples of {metric} for {name}: {results:#}"))
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The result of the first benchmark named `name`.
#[track_caller]
pub fn benchmark<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["benchmarks"]
        .as_array()
        .expect("benchmarks")
        .iter()
        .find(|b| b["benchmark"] == name)
        .unwrap_or_else(|| panic!("no benchmark {name} in {results:#}"))
}

/// Asserts `measured` is within `tolerance` (a fraction) of `truth`.
#[track_caller]
pub fn assert_close(what: &str, measured: f64, truth: f64, tolerance: f64) {
    let error = (measured - truth) / truth;
    assert!(
        error.abs() <= tolerance,
        "{what}: measured {:.2} MiB, truth {:.2} MiB, off by {:+.2}% (allowed ±{:.0}%)",
        measured / MIB,
        truth / MIB,
        error * 100.0,
        tolerance * 100.0
    );
}

/// Whether a process with this pid still exists (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The pids a helper wrote to `file`, one a line.
pub fn pids(project: &Project, file: &str) -> Vec<i32> {
    std::fs::read_to_string(project.path(file))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// The pids of live processes whose command line holds every one of `words`, in order.
pub fn processes_running(words: &[&str]) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<&[u8]> = raw.split(|&b| b == 0).collect();
            let wanted: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            args.windows(wanted.len()).any(|w| w == wanted.as_slice()) && alive(pid)
        })
        .collect()
}

/// Runs git in `dir` with a fixed identity; panics with git's message if it fails.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir, args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A git command in `dir` with a fixed identity and no user or system config.
pub fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com");
    cmd
}

/// Waits (20 s at most) until `ready` holds; panics naming `what` otherwise.
#[track_caller]
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The lines of a step's output the Actions runner would act on as workflow commands:
/// a line that starts with `::` or holds `##[` while commands are not stopped. The runner
/// keeps one stop for both streams but may read a stdout line after a stderr one written
/// later, so stdout is held to more: no such line at all, stopped or not.
pub fn live_commands(stdout: &[u8], stderr: &[u8]) -> Vec<String> {
    let is_command = |line: &str| line.trim_start().starts_with("::") || line.contains("##[");
    let mut live: Vec<String> = String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| is_command(l))
        .map(|l| format!("stdout: {l}"))
        .collect();
    let mut stopped: Option<String> = None;
    for line in String::from_utf8_lossy(stderr).lines() {
        match &stopped {
            Some(token) if line == format!("::{token}::") => stopped = None,
            Some(_) => {}
            None => match line.strip_prefix("::stop-commands::") {
                Some(token) => stopped = Some(token.to_owned()),
                None if is_command(line) => live.push(line.to_owned()),
                None => {}
            },
        }
    }
    live
}
