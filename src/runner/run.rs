//! Running a [`Plan`]: per benchmark × dataset, prepare the dataset if missing, run the
//! benchmark's setup once, then warmups, then measured runs; collect [`RunResults`].
//! A failing benchmark is recorded and the next one runs; only memgate's own trouble
//! (or Ctrl-C) stops the plan. A benchmark with a leak check runs its command once per
//! value of the parameter in each measured run ([`Session::measure`]) and records the
//! slope of its peaks as `leak_slope`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::execute::{Ending, Execution, Executor, Measured, Watch};
use super::launcher::{Exit, StartStep};
use super::progress::{JobCount, Progress};
use crate::compare::fit::{LineFit, fit_line};
use crate::compare::stats::median;
use crate::config::{CommandLine, Job, Leak, Plan, format_value};
use crate::error::Result;
use crate::measure::quality::PeakQuality;
use crate::report::units::{bytes, seconds};
use crate::results::{
    BUILT_IN_METRICS, BenchmarkResult, Better, CPU_TIME, Failure, LEAK_SLOPE, MAX_RSS, Metric,
    PEAK_MEMORY, RunRecord, RunResults, Status, Testbed, WALL_TIME,
};

/// How many lines of a failing benchmark's stderr the report keeps.
const STDERR_TAIL_LINES: usize = 20;

/// Looks on at measured runs (the diagnosis of `memgate explain`): adds to their
/// environment, watches their samples, and sees how each ended.
pub trait Instrument {
    /// The environment to add to the next measured run of `job` (after the job's own).
    fn prepare(&mut self, job: &Job) -> Result<Vec<(String, String)>>;
    /// The watch of that run.
    fn watch(&mut self) -> &mut dyn Watch;
    /// That run ended (in success or not) with these figures.
    fn measured(&mut self, job: &Job, measured: &Measured);
}

/// Runs every job of `plan` and returns the results.
pub fn run_plan(
    plan: &Plan,
    executor: &mut Executor,
    testbed: Testbed,
    quiet: bool,
) -> Result<RunResults> {
    run_instrumented(plan, executor, testbed, quiet, None)
}

/// [`run_plan`], with an instrument looking on at every measured execution (a leak
/// check's at each value: give it a plan without, as `memgate explain` does). The runs
/// are named, and logged, as `side` (`explain-head`), apart from the gated runs.
pub fn run_instrumented(
    plan: &Plan,
    executor: &mut Executor,
    testbed: Testbed,
    quiet: bool,
    instrument: Option<(&'static str, &mut (dyn Instrument + 'static))>,
) -> Result<RunResults> {
    let progress = Progress::new(&counts(&plan.jobs), quiet);
    let mut session = Session::new(plan, executor, &progress);
    let side = instrument.as_ref().map(|(side, _)| *side);
    session.instrument = instrument.map(|(_, i)| i as &mut dyn Instrument);
    let mut benchmarks = Vec::new();
    for (index, job) in plan.jobs.iter().enumerate() {
        let mut run = session.begin(job, side, index)?;
        for attempt in 1..=job.warmup {
            session.warmup(&mut run, attempt)?;
        }
        for attempt in 1..=job.repeat {
            session.measure(&mut run, attempt)?;
        }
        benchmarks.push(session.finish(run));
    }
    progress.clear();
    Ok(results(testbed, benchmarks))
}

/// Runs `base` and `head` (the same benchmarks, checked out in two places) in one
/// session, alternating run by run (base, head, base, head, ...) so that whatever the
/// machine does meanwhile falls on both alike. Returns (base, head) results.
pub fn run_pair(
    base: &Plan,
    head: &Plan,
    executor: &mut Executor,
    testbed: Testbed,
    quiet: bool,
) -> Result<(RunResults, RunResults)> {
    // The pairs' base jobs numbered first, then their head jobs.
    let pairs = base.jobs.len().min(head.jobs.len());
    let mut jobs = counts(&base.jobs[..pairs]);
    jobs.extend(counts(&head.jobs[..pairs]));
    let progress = Progress::new(&jobs, quiet);
    let mut session = Session::new(head, executor, &progress);
    let (mut base_results, mut head_results) = (Vec::new(), Vec::new());
    for (index, (b, h)) in base.jobs.iter().zip(&head.jobs).enumerate() {
        let mut runs = [
            session.begin(b, Some("base"), index)?,
            session.begin(h, Some("head"), pairs + index)?,
        ];
        for attempt in 1..=h.warmup.max(b.warmup) {
            for run in &mut runs {
                session.warmup(run, attempt)?;
            }
        }
        for attempt in 1..=h.repeat.max(b.repeat) {
            for run in &mut runs {
                session.measure(run, attempt)?;
            }
        }
        let [b_run, h_run] = runs;
        base_results.push(session.finish(b_run));
        head_results.push(session.finish(h_run));
    }
    progress.clear();
    Ok((
        results(testbed.clone(), base_results),
        results(testbed, head_results),
    ))
}

