//! Finding, reading and checking `memgate.yml`, laid over the compiled-in defaults
//! (`config/default.yml`), and turning it into a [`Plan`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::parse::parse;
use super::plan::{CommandLine, Dataset, ExplainMode, Job, Leak, Plan};
use super::schema::{self, RawConfig, RawSettings};
use super::values::RawCommand;
use crate::compare::{ThresholdSpec, Thresholds};
use crate::error::{Error, Result};

/// The config file's name, looked for in the current directory and the repository root.
pub const CONFIG_FILE: &str = "memgate.yml";

const BUILT_IN: &str = include_str!("../../config/default.yml");
const BUILT_IN_NAME: &str = "config/default.yml (built in)";

/// Finds the config: `explicit` if given, else `memgate.yml` in `cwd`, else at the root of
/// the git repository that holds `cwd`.
pub fn find(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(path) = explicit {
        let path = cwd.join(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::Usage(format!(
                "config file {} not found: check the path given to --config",
                path.display()
            )))
        };
    }
    let here = cwd.join(CONFIG_FILE);
    if here.is_file() {
        return Ok(here);
    }
    let root = cwd.ancestors().find(|dir| dir.join(".git").exists());
    if let Some(root) = root {
        let there = root.join(CONFIG_FILE);
        if there.is_file() {
            return Ok(there);
        }
        return Err(Error::Usage(format!(
            "no {CONFIG_FILE} in {} or at the repository root {}: create one (see the README) or pass --config FILE",
            cwd.display(),
            root.display()
        )));
    }
    Err(Error::Usage(format!(
        "no {CONFIG_FILE} in {}: create one (see the README) or pass --config FILE",
        cwd.display()
    )))
}

/// Reads and checks the config at `path` and builds the plan of every benchmark × dataset.
pub fn load(path: &Path) -> Result<Plan> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let shown = path.display().to_string();
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        Error::ConfigAt {
            file: shown.clone(),
            line,
            column,
            message: "the file is not UTF-8 text: save it as UTF-8".into(),
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let raw = parse(text, &shown, &base)?;
    let built_in = parse(BUILT_IN, BUILT_IN_NAME, &base)?;
    let mut plan = build(&path, &base, built_in, raw)?;
    use sha2::Digest;
    plan.config_digest = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(plan)
}

/// The built-in thresholds alone, for comparing without a config; read from the
/// compiled-in file once a process.
pub fn built_in_thresholds() -> Result<Thresholds> {
    static READ: std::sync::OnceLock<Thresholds> = std::sync::OnceLock::new();
    if let Some(read) = READ.get() {
        return Ok(read.clone());
    }
    let built_in = parse(BUILT_IN, BUILT_IN_NAME, Path::new("/"))?;
    Ok(READ
        .get_or_init(|| thresholds(&built_in.thresholds))
        .clone())
}

/// Settings with every value present: the result of laying the layers over each other.
struct Settings {
    repeat: u32,
    warmup: u32,
    timeout: std::time::Duration,
    memory_limit: Option<crate::measure::units::Bytes>,
    sample_interval: std::time::Duration,
    env: BTreeMap<String, String>,
    /// Not set anywhere: `memgate explain` looks at the command.
    python: Option<bool>,
}

/// Lays `layers` over each other, the last one winning.
fn resolve(layers: &[&RawSettings]) -> Result<Settings> {
    fn last<T: Copy>(
        layers: &[&RawSettings],
        get: impl Fn(&RawSettings) -> Option<T>,
    ) -> Result<T> {
        // A missing built-in default is a bug in memgate, caught by a test.
        layers
            .iter()
            .rev()
            .find_map(|l| get(l))
            .ok_or_else(|| Error::ConfigAt {
                file: BUILT_IN_NAME.into(),
                line: 1,
                column: 1,
                message: "a built-in default is missing".into(),
            })
    }
    let mut env = BTreeMap::new();
    for layer in layers {
        env.extend(layer.env.0.iter().map(|(k, v)| (k.clone(), v.0.clone())));
    }
    Ok(Settings {
        repeat: last(layers, |l| l.repeat.map(|c| c.0))?,
        warmup: last(layers, |l| l.warmup.map(|w| w.0))?,
        timeout: last(layers, |l| l.timeout.map(|d| d.0))?,
        memory_limit: last(layers, |l| l.memory_limit.map(|m| m.0))?,
        sample_interval: last(layers, |l| l.sample_interval.map(|d| d.0))?,
        env,
        python: layers.iter().rev().find_map(|l| l.python.map(|p| p.0)),
    })
}

