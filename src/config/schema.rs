//! The raw `memgate.yml` schema (version 1) as serde sees it. Values that need checking
//! (sizes, durations, commands, names) are checked inside their visitors, so that
//! serde_yaml reports the exact line and column of a bad value. Cross references
//! (dataset names, duplicate benchmark names) are checked against a per-parse
//! [`ParseContext`] for the same reason. Nothing here leaves the `config` module.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::units::{parse_duration, parse_size};
use crate::measure::units::Bytes;

/// The only config version this memgate reads.
pub const CONFIG_VERSION: u64 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[expect(dead_code, reason = "checked by its visitor; its value is always 1")]
    pub version: Version,
    #[serde(default)]
    pub defaults: RawSettings,
    #[serde(default)]
    pub datasets: BTreeMap<String, RawDataset>,
    #[serde(default)]
    pub benchmarks: Vec<RawBenchmark>,
    /// A name for the machine's results (else a fingerprint of the machine).
    pub testbed: Option<TestbedName>,
    /// Per metric (and `default` for metrics not named).
    #[serde(default)]
    pub thresholds: BTreeMap<String, RawThreshold>,
}

/// One metric's threshold as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThreshold {
    pub max_increase: Option<Fraction>,
    pub max_decrease: Option<Fraction>,
    pub min_change: Option<MinChange>,
    pub alpha: Option<Alpha>,
}

/// A percentage such as `5%`, as a fraction.
#[derive(Clone, Copy, Debug)]
pub struct Fraction(pub f64);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let check = |text: &str| super::units::parse_percent(text).map(Fraction);
        d.deserialize_str(Checked(check, "a percentage like 5%"))
    }
}

/// An absolute change: a size (`8MiB`), a duration (`20ms`) or, for a custom metric, a
/// plain number.
#[derive(Clone, Copy, Debug)]
pub enum MinChange {
    Bytes(f64),
    Seconds(f64),
    Number(f64),
}