/// How many times each job's command runs, in all and measured.
fn counts(jobs: &[Job]) -> Vec<JobCount> {
    jobs.iter()
        .map(|job| JobCount {
            executions: u64::from(job.warmup) + measured_executions(job),
            measured: measured_executions(job),
        })
        .collect()
}

/// How many times a job's measured runs execute its command: once each, or once per
/// value of its leak check. (Each warmup runs it once more, unmeasured.)
fn measured_executions(job: &Job) -> u64 {
    let per_run = job.leak.as_ref().map_or(1, |l| l.values.len() as u64);
    u64::from(job.repeat) * per_run
}

fn results(testbed: Testbed, benchmarks: Vec<BenchmarkResult>) -> RunResults {
    RunResults {
        memgate_version: env!("CARGO_PKG_VERSION").into(),
        testbed,
        benchmarks,
    }
}

/// The outcome of one unmeasured step (prepare, setup, warmup) or measured run.
enum Step {
    Done(Measured),
    Failed(Box<Failure>, Status),
}

struct Session<'a> {
    executor: &'a mut Executor,
    progress: &'a Progress,
    logs: PathBuf,
    prepared: BTreeSet<PathBuf>,
    /// (side, benchmark) pairs whose setup has run.
    set_up: BTreeSet<(String, String)>,
    instrument: Option<&'a mut dyn Instrument>,
}

/// One benchmark × dataset on its way through its runs.
struct JobRun<'j> {
    job: &'j Job,
    /// `base` or `head` when two revisions run together.
    side: Option<&'static str>,
    /// The job's number in the progress.
    index: usize,
    result: BenchmarkResult,
    log_dir: PathBuf,
    failed: bool,
    /// The leak check's line of each measured run that succeeded, in order.
    fits: Vec<LineFit>,
}

impl JobRun<'_> {
    fn label(&self) -> String {
        match self.side {
            Some(side) => format!("{} ({side})", self.job.label()),
            None => self.job.label(),
        }
    }
}

