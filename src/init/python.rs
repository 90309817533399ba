//! Python benchmarks `memgate init` finds: pytest-benchmark suites (test files that take
//! the `benchmark` fixture, or the plugin listed as a dependency), asv suites
//! (`asv.conf.json`), and a package's console scripts, which are only suggested: they need
//! real input to measure anything.

use std::collections::BTreeMap;

use super::candidate::{Candidate, shell_words};
use super::tree::{self, Tree};

/// pytest-benchmark suites: one benchmark per folder of test files that use the fixture
/// (a folder inside another one found is run with it), or one for the whole test suite
/// when the plugin is only listed as a dependency.
pub fn pytest(tree: &Tree, python: &str) -> Vec<Candidate> {
    let mut suites: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for file in tree.files() {
        if is_test_file(tree::file_name(file))
            && tree
                .read(file)
                .is_some_and(|text| uses_benchmark_fixture(&text))
        {
            suites
                .entry(tree::parent(file).to_owned())
                .or_default()
                .push(file);
        }
    }
    // Folders in name order: an ancestor comes before what it holds.
    let mut kept: Vec<(String, Vec<&str>)> = Vec::new();
    for (dir, files) in suites {
        match kept.iter_mut().find(|(top, _)| holds(top, &dir)) {
            Some((_, held)) => held.extend(files),
            None => kept.push((dir, files)),
        }
    }
    let note = "Needs pytest and pytest-benchmark where memgate runs. memgate measures the \
                whole pytest session (start-up and collection too), not pytest-benchmark's own \
                timings; peak_memory is the largest moment of any test in it.";
    if kept.is_empty() {
        return match declares_pytest_benchmark(tree) {
            Some(file) => vec![Candidate {
                name: "pytest-benchmark".into(),
                command: pytest_command(python, None),
                setup: None,
                cwd: None,
                found: format!(
                    "{file} lists pytest-benchmark (no test file found using its fixture)"
                ),
                note: note.into(),
                active: true,
            }],
            None => vec![],
        };
    }
    kept.into_iter()
        .map(|(dir, files)| {
            let who = match files.len() {
                1 => format!("{} uses", files[0]),
                n => format!("{} and {} more use", files[0], n - 1),
            };
            Candidate {
                name: if dir.is_empty() {
                    "pytest".into()
                } else {
                    format!("pytest-{dir}")
                },
                command: pytest_command(python, Some(&dir)),
                setup: None,
                cwd: None,
                found: format!("{who} pytest-benchmark's benchmark fixture"),
                note: note.into(),
                active: true,
            }
        })
        .collect()
}

fn pytest_command(python: &str, dir: Option<&str>) -> String {
    let mut words = vec![python.to_owned(), "-m".into(), "pytest".into()];
    // `-p no:cacheprovider`: the runs leave no .pytest_cache behind.
    match dir {
        Some("") | None => {}
        // A folder named like an option is still a folder to pytest.
        Some(dir) if dir.starts_with('-') => words.push(format!("./{dir}")),
        Some(dir) => words.push(dir.to_owned()),
    }
    words.extend(["--benchmark-only", "-q", "-p", "no:cacheprovider"].map(String::from));
    shell_words(&words)
}

/// Whether `dir` is `top` or inside it.
fn holds(top: &str, dir: &str) -> bool {
    top.is_empty()
        || dir == top
        || dir
            .strip_prefix(top)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// pytest's default test file names.
fn is_test_file(name: &str) -> bool {
    name.strip_suffix(".py")
        .is_some_and(|stem| stem.starts_with("test_") || stem.ends_with("_test"))
}

/// Whether a test file uses pytest-benchmark: a test function that takes `benchmark`, or
/// a call of it (`benchmark(f)`, `benchmark.pedantic(f)`).
pub fn uses_benchmark_fixture(text: &str) -> bool {
    if has_word_before(text, "benchmark", &["(", ".pedantic("]) {
        return true;
    }
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        let line = line.strip_prefix("async ").unwrap_or(line);
        if !line.starts_with("def test") {
            continue;
        }
        // The parameters, over up to ten more lines.
        let mut signature = line.to_owned();
        for _ in 0..10 {
            if signature.contains(')') {
                break;
            }
            match lines.next() {
                Some(next) => signature.push_str(next),
                None => break,
            }
        }
        let params = signature
            .split_once('(')
            .map_or("", |(_, rest)| rest.split(')').next().unwrap_or(""));
        if params
            .split(',')
            .any(|p| p.split([':', '=']).next().unwrap_or("").trim() == "benchmark")
        {
            return true;
        }
    }
    false
}

