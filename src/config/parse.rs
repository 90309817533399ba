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

/// The largest config memgate reads: far beyond any real one (a hundred benchmarks take
/// 20 KB).
pub const MAX_SIZE: usize = 256 * 1024;
/// The deepest nesting of lists and mappings: a real config nests five deep.
pub const MAX_DEPTH: usize = 64;
/// The most mistakes reported at once.
pub const MAX_ERRORS: usize = 30;

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
            "the file is larger than 256 KiB, which no config needs: is it the right file?",
        ));
    }
    if text.trim().is_empty() {
        return Err(at(
            1,
            1,
            "the file is empty: start it with version: 1 and a list of benchmarks:",
        ));
    }
    if let Some((line, column, message)) = stray_character(text).or_else(|| prescan(text)) {
        return Err(at(line, column, &message));
    }
    // A first, lenient pass learns the dataset names so that a benchmark's reference to
    // one is checked where it stands, whatever the order of the keys.
    #[derive(Deserialize)]
    struct Declared {
        #[serde(default)]
        datasets: Option<BTreeMap<String, serde::de::IgnoredAny>>,
    }
    let datasets = serde_yaml::from_str::<Declared>(text).ok().map(|n| {
        n.datasets
            .unwrap_or_default()
            .into_keys()
            .collect::<BTreeSet<_>>()
    });
    let names = Names::new(text, datasets.as_ref());
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

/// The first character no config should hold, with its place: a control character
/// (tabs and line ends aside), which the YAML reader refuses without saying where, or a
/// Unicode line or paragraph separator, which YAML counts as a line break and an editor
/// does not (so every place after it would be off).
fn stray_character(text: &str) -> Option<(usize, usize, String)> {
    let (mut line, mut column) = (1, 0);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // Lines as YAML counts them, so every place memgate gives agrees: \n, \r\n, \r.
        if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
            (line, column) = (line + 1, 0);
            continue;
        }
        column += 1;
        let what = match c {
            '\t' | '\r' | '\u{feff}' => continue,
            '\u{85}' | '\u{2028}' | '\u{2029}' => "a line break only YAML sees",
            c if c.is_control() => "a control character",
            '\u{fffe}' | '\u{ffff}' => "a character that is not one",
            _ => continue,
        };
        return Some((
            line,
            column,
            format!(
                "{what} (U+{:04X}): remove it, or write it as an escape in a quoted string",
                c as u32
            ),
        ));
    }
    None
}

/// The first place, with what is wrong, where the text nests lists and mappings deeper
/// than [`MAX_DEPTH`] or uses an alias (`*name`): read with the YAML parser itself (so
/// quoting and comments count as they should) and stopped there, before the loader's
/// cost grows (quadratic in the depth; aliases expand to any size).
fn prescan(text: &str) -> Option<(usize, usize, String)> {
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
            let at =
                |message: String| Some((mark.line as usize + 1, mark.column as usize + 1, message));
            match kind {
                sys::YAML_SEQUENCE_START_EVENT | sys::YAML_MAPPING_START_EVENT => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        found = at(format!(
                            "lists and mappings nest deeper than {MAX_DEPTH} levels here: a config needs a handful"
                        ));
                        break;
                    }
                }
                sys::YAML_SEQUENCE_END_EVENT | sys::YAML_MAPPING_END_EVENT => {
                    depth = depth.saturating_sub(1);
                }
                sys::YAML_ALIAS_EVENT => {
                    found = at(
                        "YAML aliases (*name) are not read: write the value out, or put what benchmarks share under defaults:".into(),
                    );
                    break;
                }
                sys::YAML_STREAM_END_EVENT => break,
                _ => {}
            }
        }
        sys::yaml_parser_delete(p);
        found
    }
}

/// The names of the benchmarks by position, and of the datasets, for messages:
/// `benchmark "fit"` reads better than `benchmarks[2]`.
struct Names {
    benchmarks: Vec<Option<String>>,
    datasets: BTreeSet<String>,
}

impl Names {
    fn new(text: &str, datasets: Option<&BTreeSet<String>>) -> Names {
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
        Names {
            benchmarks: names,
            datasets: datasets.cloned().unwrap_or_default(),
        }
    }
}

/// Rewrites a serde_yaml error as `file:line:column: where: what`.
fn explain(error: &serde_yaml::Error, names: &Names, file: &str) -> Error {
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
    let about_name =
        what.starts_with("benchmark name ") || what.starts_with("duplicate benchmark name ");
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
fn describe_path(path: &str, names: &Names) -> String {
    if let Some(rest) = path.strip_prefix("benchmarks[")
        && let Some((index, key)) = rest.split_once(']')
    {
        let index = index.parse::<usize>().ok();
        let name = index.and_then(|i| names.benchmarks.get(i).cloned().flatten());
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
        // A dataset's name may hold dots itself (`v1.0`): the longest declared name first.
        let declared = names
            .datasets
            .iter()
            .filter(|d| rest == d.as_str() || rest.starts_with(&format!("{d}.")))
            .max_by_key(|d| d.len());
        let (name, key) = match declared {
            Some(d) => (d.as_str(), rest[d.len()..].trim_start_matches('.')),
            None => rest.split_once('.').unwrap_or((rest, "")),
        };
        return match key {
            "" => format!("dataset {name:?}"),
            key => format!("dataset {name:?}, key {key:?}"),
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
        let place = |text: &str| prescan(text).map(|(line, column, _)| (line, column));
        assert_eq!(place(&deep), Some((1, 4 + MAX_DEPTH - 1)));
        // Brackets in quoted strings and comments are not nesting.
        let quoted = format!("a: \"{}\" # {}\n", "[".repeat(500), "{".repeat(500));
        assert_eq!(place(&quoted), None);
        assert_eq!(place("a: [[1], {b: [2]}]\n"), None);
        // An alias is refused where it stands, before anything expands it.
        assert_eq!(place("a: &x [1]\nb: *x\n"), Some((2, 4)));
    }
}