impl<'de> Deserialize<'de> for MinChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MinChange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size like 8MiB, a duration like 20ms, or a number")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MinChange, E> {
                if let Ok(bytes) = parse_size(s) {
                    return Ok(MinChange::Bytes(bytes.as_f64()));
                }
                if let Ok(d) = parse_duration(s) {
                    return Ok(MinChange::Seconds(d.as_secs_f64()));
                }
                Err(E::custom(format!(
                    "{s:?} is not a size (like 8MiB), a duration (like 20ms) or a number"
                )))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<MinChange, E> {
                Ok(MinChange::Number(n as f64))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<MinChange, E> {
                if n >= 0.0 && n.is_finite() {
                    Ok(MinChange::Number(n))
                } else {
                    Err(E::custom(format!(
                        "{n} is not a change: give a number of at least 0"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A significance level, above 0 and at most 0.5.
#[derive(Clone, Copy, Debug)]
pub struct Alpha(pub f64);

impl<'de> Deserialize<'de> for Alpha {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Alpha;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a significance level like 0.05")
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Alpha, E> {
                if n > 0.0 && n <= 0.5 {
                    Ok(Alpha(n))
                } else {
                    Err(E::custom(format!(
                        "alpha {n} is out of range: give a significance level above 0 and at most 0.5, like 0.05"
                    )))
                }
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Alpha, E> {
                self.visit_f64(n as f64)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Alpha, E> {
                Err(E::custom(format!(
                    "alpha {s:?} is not a number: give a significance level like 0.05 (not a percentage)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A testbed name: safe as a path component and on a command line.
#[derive(Clone, Debug)]
pub struct TestbedName(pub String);

impl<'de> Deserialize<'de> for TestbedName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let check = |name: &str| {
            if valid_name(name) {
                Ok(TestbedName(name.to_owned()))
            } else {
                Err(format!(
                    "testbed name {name:?} is not allowed: use letters, digits, '_', '-' and '.', not starting with '-'"
                ))
            }
        };
        d.deserialize_str(Checked(check, "a testbed name"))
    }
}

/// Settings that `defaults:` gives every benchmark and a benchmark may override.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub repeat: Option<Count>,
    pub warmup: Option<u32>,
    pub timeout: Option<DurationValue>,
    pub memory_limit: Option<Limit>,
    pub sample_interval: Option<Interval>,
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataset {
    pub path: NonEmpty,
    pub prepare: Option<RawCommand>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBenchmark {
    pub name: BenchmarkName,
    pub command: RawCommand,
    #[serde(default)]
    pub datasets: Vec<DatasetRef>,
    pub cwd: Option<NonEmpty>,
    pub setup: Option<RawCommand>,
    /// Thresholds of this benchmark, over the project's.
    #[serde(default)]
    pub thresholds: BTreeMap<String, RawThreshold>,
    // The same keys as `RawSettings`: serde cannot flatten with deny_unknown_fields.
    pub repeat: Option<Count>,
    pub warmup: Option<u32>,
    pub timeout: Option<DurationValue>,
    pub memory_limit: Option<Limit>,
    pub sample_interval: Option<Interval>,
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
}

impl RawBenchmark {
    /// This benchmark's own settings, to lay over the defaults.
    pub fn settings(&self) -> RawSettings {
        RawSettings {
            repeat: self.repeat,
            warmup: self.warmup,
            timeout: self.timeout,
            memory_limit: self.memory_limit,
            sample_interval: self.sample_interval,
            env: self.env.clone(),
        }
    }
}

/// What one parse knows beyond the value at hand: the datasets the file declares and the
/// benchmark names seen so far.
#[derive(Default)]
pub struct ParseContext {
    pub datasets: Option<BTreeSet<String>>,
    pub names: BTreeSet<String>,
}

thread_local! {
    static CONTEXT: RefCell<ParseContext> = RefCell::new(ParseContext::default());
}

/// Runs `parse` with `context` installed for the visitors, and clears it after.
pub fn with_context<T>(context: ParseContext, parse: impl FnOnce() -> T) -> T {
    CONTEXT.with(|c| *c.borrow_mut() = context);
    let out = parse();
    CONTEXT.with(|c| *c.borrow_mut() = ParseContext::default());
    out
}

/// Reads a string through `check` inside the visitor, so that an error carries the
/// value's own line and column.
struct Checked<F>(F, &'static str);

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for Checked<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        (self.0)(s).map_err(E::custom)
    }
}

/// Defines a newtype read from a YAML string by a checking function.
macro_rules! string_value {
    ($name:ident, $inner:ty, $expecting:literal, $check:expr) => {
        #[derive(Clone, Copy, Debug)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        let check: fn(&str) -> Result<$inner, String> = $check;
                        check(s).map($name).map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, n: u64) -> Result<$name, E> {
                        Err(E::custom(format!(
                            "{n} has no unit: write it as {}",
                            $expecting
                        )))
                    }
                    fn visit_f64<E: de::Error>(self, n: f64) -> Result<$name, E> {
                        Err(E::custom(format!(
                            "{n} has no unit: write it as {}",
                            $expecting
                        )))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

string_value!(
    DurationValue,
    Duration,
    "a duration like 30s, 10m or 250ms",
    |s| {
        match parse_duration(s)? {
            d if d.is_zero() => Err(format!("{s:?} is zero: give a positive duration")),
            d => Ok(d),
        }
    }
);

string_value!(Interval, Duration, "an interval like 10ms", |s| {
    match parse_duration(s)? {
        d if d < Duration::from_millis(1) => {
            Err(format!("{s:?} is below 1ms: the sampler cannot go faster"))
        }
        d => Ok(d),
    }
});

string_value!(
    Limit,
    Option<Bytes>,
    "a size like 8GiB or 512MiB, or none",
    |s| {
        if s == "none" {
            return Ok(None);
        }
        match parse_size(s)? {
            Bytes(0) => Err(format!("{s:?} is zero: give a positive size, or none")),
            b => Ok(Some(b)),
        }
    }
);

/// `repeat`: at least one measured run.
#[derive(Clone, Copy, Debug)]
pub struct Count(pub u32);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of runs, at least 1")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Count, E> {
                match u32::try_from(n) {
                    Ok(0) => Err(E::custom("repeat is 0: give at least 1 measured run")),
                    Ok(n) => Ok(Count(n)),
                    Err(_) => Err(E::custom(format!("{n} runs is too many"))),
                }
            }
        }
        d.deserialize_u64(V)
    }
}

/// The config's `version`, which must be [`CONFIG_VERSION`].
#[derive(Debug)]
pub struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "the number {CONFIG_VERSION}")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Version, E> {
                if n == CONFIG_VERSION {
                    Ok(Version)
                } else if n > CONFIG_VERSION {
                    Err(E::custom(format!(
                        "config version {n} is newer than this memgate reads ({CONFIG_VERSION}): upgrade memgate"
                    )))
                } else {
                    Err(E::custom(format!(
                        "config version {n} does not exist: write version: {CONFIG_VERSION}"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Version, E> {
                Err(E::custom(format!(
                    "config version {n} does not exist: write version: {CONFIG_VERSION}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A non-empty string.
#[derive(Clone, Debug)]
pub struct NonEmpty(pub String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let check = |s: &str| match s.trim() {
            "" => Err("is empty".to_string()),
            _ => Ok(NonEmpty(s.to_owned())),
        };
        d.deserialize_str(Checked(check, "a non-empty string"))
    }
}

/// An environment variable's value: strings, numbers and booleans are all written as text.
#[derive(Clone, Debug)]
pub struct EnvValue(pub String);

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<EnvValue, E> {
                Ok(EnvValue(s.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<EnvValue, E> {
                Ok(EnvValue(n.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<EnvValue, E> {
                Ok(EnvValue(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<EnvValue, E> {
                Ok(EnvValue(n.to_string()))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<EnvValue, E> {
                Ok(EnvValue(b.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A command: a string runs under `sh -c`, a list runs as argv.
#[derive(Clone, Debug)]
pub enum RawCommand {
    Shell(String),
    Argv(Vec<String>),
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawCommand;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a shell command string or a list [program, arg, ...]")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawCommand, E> {
                if s.trim().is_empty() {
                    return Err(E::custom(
                        "empty command: give a shell command string or a list [program, arg, ...]",
                    ));
                }
                Ok(RawCommand::Shell(s.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawCommand, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<EnvValue>()? {
                    argv.push(arg.0);
                }
                match argv.first() {
                    None => Err(de::Error::custom(
                        "empty command: the list needs at least the program",
                    )),
                    Some(p) if p.trim().is_empty() => Err(de::Error::custom(
                        "empty command: the program (first item of the list) is empty",
                    )),
                    Some(_) => Ok(RawCommand::Argv(argv)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A benchmark's name: unique in the file, and safe in paths and on a command line.
#[derive(Clone, Debug)]
pub struct BenchmarkName(pub String);

/// Whether `name` may name a benchmark or dataset.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl<'de> Deserialize<'de> for BenchmarkName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let check = |name: &str| {
            if !valid_name(name) {
                return Err(format!(
                    "benchmark name {name:?} is not allowed: use letters, digits, '_', '-' and '.', not starting with '-'"
                ));
            }
            let fresh = CONTEXT.with(|c| c.borrow_mut().names.insert(name.to_owned()));
            if !fresh {
                return Err(format!(
                    "duplicate benchmark name {name:?}: every benchmark needs its own name"
                ));
            }
            Ok(BenchmarkName(name.to_owned()))
        };
        d.deserialize_str(Checked(check, "a benchmark name"))
    }
}

/// A benchmark's reference to a dataset declared under `datasets:`.
#[derive(Clone, Debug)]
pub struct DatasetRef(pub String);

impl<'de> Deserialize<'de> for DatasetRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let check = |name: &str| {
            let known = CONTEXT.with(|c| c.borrow().datasets.clone());
            match known {
                Some(known) if !known.contains(name) => Err(unknown_dataset(name, &known)),
                _ => Ok(DatasetRef(name.to_owned())),
            }
        };
        d.deserialize_str(Checked(check, "the name of a dataset"))
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
