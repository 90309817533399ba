//! What `memgate init` proposes: a benchmark found in the repository, with where it was
//! found and what memgate will and will not measure in it; and the names they get, made
//! valid and unique. Main type: [`Candidate`].

use std::collections::BTreeSet;

use crate::names::{MAX_NAME, valid_name};

/// One benchmark to write.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Its name: what it was found as until [`name_all`] makes it valid and unique.
    pub name: String,
    /// A command for `sh -c`, its words quoted.
    pub command: String,
    /// Run once before the measured runs, not measured.
    pub setup: Option<String>,
    /// The folder it runs in, relative to memgate.yml (`None`: memgate.yml's own).
    pub cwd: Option<String>,
    /// Where it was found, for the file and the summary: `Cargo.toml [[bench]] "parse"`.
    pub found: String,
    /// What memgate measures in it, and what to change: a paragraph, written as comment
    /// lines.
    pub note: String,
    /// Written as a benchmark; else as a commented-out suggestion (it does no real work
    /// as it is).
    pub active: bool,
}

/// Words joined into a command for `sh -c`, each quoted where it needs it.
pub fn shell_words<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| crate::config::shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Gives every candidate a valid name no other holds, keeping what it was found as
/// where it can: `bench it's.sh` → `bench-it-s`, a second `parse` → `parse-2`. Commented-
/// out ones count too, so that uncommenting one never makes the file invalid.
pub fn name_all(candidates: &mut [Candidate]) {
    // The example the file holds when nothing runnable is found is one more name.
    let mut taken = BTreeSet::from([super::EXAMPLE_NAME.to_owned()]);
    for candidate in candidates {
        let base = sanitize(&candidate.name);
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            let suffix = format!("-{n}");
            let keep = base.len().min(MAX_NAME - suffix.len());
            name = format!("{}{suffix}", &base[..keep]);
            n += 1;
        }
        debug_assert!(valid_name(&name), "{name:?}");
        taken.insert(name.clone());
        candidate.name = name;
    }
}

/// A valid name made of `raw`: every run of other characters becomes one `-`, and none
/// starts with `-` or `.` (`bench` when nothing is left).
pub fn sanitize(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_start_matches(['-', '.']).trim_end_matches('-');
    // Only ASCII is left: any byte is a character boundary.
    let out = &out[..out.len().min(MAX_NAME)];
    if out.is_empty() {
        "bench".to_owned()
    } else {
        out.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<String> {
        let mut candidates: Vec<Candidate> = names
            .iter()
            .map(|n| Candidate {
                name: (*n).to_owned(),
                command: "true".into(),
                setup: None,
                cwd: None,
                found: String::new(),
                note: String::new(),
                active: true,
            })
            .collect();
        name_all(&mut candidates);
        candidates.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn names_are_valid_and_unique() {
        let long = "x".repeat(150);
        let names = named(&[
            "bench it's.sh",
            "parse",
            "parse",
            "parse-2",
            ".hidden",
            "--x",
            "é",
            "",
            "tests/bench marks",
            &long,
            &long,
        ]);
        assert_eq!(
            names[..9],
            [
                "bench-it-s.sh",
                "parse",
                "parse-2",
                "parse-2-2",
                "hidden",
                "x",
                "bench",
                "bench-2",
                "tests-bench-marks"
            ]
        );
        assert_eq!(names[9], "x".repeat(MAX_NAME));
        assert_eq!(names[10], format!("{}-2", "x".repeat(MAX_NAME - 2)));
        for name in &names {
            assert!(valid_name(name), "{name:?}");
        }
    }

    #[test]
    fn words_are_quoted_for_sh() {
        assert_eq!(
            shell_words(&["sh", "scripts/bench it's.sh"]),
            r"sh 'scripts/bench it'\''s.sh'"
        );
        assert_eq!(
            shell_words(&["cargo", "bench", "--bench", "parse"]),
            "cargo bench --bench parse"
        );
    }
}
