//! The leaf values of `memgate.yml`, each read whole and checked where it stands: numbers
//! of runs, durations and sizes within sane bounds, percentages and significance levels,
//! names, paths, commands and environment values. Main types: [`RawCommand`],
//! [`Timeout`], [`MinChange`].

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, EnumAccess, SeqAccess, Visitor};

use super::plan::ExplainMode;
use super::units::{parse_duration, parse_percent, parse_size};
use super::visit::{
    Node, checked_list, checkpoint, context, drain_enum, leaf, name_leaf, refuse, refuse_mappings,
    wrong,
};
use crate::measure::units::Bytes;
use crate::names::check_name;
use crate::results::{CPU_TIME, LEAK_SLOPE, MAX_RSS, PEAK_MEMORY, WALL_TIME};

/// The only config version this memgate reads.
pub const CONFIG_VERSION: u64 = 1;
/// The most measured runs a benchmark may ask for, and the most warmups.
pub const MAX_RUNS: u64 = 100_000;
/// The longest timeout: a week.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// The longest sampling interval: a timeline needs a point at least every minute.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// The config's `version`, which must be [`CONFIG_VERSION`].
#[derive(Debug, Default)]
pub struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        leaf(d, "the number 1", |node| match node {
            Node::Unsigned(CONFIG_VERSION) => Ok(Version),
            Node::Unsigned(n) if n > CONFIG_VERSION => Err(format!(
                "config version {n} is newer than this memgate reads ({CONFIG_VERSION}): upgrade memgate"
            )),
            Node::Unsigned(n) => Err(format!(
                "config version {n} does not exist: write version: {CONFIG_VERSION}"
            )),
            Node::Signed(n) => Err(format!(
                "config version {n} does not exist: write version: {CONFIG_VERSION}"
            )),
            other => wrong("the number 1", &other),
        })
    }
}

/// `repeat`: at least one measured run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Count(pub u32);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "a whole number of runs, at least 1";
        leaf(d, expecting, |node| match node {
            Node::Unsigned(0) => Err("repeat is 0: give at least 1 measured run".into()),
            Node::Unsigned(n) if n <= MAX_RUNS => Ok(Count(n as u32)),
            Node::Unsigned(n) => Err(format!("{n} runs is too many: at most {MAX_RUNS}")),
            other => wrong(expecting, &other),
        })
    }
}

/// `warmup`: runs not measured, 0 or more.
#[derive(Clone, Copy, Debug, Default)]
pub struct Warmup(pub u32);

impl<'de> Deserialize<'de> for Warmup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "a whole number of runs, 0 or more";
        leaf(d, expecting, |node| match node {
            Node::Unsigned(n) if n <= MAX_RUNS => Ok(Warmup(n as u32)),
            Node::Unsigned(n) => Err(format!("{n} runs is too many: at most {MAX_RUNS}")),
            other => wrong(expecting, &other),
        })
    }
}

/// A string value; a number where only a string with a unit will do is told so.
fn text_with_unit(node: Node, expecting: &str) -> Result<String, String> {
    match node {
        Node::Str(s) => Ok(s),
        Node::Unsigned(_) | Node::Signed(_) | Node::Float(_) => {
            Err(format!("{node} has no unit: write it as {expecting}").replace("the number ", ""))
        }
        other => wrong(expecting, &other),
    }
}

/// `timeout`: from 1 ms to a week.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeout(pub Duration);

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "a duration like 30s, 10m or 250ms";
        leaf(d, expecting, |node| {
            let s = text_with_unit(node, expecting)?;
            match parse_duration(&s)? {
                d if d.is_zero() => Err(format!("{s:?} is zero: give a positive duration")),
                d if d < Duration::from_millis(1) || d > MAX_TIMEOUT => Err(format!(
                    "{s:?} is out of range: give a timeout from 1ms to 168h (a week)"
                )),
                d => Ok(Timeout(d)),
            }
        })
    }
}

/// `sample_interval`: from 1 ms to a minute.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interval(pub Duration);

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "an interval like 10ms";
        leaf(d, expecting, |node| {
            let s = text_with_unit(node, expecting)?;
            match parse_duration(&s)? {
                d if d < Duration::from_millis(1) => {
                    Err(format!("{s:?} is below 1ms: the sampler cannot go faster"))
                }
                d if d > MAX_INTERVAL => Err(format!(
                    "{s:?} is above 60s: a memory timeline needs a sample at least every minute"
                )),
                d => Ok(Interval(d)),
            }
        })
    }
}

