//! Benchmarks a project runs by hand that `memgate init` finds: `scripts/bench*` (run
//! as programs, or by their interpreter when not executable) and a Makefile's `bench`
//! or `benchmark` target.

use super::candidate::{Candidate, shell_words};
use super::tree::{self, Tree};

/// The Makefile targets taken for benchmarks.
const MAKE_TARGETS: &[&str] = &["bench", "benchmark", "benchmarks"];

/// One benchmark per `scripts/bench*` file memgate knows how to run; a sentence for each
/// it does not.
pub fn bench_scripts(tree: &Tree, python: &str) -> (Vec<Candidate>, Vec<String>) {
    let mut out = Vec::new();
    let mut said = Vec::new();
    for file in tree.files_in("scripts") {
        let name = tree::file_name(file);
        if !name.starts_with("bench") {
            continue;
        }
        let (stem, extension) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
            _ => (name, None),
        };
        let shebang = tree.shebang(file);
        let interpreter = match extension {
            Some("py") => Some(python),
            Some("bash") => Some("bash"),
            Some("sh") if shebang.as_deref().is_some_and(|l| l.contains("bash")) => Some("bash"),
            Some("sh") => Some("sh"),
            _ => None,
        };
        // A program that says how to run it runs as itself; the rest by their interpreter.
        let command = if tree.is_executable(file) && (shebang.is_some() || interpreter.is_none()) {
            shell_words(&[format!("./{file}")])
        } else if let Some(interpreter) = interpreter {
            shell_words(&[interpreter, file])
        } else {
            said.push(format!(
                "{file}: not executable, and not a .py, .sh or .bash script: make it executable to have it found"
            ));
            continue;
        };
        out.push(Candidate {
            name: stem.to_owned(),
            command,
            setup: None,
            cwd: None,
            found: file.to_owned(),
            note: "memgate measures the whole script: anything it builds or downloads \
                   first counts too; move that to setup: (run once, not measured)."
                .into(),
            active: true,
        });
    }
    (out, said)
}

/// `make TARGET` for each benchmark target of the Makefile at the root.
pub fn make(tree: &Tree) -> Vec<Candidate> {
    let Some(makefile) = ["GNUmakefile", "makefile", "Makefile"]
        .into_iter()
        .find(|f| tree.has(f))
    else {
        return vec![];
    };
    let Some(text) = tree.read(makefile) else {
        return vec![];
    };
    let targets = rule_targets(&text);
    MAKE_TARGETS
        .iter()
        .filter(|t| targets.iter().any(|have| have == *t))
        .map(|target| Candidate {
            name: format!("make-{target}"),
            command: shell_words(&["make", target]),
            setup: None,
            cwd: None,
            found: format!("{makefile} target {target}"),
            note: "memgate measures make and all it runs, prerequisites included: if the \
                   target builds first, put the build in setup: (like setup: make build)."
                .into(),
            active: true,
        })
        .collect()
}

/// The targets of a Makefile's rules (`a b: prerequisites`), not variables (`a := b`,
/// `a ::= b`) or special targets.
fn rule_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in text.lines() {
        if line.starts_with(['\t', '#', '.']) || line.trim().is_empty() {
            continue;
        }
        let Some((before, after)) = line.split_once(':') else {
            continue;
        };
        if after.starts_with('=') || after.starts_with(":=") || before.contains('=') {
            continue;
        }
        targets.extend(before.split_whitespace().map(str::to_owned));
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::folder as repo;

    #[test]
    fn bench_scripts_by_program_or_interpreter() {
        let dir = repo(&[
            ("scripts/bench.sh", "echo hi\n", 0o644),
            (
                "scripts/bench_bash.sh",
                "#!/usr/bin/env bash\necho hi\n",
                0o644,
            ),
            ("scripts/bench_parse.py", "print(1)\n", 0o644),
            (
                "scripts/bench-exec.py",
                "#!/usr/bin/env python3\nprint(1)\n",
                0o755,
            ),
            ("scripts/bench_noshebang.py", "print(1)\n", 0o755),
            ("scripts/benchtool", "\x7fELF", 0o755),
            ("scripts/bench it's.sh", "echo\n", 0o644),
            ("scripts/bench.md", "# notes\n", 0o644),
            ("scripts/build.sh", "echo\n", 0o755),
            ("scripts/deep/bench.sh", "echo\n", 0o755),
        ]);
        let (found, said) = bench_scripts(&Tree::scan(dir.path()), "python3");
        let summary: Vec<(&str, &str)> = found
            .iter()
            .map(|c| (c.name.as_str(), c.command.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("bench it's", r"sh 'scripts/bench it'\''s.sh'"),
                ("bench-exec", "./scripts/bench-exec.py"),
                ("bench", "sh scripts/bench.sh"),
                ("bench_bash", "bash scripts/bench_bash.sh"),
                ("bench_noshebang", "python3 scripts/bench_noshebang.py"),
                ("bench_parse", "python3 scripts/bench_parse.py"),
                ("benchtool", "./scripts/benchtool"),
            ]
        );
        assert_eq!(said.len(), 1);
        assert!(
            said[0].starts_with("scripts/bench.md: not executable"),
            "{said:?}"
        );
    }

    #[test]
    fn makefile_bench_targets() {
        let dir = repo(&[(
            "Makefile",
            "bench := slow\n.PHONY: bench benchmark\nall: build\nbench benchmark: all\n\t./run bench:\n# bench:\nx ::= y\n",
            0o644,
        )]);
        let found = make(&Tree::scan(dir.path()));
        let commands: Vec<&str> = found.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(commands, ["make bench", "make benchmark"]);
        assert_eq!(found[0].name, "make-bench");
        assert_eq!(found[0].found, "Makefile target bench");
        assert_eq!(rule_targets("a:=b\nc :: d\n"), ["c"]);
        assert!(
            make(&Tree::scan(
                repo(&[("Makefile", "all:\n\ttrue\n", 0o644)]).path()
            ))
            .is_empty()
        );
    }
}
