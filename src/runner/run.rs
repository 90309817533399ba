//! Running a [`Plan`]: per benchmark × dataset, prepare the dataset if missing, run the
//! benchmark's setup once, then warmups, then measured runs; collect [`RunResults`].
//! A failing benchmark is recorded and the next one runs; only memgate's own trouble
//! (or Ctrl-C) stops the plan.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::execute::{Ending, Execution, Executor, Measured};
use super::launcher::{Exit, StartStep};
use super::progress::Progress;
use crate::config::{CommandLine, Job, Plan};
use crate::error::{Error, Result};
use crate::report::units::{bytes, seconds};
use crate::results::{
    BUILT_IN_METRICS, BenchmarkResult, Better, CPU_TIME, Failure, MAX_RSS, Metric, PEAK_MEMORY,
    RunRecord, RunResults, Status, Testbed, WALL_TIME,
};

/// How many lines of a failing benchmark's stderr the report keeps.
const STDERR_TAIL_LINES: usize = 20;

/// Runs every job of `plan` and returns the results.
pub fn run_plan(
    plan: &Plan,
    executor: &mut Executor,
    testbed: Testbed,
    quiet: bool,
) -> Result<RunResults> {
    let runs: u64 = plan
        .jobs
        .iter()
        .map(|j| u64::from(j.warmup + j.repeat))
        .sum();
    let progress = Progress::new(runs, quiet);
    let root = plan.config_path.parent().unwrap_or(Path::new("/"));
    let logs = root.join(".memgate").join("logs");
    let mut state = Session {
        executor,
        progress: &progress,
        logs,
        prepared: BTreeSet::new(),
        set_up: BTreeSet::new(),
    };
    let mut benchmarks = Vec::new();
    for job in &plan.jobs {
        let result = state.run_job(job)?;
        let line = match &result.failure {
            None => match result.runs.len() {
                1 => format!("{}: ok (1 run)", job.label()),
                n => format!("{}: ok ({n} runs)", job.label()),
            },
            Some(f) => format!(
                "{}: {} — {}",
                job.label(),
                result.status.as_str(),
                f.message
            ),
        };
        progress.finished(&line);
        benchmarks.push(result);
    }
    progress.clear();
    Ok(RunResults {
        memgate_version: env!("CARGO_PKG_VERSION").into(),
        testbed,
        benchmarks,
    })
}

struct Session<'a> {
    executor: &'a mut Executor,
    progress: &'a Progress,
    logs: PathBuf,
    prepared: BTreeSet<PathBuf>,
    set_up: BTreeSet<String>,
}

/// The outcome of one unmeasured step (prepare, setup, warmup) or measured run.
enum Step {
    Done(Measured),
    Failed(Box<Failure>, Status),
}

