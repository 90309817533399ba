//! The raw `memgate.yml` schema (version 1) as serde sees it: the mappings and their
//! keys. Each value is read and checked by its own type (`values.rs`) through the
//! machinery of `visit.rs`, so every mistake is found and placed. Nothing here leaves the
//! `config` module. Main type: [`RawConfig`].

use serde::Deserialize;
use serde::de::Deserializer;

use super::values::*;
use super::visit::{Entries, Keys, context, entries, list, mapping, refuse_lists, refuse_scalars};
use crate::names::check_name;

mapping! {
    /// The whole file.
    RawConfig, "a mapping with version, defaults, datasets and benchmarks",
    required { version: Version }
    optional {
        defaults: RawSettings,
        datasets: Datasets,
        benchmarks: Benchmarks,
        /// A name for the machine's results (else a fingerprint of the machine).
        testbed: Option<TestbedName>,
        /// Per metric (and `default` for metrics not named).
        thresholds: Thresholds,
        /// Whether `memgate check` runs `memgate explain` after a peak_memory regression.
        explain: Option<Explain>,
    }
}

mapping! {
    /// Settings that `defaults:` gives every benchmark and a benchmark may override.
    RawSettings, "a mapping of settings (repeat, warmup, timeout, ...)",
    required {}
    optional {
        repeat: Option<Count>,
        warmup: Option<Warmup>,
        timeout: Option<Timeout>,
        memory_limit: Option<Limit>,
        sample_interval: Option<Interval>,
        env: Env,
        /// Whether `memgate explain` treats the benchmark as Python (else it looks).
        python: Option<PythonFlag>,
    }
}

mapping! {
    RawDataset, "a mapping with path and, optionally, prepare",
    required { path: DataPath }
    optional { prepare: Option<RawCommand> }
}

mapping! {
    RawBenchmark, "a mapping with at least name and command",
    required { name: BenchmarkName, command: RawCommand }
    optional {
        datasets: DatasetList,
        cwd: Option<Cwd>,
        setup: Option<RawCommand>,
        /// Thresholds of this benchmark, over the project's.
        thresholds: Thresholds,
        /// Runs the command at several values of a parameter to see whether its peak
        /// grows with it.
        leak: Option<RawLeak>,
        /// Benchmarks of one group are compared with each other in the run's table.
        group: Option<GroupName>,
    }
    flatten {
        /// This benchmark's own settings, to lay over the defaults.
        settings: RawSettings
    }
    check placeholders_have_datasets, command_uses_leak_param
}

mapping! {
    /// A benchmark's leak check: the parameter the command takes as `{param}`, and the
    /// values it is run at.
    RawLeak, "a mapping with param and values, like {param: iterations, values: [1, 2, 4, 8]}",
    required { param: LeakParam, values: LeakValues }
    optional {}
}

/// Whether `command` holds `text` anywhere.
fn command_holds(command: &RawCommand, text: &str) -> bool {
    match command {
        RawCommand::Shell(s) => s.contains(text),
        RawCommand::Argv(a) => a.iter().any(|s| s.contains(text)),
    }
}

fn placeholders_have_datasets(bench: &RawBenchmark) -> Result<(), String> {
    let uses = command_holds(&bench.command, "{dataset.");
    if uses && bench.datasets.0.is_empty() {
        Err(
            "the command uses {dataset.…} but the benchmark has no datasets: add datasets: [NAME]"
                .into(),
        )
    } else {
        Ok(())
    }
}

/// A leak check varies `{param}` in the command: the command must hold it.
fn command_uses_leak_param(bench: &RawBenchmark) -> Result<(), String> {
    let Some(leak) = &bench.leak else {
        return Ok(());
    };
    let param = &leak.param.0;
    // An empty name or command is a mistake already reported where it stands.
    let empty = match &bench.command {
        RawCommand::Shell(s) => s.is_empty(),
        RawCommand::Argv(a) => a.is_empty(),
    };
    if param.is_empty() || empty || command_holds(&bench.command, &format!("{{{param}}}")) {
        return Ok(());
    }
    Err(format!(
        "leak varies {param}, but the command does not use {{{param}}}: put {{{param}}} in the command where the value goes, like python bench.py --{param} {{{param}}}"
    ))
}

mapping! {
    /// One metric's threshold as written.
    RawThreshold, "a mapping with max_increase, max_decrease, min_change or alpha",
    required {}
    optional {
        max_increase: Option<Fraction>,
        max_decrease: Option<Decrease>,
        min_change: Option<MinChange>,
        alpha: Option<Alpha>,
    }
}

/// `benchmarks:`, a list.
#[derive(Debug, Default)]
pub struct Benchmarks(pub Vec<RawBenchmark>);

impl<'de> Deserialize<'de> for Benchmarks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        list(d, "a list").map(Benchmarks)
    }
}

/// `datasets:`, name → dataset.
#[derive(Debug, Default)]
pub struct Datasets(pub Entries<RawDataset>);

impl<'de> Deserialize<'de> for Datasets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rule: fn(&str) -> Result<(), String> = |k| check_name("dataset name", k);
        entries(
            d,
            Keys::Rule(rule),
            "a mapping of dataset names to datasets",
        )
        .map(Datasets)
    }
}

/// `env:`, variable → value.
#[derive(Debug, Default)]
pub struct Env(pub Entries<EnvValue>);

impl<'de> Deserialize<'de> for Env {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        entries(
            d,
            Keys::Rule(check_env_name),
            "a mapping of environment variables to values",
        )
        .map(Env)
    }
}

fn check_env_name(key: &str) -> Result<(), String> {
    if key.is_empty() || key.contains('=') || key.chars().any(char::is_control) {
        Err(format!(
            "environment variable name {key:?} is not allowed: give a name without '=' or control characters, like PYTHONHASHSEED"
        ))
    } else {
        Ok(())
    }
}

/// `thresholds:`, metric (or `default`) → threshold.
#[derive(Debug, Default)]
pub struct Thresholds(pub Entries<RawThreshold>);

impl<'de> Deserialize<'de> for Thresholds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        entries(d, Keys::Metric, "a mapping of metric names to thresholds").map(Thresholds)
    }
}

/// A benchmark's `datasets:` list.
#[derive(Debug, Default)]
pub struct DatasetList(pub Vec<String>);

impl<'de> Deserialize<'de> for DatasetList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A dataset may be listed once per benchmark: a new list, a new count.
        context(|c| c.list.clear());
        let refs: Vec<DatasetRef> = list(d, "a list of dataset names like [taxi]")?;
        Ok(DatasetList(refs.into_iter().map(|r| r.0).collect()))
    }
}