/// `memory_limit`: a positive size, or `none`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limit(pub Option<Bytes>);

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "a size like 8GiB or 512MiB, or none";
        leaf(d, expecting, |node| {
            let s = text_with_unit(node, expecting)?;
            if s == "none" {
                return Ok(Limit(None));
            }
            match parse_size(&s)? {
                Bytes(0) => Err(format!("{s:?} is zero: give a positive size, or none")),
                b => Ok(Limit(Some(b))),
            }
        })
    }
}

/// `python`: whether `memgate explain` treats the benchmark as a Python program. Left
/// out, explain finds out from the command.
#[derive(Clone, Copy, Debug, Default)]
pub struct PythonFlag(pub bool);

impl<'de> Deserialize<'de> for PythonFlag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "true or false";
        leaf(d, expecting, |node| {
            match node {
            Node::Bool(b) => Ok(PythonFlag(b)),
            Node::Str(s) if s == "auto" => Err(
                "python: auto is what leaving it out means (explain looks at the command): remove the key, or write true or false".into(),
            ),
            Node::Str(s) if ["yes", "on"].contains(&s.as_str()) => {
                Err(format!("{s:?} is not a boolean here: write python: true"))
            }
            Node::Str(s) if ["no", "off"].contains(&s.as_str()) => {
                Err(format!("{s:?} is not a boolean here: write python: false"))
            }
            other => wrong(expecting, &other),
        }
        })
    }
}

/// The top-level `explain`: `off` or `auto`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Explain(pub ExplainMode);

impl<'de> Deserialize<'de> for Explain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "off or auto";
        leaf(d, expecting, |node| match node {
            Node::Str(s) if s == "off" => Ok(Explain(ExplainMode::Off)),
            Node::Str(s) if s == "auto" => Ok(Explain(ExplainMode::Auto)),
            Node::Bool(b) => Err(format!(
                "explain is not a boolean: write explain: {}",
                if b { "auto" } else { "off" }
            )),
            Node::Str(s) => Err(match super::suggest(&s, ["off", "auto"]) {
                Some(hint) => {
                    format!("unknown explain mode {s:?} (did you mean {hint}?): write off or auto")
                }
                None => format!(
                    "unknown explain mode {s:?}: write off (the default) or auto (check runs memgate explain after a peak_memory regression)"
                ),
            }),
            other => wrong(expecting, &other),
        })
    }
}

/// The fewest values a leak check runs the command at: a line needs two points.
pub const MIN_LEAK_VALUES: usize = 2;
/// The most: each is one more execution of every measured run.
pub const MAX_LEAK_VALUES: usize = 20;
/// The longest name of a leak check's parameter.
pub const MAX_PARAM_LEN: usize = 64;
/// Placeholders memgate fills itself: no leak parameter may take their names.
const RESERVED_PLACEHOLDERS: [&str; 2] = ["dataset", "path"];
/// The largest magnitude of a leak value: beyond it, not every whole number is exact.
const MAX_LEAK_VALUE: f64 = 9_007_199_254_740_992.0; // 2^53

/// A leak check's `param`: a simple identifier, written `{param}` in the command.
#[derive(Clone, Debug, Default)]
pub struct LeakParam(pub String);

impl<'de> Deserialize<'de> for LeakParam {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        name_leaf(d, "a parameter name like iterations", |name| {
            let simple = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !simple || name.len() > MAX_PARAM_LEN {
                return Err(format!(
                    "leak param {name:?} is not a simple name: use letters, digits and '_', not starting with a digit, at most {MAX_PARAM_LEN} characters, like iterations (the command then holds {{iterations}})"
                ));
            }
            if RESERVED_PLACEHOLDERS.contains(&name.as_str()) {
                return Err(format!(
                    "leak param {name:?} is taken by memgate's own placeholders ({{dataset.path}}, {{dataset.name}}, {{path}}): give the parameter another name, like iterations"
                ));
            }
            Ok(LeakParam(name))
        })
    }
}

/// One value of a leak check's parameter: a finite number.
#[derive(Clone, Copy, Debug)]
struct LeakValue(f64);

/// What a refused value reads as when the parse goes on past it: not a number, so the
/// list's own check knows a mistake was reported already.
impl Default for LeakValue {
    fn default() -> Self {
        LeakValue(f64::NAN)
    }
}