/// Whether `word` stands in `text` as a whole identifier followed by one of `after`.
fn has_word_before(text: &str, word: &str, after: &[&str]) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let rest = &text[at + word.len()..];
        !before.is_some_and(|c| ident(c) || c == '.') && after.iter().any(|a| rest.starts_with(a))
    })
}

/// The file that lists pytest-benchmark as a dependency, if one does.
fn declares_pytest_benchmark(tree: &Tree) -> Option<String> {
    let mut files: Vec<String> = ["pyproject.toml", "setup.cfg", "setup.py", "tox.ini"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    files.extend(
        tree.files()
            .filter(|f| {
                let (dir, name) = (tree::parent(f), tree::file_name(f));
                name.ends_with(".txt")
                    && (dir.is_empty() && name.starts_with("requirements") || dir == "requirements")
            })
            .map(str::to_owned),
    );
    files.into_iter().find(|f| {
        tree.read(f)
            .is_some_and(|t| t.contains("pytest-benchmark") || t.contains("pytest_benchmark"))
    })
}

/// asv suites: one per `asv.conf.json`, run in the current environment.
pub fn asv(tree: &Tree, python: &str) -> (Vec<Candidate>, Vec<String>) {
    let mut out = Vec::new();
    let mut said = Vec::new();
    for conf in tree
        .files()
        .filter(|f| tree::file_name(f) == "asv.conf.json")
    {
        let dir = tree::parent(conf);
        let benchmark_dir = match tree.read(conf).map(|t| asv_conf(&t)) {
            Some(Ok((d, has_environment_type))) => {
                if !has_environment_type {
                    said.push(format!(
                        "{conf} has no environment_type: asv 0.6 stops with \"Environment type must be specified\"; add \"environment_type\": \"virtualenv\" (or conda, mamba)"
                    ));
                }
                d
            }
            Some(Err(e)) => {
                said.push(format!(
                    "{conf}: cannot read it ({e}); assumed its benchmarks are in benchmarks/"
                ));
                "benchmarks".into()
            }
            None => {
                said.push(format!(
                    "{conf}: cannot read it; assumed its benchmarks are in benchmarks/"
                ));
                "benchmarks".into()
            }
        };
        let suite = tree::join(dir, benchmark_dir.trim_end_matches('/'));
        let prefix = format!("{suite}/");
        let found = if tree.files().any(|f| f.starts_with(&prefix)) {
            format!("{conf} (benchmarks in {suite}/)")
        } else {
            format!("{conf} (its benchmark_dir {suite}/ has no files yet)")
        };
        out.push(Candidate {
            name: if dir.is_empty() {
                "asv".into()
            } else {
                format!("asv-{dir}")
            },
            command: shell_words(&[
                python,
                "-m",
                "asv",
                "run",
                "--python=same",
                "--quick",
                "--dry-run",
                "--show-stderr",
            ]),
            // asv asks about the machine on its first run; --yes takes its defaults.
            setup: Some(shell_words(&[python, "-m", "asv", "machine", "--yes"])),
            cwd: (!dir.is_empty()).then(|| dir.to_owned()),
            found,
            note: "Needs asv where memgate runs. asv runs each benchmark in processes of \
                   its own, and memgate reads none of its figures: it measures the whole tree, \
                   asv included (peak_memory is the largest moment of any benchmark, wall_time \
                   the whole session). --python=same runs in this environment (install the \
                   project first), --quick runs each benchmark once, --dry-run saves nothing."
                .into(),
            active: true,
        });
    }
    (out, said)
}

/// `benchmark_dir` of an asv.conf.json (default `benchmarks`), and whether it names an
/// `environment_type`. asv allows `//` and `/* */` comments and trailing commas, which
/// JSON does not.
pub fn asv_conf(text: &str) -> Result<(String, bool), String> {
    let value: serde_json::Value =
        serde_json::from_str(&strip_json_extras(text)).map_err(|e| e.to_string())?;
    let has_environment_type = value.get("environment_type").is_some();
    match value.get("benchmark_dir") {
        None => Ok(("benchmarks".into(), has_environment_type)),
        Some(serde_json::Value::String(d)) if !d.trim().is_empty() => {
            Ok((d.clone(), has_environment_type))
        }
        Some(other) => Err(format!("benchmark_dir is {other}, not a folder name")),
    }
}

/// `text` without comments and trailing commas, strings left as they are.
fn strip_json_extras(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('"', _) => {
                out.push(c);
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            ('/', Some('/')) => while chars.next_if(|&c| c != '\n').is_some() {},
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            _ => {
                // A comma before a closing bracket (comments between them already gone)
                // is dropped.
                if matches!(c, '}' | ']') {
                    let kept = out.trim_end().len();
                    if out[..kept].ends_with(',') {
                        out.replace_range(kept - 1..kept, "");
                    }
                }
                out.push(c);
            }
        }
    }
    out
}

