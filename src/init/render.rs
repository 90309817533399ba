//! The memgate.yml `memgate init` writes: YAML text laid out by hand so that it can carry
//! comments, every value that came from the repository written as a double-quoted scalar
//! ([`yaml_string`]) and every comment made safe ([`one_line`]). Main function: [`render`].

use std::fmt::Write;

use super::candidate::Candidate;

/// The benchmark written when nothing runnable was found, so that the file is a config
/// memgate runs; its command says what to do.
pub const EXAMPLE_NAME: &str = "example";
const EXAMPLE_COMMAND: &str =
    "echo 'memgate: replace the command of benchmark example in memgate.yml with real work'";

const HEADER: &str = "\
# memgate.yml: the benchmarks memgate runs. `memgate run` runs each one under measurement
# (peak memory of its whole process tree, the largest process's high-water mark, wall and
# CPU time) and saves the figures under the git revision; `memgate check` compares a
# change with its base and fails the build when a figure regresses.
#
# Written by `memgate init` from what it found in this repository: read it before you rely
# on it, keep what does real work, and give the rest real work or remove it.
# Every key is documented in config/default.yml of memgate and in the Configuration
# section of its README: https://github.com/memgate/memgate#configuration
version: 1

defaults:
  # Measured runs of each benchmark: a comparison needs several to tell a real change
  # from noise. Lower it for slow benchmarks (memgate run --repeat N overrides it).
  repeat: 5
  # Runs made first and not measured: they warm caches, compile bytecode and load
  # libraries.
  warmup: 1
  # A run still going after this is stopped (its whole process tree is killed) and
  # reported as a timeout.
  timeout: 10m

# Each benchmark has a name (letters, digits, _ - and .) and a command: a string runs
# under sh -c, a list [program, arg, ...] runs as it is. cwd is the folder it runs in
# (relative to this file; default: this file's folder); setup runs once before its runs,
# not measured.
benchmarks:
";

/// The file for `candidates`, named already ([`super::candidate::name_all`]). With no
/// active candidate, an example benchmark keeps the file one memgate runs.
pub fn render(candidates: &[Candidate]) -> String {
    let mut out = String::from(HEADER);
    for (i, candidate) in candidates.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        benchmark(&mut out, candidate);
    }
    if !candidates.iter().any(|c| c.active) {
        if !candidates.is_empty() {
            out.push('\n');
        }
        out.push_str(
            "  # memgate found nothing here it can run as it is. Replace this command with one\n  # that does the work to measure, like: python -m mypackage.pipeline --rows 100000\n",
        );
        let _ = writeln!(out, "  - name: {}", yaml_string(EXAMPLE_NAME));
        let _ = writeln!(out, "    command: {}", yaml_string(EXAMPLE_COMMAND));
    }
    out
}

fn benchmark(out: &mut String, c: &Candidate) {
    let _ = writeln!(out, "  # found: {}", one_line(&c.found));
    for line in wrap(&one_line(&c.note), WIDTH - "  # ".len()) {
        let _ = writeln!(out, "  # {line}");
    }
    // A suggestion is the same lines behind `# `: uncommented, it is a benchmark.
    let mark = if c.active { "" } else { "# " };
    let _ = writeln!(out, "  {mark}- name: {}", yaml_string(&c.name));
    if let Some(cwd) = &c.cwd {
        let _ = writeln!(out, "  {mark}  cwd: {}", yaml_string(cwd));
    }
    if let Some(setup) = &c.setup {
        let _ = writeln!(out, "  {mark}  setup: {}", yaml_string(setup));
    }
    let todo = if c.active {
        ""
    } else {
        "  # TODO: give it real work"
    };
    let _ = writeln!(out, "  {mark}  command: {}{todo}", yaml_string(&c.command));
}

/// The widest comment line.
const WIDTH: usize = 88;

