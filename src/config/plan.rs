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
    /// Datasets' placeholders filled; with a leak check, `{param}` is still there:
    /// [`Leak::command_at`] fills it for each execution.
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
    /// Runs the command at several values of a parameter, each measured run, to fit
    /// peak memory against it.
    pub leak: Option<Leak>,
    /// This benchmark's thresholds over the project's and the built-in ones.
    pub thresholds: crate::compare::Thresholds,
    /// The group it is compared within, in the run's table (`group:`).
    pub group: Option<String>,
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

/// A benchmark's leak check: `command` holds `{param}`, and each measured run runs it
/// once per value, the placeholder replaced by the value. Peak memory fitted against the
/// values by least squares gives the `leak_slope` metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Leak {
    /// A simple identifier, not one of memgate's own placeholders.
    pub param: String,
    /// From 2 to 20 finite numbers, at least 2 of them different, in the config's order.
    pub values: Vec<f64>,
}

impl Leak {
    /// `{iterations}`: what the command holds.
    pub fn placeholder(&self) -> String {
        format!("{{{}}}", self.param)
    }

    /// The largest value: warmups run at it, and the benchmark's other metrics come from
    /// the run at it.
    pub fn largest(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// `command` with the placeholder replaced by `value`, written as a person would
    /// (`4`, not `4.0`); a number needs no quoting for `sh`.
    pub fn command_at(&self, command: &CommandLine, value: f64) -> CommandLine {
        let (placeholder, value) = (self.placeholder(), format_value(value));
        match command {
            CommandLine::Shell(script) => CommandLine::Shell(script.replace(&placeholder, &value)),
            CommandLine::Argv(argv) => CommandLine::Argv(
                argv.iter()
                    .map(|arg| arg.replace(&placeholder, &value))
                    .collect(),
            ),
        }
    }
}

/// A value of a leak parameter as the command gets it: whole numbers without a
/// fraction (`4`, `-2`), others as Rust writes them shortest (`0.5`, `2.25`).
pub fn format_value(value: f64) -> String {
    // Values are at most 2^53 in size (checked in the config), so a whole one fits i64.
    if value.fract() == 0.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_values_are_written_as_people_write_them() {
        assert_eq!(format_value(4.0), "4");
        assert_eq!(format_value(-2.0), "-2");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(-0.0), "0");
        assert_eq!(format_value(0.5), "0.5");
        assert_eq!(format_value(2.25), "2.25");
        assert_eq!(format_value(1e3), "1000");
        assert_eq!(format_value(9_007_199_254_740_992.0), "9007199254740992");
    }

    #[test]
    fn the_placeholder_is_replaced_everywhere_in_the_command() {
        let leak = Leak {
            param: "n".into(),
            values: vec![1.0, 8.0, 2.0],
        };
        assert_eq!(leak.largest(), 8.0);
        assert_eq!(
            leak.command_at(&CommandLine::Shell("run {n} --again {n} {m}".into()), 8.0),
            CommandLine::Shell("run 8 --again 8 {m}".into())
        );
        assert_eq!(
            leak.command_at(
                &CommandLine::Argv(vec!["run".into(), "--n={n}".into(), "{n}".into()]),
                0.5
            ),
            CommandLine::Argv(vec!["run".into(), "--n=0.5".into(), "0.5".into()])
        );
    }
}