impl<'de> Deserialize<'de> for LeakValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "a number like 4 or 0.5";
        leaf(d, expecting, |node| {
            let value = match node {
                Node::Unsigned(n) => n as f64,
                Node::Signed(n) => n as f64,
                Node::Float(f) if f.is_finite() => f,
                Node::Float(f) => {
                    return Err(format!(
                        "{f} is not a finite number: give the values the parameter takes, like [1, 2, 4, 8]"
                    ));
                }
                Node::Str(s) => {
                    return Err(format!(
                        "{s:?} is not a number: write the values as numbers, like [1, 2, 4, 8]"
                    ));
                }
                other => return wrong(expecting, &other),
            };
            if value.abs() > MAX_LEAK_VALUE {
                return Err(format!(
                    "{value:e} is too large: give values of at most 2^53 (9007199254740992) in size, where every whole number is exact"
                ));
            }
            Ok(LeakValue(value))
        })
    }
}

/// A leak check's `values`: from 2 to 20 numbers, at least 2 of them different.
#[derive(Clone, Debug, Default)]
pub struct LeakValues(pub Vec<f64>);

impl<'de> Deserialize<'de> for LeakValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let values: Vec<LeakValue> =
            checked_list(d, "a list of numbers like [1, 2, 4, 8]", Some(leak_values))?;
        Ok(LeakValues(values.into_iter().map(|v| v.0).collect()))
    }
}

fn leak_values(values: &[LeakValue]) -> Result<(), String> {
    // A value refused where it stands: counting the rest would only confuse.
    if values.iter().any(|v| v.0.is_nan()) {
        return Ok(());
    }
    if values.len() > MAX_LEAK_VALUES {
        return Err(format!(
            "{} values is too many: give at most {MAX_LEAK_VALUES} (each adds a run to every measured run)",
            values.len()
        ));
    }
    let mut distinct: Vec<f64> = values.iter().map(|v| v.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() >= MIN_LEAK_VALUES {
        return Ok(());
    }
    let found = match values.len() {
        0 => "no values".to_owned(),
        1 => "only one value".to_owned(),
        n => format!("{n} values, all the same"),
    };
    Err(format!(
        "{found}: give at least {MIN_LEAK_VALUES} different ones, like [1, 2, 4, 8], so that memgate can fit a line through the peaks"
    ))
}

/// A percentage such as `5%`, as a fraction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fraction(pub f64);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        leaf(d, "a percentage like 5%", fraction)
    }
}

fn fraction(node: Node) -> Result<Fraction, String> {
    match node {
        Node::Str(s) => parse_percent(&s).map(Fraction),
        Node::Unsigned(_) | Node::Float(_) => Err(format!(
            "{} is not a percentage: write it with %, like 5%",
            node.to_string().replace("the number ", "")
        )),
        other => wrong("a percentage like 5%", &other),
    }
}

/// The metrics memgate measures itself, where lower is better: their unit.
fn built_in_unit(metric: &str) -> Option<&'static str> {
    match metric {
        PEAK_MEMORY | MAX_RSS | LEAK_SLOPE => Some("bytes"),
        WALL_TIME | CPU_TIME => Some("seconds"),
        _ => None,
    }
}

fn current_metric() -> String {
    context(|c| c.metric.clone().unwrap_or_default())
}

/// `max_decrease`: only for metrics where higher is better (never a built-in one).
#[derive(Clone, Copy, Debug, Default)]
pub struct Decrease(pub f64);

impl<'de> Deserialize<'de> for Decrease {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        leaf(d, "a percentage like 5%", |node| {
            let metric = current_metric();
            if built_in_unit(&metric).is_some() {
                return Err(format!(
                    "lower is better for {metric}, so a regression is an increase: use max_increase, not max_decrease"
                ));
            }
            fraction(node).map(|f| Decrease(f.0))
        })
    }
}

/// An absolute change in the metric's unit: a size for memory, a duration for time, a
/// plain number for a custom metric.
#[derive(Clone, Copy, Debug, Default)]
pub struct MinChange(pub f64);

