//! Reading a YAML text into the raw schema, with every mistake found and placed:
//! `file:line:column: where: what (the fix)`, all of them, as a compiler reports them.
//!
//! The text is first bounded (size, nesting depth: the YAML loader takes time quadratic in
//! the depth of flow collections), then parsed; each failed check is let through on the
//! next parse so that the one after it is found (see `schema.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::schema::RawConfig;
use super::visit::{ParseContext, with_context};
use crate::error::{Error, Result};

/// The largest config memgate reads: far beyond any real one.
pub const MAX_SIZE: usize = 1024 * 1024;
/// The deepest nesting of lists and mappings: a real config nests five deep.
pub const MAX_DEPTH: usize = 64;
/// The most mistakes reported at once.
pub const MAX_ERRORS: usize = 50;

/// Parses `text` (the file `file`, in directory `base`) into the raw schema, or every
/// mistake in it.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<RawConfig> {
    let at = |line, column, message: &str| Error::ConfigAt {
        file: file.into(),
        line,
        column,
        message: message.into(),
    };
    if text.len() > MAX_SIZE {
        return Err(at(
            1,
            1,
            "the file is larger than 1 MiB, which no config needs: is it the right file?",
        ));
    }
    if text.trim().is_empty() {
        return Err(at(
            1,
            1,
            "the file is empty: start it with version: 1 and a list of benchmarks:",
        ));
    }
    if let Some((line, column)) = too_deep(text) {
        return Err(at(
            line,
            column,
            &format!(
                "lists and mappings nest deeper than {MAX_DEPTH} levels here: a config needs a handful"
            ),
        ));
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
    let names = BenchmarkNames::new(text);
    let mut skip = BTreeSet::new();
    let mut errors = Vec::new();
    loop {
        let context = ParseContext::new(datasets.clone(), base.to_path_buf(), skip.clone());
        let (parsed, failed) = with_context(context, || serde_yaml::from_str::<RawConfig>(text));
        match parsed {
            Ok(raw) if errors.is_empty() => return Ok(raw),
            Ok(_) => break,
            Err(e) => {
                errors.push(explain(&e, &names, file));
                match failed {
                    // A check failed: let it through next time and find the next one.
                    Some(n) if errors.len() < MAX_ERRORS && skip.insert(n) => {}
                    // The YAML itself is broken: nothing after it can be read.
                    _ => break,
                }
            }
        }
    }
    Err(Error::many(errors))
}

/// The place (line, column) where lists and mappings first nest deeper than
/// [`MAX_DEPTH`], read with the YAML parser itself (so quoting and comments count as
/// they should) and stopped there, before the cost grows.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    use libyaml_rs as sys;
    let mut depth = 0usize;
    // SAFETY: the parser lives in a box (never moved while in use), is initialized before
    // use and deleted once; the input outlives it; each event is deleted after reading.
    unsafe {
        let mut parser = Box::<sys::yaml_parser_t>::new_uninit();
        let p = parser.as_mut_ptr();
        if sys::yaml_parser_initialize(p).fail {
            return None;
        }
        sys::yaml_parser_set_encoding(p, sys::YAML_UTF8_ENCODING);
        sys::yaml_parser_set_input_string(p, text.as_ptr(), text.len() as _);
        let mut found = None;
        loop {
            let mut event = std::mem::MaybeUninit::<sys::yaml_event_t>::uninit();
            // A syntax error: the real parse reports it, with its place.
            if sys::yaml_parser_parse(p, event.as_mut_ptr()).fail {
                break;
            }
            let e = event.as_mut_ptr();
            let kind = (*e).type_;
            let mark = (*e).start_mark;
            sys::yaml_event_delete(e);
            match kind {
                sys::YAML_SEQUENCE_START_EVENT | sys::YAML_MAPPING_START_EVENT => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        found = Some((mark.line as usize + 1, mark.column as usize + 1));
                        break;
                    }
                }
                sys::YAML_SEQUENCE_END_EVENT | sys::YAML_MAPPING_END_EVENT => {
                    depth = depth.saturating_sub(1);
                }
                sys::YAML_STREAM_END_EVENT => break,
                _ => {}
            }
        }
        sys::yaml_parser_delete(p);
        found
    }
}

/// The names of the benchmarks by position, for messages: `benchmark "fit"` reads better
/// than `benchmarks[2]`.
struct BenchmarkNames(Vec<Option<String>>);

impl BenchmarkNames {
    fn new(text: &str) -> BenchmarkNames {
        // Lenient: other keys (even repeated ones) are skipped, a name may be anything.
        #[derive(Deserialize)]
        struct Doc {
            benchmarks: Vec<Named>,
        }
        #[derive(Deserialize)]
        struct Named {
            name: Option<serde_yaml::Value>,
        }
        let names = serde_yaml::from_str::<Doc>(text)
            .map(|doc| doc.benchmarks)
            .unwrap_or_default()
            .into_iter()
            .map(|b| b.name.and_then(|n| n.as_str().map(str::to_owned)))
            .collect();
        BenchmarkNames(names)
    }
}

/// Rewrites a serde_yaml error as `file:line:column: where: what`.
fn explain(error: &serde_yaml::Error, names: &BenchmarkNames, file: &str) -> Error {
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
    if let Some(path) = path.filter(|p| !about_name && *p != ".") {
        message.push_str(&describe_path(path, names));
        message.push_str(": ");
    }
    message.push_str(what);
    let (line, column) = error
        .location()
        .map_or((1, 1), |at| (at.line(), at.column()));
    Error::ConfigAt {
        file: file.into(),
        line,
        column,
        message,
    }
}

/// `benchmarks[2].timeout` → `benchmark "fit", key "timeout"`.
fn describe_path(path: &str, names: &BenchmarkNames) -> String {
    if let Some(rest) = path.strip_prefix("benchmarks[")
        && let Some((index, key)) = rest.split_once(']')
    {
        let index = index.parse::<usize>().ok();
        let name = index.and_then(|i| names.0.get(i).cloned().flatten());
        let who = match name {
            Some(name) => format!("benchmark {name:?}"),
            None => format!("benchmark #{}", index.map_or(0, |i| i + 1)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded_before_the_loader() {
        let deep = format!("a: {}{}\n", "[".repeat(40_000), "]".repeat(40_000));
        assert_eq!(too_deep(&deep), Some((1, 4 + MAX_DEPTH - 1)));
        // Brackets in quoted strings and comments are not nesting.
        let quoted = format!("a: \"{}\" # {}\n", "[".repeat(500), "{".repeat(500));
        assert_eq!(too_deep(&quoted), None);
        assert_eq!(too_deep("a: [[1], {b: [2]}]\n"), None);
    }
}