/// A package's console scripts, as commented-out suggestions: `NAME --help` measures
/// start-up and nothing else, and memgate cannot guess the input that does real work.
pub fn console_scripts(tree: &Tree) -> Vec<Candidate> {
    let mut found: Vec<(String, &str)> = Vec::new();
    if let Some(table) = tree
        .read("pyproject.toml")
        .and_then(|t| t.parse::<toml::Table>().ok())
    {
        let scripts = |path: &[&str]| -> Vec<String> {
            let mut value = Some(&table);
            for key in path {
                value = value
                    .and_then(|t| t.get(*key))
                    .and_then(toml::Value::as_table);
            }
            value
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default()
        };
        for name in scripts(&["project", "scripts"]) {
            found.push((name, "pyproject.toml [project.scripts]"));
        }
        for name in scripts(&["tool", "poetry", "scripts"]) {
            found.push((name, "pyproject.toml [tool.poetry.scripts]"));
        }
    }
    if let Some(text) = tree.read("setup.cfg") {
        for name in setup_cfg_console_scripts(&text) {
            found.push((name, "setup.cfg [options.entry_points] console_scripts"));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    found
        .into_iter()
        .filter(|(name, _)| !name.trim().is_empty() && seen.insert(name.clone()))
        .map(|(name, place)| Candidate {
            command: format!("{} --help", shell_words(&[&name])),
            name,
            setup: None,
            cwd: None,
            found: place.into(),
            note: "A console script measures nothing real until it is given real work: as \
                   it is, --help times its start-up (imports) only. Give it an input and \
                   uncomment it."
                .into(),
            active: false,
        })
        .collect()
}

/// The names under `console_scripts` in setup.cfg's `[options.entry_points]`.
fn setup_cfg_console_scripts(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut section = String::new();
    let mut in_scripts = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = trimmed[1..trimmed.len() - 1].trim().to_owned();
            in_scripts = false;
            continue;
        }
        if section != "options.entry_points" {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if !indented {
            // A key: `console_scripts =` starts the list, which may begin on its line.
            let (key, value) = trimmed.split_once(['=', ':']).unwrap_or((trimmed, ""));
            in_scripts = key.trim() == "console_scripts";
            if in_scripts && let Some(name) = entry_name(value) {
                names.push(name);
            }
        } else if in_scripts && let Some(name) = entry_name(trimmed) {
            names.push(name);
        }
    }
    names
}

/// `name` of `name = package.module:function`.
fn entry_name(entry: &str) -> Option<String> {
    let (name, target) = entry.split_once('=')?;
    (!name.trim().is_empty() && !target.trim().is_empty()).then(|| name.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::text_folder as repo;

    #[test]
    fn the_benchmark_fixture() {
        for uses in [
            "def test_parse(benchmark):\n    benchmark(parse)\n",
            "def test_parse(benchmark):\n    pass\n",
            "async def test_x(tmp_path, benchmark: BenchmarkFixture):\n",
            "def test_a(x): pass\ndef test_b(benchmark=None): pass\n",
            "class TestX:\n    def test_y(self,\n               benchmark,\n    ):\n        pass\n",
            "def test_z(x):\n    result = benchmark.pedantic(f, rounds=3)\n",
        ] {
            assert!(uses_benchmark_fixture(uses), "{uses}");
        }
        for not in [
            "def test_parse(tmp_path):\n    run_benchmark(parse)\n",
            "def test_parse(benchmarks):\n    pass\n",
            "# benchmark later\ndef helper(benchmark):\n    pass\n",
            "x = my.benchmark(f)\n",
        ] {
            assert!(!uses_benchmark_fixture(not), "{not}");
        }
    }

    #[test]
    fn one_pytest_benchmark_per_top_folder() {
        let dir = repo(&[
            ("tests/test_plain.py", "def test_a():\n    pass\n"),
            (
                "benchmarks/test_io.py",
                "def test_io(benchmark):\n    benchmark(f)\n",
            ),
            (
                "benchmarks/deep/parse_test.py",
                "def test_p(benchmark):\n    pass\n",
            ),
            ("my benches/test_x.py", "def test_x(benchmark):\n    pass\n"),
            ("benchmarks/conftest.py", "def benchmark(x):\n    pass\n"),
        ]);
        let found = pytest(&Tree::scan(dir.path()), "python3");
        let summary: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|c| (c.name.as_str(), c.command.as_str(), c.found.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "pytest-benchmarks",
                    "python3 -m pytest benchmarks --benchmark-only -q -p no:cacheprovider",
                    "benchmarks/test_io.py and 1 more use pytest-benchmark's benchmark fixture"
                ),
                (
                    "pytest-my benches",
                    "python3 -m pytest 'my benches' --benchmark-only -q -p no:cacheprovider",
                    "my benches/test_x.py uses pytest-benchmark's benchmark fixture"
                ),
            ]
        );
    }

    #[test]
    fn pytest_benchmark_listed_without_a_test_using_it() {
        let dir = repo(&[(
            "pyproject.toml",
            "[project.optional-dependencies]\ntest = [\"pytest-benchmark>=4\"]\n",
        )]);
        let found = pytest(&Tree::scan(dir.path()), "python");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].command,
            "python -m pytest --benchmark-only -q -p no:cacheprovider"
        );
        assert!(
            found[0].found.starts_with("pyproject.toml lists"),
            "{}",
            found[0].found
        );
        assert!(pytest(&Tree::scan(repo(&[]).path()), "python").is_empty());
        let reqs = repo(&[("requirements/dev.txt", "pytest_benchmark==4.0\n")]);
        assert_eq!(pytest(&Tree::scan(reqs.path()), "python").len(), 1);
    }

    #[test]
    fn asv_config_with_comments() {
        let text = r#"{
            // The version of the config file format.
            "version": 1,
            "project": "x", /* a block
               comment */
            "benchmark_dir": "bench // not a comment",
            "matrix": {"numpy": [],},
        }"#;
        assert_eq!(asv_conf(text).unwrap().0, "bench // not a comment");
        assert_eq!(
            asv_conf("{\"version\": 1}").unwrap(),
            ("benchmarks".into(), false)
        );
        assert_eq!(
            asv_conf("{\"environment_type\": \"virtualenv\"}").unwrap(),
            ("benchmarks".into(), true)
        );
        assert!(asv_conf("{\"benchmark_dir\": 3}").is_err());
        assert!(asv_conf("not json").is_err());
        assert_eq!(
            strip_json_extras(r#"{"a": "x,}", "b": [1, 2 , ] }"#),
            r#"{"a": "x,}", "b": [1, 2  ] }"#
        );
    }

    #[test]
    fn asv_suites_run_where_their_config_is() {
        let dir = repo(&[
            (
                "asv_bench/asv.conf.json",
                "{\"benchmark_dir\": \"suite\", \"environment_type\": \"virtualenv\"}",
            ),
            ("asv_bench/suite/bench_io.py", "def time_io():\n    pass\n"),
            ("other/asv.conf.json", "{}"),
        ]);
        let (found, said) = asv(&Tree::scan(dir.path()), "python");
        // Only the config without environment_type gets a word: asv 0.6 stops without it.
        assert_eq!(
            said,
            [
                "other/asv.conf.json has no environment_type: asv 0.6 stops with \"Environment type must be specified\"; add \"environment_type\": \"virtualenv\" (or conda, mamba)"
            ]
        );
        assert_eq!(found[0].name, "asv-asv_bench");
        assert_eq!(found[0].cwd.as_deref(), Some("asv_bench"));
        assert_eq!(
            found[0].command,
            "python -m asv run --python=same --quick --dry-run --show-stderr"
        );
        assert_eq!(
            found[0].setup.as_deref(),
            Some("python -m asv machine --yes")
        );
        assert_eq!(
            found[0].found,
            "asv_bench/asv.conf.json (benchmarks in asv_bench/suite/)"
        );
    }

    #[test]
    fn console_scripts_are_suggestions() {
        let dir = repo(&[
            (
                "pyproject.toml",
                "[project]\nname = \"x\"\n[project.scripts]\nxtool = \"x.cli:main\"\n\"odd name\" = \"x:y\"\n[tool.poetry.scripts]\nxtool = \"x.cli:main\"\npoet = \"x:p\"\n",
            ),
            (
                "setup.cfg",
                "[metadata]\nname = x\n[options.entry_points]\nconsole_scripts =\n    cfgtool = x.cli:main\n    other=x:o\ngui_scripts =\n    gui = x:g\n",
            ),
        ]);
        let found = console_scripts(&Tree::scan(dir.path()));
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|c| (c.name.as_str(), c.command.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("odd name", "'odd name' --help"),
                ("xtool", "xtool --help"),
                ("poet", "poet --help"),
                ("cfgtool", "cfgtool --help"),
                ("other", "other --help"),
            ]
        );
        assert!(found.iter().all(|c| !c.active));
        assert_eq!(
            setup_cfg_console_scripts("[options.entry_points]\nconsole_scripts = a = b:c\n"),
            ["a"]
        );
    }
}
