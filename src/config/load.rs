//! Finding, reading and checking `memgate.yml`, laid over the compiled-in defaults
//! (`config/default.yml`), and turning it into a [`Plan`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::plan::{CommandLine, Dataset, Job, Plan};
use super::schema::{
    MinChange, ParseContext, RawCommand, RawConfig, RawSettings, RawThreshold, with_context,
};
use super::suggest;
use crate::compare::{ThresholdSpec, Thresholds};
use crate::error::{Error, Result};
use crate::results::{CPU_TIME, MAX_RSS, PEAK_MEMORY, WALL_TIME};

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
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let shown = path.display().to_string();
    let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let raw = parse(&text, &shown)?;
    if raw.benchmarks.is_empty() {
        return Err(Error::config(
            &path,
            "no benchmarks: add at least one under benchmarks: (with a name and a command)",
        ));
    }
    let built_in = parse(BUILT_IN, BUILT_IN_NAME)?;
    let mut plan = build(&path, &base, built_in, raw)?;
    use sha2::Digest;
    plan.config_digest = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(plan)
}

/// The built-in thresholds alone, for comparing without a config.
pub fn built_in_thresholds() -> Result<Thresholds> {
    let built_in = parse(BUILT_IN, BUILT_IN_NAME)?;
    thresholds(&built_in.thresholds, Path::new(BUILT_IN_NAME), "")
}

/// Parses one YAML text into the raw schema, turning serde's messages into memgate's.
fn parse(text: &str, file: &str) -> Result<RawConfig> {
    if text.trim().is_empty() {
        return Err(Error::Config {
            file: file.into(),
            message: "the file is empty: start it with version: 1 and a list of benchmarks:".into(),
        });
    }
    // A first, lenient pass learns the dataset names so that a benchmark's reference to
    // one is checked where it stands, whatever the order of the keys.
    #[derive(Deserialize)]
    struct Names {
        #[serde(default)]
        datasets: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    }
    let datasets = serde_yaml::from_str::<Names>(text).ok().map(|n| {
        n.datasets
            .unwrap_or_default()
            .into_keys()
            .collect::<BTreeSet<_>>()
    });
    let context = ParseContext {
        datasets,
        names: BTreeSet::new(),
    };
    with_context(context, || serde_yaml::from_str::<RawConfig>(text))
        .map_err(|e| explain(&e, text, file))
}

/// Rewrites a serde_yaml error as `file:line:column: where: what (hint)`.
fn explain(error: &serde_yaml::Error, text: &str, file: &str) -> Error {
    let full = error.to_string();
    // serde_yaml appends " at line L column C"; the place goes in front instead.
    let body = match full.rfind(" at line ") {
        Some(i) if error.location().is_some() => &full[..i],
        _ => full.as_str(),
    };
    let (path, what) = match body.split_once(": ") {
        Some((p, w)) if !p.contains(' ') && !p.is_empty() => (Some(p), w),
        _ => (None, body),
    };
    let mut message = String::new();
    // A message about a benchmark's name names the benchmark itself.
    let about_name = what.contains("benchmark name");
    if let Some(path) = path.filter(|_| !about_name) {
        message.push_str(&describe_path(path, text));
        message.push_str(": ");
    }
    message.push_str(&reword(what, path));
    match error.location() {
        Some(at) => Error::ConfigAt {
            file: file.into(),
            line: at.line(),
            column: at.column(),
            message,
        },
        None => Error::Config {
            file: file.into(),
            message,
        },
    }
}

/// `benchmarks[2].timeout` → `benchmark "fit", key "timeout"`.
fn describe_path(path: &str, text: &str) -> String {
    if let Some(rest) = path.strip_prefix("benchmarks[")
        && let Some((index, key)) = rest.split_once(']')
    {
        let name = index.parse::<usize>().ok().and_then(|i| {
            let doc: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
            doc.get("benchmarks")?
                .get(i)?
                .get("name")?
                .as_str()
                .map(str::to_owned)
        });
        let who = match name {
            Some(name) => format!("benchmark {name:?}"),
            None => format!("benchmark #{}", index.parse::<usize>().map_or(0, |i| i + 1)),
        };
        return match key.trim_start_matches('.') {
            "" => who,
            key => format!("{who}, key {key:?}"),
        };
    }
    if let Some(rest) = path.strip_prefix("datasets.") {
        return match rest.split_once('.') {
            Some((name, key)) => format!("dataset {name:?}, key {key:?}"),
            None => format!("dataset {rest:?}"),
        };
    }
    format!("key {path:?}")
}