impl<'a> Session<'a> {
    fn new(plan: &Plan, executor: &'a mut Executor, progress: &'a Progress) -> Session<'a> {
        Session {
            executor,
            progress,
            logs: crate::workspace::root(&plan.config_path).join("logs"),
            prepared: BTreeSet::new(),
            set_up: BTreeSet::new(),
            instrument: None,
        }
    }

    /// Starts a job: its dataset prepared if missing, its setup run once per side.
    fn begin<'j>(
        &mut self,
        job: &'j Job,
        side: Option<&'static str>,
        index: usize,
    ) -> Result<JobRun<'j>> {
        let log_dir = match side {
            // '@' cannot start a benchmark name: no clash with a benchmark's logs.
            Some(side) => self.logs.join(format!("@{side}")).join(job.label()),
            None => self.logs.join(job.label()),
        };
        let root = self.logs.parent().unwrap_or(&self.logs);
        crate::workspace::create(root, &log_dir)?;
        let mut run = JobRun {
            job,
            side,
            index,
            result: BenchmarkResult {
                benchmark: job.benchmark.clone(),
                dataset: job.dataset.as_ref().map(|d| d.name.clone()),
                group: job.group.clone(),
                status: Status::Ok,
                command: job.command.to_string(),
                metrics: BTreeMap::new(),
                runs: Vec::new(),
                lower_bound_runs: 0,
                failure: None,
            },
            log_dir,
            failed: false,
            fits: Vec::new(),
        };
        let label = run.label();

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
                self.fail(
                    &mut run,
                    Failure::plain("prepare", 1, message),
                    Status::Failed,
                );
                return Ok(run);
            };
            self.progress
                .now(&format!("{label}: preparing dataset {}", dataset.name));
            if let Some(parent) = dataset.path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let step = self.step(&run, prepare, &dataset.prepare_cwd, "prepare", 1, None)?;
            if let Step::Failed(failure, status) = step {
                self.fail(&mut run, *failure, status);
                return Ok(run);
            }
            if !dataset.path.exists() {
                let message = format!(
                    "the prepare command of dataset {:?} succeeded but did not create {}",
                    dataset.name,
                    dataset.path.display()
                );
                self.fail(
                    &mut run,
                    Failure::plain("prepare", 1, message),
                    Status::Failed,
                );
                return Ok(run);
            }
            self.prepared.insert(dataset.path.clone());
        }

        let key = (side.unwrap_or_default().to_owned(), job.benchmark.clone());
        if let Some(setup) = &job.setup
            && !self.set_up.contains(&key)
        {
            self.progress.now(&format!("{label}: setup"));
            if let Step::Failed(failure, status) =
                self.step(&run, setup, &job.cwd, "setup", 1, None)?
            {
                self.fail(&mut run, *failure, status);
                return Ok(run);
            }
            self.set_up.insert(key);
        }
        Ok(run)
    }

    /// One unmeasured run (with a leak check, at its largest value).
    fn warmup(&mut self, run: &mut JobRun, attempt: u32) -> Result<()> {
        if run.failed || attempt > run.job.warmup {
            return Ok(());
        }
        let job = run.job;
        let point = job.leak.as_ref().map(|l| (l, l.largest()));
        self.progress.now(&format!(
            "{}: warmup {attempt}/{}{}",
            run.label(),
            job.warmup,
            at(point)
        ));
        let command = command_at(job, point);
        let step = self.timed(run, false, |s, run| {
            s.step(run, &command, &job.cwd, "warmup", attempt, point)
        })?;
        if let Step::Failed(failure, status) = step {
            self.fail(run, *failure, status);
        }
        Ok(())
    }

    /// One measured run: its figures and custom metrics join the result.
    ///
    /// With a leak check, the measured run is one execution per value of the parameter,
    /// in the config's order; the line through their peaks gives the run's `leak_slope`,
    /// and the execution at the largest value gives every other figure (so that they
    /// compare across runs and revisions as a benchmark without the check would). Any
    /// execution that fails fails the run, as a failing run does.
    fn measure(&mut self, run: &mut JobRun, attempt: u32) -> Result<()> {
        if run.failed || attempt > run.job.repeat {
            return Ok(());
        }
        let job = run.job;
        let Some(leak) = &job.leak else {
            if let Some((measured, custom)) = self.execute(run, attempt, None, true)? {
                record(&mut run.result, measured, custom, None);
            }
            return Ok(());
        };
        let largest = leak.largest();
        let mut peaks = Vec::with_capacity(leak.values.len());
        let mut at_largest = None;
        for &value in &leak.values {
            // Custom metrics are read from the first execution at the largest value only.
            let figures = at_largest.is_none() && value == largest;
            let Some((measured, custom)) =
                self.execute(run, attempt, Some((leak, value)), figures)?
            else {
                return Ok(());
            };
            peaks.push((value, measured.peak_memory.as_f64()));
            if figures {
                at_largest = Some((measured, custom));
            }
        }
        // The config holds at least two different values, each run succeeded: a line.
        let (Some(fit), Some((measured, custom))) = (fit_line(&peaks), at_largest) else {
            let message = format!(
                "run {attempt}: no line fits the peaks at {} = {}",
                leak.param,
                leak.values
                    .iter()
                    .map(|v| format_value(*v))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.fail(run, Failure::plain("run", attempt, message), Status::Failed);
            return Ok(());
        };
        record(&mut run.result, measured, custom, Some(fit.slope));
        run.fits.push(fit);
        Ok(())
    }

    /// One execution of a measured run (at `point`, the leak check's value, if any):
    /// its figures, and its custom metrics if `figures` (else they are left unread).
    /// `None` when it failed, which fails the job.
    fn execute(
        &mut self,
        run: &mut JobRun,
        attempt: u32,
        point: Option<(&Leak, f64)>,
        figures: bool,
    ) -> Result<Option<(Measured, Vec<CustomLine>)>> {
        let job = run.job;
        self.progress.now(&format!(
            "{}: run {attempt}/{}{}",
            run.label(),
            job.repeat,
            at(point)
        ));
        let metrics_file = run.log_dir.join("metrics.jsonl");
        if let Err(why) = clear(&metrics_file) {
            self.fail(run, Failure::plain("run", attempt, why), Status::Failed);
            return Ok(None);
        }
        let command = command_at(job, point);
        let step = self.timed(run, true, |s, run| {
            s.step(run, &command, &job.cwd, "run", attempt, point)
        })?;
        let measured = match step {
            Step::Done(m) => m,
            Step::Failed(failure, status) => {
                self.fail(run, *failure, status);
                return Ok(None);
            }
        };
        if !figures {
            return Ok(Some((measured, Vec::new())));
        }
        match read_custom_metrics(&metrics_file) {
            Ok(custom) => Ok(Some((measured, custom))),
            Err(message) => {
                let mut failure = Failure::plain("run", attempt, message);
                failure.exit_code = Some(0);
                failure.after = measured.wall_time;
                failure.peak_memory = measured.peak_memory;
                self.fail(run, failure, Status::Failed);
                Ok(None)
            }
        }
    }

    /// Runs `step`, an execution of `run`'s command (`measured` or a warmup), timed for
    /// the progress's estimate of the time left.
    fn timed(
        &mut self,
        run: &JobRun,
        measured: bool,
        step: impl FnOnce(&mut Self, &JobRun) -> Result<Step>,
    ) -> Result<Step> {
        self.progress.started(run.index);
        let outcome = step(self, run);
        self.progress.ended(measured);
        outcome
    }

    /// Records a failure: the job's remaining runs will not happen.
    fn fail(&self, run: &mut JobRun, failure: Failure, status: Status) {
        run.result.status = status;
        run.result.failure = Some(failure);
        run.failed = true;
        self.progress.dropped(run.index);
    }

    /// Ends a job, saying how it went.
    fn finish(&self, run: JobRun) -> BenchmarkResult {
        let label = run.label();
        let line = match &run.result.failure {
            None => match run.result.runs.len() {
                1 => format!("{label}: ok (1 run)"),
                n => format!("{label}: ok ({n} runs)"),
            },
            Some(f) => format!(
                "{label}: {} — {}",
                run.result.status.as_str(),
                crate::report::text::printable(&f.message)
            ),
        };
        self.progress.finished(&line);
        if let (None, Some(leak)) = (&run.result.failure, &run.job.leak) {
            let peak = run
                .result
                .metrics
                .get(PEAK_MEMORY)
                .and_then(|m| median(&m.samples));
            if let Some(growth) = peak.and_then(|peak| leak_growth(leak, &run.fits, peak)) {
                self.progress.say(&format!("{label}: {growth}"));
            }
        }
        run.result
    }

    /// Runs one step of a job (at `point`, the leak check's value, if any) and judges it.
    fn step(
        &mut self,
        run: &JobRun,
        command: &CommandLine,
        cwd: &Path,
        phase: &str,
        attempt: u32,
        point: Option<(&Leak, f64)>,
    ) -> Result<Step> {
        let (job, log_dir) = (run.job, &run.log_dir);
        // `run-2-iterations=4.stderr`: one pair of logs per execution.
        let name = match point {
            Some((leak, value)) => {
                format!("{phase}-{attempt}-{}={}", leak.param, format_value(value))
            }
            None => format!("{phase}-{attempt}"),
        };
        let stdout = log_dir.join(format!("{name}.stdout"));
        let stderr = log_dir.join(format!("{name}.stderr"));
        // `run 2 at iterations=4`: how messages name the execution.
        let what = format!("{phase} {attempt}{}", at(point));
        // An earlier run may have left anything here; the launcher creates them anew.
        // What cannot be cleared fails this benchmark, not the session.
        if let Err(why) = clear(&stdout).and_then(|()| clear(&stderr)) {
            return Ok(Step::Failed(
                Box::new(Failure::plain(phase, attempt, why)),
                Status::Failed,
            ));
        }
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
        let instrument = self.instrument.as_deref_mut().filter(|_| phase == "run");
        let execution = |env| Execution {
            argv: &argv,
            cwd,
            env,
            timeout: job.timeout,
            memory_limit: job.memory_limit,
            sample_interval: job.sample_interval,
            stdout: &stdout,
            stderr: &stderr,
        };
        let measured = match instrument {
            Some(instrument) => {
                env.extend(instrument.prepare(job)?);
                let measured = self
                    .executor
                    .execute_watched(&execution(&env), instrument.watch())?;
                instrument.measured(job, &measured);
                measured
            }
            None => self.executor.execute(&execution(&env))?,
        };
        for (path, dropped) in &measured.dropped_logs {
            self.progress.say(&format!(
                "{}: {what} wrote more than memgate keeps: {} kept its last {} (the first {} dropped)",
                run.label(),
                path.display(),
                bytes(super::logcap::KEEP as f64),
                bytes(*dropped as f64)
            ));
        }
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
        // A command that never started has no time or memory to speak of.
        let (message, after, peak_memory) = match measured.ending {
            Ending::Exited(Exit::NotStarted { .. }) => (
                format!("{what} {message}"),
                Default::default(),
                Default::default(),
            ),
            _ => (
                format!(
                    "{what} {message} after {} at peak memory {} (log: {})",
                    seconds(measured.wall_time.0),
                    bytes(measured.peak_memory.as_f64()),
                    stderr.display()
                ),
                measured.wall_time,
                measured.peak_memory,
            ),
        };
        Ok(Step::Failed(
            Box::new(Failure {
                phase: phase.into(),
                attempt,
                message,
                exit_code,
                signal,
                after,
                peak_memory,
                stderr_tail: tail(&stderr, STDERR_TAIL_LINES),
            }),
            status,
        ))
    }
}