impl Session<'_> {
    fn run_job(&mut self, job: &Job) -> Result<BenchmarkResult> {
        let label = job.label();
        let mut result = BenchmarkResult {
            benchmark: job.benchmark.clone(),
            dataset: job.dataset.as_ref().map(|d| d.name.clone()),
            status: Status::Ok,
            command: job.command.to_string(),
            metrics: BTreeMap::new(),
            runs: Vec::new(),
            failure: None,
        };
        let log_dir = self.logs.join(&label);
        std::fs::create_dir_all(&log_dir)
            .map_err(|e| Error::io(format!("cannot create {}", log_dir.display()), e))?;
        let total = u64::from(job.warmup + job.repeat);
        let fail = |result: &mut BenchmarkResult, failure: Box<Failure>, status: Status| {
            result.status = status;
            result.failure = Some(*failure);
        };

        if let Some(dataset) = &job.dataset
            && !dataset.path.exists()
            && !self.prepared.contains(&dataset.path)
        {
            let Some(prepare) = &dataset.prepare else {
                let message = format!(
                    "dataset {:?} is missing at {} and has no prepare command to make it",
                    dataset.name,
                    dataset.path.display()
                );
                fail(
                    &mut result,
                    Failure::plain("prepare", 1, message),
                    Status::Failed,
                );
                self.progress.advance(total);
                return Ok(result);
            };
            self.progress
                .now(&format!("{label}: preparing dataset {}", dataset.name));
            if let Some(parent) = dataset.path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let step = self.step(job, prepare, &dataset.prepare_cwd, &log_dir, "prepare", 1)?;
            if let Step::Failed(failure, status) = step {
                fail(&mut result, failure, status);
                self.progress.advance(total);
                return Ok(result);
            }
            if !dataset.path.exists() {
                let message = format!(
                    "the prepare command of dataset {:?} succeeded but did not create {}",
                    dataset.name,
                    dataset.path.display()
                );
                fail(
                    &mut result,
                    Failure::plain("prepare", 1, message),
                    Status::Failed,
                );
                self.progress.advance(total);
                return Ok(result);
            }
            self.prepared.insert(dataset.path.clone());
        }

        if let Some(setup) = &job.setup
            && !self.set_up.contains(&job.benchmark)
        {
            self.progress.now(&format!("{label}: setup"));
            if let Step::Failed(failure, status) =
                self.step(job, setup, &job.cwd, &log_dir, "setup", 1)?
            {
                fail(&mut result, failure, status);
                self.progress.advance(total);
                return Ok(result);
            }
            self.set_up.insert(job.benchmark.clone());
        }

        for attempt in 1..=job.warmup {
            self.progress
                .now(&format!("{label}: warmup {attempt}/{}", job.warmup));
            let step = self.step(job, &job.command, &job.cwd, &log_dir, "warmup", attempt)?;
            self.progress.advance(1);
            if let Step::Failed(failure, status) = step {
                fail(&mut result, failure, status);
                self.progress.advance(total - u64::from(attempt));
                return Ok(result);
            }
        }

        let metrics_file = log_dir.join("metrics.jsonl");
        for attempt in 1..=job.repeat {
            self.progress
                .now(&format!("{label}: run {attempt}/{}", job.repeat));
            let _ = std::fs::remove_file(&metrics_file);
            let step = self.step(job, &job.command, &job.cwd, &log_dir, "run", attempt)?;
            self.progress.advance(1);
            let measured = match step {
                Step::Done(m) => m,
                Step::Failed(failure, status) => {
                    fail(&mut result, failure, status);
                    self.progress.advance(u64::from(job.repeat - attempt));
                    return Ok(result);
                }
            };
            let custom = match read_custom_metrics(&metrics_file) {
                Ok(custom) => custom,
                Err(message) => {
                    let mut failure = Failure::plain("run", attempt, message);
                    failure.exit_code = Some(0);
                    failure.after = measured.wall_time;
                    failure.peak_memory = measured.peak_memory;
                    fail(&mut result, failure, Status::Failed);
                    self.progress.advance(u64::from(job.repeat - attempt));
                    return Ok(result);
                }
            };
            record(&mut result, measured, custom);
        }
        Ok(result)
    }

    /// Runs one step of a job and judges it.
    fn step(
        &mut self,
        job: &Job,
        command: &CommandLine,
        cwd: &Path,
        log_dir: &Path,
        phase: &str,
        attempt: u32,
    ) -> Result<Step> {
        let stdout = log_dir.join(format!("{phase}-{attempt}.stdout"));
        let stderr = log_dir.join(format!("{phase}-{attempt}.stderr"));
        let mut env = job.env.clone();
        env.push(("MEMGATE_BENCHMARK".into(), job.benchmark.clone()));
        if let Some(d) = &job.dataset {
            env.push(("MEMGATE_DATASET".into(), d.name.clone()));
            env.push(("MEMGATE_DATASET_PATH".into(), d.path.display().to_string()));
        }
        env.push((
            "MEMGATE_METRICS".into(),
            log_dir.join("metrics.jsonl").display().to_string(),
        ));
        let argv = command.argv();
        let measured = self.executor.execute(&Execution {
            argv: &argv,
            cwd,
            env: &env,
            timeout: job.timeout,
            memory_limit: job.memory_limit,
            sample_interval: job.sample_interval,
            stdout: &stdout,
            stderr: &stderr,
        })?;
        let (status, message, exit_code, signal) = match &measured.ending {
            Ending::Exited(Exit::Code(0)) => return Ok(Step::Done(measured)),
            Ending::Exited(Exit::Code(code)) => (
                Status::Failed,
                format!("exited with code {code}"),
                Some(*code),
                None,
            ),
            Ending::Exited(Exit::Signal(sig)) => (
                Status::Failed,
                format!(
                    "was killed by signal {sig} ({}){}",
                    signal_name(*sig),
                    if *sig == libc::SIGKILL {
                        " — memgate did not send it; the kernel's out-of-memory killer may have"
                    } else {
                        ""
                    }
                ),
                None,
                Some(*sig),
            ),
            Ending::Exited(Exit::NotStarted { step, errno }) => {
                let error = std::io::Error::from_raw_os_error(*errno);
                let message = match step {
                    StartStep::Exec => format!(
                        "could not start {:?}: {error} (check the command, PATH and cwd {})",
                        argv[0],
                        cwd.display()
                    ),
                    StartStep::Chdir => {
                        format!("could not enter its cwd {}: {error}", cwd.display())
                    }
                    StartStep::Cgroup => format!("could not join its cgroup: {error}"),
                };
                (Status::Failed, message, None, None)
            }
            Ending::Exited(Exit::Unknown) => (
                Status::Failed,
                "ended without an exit status".into(),
                None,
                None,
            ),
            Ending::Timeout => (
                Status::Timeout,
                format!(
                    "timed out (timeout {}); every process of its tree was killed",
                    seconds(job.timeout.as_secs_f64())
                ),
                None,
                None,
            ),
            Ending::MemoryLimit => (
                Status::MemoryLimit,
                format!(
                    "went over the memory limit of {}; every process of its tree was killed",
                    job.memory_limit.map_or("?".into(), |l| bytes(l.as_f64()))
                ),
                None,
                None,
            ),
        };
        let message = format!(
            "{phase} {attempt} {message} after {} at peak memory {} (log: {})",
            seconds(measured.wall_time.0),
            bytes(measured.peak_memory.as_f64()),
            stderr.display()
        );
        Ok(Step::Failed(
            Box::new(Failure {
                phase: phase.into(),
                attempt,
                message,
                exit_code,
                signal,
                after: measured.wall_time,
                peak_memory: measured.peak_memory,
                stderr_tail: tail(&stderr, STDERR_TAIL_LINES),
            }),
            status,
        ))
    }
}