/// Turns serde's wording into a user's: keys not fields, with a suggestion.
fn reword(what: &str, path: Option<&str>) -> String {
    if let Some(rest) = what.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return match suggest(key, known.iter().copied()) {
            Some(s) => format!("unknown key {key:?} (did you mean {s:?}?)"),
            None if known.is_empty() => format!("unknown key {key:?}: no keys are allowed here"),
            None => format!(
                "unknown key {key:?}: the keys here are {}",
                known.join(", ")
            ),
        };
    }
    if let Some(rest) = what.strip_prefix("missing field `") {
        let key = rest.trim_end_matches('`');
        return match (key, path) {
            ("version", None) => "missing key \"version\": add version: 1 at the top".into(),
            _ => format!("missing key {key:?}"),
        };
    }
    if let Some(rest) = what.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        let expected = match expected {
            "u32" | "u64" => "a whole number",
            "struct RawConfig" => "a mapping with version, defaults, datasets and benchmarks",
            "struct RawBenchmark" => "a mapping with at least name and command",
            "struct RawSettings" => "a mapping of settings (repeat, warmup, timeout, ...)",
            "struct RawDataset" => "a mapping with path and, optionally, prepare",
            "a sequence" => "a list",
            "a map" => "a mapping",
            other => other,
        };
        let found = match found {
            "map" => "a mapping",
            "sequence" => "a list",
            "unit value" => "nothing",
            other => other,
        };
        return format!("expected {expected}, found {found}");
    }
    if let Some(rest) = what.strip_prefix("invalid value: integer `") {
        let (number, _) = rest.split_once('`').unwrap_or((rest, ""));
        return format!("{number} is out of range: expected a whole number from 0 to 4294967295");
    }
    what.to_owned()
}

/// Settings with every value present: the result of laying the layers over each other.
struct Settings {
    repeat: u32,
    warmup: u32,
    timeout: std::time::Duration,
    memory_limit: Option<crate::measure::units::Bytes>,
    sample_interval: std::time::Duration,
    env: BTreeMap<String, String>,
}

/// Lays `layers` over each other, the last one winning; `file` names where a missing
/// built-in default would be (a bug in memgate, caught by a test).
fn resolve(layers: &[&RawSettings]) -> Result<Settings> {
    fn last<T: Copy>(
        layers: &[&RawSettings],
        get: impl Fn(&RawSettings) -> Option<T>,
    ) -> Result<T> {
        layers
            .iter()
            .rev()
            .find_map(|l| get(l))
            .ok_or_else(|| Error::Config {
                file: BUILT_IN_NAME.into(),
                message: "a built-in default is missing".into(),
            })
    }
    let mut env = BTreeMap::new();
    for layer in layers {
        env.extend(layer.env.iter().map(|(k, v)| (k.clone(), v.0.clone())));
    }
    Ok(Settings {
        repeat: last(layers, |l| l.repeat.map(|c| c.0))?,
        warmup: last(layers, |l| l.warmup)?,
        timeout: last(layers, |l| l.timeout.map(|d| d.0))?,
        memory_limit: last(layers, |l| l.memory_limit.map(|m| m.0))?,
        sample_interval: last(layers, |l| l.sample_interval.map(|d| d.0))?,
        env,
    })
}