impl Failure {
    /// A failure memgate found itself (no process failed): no exit status, no stderr.
    fn plain(phase: &str, attempt: u32, message: String) -> Failure {
        Failure {
            phase: phase.into(),
            attempt,
            message,
            exit_code: None,
            signal: None,
            after: Default::default(),
            peak_memory: Default::default(),
            stderr_tail: vec![],
        }
    }
}

/// `command` at `point`: the leak check's placeholder replaced by the value.
fn command_at(job: &Job, point: Option<(&Leak, f64)>) -> CommandLine {
    match point {
        Some((leak, value)) => leak.command_at(&job.command, value),
        None => job.command.clone(),
    }
}

/// ` at iterations=4`, or nothing: where an execution of a leak check stands.
fn at(point: Option<(&Leak, f64)>) -> String {
    match point {
        Some((leak, value)) => format!(" at {}={}", leak.param, format_value(value)),
        None => String::new(),
    }
}

/// What the leak check found, said after the benchmark's line: `grows 20.1 MiB per
/// iteration (R² 0.99)`, or `no growth with iterations`. The slope is the median of the
/// runs' (the table's figure), R² that of the median run's line. `None` without a line.
fn leak_growth(leak: &Leak, fits: &[LineFit], peak: f64) -> Option<String> {
    let slope = median(&fits.iter().map(|f| f.slope).collect::<Vec<_>>())?;
    let mut sorted: Vec<&LineFit> = fits.iter().collect();
    sorted.sort_by(|a, b| a.slope.total_cmp(&b.slope));
    let middle = sorted[(sorted.len() - 1) / 2];
    // Growth over the whole range of values, against the peak: a judgement that does
    // not depend on the parameter's unit (a slope per row is tiny, per batch large).
    let low = leak.values.iter().copied().fold(f64::INFINITY, f64::min);
    let growth = slope * (leak.largest() - low);
    if slope <= 0.0 || (growth < 0.01 * peak && middle.r_squared < 0.5) {
        return Some(format!("no growth with {}", leak.param));
    }
    Some(format!(
        "grows {} per {} (R² {:.2})",
        bytes(slope),
        singular(&leak.param),
        middle.r_squared
    ))
}