impl Failure {
    /// A failure memgate found itself (no process failed): no exit status, no stderr.
    fn plain(phase: &str, attempt: u32, message: String) -> Box<Failure> {
        Box::new(Failure {
            phase: phase.into(),
            attempt,
            message,
            exit_code: None,
            signal: None,
            after: Default::default(),
            peak_memory: Default::default(),
            stderr_tail: vec![],
        })
    }
}

/// Adds one good run to the result.
fn record(result: &mut BenchmarkResult, m: Measured, custom: Vec<CustomLine>) {
    let mut push = |name: &str, unit: &str, better: Better, value: f64| {
        result
            .metrics
            .entry(name.to_owned())
            .or_insert_with(|| Metric {
                unit: unit.to_owned(),
                samples: Vec::new(),
                better,
            })
            .samples
            .push(value);
    };
    push(PEAK_MEMORY, "bytes", Better::Lower, m.peak_memory.as_f64());
    push(MAX_RSS, "bytes", Better::Lower, m.max_rss.as_f64());
    push(WALL_TIME, "seconds", Better::Lower, m.wall_time.0);
    push(CPU_TIME, "seconds", Better::Lower, m.cpu_time.0);
    for line in custom {
        push(
            &line.metric,
            &line.unit,
            line.better.unwrap_or(Better::Lower),
            line.value,
        );
    }
    result.runs.push(RunRecord {
        status: Status::Ok,
        wall_time: m.wall_time,
        cpu_time: m.cpu_time,
        peak_memory: m.peak_memory,
        max_rss: m.max_rss,
        exit_code: Some(0),
        signal: None,
        sampler_cpu_time: m.sampler_cpu_time,
        timeline: m.timeline,
    });
}

/// One line a benchmark appends to `$MEMGATE_METRICS`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomLine {
    metric: String,
    value: f64,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    better: Option<Better>,
}

/// Reads the custom metrics one run reported; a bad line is the benchmark's failure.
fn read_custom_metrics(path: &Path) -> Result<Vec<CustomLine>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => {
            return Err(format!(
                "cannot read $MEMGATE_METRICS ({}): {e}",
                path.display()
            ));
        }
    };
    let mut lines: Vec<CustomLine> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("$MEMGATE_METRICS line {}", number + 1);
        let parsed: CustomLine = serde_json::from_str(line).map_err(|e| {
            format!(
                "{at}: {e}: write one JSON object a line, like {{\"metric\": \"score\", \"value\": 0.93, \"unit\": \"\", \"better\": \"higher\"}}"
            )
        })?;
        if !crate::config::valid_name(&parsed.metric) {
            return Err(format!(
                "{at}: metric name {:?} is not allowed: use letters, digits, '_', '-' and '.'",
                parsed.metric
            ));
        }
        if BUILT_IN_METRICS.contains(&parsed.metric.as_str()) {
            return Err(format!(
                "{at}: {:?} is measured by memgate itself: give the custom metric another name",
                parsed.metric
            ));
        }
        if !parsed.value.is_finite() {
            return Err(format!(
                "{at}: the value of {:?} is not a finite number",
                parsed.metric
            ));
        }
        if lines.iter().any(|l| l.metric == parsed.metric) {
            return Err(format!(
                "{at}: {:?} is reported twice in one run",
                parsed.metric
            ));
        }
        lines.push(parsed);
    }
    Ok(lines)
}

/// The last `n` lines of a file, reading at most its last 64 KiB.
fn tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return vec![];
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGHUP => "SIGHUP",
        _ => "another signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_metrics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        assert!(read_custom_metrics(&path).unwrap().is_empty());
        std::fs::write(
            &path,
            "{\"metric\": \"score\", \"value\": 0.93, \"unit\": \"\", \"better\": \"higher\"}\n\n{\"metric\": \"rows\", \"value\": 5}\n",
        )
        .unwrap();
        let lines = read_custom_metrics(&path).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].better, Some(Better::Higher));
        for (bad, says) in [
            ("{\"metric\": \"score\"}", "line 1: missing field `value`"),
            ("not json", "line 1: expected"),
            (
                "{\"metric\": \"peak_memory\", \"value\": 1}",
                "measured by memgate itself",
            ),
            ("{\"metric\": \"a b\", \"value\": 1}", "is not allowed"),
            (
                "{\"metric\": \"s\", \"value\": 1}\n{\"metric\": \"s\", \"value\": 2}",
                "line 2: \"s\" is reported twice",
            ),
        ] {
            std::fs::write(&path, bad).unwrap();
            let error = read_custom_metrics(&path).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("err");
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let t = tail(&path, 3);
        assert_eq!(t, vec!["line 28", "line 29", "line 30"]);
    }
}