/// The thresholds a `thresholds:` mapping gives (checked while parsing).
fn thresholds(raw: &schema::Thresholds) -> Thresholds {
    let mut out = Thresholds::default();
    for (metric, r) in raw.0.iter() {
        let spec = ThresholdSpec {
            max_increase: r.max_increase.map(|f| f.0),
            max_decrease: r.max_decrease.map(|f| f.0),
            min_change: r.min_change.map(|m| m.0),
            alpha: r.alpha.map(|a| a.0),
        };
        if metric == "default" {
            out.default = spec;
        } else {
            out.per_metric.insert(metric.clone(), spec);
        }
    }
    out
}

fn build(path: &Path, base: &Path, built_in: RawConfig, raw: RawConfig) -> Result<Plan> {
    if raw.benchmarks.0.is_empty() {
        return Err(Error::ConfigAt {
            file: path.display().to_string(),
            line: 1,
            column: 1,
            message:
                "no benchmarks: add at least one under benchmarks: (with a name and a command)"
                    .into(),
        });
    }
    let global = thresholds(&raw.thresholds).over(&thresholds(&built_in.thresholds));
    let explain = raw
        .explain
        .or(built_in.explain)
        .map_or(ExplainMode::default(), |e| e.0);
    let built_in = built_in.defaults;
    let datasets: BTreeMap<String, Dataset> = raw
        .datasets
        .0
        .iter()
        .map(|(name, d)| {
            let data_path = base.join(&d.path.0);
            let prepare = d
                .prepare
                .as_ref()
                .map(|c| expand(c, &[("{path}", &data_path.display().to_string())]));
            (
                name.clone(),
                Dataset {
                    name: name.clone(),
                    path: data_path,
                    prepare,
                    prepare_cwd: base.to_path_buf(),
                },
            )
        })
        .collect();

    let mut jobs = Vec::new();
    for bench in &raw.benchmarks.0 {
        let settings = resolve(&[&built_in, &raw.defaults, &bench.settings])?;
        let name = &bench.name.0;
        let bench_thresholds = thresholds(&bench.thresholds).over(&global);
        let cwd = match &bench.cwd {
            Some(dir) => dir.0.clone(),
            None => base.to_path_buf(),
        };
        let mut targets: Vec<Option<&Dataset>> = Vec::new();
        for name in &bench.datasets.0 {
            // Checked while parsing; never run a benchmark without the data it names.
            let dataset = datasets.get(name).ok_or_else(|| Error::ConfigAt {
                file: path.display().to_string(),
                line: 1,
                column: 1,
                message: format!(
                    "benchmark {:?}: dataset {name:?} is not declared under datasets:",
                    bench.name.0
                ),
            })?;
            targets.push(Some(dataset));
        }
        if targets.is_empty() {
            targets.push(None);
        }
        let leak = bench.leak.as_ref().map(|l| Leak {
            param: l.param.0.clone(),
            values: l.values.0.clone(),
        });
        // The placeholder is replaced at run time, in the command with the datasets' paths
        // already in: a path that held it would be changed too.
        if let Some(leak) = &leak
            && let Some(d) = targets
                .iter()
                .flatten()
                .find(|d| d.path.display().to_string().contains(&leak.placeholder()))
        {
            return Err(Error::ConfigAt {
                file: path.display().to_string(),
                line: 1,
                column: 1,
                message: format!(
                    "benchmark {name:?}: the path of dataset {:?} holds {}, which the leak check replaces in the command: rename the path, or give the parameter another name",
                    d.name,
                    leak.placeholder()
                ),
            });
        }
        for dataset in targets {
            let command = match dataset {
                Some(d) => expand(
                    &bench.command,
                    &[
                        ("{dataset.path}", &d.path.display().to_string()),
                        ("{dataset.name}", &d.name),
                    ],
                ),
                None => expand(&bench.command, &[]),
            };
            jobs.push(Job {
                benchmark: name.clone(),
                dataset: dataset.cloned(),
                command,
                cwd: cwd.clone(),
                env: settings
                    .env
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                setup: bench.setup.as_ref().map(|c| expand(c, &[])),
                repeat: settings.repeat,
                warmup: settings.warmup,
                timeout: settings.timeout,
                memory_limit: settings.memory_limit,
                sample_interval: settings.sample_interval,
                python: settings.python,
                leak: leak.clone(),
                thresholds: bench_thresholds.clone(),
                group: bench.group.as_ref().map(|g| g.0.clone()),
            });
        }
    }
    Ok(Plan {
        config_path: path.to_path_buf(),
        config_digest: String::new(),
        testbed: raw.testbed.map(|t| t.0),
        thresholds: global,
        explain,
        jobs,
    })
}