impl<'de> Deserialize<'de> for MinChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        leaf(
            d,
            "a size like 8MiB, a duration like 20ms, or a number",
            |node| {
                let metric = current_metric();
                let zero =
                    matches!(node, Node::Unsigned(0)) || matches!(node, Node::Float(f) if f == 0.0);
                match (built_in_unit(&metric), node) {
                    (Some(_), _) if zero => Ok(MinChange(0.0)),
                    (Some("bytes"), Node::Str(s)) => match parse_size(&s) {
                        Ok(b) => Ok(MinChange(b.as_f64())),
                        Err(_) => Err(format!(
                            "{metric} is measured in bytes: write a size like 8MiB"
                        )),
                    },
                    (Some("bytes"), _) => Err(format!(
                        "{metric} is measured in bytes: write a size like 8MiB"
                    )),
                    (Some(_), Node::Str(s)) => match parse_duration(&s) {
                        Ok(d) => Ok(MinChange(d.as_secs_f64())),
                        Err(_) => Err(format!(
                            "{metric} is measured in seconds: write a duration like 20ms"
                        )),
                    },
                    (Some(_), _) => Err(format!(
                        "{metric} is measured in seconds: write a duration like 20ms"
                    )),
                    (None, Node::Unsigned(n)) => Ok(MinChange(n as f64)),
                    (None, Node::Float(f)) if f >= 0.0 && f.is_finite() => Ok(MinChange(f)),
                    (None, Node::Str(s))
                        if parse_size(&s).is_ok() || parse_duration(&s).is_ok() =>
                    {
                        Err(format!(
                            "{s:?}: a custom metric's min_change is a plain number in the unit the benchmark reports (like 0.5); sizes and durations are for peak_memory, max_rss, leak_slope, wall_time and cpu_time"
                        ))
                    }
                    (None, other) => wrong("a number of at least 0", &other),
                }
            },
        )
    }
}

/// A significance level, above 0 and at most 0.5.
#[derive(Clone, Copy, Debug, Default)]
pub struct Alpha(pub f64);

impl<'de> Deserialize<'de> for Alpha {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        leaf(d, "a significance level like 0.05", |node| {
            let n = match node {
                Node::Float(n) => n,
                Node::Unsigned(n) => n as f64,
                Node::Str(s) => {
                    return Err(format!(
                        "alpha {s:?} is not a number: give a significance level like 0.05 (not a percentage)"
                    ));
                }
                other => return wrong("a significance level like 0.05", &other),
            };
            if n > 0.0 && n <= 0.5 {
                Ok(Alpha(n))
            } else {
                Err(format!(
                    "alpha {n} is out of range: give a significance level above 0 and at most 0.5, like 0.05"
                ))
            }
        })
    }
}

/// A testbed name: safe as a path component and on a command line.
#[derive(Clone, Debug, Default)]
pub struct TestbedName(pub String);

impl<'de> Deserialize<'de> for TestbedName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        name_leaf(d, "a testbed name", |s| {
            check_name("testbed name", &s).map(|()| TestbedName(s))
        })
    }
}

/// A benchmark's group: benchmarks that do the same work in different ways, which the
/// run's table compares with each other. A name like any other (it shows in reports).
#[derive(Clone, Debug, Default)]
pub struct GroupName(pub String);

impl<'de> Deserialize<'de> for GroupName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        name_leaf(d, "a group name", |s| {
            check_name("group name", &s).map(|()| GroupName(s))
        })
    }
}

/// A benchmark's name: unique in the file, and safe in paths and on a command line.
#[derive(Clone, Debug, Default)]
pub struct BenchmarkName(pub String);

impl<'de> Deserialize<'de> for BenchmarkName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        name_leaf(d, "a benchmark name", |name| {
            check_name("benchmark name", &name)?;
            let fresh = context(|c| c.names.insert(name.clone()));
            if !fresh {
                return Err(format!(
                    "duplicate benchmark name {name:?}: every benchmark needs its own name"
                ));
            }
            Ok(BenchmarkName(name))
        })
    }
}

/// A benchmark's reference to a dataset declared under `datasets:`, once per list.
#[derive(Default)]
pub(super) struct DatasetRef(pub String);

impl<'de> Deserialize<'de> for DatasetRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        name_leaf(d, "the name of a dataset", |name| {
            let known = context(|c| c.datasets.clone());
            if let Some(known) = known
                && !known.contains(&name)
            {
                return Err(unknown_dataset(&name, &known));
            }
            let fresh = context(|c| c.list.insert(name.clone()));
            if !fresh {
                return Err(format!(
                    "dataset {name:?} is listed twice: list each dataset once"
                ));
            }
            Ok(DatasetRef(name))
        })
    }
}

fn unknown_dataset(name: &str, known: &BTreeSet<String>) -> String {
    if known.is_empty() {
        return format!("unknown dataset {name:?}: declare it under datasets:");
    }
    let hint = super::suggest(name, known.iter().map(String::as_str))
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default();
    let list: Vec<_> = known.iter().map(|k| format!("{k:?}")).collect();
    format!(
        "unknown dataset {name:?}{hint}: the datasets are {}",
        list.join(", ")
    )
}