/// `iterations` → `iteration`, `batches` → `batch`, `queries` → `query`: a parameter's
/// name for one unit of it. Names that are not plain English plurals stay as they are.
fn singular(name: &str) -> std::borrow::Cow<'_, str> {
    let lower = name.to_ascii_lowercase();
    let cut = |n: usize| std::borrow::Cow::Borrowed(&name[..name.len() - n]);
    if name.len() < 3 || ["ss", "us", "is"].iter().any(|end| lower.ends_with(end)) {
        name.into()
    } else if lower.ends_with("ies") {
        format!("{}y", &name[..name.len() - 3]).into()
    } else if ["sses", "ches", "shes", "xes"]
        .iter()
        .any(|end| lower.ends_with(end))
    {
        cut(2)
    } else if lower.ends_with('s') {
        cut(1)
    } else {
        name.into()
    }
}

/// Adds one good run to the result: its figures, its custom metrics, and with a leak
/// check the slope of its peaks.
fn record(
    result: &mut BenchmarkResult,
    m: Measured,
    custom: Vec<CustomLine>,
    leak_slope: Option<f64>,
) {
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
    if let Some(slope) = leak_slope {
        push(LEAK_SLOPE, "bytes", Better::Lower, slope);
    }
    for line in custom {
        push(
            &line.metric,
            &line.unit,
            line.better.unwrap_or(Better::Lower),
            line.value,
        );
    }
    if m.quality == PeakQuality::LowerBound {
        result.lower_bound_runs += 1;
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
        peak_quality: Some(m.quality),
        samples: Some(m.samples),
        peak_lower_bound: m.peak_lower_bound,
        peak_upper_bound: m.peak_upper_bound,
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

/// The most custom metrics one run may report.
const MAX_CUSTOM_METRICS: usize = 100;

/// The most a benchmark's metrics file may hold.
const MAX_METRICS: u64 = 16 * 1024 * 1024;

/// Removes whatever a benchmark left at `path` in memgate's log folder (a file, a link, a
/// FIFO, a folder), so the next run starts from nothing there; what is wrong, if it
/// cannot.
fn clear(path: &Path) -> std::result::Result<(), String> {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    removed.map_err(|e| {
        format!(
            "memgate cannot clear {} for the next run ({e}): a run left it there; remove it",
            path.display()
        )
    })
}

/// Reads the custom metrics one run reported; a bad line is the benchmark's failure.
fn read_custom_metrics(path: &Path) -> Result<Vec<CustomLine>, String> {
    use crate::files::{Unread, read_own};
    let text = match read_own(path, MAX_METRICS) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| "$MEMGATE_METRICS holds bytes that are not UTF-8 text".to_owned())?,
        Err(Unread::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(why) => {
            return Err(format!(
                "cannot read $MEMGATE_METRICS ({}): {why}: append JSON lines to it as to a regular file",
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
        // serde's message quotes the benchmark's own text: one line of it only, so it
        // cannot start a line of memgate's output (a workflow command in CI).
        let parsed: CustomLine = serde_json::from_str(line).map_err(|e| {
            let e = one_line(&e.to_string());
            format!(
                "{at}: {e}: write one JSON object a line, like {{\"metric\": \"score\", \"value\": 0.93, \"unit\": \"\", \"better\": \"higher\"}}"
            )
        })?;
        crate::names::check_name("metric name", &parsed.metric)
            .and_then(|()| crate::names::check_unit(&parsed.unit))
            .map_err(|e| format!("{at}: {e}"))?;
        if BUILT_IN_METRICS.contains(&parsed.metric.as_str()) || parsed.metric == LEAK_SLOPE {
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
        if lines.len() == MAX_CUSTOM_METRICS {
            return Err(format!(
                "{at}: more than {MAX_CUSTOM_METRICS} custom metrics in one run: report fewer"
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

/// `text` with every control character (newlines included) made a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The last `n` lines of a file, reading at most its last 64 KiB (and nothing but a
/// regular file: the benchmark may have put something else there).
fn tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(mut file) = crate::files::open_regular(path, false) else {
        return vec![];
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut buf = Vec::new();
    let _ = file.take(64 * 1024).read_to_end(&mut buf);
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
                "{\"metric\": \"s\", \"value\": 1, \"unit\": \"u\\n::error::x\"}",
                "line 1: unit \"u\\n::error::x\" is not allowed",
            ),
            (
                "{\"metric\": \"s\", \"value\": 1, \"unit\": \"<img src=x onerror=alert(1)>\"}",
                "is not allowed",
            ),
            (
                "{\"metric\": \"s\", \"value\": 1}\n{\"metric\": \"s\", \"value\": 2}",
                "line 2: \"s\" is reported twice",
            ),
            (
                &(0..=MAX_CUSTOM_METRICS)
                    .map(|i| format!("{{\"metric\": \"m{i}\", \"value\": 1}}\n"))
                    .collect::<String>(),
                "line 101: more than 100 custom metrics in one run",
            ),
        ] {
            std::fs::write(&path, bad).unwrap();
            let error = read_custom_metrics(&path).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn leak_slope_is_memgates_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(&path, "{\"metric\": \"leak_slope\", \"value\": 1}\n").unwrap();
        let error = read_custom_metrics(&path).unwrap_err();
        assert!(
            error.contains("\"leak_slope\" is measured by memgate itself"),
            "{error}"
        );
    }

    #[test]
    fn progress_counts_every_execution_and_the_measured_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memgate.yml");
        std::fs::write(
            &path,
            "version: 1\nbenchmarks:\n  - {name: a, command: x, repeat: 3, warmup: 2}\n  - name: b\n    command: x {n}\n    repeat: 3\n    warmup: 2\n    leak: {param: n, values: [1, 2, 4, 8]}\n  - {name: c, command: x, repeat: 1, warmup: 0}\n",
        )
        .unwrap();
        let plan = crate::config::load(&path).unwrap();
        let count = |executions, measured| JobCount {
            executions,
            measured,
        };
        // The bar counts measured executions; warmups (at a leak check's largest value
        // only) are timed for the estimate but not counted.
        assert_eq!(
            counts(&plan.jobs),
            [count(2 + 3, 3), count(2 + 3 * 4, 3 * 4), count(1, 1)]
        );
    }

    fn fit(slope: f64, r_squared: f64) -> LineFit {
        LineFit {
            slope,
            intercept: 0.0,
            r_squared,
        }
    }

    #[test]
    fn the_leak_line_says_how_the_peak_grows() {
        const MIB: f64 = 1024.0 * 1024.0;
        let leak = Leak {
            param: "iterations".into(),
            values: vec![1.0, 2.0, 4.0, 8.0],
        };
        let peak = 180.0 * MIB;
        // The median run's slope, and its R²: the middle of three.
        let fits = [
            fit(20.3 * MIB, 0.97),
            fit(20.1 * MIB, 0.99),
            fit(19.0 * MIB, 0.90),
        ];
        assert_eq!(
            leak_growth(&leak, &fits, peak).unwrap(),
            "grows 20.1 MiB per iteration (R² 0.99)"
        );
        // Below 1% of the peak over the whole range, with a poor fit: noise.
        assert_eq!(
            leak_growth(&leak, &[fit(0.2 * MIB, 0.3)], peak).unwrap(),
            "no growth with iterations"
        );
        // Small but steady: said.
        assert_eq!(
            leak_growth(&leak, &[fit(0.2 * MIB, 0.98)], peak).unwrap(),
            "grows 205 KiB per iteration (R² 0.98)"
        );
        // Falling or flat: no growth, however well it fits.
        assert_eq!(
            leak_growth(&leak, &[fit(-3.0 * MIB, 0.99)], peak).unwrap(),
            "no growth with iterations"
        );
        assert_eq!(
            leak_growth(&leak, &[fit(0.0, 1.0)], peak).unwrap(),
            "no growth with iterations"
        );
        assert_eq!(leak_growth(&leak, &[], peak), None);
    }

    #[test]
    fn one_unit_of_a_parameter() {
        for (name, one) in [
            ("iterations", "iteration"),
            ("rows", "row"),
            ("batches", "batch"),
            ("queries", "query"),
            ("boxes", "box"),
            ("classes", "class"),
            ("status", "status"),
            ("n", "n"),
            ("size", "size"),
            ("ms", "ms"),
            ("Epochs", "Epoch"),
        ] {
            assert_eq!(singular(name), one, "{name}");
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