/// Replaces placeholders; in a shell command the values are quoted for `sh`.
fn expand(command: &RawCommand, values: &[(&str, &str)]) -> CommandLine {
    match command {
        RawCommand::Shell(script) => {
            let mut out = script.clone();
            for (key, value) in values {
                out = out.replace(key, &shell_quote(value));
            }
            CommandLine::Shell(out)
        }
        RawCommand::Argv(argv) => CommandLine::Argv(
            argv.iter()
                .map(|arg| {
                    values
                        .iter()
                        .fold(arg.clone(), |acc, (key, value)| acc.replace(key, value))
                })
                .collect(),
        ),
    }
}

/// Quotes `value` for `sh` when it holds anything but plainly safe characters.
pub fn shell_quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_are_complete() {
        let raw = parse(BUILT_IN, BUILT_IN_NAME, Path::new("/")).expect("built-in defaults parse");
        let settings = resolve(&[&raw.defaults]).expect("every default present");
        assert_eq!(settings.repeat, 5);
        assert_eq!(settings.warmup, 1);
        assert_eq!(settings.memory_limit, None);
        assert_eq!(
            settings.sample_interval,
            std::time::Duration::from_millis(10)
        );
    }

    /// The plan of `config`, written as `memgate.yml` in a directory of its own.
    fn plan_of(config: &str) -> Result<Plan> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, config).unwrap();
        load(&path)
    }

    #[test]
    fn python_is_carried_per_benchmark_over_the_defaults() {
        let plan = plan_of(
            "version: 1\ndefaults: {python: true}\nbenchmarks:\n  - {name: a, command: x}\n  - {name: b, command: y, python: false}\n",
        )
        .unwrap();
        let python: Vec<_> = plan.jobs.iter().map(|j| j.python).collect();
        assert_eq!(python, [Some(true), Some(false)]);
        let plan = plan_of("version: 1\nbenchmarks:\n  - {name: a, command: x}\n").unwrap();
        assert_eq!(plan.jobs[0].python, None, "not set: explain looks");
    }

    #[test]
    fn python_is_a_boolean() {
        for (value, says) in [
            ("yes", "\"yes\" is not a boolean here: write python: true"),
            ("off", "\"off\" is not a boolean here: write python: false"),
            ("auto", "python: auto is what leaving it out means"),
            ("1", "expected true or false, found the number 1"),
        ] {
            let error = plan_of(&format!(
                "version: 1\nbenchmarks:\n  - {{name: a, command: x, python: {value}}}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(error.contains(says), "{value}: {error}");
            assert!(error.contains(":3:"), "placed: {error}");
        }
    }

    #[test]
    fn explain_is_off_unless_the_config_says_auto() {
        let one = "benchmarks:\n  - {name: a, command: x}\n";
        let explain = |top: &str| plan_of(&format!("version: 1\n{top}{one}")).map(|p| p.explain);
        assert_eq!(
            explain("").unwrap(),
            ExplainMode::Off,
            "the built-in default"
        );
        assert_eq!(explain("explain: off\n").unwrap(), ExplainMode::Off);
        assert_eq!(explain("explain: auto\n").unwrap(), ExplainMode::Auto);
        for (value, says) in [
            (
                "true",
                "2:10: key \"explain\": explain is not a boolean: write explain: auto",
            ),
            ("false", "explain is not a boolean: write explain: off"),
            (
                "atuo",
                "unknown explain mode \"atuo\" (did you mean auto?): write off or auto",
            ),
            (
                "always",
                "unknown explain mode \"always\": write off (the default) or auto",
            ),
            ("[auto]", "expected off or auto, found a list"),
        ] {
            let error = explain(&format!("explain: {value}\n"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(says), "{value}: {error}");
        }
        // Top level only: not a setting of a benchmark.
        let error = plan_of("version: 1\nbenchmarks:\n  - {name: a, command: x, explain: auto}\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown key \"explain\""), "{error}");
    }

    /// The errors of `config` (one a line), each without the file's path.
    fn errors_of(config: &str) -> String {
        plan_of(config)
            .unwrap_err()
            .each()
            .iter()
            .map(|e| {
                let text = e.to_string();
                text[text.find(":").map_or(0, |i| i + 1)..].to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_leak_check_is_carried_with_its_command_template() {
        let plan = plan_of(
            "version: 1\ndatasets:\n  d: {path: d.csv}\nbenchmarks:\n  - name: a\n    command: [run, \"--n={n}\", \"{dataset.path}\"]\n    datasets: [d]\n    leak: {param: n, values: [1, 2.5, 8, -1]}\n  - {name: b, command: x}\n",
        )
        .unwrap();
        let leak = plan.jobs[0].leak.as_ref().expect("a leak check");
        assert_eq!(leak.param, "n");
        assert_eq!(leak.values, [1.0, 2.5, 8.0, -1.0]);
        // The datasets' placeholders are filled, the leak's is left for each run.
        let CommandLine::Argv(argv) = &plan.jobs[0].command else {
            panic!("{:?}", plan.jobs[0].command);
        };
        assert_eq!(argv[1], "--n={n}");
        assert!(argv[2].ends_with("/d.csv"), "{argv:?}");
        assert_eq!(plan.jobs[1].leak, None);
    }

    #[test]
    fn a_leak_check_is_checked_where_it_stands() {
        let bench = |command: &str, leak: &str| {
            format!(
                "version: 1\nbenchmarks:\n  - name: a\n    command: {command}\n    leak: {leak}\n"
            )
        };
        for (command, leak, says) in [
            (
                "python x.py",
                "{param: iterations, values: [1, 2]}",
                "3:5: benchmark \"a\": leak varies iterations, but the command does not use {iterations}: put {iterations} in the command where the value goes, like python bench.py --iterations {iterations}",
            ),
            (
                "[python, x.py, \"{iteration}\"]",
                "{param: iterations, values: [1, 2]}",
                "does not use {iterations}",
            ),
            (
                "x {n}",
                "{param: n, values: [1]}",
                "5:30: benchmark \"a\", key \"leak.values\": only one value: give at least 2 different ones",
            ),
            (
                "x {n}",
                "{param: n, values: [2, 2.0]}",
                "2 values, all the same",
            ),
            (
                "x {n}",
                "{param: n, values: []}",
                "no values: give at least 2",
            ),
            (
                "x {n}",
                &format!(
                    "{{param: n, values: [{}]}}",
                    (1..=21)
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "21 values is too many: give at most 20",
            ),
            (
                "x {n}",
                "{param: n, values: [1, .nan]}",
                "key \"leak.values[1]\": NaN is not a finite number",
            ),
            (
                "x {n}",
                "{param: n, values: [1, \"2\"]}",
                "\"2\" is not a number",
            ),
            (
                "x {n}",
                "{param: n, values: [1, 1e300]}",
                "1e300 is too large",
            ),
            (
                "x {n}",
                "{param: n, values: 4}",
                "expected a list of numbers like [1, 2, 4, 8], found the number 4",
            ),
            (
                "x {dataset}",
                "{param: dataset, values: [1, 2]}",
                "5:19: benchmark \"a\", key \"leak.param\": leak param \"dataset\" is taken by memgate's own placeholders",
            ),
            (
                "x {path}",
                "{param: path, values: [1, 2]}",
                "leak param \"path\" is taken",
            ),
            (
                "x {n-1}",
                "{param: n-1, values: [1, 2]}",
                "leak param \"n-1\" is not a simple name: use letters, digits and '_', not starting with a digit",
            ),
            (
                "x {1n}",
                "{param: 1n, values: [1, 2]}",
                "leak param \"1n\" is not a simple name",
            ),
            (
                "x",
                "{param: \"\", values: [1, 2]}",
                "leak param \"\" is not a simple name",
            ),
            (
                "x {n}",
                "{param: n}",
                "key \"leak\": missing key \"values\"",
            ),
            (
                "x {n}",
                "{param: n, values: [1, 2], step: 1}",
                "unknown key \"step\"",
            ),
            (
                "x {n}",
                "[n, 1, 2]",
                "expected a mapping with param and values",
            ),
        ] {
            let errors = errors_of(&bench(command, leak));
            assert!(errors.contains(says), "{command} / {leak}:\n{errors}");
            // One mistake, one message: nothing follows from it.
            assert_eq!(errors.lines().count(), 1, "{command} / {leak}:\n{errors}");
        }
        // Good ones: whole and fractional values, negative ones, repeats among them.
        for leak in [
            "{param: n, values: [1, 2, 4, 8]}",
            "{param: n, values: [0.5, 0.25, -1, 1e3]}",
            "{param: n, values: [1, 1, 2]}",
            "{param: _N2, values: [1, 2]}",
        ] {
            let text = bench("x {n} {_N2}", leak);
            assert!(plan_of(&text).is_ok(), "{leak}: {:?}", plan_of(&text).err());
        }
    }

    #[test]
    fn a_dataset_path_that_holds_the_placeholder_is_refused() {
        let errors = errors_of(
            "version: 1\ndatasets:\n  d: {path: \"data/{n}.csv\"}\nbenchmarks:\n  - name: a\n    command: x {n} {dataset.path}\n    datasets: [d]\n    leak: {param: n, values: [1, 2]}\n",
        );
        assert!(
            errors.contains("the path of dataset \"d\" holds {n}, which the leak check replaces"),
            "{errors}"
        );
    }

    #[test]
    fn leak_slope_has_a_built_in_threshold_in_bytes() {
        let plan = plan_of("version: 1\nbenchmarks:\n  - {name: a, command: x}\n").unwrap();
        let t = plan
            .thresholds
            .resolve("leak_slope", crate::results::Better::Lower);
        assert_eq!(t.max_worse, 0.10);
        assert_eq!(t.min_change, 1024.0 * 1024.0);
        assert_eq!(t.alpha, 0.05);
        let plan = plan_of(
            "version: 1\nthresholds:\n  leak_slope: {min_change: 8MiB}\nbenchmarks:\n  - {name: a, command: x}\n",
        )
        .unwrap();
        let t = plan
            .thresholds
            .resolve("leak_slope", crate::results::Better::Lower);
        assert_eq!((t.max_worse, t.min_change), (0.10, 8.0 * 1024.0 * 1024.0));
        for (threshold, says) in [
            (
                "{min_change: 0.5}",
                "leak_slope is measured in bytes: write a size like 8MiB",
            ),
            ("{max_decrease: 5%}", "lower is better for leak_slope"),
        ] {
            let errors = errors_of(&format!(
                "version: 1\nthresholds:\n  leak_slope: {threshold}\nbenchmarks:\n  - {{name: a, command: x}}\n"
            ));
            assert!(errors.contains(says), "{threshold}: {errors}");
        }
    }

    #[test]
    fn a_group_is_carried_to_every_job_of_its_benchmark() {
        let plan = plan_of(
            "version: 1\ndatasets:\n  d: {path: d.csv}\n  e: {path: e.csv}\nbenchmarks:\n  - {name: a, command: x, datasets: [d, e], group: pipeline}\n  - {name: b, command: y, group: pipeline}\n  - {name: c, command: z}\n",
        )
        .unwrap();
        let groups: Vec<_> = plan.jobs.iter().map(|j| j.group.as_deref()).collect();
        assert_eq!(
            groups,
            [Some("pipeline"), Some("pipeline"), Some("pipeline"), None]
        );
    }

    #[test]
    fn a_group_is_a_name_given_on_a_benchmark() {
        for (group, says) in [
            (
                "\"a b\"",
                "3:34: benchmark \"a\", key \"group\": group name \"a b\" is not allowed: use letters, digits, '_', '-' and '.'",
            ),
            ("../up", "group name \"../up\" is not allowed"),
            ("\"\"", "group name \"\" is not allowed"),
            ("[a, b]", "invalid type: sequence, expected a group name"),
        ] {
            let errors = errors_of(&format!(
                "version: 1\nbenchmarks:\n  - {{name: a, command: x, group: {group}}}\n"
            ));
            assert!(errors.contains(says), "{group}: {errors}");
            assert_eq!(errors.lines().count(), 1, "{group}: {errors}");
        }
        // Names as written, like every name: `7` and `true` are names too.
        for group in ["7", "true", "v1.0", "io_bound-2"] {
            let text =
                format!("version: 1\nbenchmarks:\n  - {{name: a, command: x, group: {group}}}\n");
            assert_eq!(
                plan_of(&text).unwrap().jobs[0].group.as_deref(),
                Some(group)
            );
        }
        // Not a setting: a group names what a benchmark is, not how it runs.
        let errors = errors_of(
            "version: 1\ndefaults: {group: pipeline}\nbenchmarks:\n  - {name: a, command: x}\n",
        );
        assert!(
            errors.contains("2:12: key \"defaults\": unknown key \"group\""),
            "{errors}"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/tmp/data.csv"), "/tmp/data.csv");
        assert_eq!(shell_quote("/tmp/my data.csv"), "'/tmp/my data.csv'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