/// Text memgate will pass to the system (a path, an argument, a variable): no NUL byte,
/// which no system call can take.
fn no_nul(s: &str, what: &str) -> Result<(), String> {
    if s.contains('\0') {
        Err(format!(
            "{what} holds a NUL byte, which no program can be given: remove it"
        ))
    } else {
        Ok(())
    }
}

/// A path, relative to the config's directory: not empty, no control characters.
fn path_text(node: Node, expecting: &str) -> Result<String, String> {
    let s = match node {
        Node::Str(s) => s,
        other => return wrong(expecting, &other),
    };
    if s.trim().is_empty() {
        return Err("the path is empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err(format!(
            "the path {s:?} holds a control character (a newline, a NUL, ...): remove it"
        ));
    }
    Ok(s)
}

/// A dataset's `path`.
#[derive(Clone, Debug, Default)]
pub struct DataPath(pub String);

impl<'de> Deserialize<'de> for DataPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        leaf(d, "a path", |node| path_text(node, "a path").map(DataPath))
    }
}

/// A benchmark's `cwd`: a directory that exists, relative to the config's directory.
#[derive(Clone, Debug, Default)]
pub struct Cwd(pub PathBuf);

impl<'de> Deserialize<'de> for Cwd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        leaf(d, "a directory", |node| {
            let s = path_text(node, "a directory")?;
            let dir = context(|c| c.base.join(&s));
            if dir.is_dir() {
                Ok(Cwd(dir))
            } else {
                Err(format!(
                    "{} is not a directory: create it or fix the path (relative to the config's directory)",
                    dir.display()
                ))
            }
        })
    }
}

/// An environment variable's value, or a command-list item: strings, numbers and
/// booleans are all written as text.
fn word(node: Node, what: &str, expecting: &str) -> Result<String, String> {
    let text = match node {
        Node::Str(s) => s,
        Node::Unsigned(n) => n.to_string(),
        Node::Signed(n) => n.to_string(),
        Node::Float(n) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        other => return wrong(expecting, &other),
    };
    no_nul(&text, what)?;
    Ok(text)
}

#[derive(Clone, Debug, Default)]
pub struct EnvValue(pub String);

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "a string, number or boolean";
        leaf(d, expecting, |node| {
            word(node, "the value", expecting).map(EnvValue)
        })
    }
}

/// One item of a command list.
#[derive(Default)]
struct Arg(String);

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expecting = "a string, number or boolean";
        leaf(d, expecting, |node| {
            word(node, "the argument", expecting).map(Arg)
        })
    }
}

/// A command: a string runs under `sh -c`, a list runs as argv.
#[derive(Clone, Debug)]
pub enum RawCommand {
    Shell(String),
    Argv(Vec<String>),
}

impl Default for RawCommand {
    fn default() -> Self {
        RawCommand::Shell(String::new())
    }
}

const COMMAND: &str = "a shell command string or a list [program, arg, ...]";

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawCommand;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(COMMAND)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawCommand, E> {
                let check = || {
                    if s.trim().is_empty() {
                        return Err(format!("empty command: give {COMMAND}"));
                    }
                    no_nul(s, "the command")?;
                    Ok(RawCommand::Shell(s.to_owned()))
                };
                checkpoint(check()).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawCommand, A::Error> {
                let mut argv = Vec::new();
                while let Some(Arg(arg)) = seq.next_element()? {
                    argv.push(arg);
                }
                let check = match argv.first() {
                    None => Err("empty command: the list needs at least the program".into()),
                    Some(p) if p.trim().is_empty() => {
                        Err("empty command: the program (first item of the list) is empty".into())
                    }
                    Some(_) => Ok(RawCommand::Argv(argv)),
                };
                checkpoint(check).map_err(de::Error::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RawCommand, E> {
                refuse(&self, Node::Unsigned(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawCommand, E> {
                refuse(&self, Node::Signed(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<RawCommand, E> {
                refuse(&self, Node::Float(n))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<RawCommand, E> {
                refuse(&self, Node::Bool(b))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawCommand, E> {
                refuse(&self, Node::Null)
            }
            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<RawCommand, A::Error> {
                drain_enum(data)?;
                refuse(&self, Node::Tagged)
            }
            refuse_mappings!();
        }
        d.deserialize_any(V)
    }
}