/// `text` in lines of at most `width` characters, broken between words (a longer word
/// on a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// `text` as a YAML double-quoted scalar that reads back as exactly `text`: `"` and `\`
/// escaped, and every character YAML does not allow in a stream (controls, DEL, C1
/// controls, the byte-order mark, U+FFFE and U+FFFF) or reads as a line break (NEL,
/// U+2028, U+2029) written as an escape.
pub fn yaml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if printable(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Whether `c` stands for itself on a YAML line: printable (libyaml also refuses the
/// byte-order mark inside a stream) and not a line break.
fn printable(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        && !matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}

/// `text` safe on one line, in a `#` comment or on a terminal: a line break or another
/// character YAML does not allow would end the comment or the file's validity (and a
/// control character could move a terminal's cursor), so each is written escaped.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if printable(c) {
                c.to_string()
            } else {
                c.escape_default().to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::candidate::name_all;
    use proptest::prelude::*;

    fn candidate(name: &str, command: &str, active: bool) -> Candidate {
        Candidate {
            name: name.into(),
            command: command.into(),
            setup: Some("make \"setup\"".into()),
            cwd: Some("sub dir".into()),
            found: "scripts/bench\nevil: [".into(),
            note: "a note\r\u{FEFF}".into(),
            active,
        }
    }

    /// The plan memgate makes of `text`, written as memgate.yml with a `sub dir` folder.
    fn load(text: &str) -> crate::error::Result<crate::config::Plan> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub dir")).unwrap();
        let path = dir.path().join("memgate.yml");
        std::fs::write(&path, text).unwrap();
        crate::config::load(&path)
    }

    #[test]
    fn the_file_loads_with_the_commands_as_written() {
        let command = r#"sh 'scripts/bench it'\''s "x".sh' # not a comment"#;
        let mut candidates = vec![
            candidate("bench it's", command, true),
            candidate("tool", "tool --help", false),
        ];
        name_all(&mut candidates);
        let text = render(&candidates);
        let plan = load(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(plan.jobs.len(), 1, "the suggestion is a comment:\n{text}");
        let job = &plan.jobs[0];
        assert_eq!(job.benchmark, "bench-it-s");
        assert_eq!(
            job.command,
            crate::config::CommandLine::Shell(command.into())
        );
        assert_eq!(
            job.setup,
            Some(crate::config::CommandLine::Shell("make \"setup\"".into()))
        );
        assert!(job.cwd.ends_with("sub dir"), "{:?}", job.cwd);
        assert!(
            text.contains("  # found: scripts/bench\\nevil: [\n"),
            "{text}"
        );
        assert!(text.contains("  # - name: \"tool\"\n"), "{text}");
        assert!(
            text.contains("  #   command: \"tool --help\"  # TODO: give it real work\n"),
            "{text}"
        );
        assert!(!text.contains("\"example\""), "{text}");

        // Uncommented, the suggestion is a benchmark too.
        let uncommented = text
            .replace("  # - name", "  - name")
            .replace("  #   ", "    ");
        let plan = load(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert_eq!(plan.jobs.len(), 2);
        assert_eq!(plan.jobs[1].benchmark, "tool");
    }

    #[test]
    fn nothing_runnable_gives_the_example() {
        for candidates in [vec![], vec![candidate("tool", "tool --help", false)]] {
            let text = render(&candidates);
            let plan = load(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(plan.jobs.len(), 1);
            assert_eq!(plan.jobs[0].benchmark, EXAMPLE_NAME);
        }
    }

    #[test]
    fn strings_yaml_cannot_hold_as_they_are() {
        assert_eq!(yaml_string("a \"b\" \\ c"), r#""a \"b\" \\ c""#);
        assert_eq!(
            yaml_string("\u{0}\u{7F}\u{85}\u{9F}\u{FEFF}\u{2028}é"),
            r#""\u0000\u007F\u0085\u009F\uFEFF\u2028é""#
        );
        assert_eq!(one_line("a\nb\u{7F}"), "a\\nb\\u{7f}");
        assert_eq!(
            wrap("a bb  ccc dddddd e", 6),
            ["a bb", "ccc", "dddddd", "e"]
        );
        assert!(wrap(" ", 6).is_empty());
    }

    proptest! {
        #[test]
        fn every_string_reads_back(text in any::<String>()) {
            let yaml = format!("key: {}\n", yaml_string(&text));
            let back: std::collections::BTreeMap<String, String> =
                serde_yaml::from_str(&yaml).map_err(|e| TestCaseError::fail(format!("{e}: {yaml:?}")))?;
            prop_assert_eq!(&back["key"], &text);
            let commented = format!("# {}\nkey: 1\n", one_line(&text));
            let back: std::collections::BTreeMap<String, u32> =
                serde_yaml::from_str(&commented).map_err(|e| TestCaseError::fail(format!("{e}: {commented:?}")))?;
            prop_assert_eq!(back["key"], 1);
        }
    }
}