/// The thresholds a `thresholds:` mapping gives; `owner` says whose, for messages.
fn thresholds(
    raw: &BTreeMap<String, RawThreshold>,
    path: &Path,
    owner: &str,
) -> Result<Thresholds> {
    let mut out = Thresholds::default();
    for (metric, r) in raw {
        let at = format!("{owner}thresholds.{metric}");
        if metric != "default" && !super::valid_name(metric) {
            return Err(Error::config(
                path,
                format!("{at}: {metric:?} cannot name a metric"),
            ));
        }
        let bytes = [PEAK_MEMORY, MAX_RSS].contains(&metric.as_str());
        let seconds = [WALL_TIME, CPU_TIME].contains(&metric.as_str());
        if (bytes || seconds) && r.max_decrease.is_some() {
            return Err(Error::config(
                path,
                format!(
                    "{at}: lower is better for {metric}, so a regression is an increase: use max_increase, not max_decrease"
                ),
            ));
        }
        let min_change = match r.min_change {
            Some(MinChange::Bytes(b)) if !seconds => Some(b),
            Some(MinChange::Seconds(s)) if !bytes => Some(s),
            Some(MinChange::Number(n)) if !bytes && !seconds => Some(n),
            Some(MinChange::Number(0.0)) => Some(0.0),
            Some(_) if bytes => {
                return Err(Error::config(
                    path,
                    format!(
                        "{at}.min_change: {metric} is measured in bytes: write a size like 8MiB"
                    ),
                ));
            }
            Some(_) => {
                return Err(Error::config(
                    path,
                    format!(
                        "{at}.min_change: {metric} is measured in seconds: write a duration like 20ms"
                    ),
                ));
            }
            None => None,
        };
        let spec = ThresholdSpec {
            max_increase: r.max_increase.map(|f| f.0),
            max_decrease: r.max_decrease.map(|f| f.0),
            min_change,
            alpha: r.alpha.map(|a| a.0),
        };
        if metric == "default" {
            out.default = spec;
        } else {
            out.per_metric.insert(metric.clone(), spec);
        }
    }
    Ok(out)
}

fn build(path: &Path, base: &Path, built_in: RawConfig, raw: RawConfig) -> Result<Plan> {
    let global = thresholds(&raw.thresholds, path, "")?.over(&thresholds(
        &built_in.thresholds,
        Path::new(BUILT_IN_NAME),
        "",
    )?);
    let built_in = built_in.defaults;
    let datasets: BTreeMap<String, Dataset> = raw
        .datasets
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
    for bench in &raw.benchmarks {
        let own = bench.settings();
        let settings = resolve(&[&built_in, &raw.defaults, &own])?;
        let name = &bench.name.0;
        let bench_thresholds =
            thresholds(&bench.thresholds, path, &format!("benchmark {name:?}: "))?.over(&global);
        let cwd = match &bench.cwd {
            Some(dir) => base.join(&dir.0),
            None => base.to_path_buf(),
        };
        if !cwd.is_dir() {
            return Err(Error::config(
                path,
                format!(
                    "benchmark {name:?}, key \"cwd\": {} is not a directory: create it or fix the path (relative to the config's directory)",
                    cwd.display()
                ),
            ));
        }
        let uses_dataset = |c: &RawCommand| match c {
            RawCommand::Shell(s) => s.contains("{dataset."),
            RawCommand::Argv(a) => a.iter().any(|s| s.contains("{dataset.")),
        };
        if bench.datasets.is_empty() && uses_dataset(&bench.command) {
            return Err(Error::config(
                path,
                format!(
                    "benchmark {name:?}: the command uses {{dataset.…}} but the benchmark has no datasets: add datasets: [NAME]"
                ),
            ));
        }
        let targets: Vec<Option<&Dataset>> = if bench.datasets.is_empty() {
            vec![None]
        } else {
            // Names were checked while parsing.
            bench.datasets.iter().map(|d| datasets.get(&d.0)).collect()
        };
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
                thresholds: bench_thresholds.clone(),
            });
        }
    }
    Ok(Plan {
        config_path: path.to_path_buf(),
        config_digest: String::new(),
        testbed: raw.testbed.map(|t| t.0),
        thresholds: global,
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
fn shell_quote(value: &str) -> String {
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
        let raw = parse(BUILT_IN, BUILT_IN_NAME).expect("built-in defaults parse");
        let settings = resolve(&[&raw.defaults]).expect("every default present");
        assert_eq!(settings.repeat, 5);
        assert_eq!(settings.warmup, 1);
        assert_eq!(settings.memory_limit, None);
        assert_eq!(
            settings.sample_interval,
            std::time::Duration::from_millis(10)
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
