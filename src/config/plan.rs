//! The checked plan: what `config` hands the runner. Every value is validated, every
//! path absolute, every placeholder expanded. Main type: [`Plan`].

use std::path::PathBuf;
use std::time::Duration;

use crate::measure::units::Bytes;

/// Everything to run, in order: benchmarks × datasets.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The config file the plan came from.
    pub config_path: PathBuf,
    /// SHA-256 (hex) of the config file's bytes.
    pub config_digest: String,
    /// The testbed name the config gives, if any.
    pub testbed: Option<String>,
    /// The project's thresholds over the built-in ones (a benchmark's own are in its job).
    pub thresholds: crate::compare::Thresholds,
    /// Whether `memgate check` runs `memgate explain` after a peak_memory regression.
    pub explain: ExplainMode,
    pub jobs: Vec<Job>,
}

/// The config's top-level `explain:`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExplainMode {
    /// `memgate check` reports a regression and stops there.
    #[default]
    Off,
    /// `memgate check` runs `memgate explain` on each benchmark whose peak_memory
    /// regressed.
    Auto,
}

/// One benchmark over one dataset (or over none).
#[derive(Clone, Debug)]
pub struct Job {
    pub benchmark: String,
    pub dataset: Option<Dataset>,
    pub command: CommandLine,
    pub cwd: PathBuf,
    /// Added to memgate's own environment.
    pub env: Vec<(String, String)>,
    /// Run once per benchmark before its first measured run; not measured.
    pub setup: Option<CommandLine>,
    pub repeat: u32,
    pub warmup: u32,
    pub timeout: Duration,
    pub memory_limit: Option<Bytes>,
    pub sample_interval: Duration,
    /// Whether `memgate explain` treats the benchmark as a Python program; `None` when
    /// the config does not say, and explain finds out from the command.
    pub python: Option<bool>,
    /// This benchmark's thresholds over the project's and the built-in ones.
    pub thresholds: crate::compare::Thresholds,
}

impl Job {
    /// `automl` or `automl[taxi]`: how people and progress lines name the job.
    pub fn label(&self) -> String {
        crate::results::label(
            &self.benchmark,
            self.dataset.as_ref().map(|d| d.name.as_str()),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    pub path: PathBuf,
    /// Makes `path` when it is missing; runs in the config's directory.
    pub prepare: Option<CommandLine>,
    pub prepare_cwd: PathBuf,
}

/// A command ready to spawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandLine {
    /// Runs under `sh -c`.
    Shell(String),
    /// Runs as argv, the first item the program.
    Argv(Vec<String>),
}

impl CommandLine {
    /// The argv to execute.
    pub fn argv(&self) -> Vec<String> {
        match self {
            CommandLine::Shell(script) => vec!["sh".into(), "-c".into(), script.clone()],
            CommandLine::Argv(argv) => argv.clone(),
        }
    }
}

impl std::fmt::Display for CommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandLine::Shell(script) => f.write_str(script),
            CommandLine::Argv(argv) => f.write_str(&argv.join(" ")),
        }
    }
}

impl Plan {
    /// The thresholds for `benchmark`: its own where the config has it, else the
    /// project's.
    pub fn thresholds_for(&self, benchmark: &str) -> &crate::compare::Thresholds {
        self.jobs
            .iter()
            .find(|j| j.benchmark == benchmark)
            .map_or(&self.thresholds, |j| &j.thresholds)
    }

    /// Keeps the jobs of the named benchmarks (all when `names` is empty); an unknown name
    /// is an error with a suggestion.
    pub fn select(&mut self, names: &[String]) -> crate::error::Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let known: Vec<&str> = self.jobs.iter().map(|j| j.benchmark.as_str()).collect();
        for name in names {
            if !known.contains(&name.as_str()) {
                let hint = super::suggest(name, known.iter().copied())
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                let mut list = known.clone();
                list.dedup();
                return Err(crate::error::Error::Usage(format!(
                    "no benchmark named {name:?} in {}{hint}: the benchmarks are {}",
                    self.config_path.display(),
                    list.join(", ")
                )));
            }
        }
        self.jobs.retain(|j| names.contains(&j.benchmark));
        Ok(())
    }

    /// Runs the benchmarks in another checkout of the same repository: every working
    /// directory under `from` moves to the same place under `to`. Datasets stay where
    /// they are (data is shared between revisions, and prepared once).
    pub fn move_code(&mut self, from: &std::path::Path, to: &std::path::Path) {
        for job in &mut self.jobs {
            if let Ok(rest) = job.cwd.strip_prefix(from) {
                job.cwd = to.join(rest);
            }
        }
    }

    /// Overrides every job's repeat and warmup counts.
    pub fn override_counts(&mut self, repeat: Option<u32>, warmup: Option<u32>) {
        for job in &mut self.jobs {
            job.repeat = repeat.unwrap_or(job.repeat);
            job.warmup = warmup.unwrap_or(job.warmup);
        }
    }
}
