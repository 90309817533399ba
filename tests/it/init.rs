//! `memgate init`: for each kind of benchmark it finds, a real fixture repository (in a
//! folder named `it's a repo`), the real `memgate init`, then the real `memgate run` of
//! what it wrote. pytest and asv are not installed everywhere, so their runs go through
//! stand-ins on PYTHONPATH that record how they were called: the test checks the command
//! memgate ran, not the tool.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::util::{Memgate, Outcome, Project, benchmark, git, run_json_with};

/// Writes `text` to `rel` in the project, creating its folders.
fn put(project: &Project, rel: &str, text: &str) {
    let path = project.path(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn make_executable(project: &Project, rel: &str) {
    std::fs::set_permissions(project.path(rel), std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `memgate init ARGS`, its exit code asserted.
#[track_caller]
fn init(project: &Project, args: &[&str], code: i32) -> Outcome {
    let out = project.memgate().args(["init"]).args(args).run();
    out.code(code);
    out
}

/// Asserts that memgate said `text` on stderr, showing all it said when not.
#[track_caller]
fn assert_said(out: &Outcome, text: &str) {
    assert!(out.stderr().contains(text), "{}", out.stderr());
}

/// One quick run of what init wrote, not saved; the exit code asserted, the JSON returned.
#[track_caller]
fn run_once(memgate: Memgate, code: i32) -> Value {
    let args = ["--no-save", "--no-report", "--repeat", "1", "--warmup", "0"];
    run_json_with(memgate, &args, code)
}

#[track_caller]
fn assert_ok(results: &Value, name: &str) {
    assert_eq!(benchmark(results, name)["status"], "ok", "{results:#}");
}

/// A Python module `name` (run as `python -m name`) on a PYTHONPATH of its own, that
/// appends its arguments and working directory as a JSON line to the file `$STAND_IN_LOG`.
struct StandIn {
    dir: tempfile::TempDir,
}

impl StandIn {
    fn new(name: &str) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join(name);
        std::fs::create_dir(&package).unwrap();
        std::fs::write(package.join("__init__.py"), "").unwrap();
        std::fs::write(
            package.join("__main__.py"),
            "import json, os, sys\nwith open(os.environ['STAND_IN_LOG'], 'a') as log:\n    log.write(json.dumps({'argv': sys.argv[1:], 'cwd': os.getcwd()}) + '\\n')\n",
        )
        .unwrap();
        StandIn { dir }
    }

    fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("calls.jsonl")
    }

    /// memgate in `project` with the stand-in in the way of the real tool.
    fn memgate(&self, project: &Project) -> Memgate {
        project
            .memgate()
            .env("PYTHONPATH", &self.dir.path().display().to_string())
            .env("STAND_IN_LOG", &self.log().display().to_string())
    }

    /// Each call: (arguments, working directory).
    fn calls(&self) -> Vec<(Vec<String>, String)> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let call: Value = serde_json::from_str(line).unwrap();
                let argv = call["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect();
                (argv, call["cwd"].as_str().unwrap().to_owned())
            })
            .collect()
    }
}

fn canonical(path: &std::path::Path) -> String {
    std::fs::canonicalize(path).unwrap().display().to_string()
}

#[test]
fn a_pytest_benchmark_suite_runs_with_its_folder_quoted() {
    let project = Project::bare();
    put(
        &project,
        "tests/test_plain.py",
        "def test_a():\n    assert True\n",
    );
    put(
        &project,
        "my benches/test_parse.py",
        "def test_parse(benchmark):\n    benchmark(lambda: sum(range(100)))\n",
    );
    project.git_init();
    let out = init(&project, &[], 0);
    assert_said(
        &out,
        "pytest-my-benches  my benches/test_parse.py uses pytest-benchmark's benchmark fixture",
    );
    let config = project.read("memgate.yml");
    assert!(
        config.contains(" -m pytest 'my benches' --benchmark-only -q -p no:cacheprovider\"\n"),
        "{config}"
    );

    let pytest = StandIn::new("pytest");
    let results = run_once(pytest.memgate(&project), 0);
    assert_ok(&results, "pytest-my-benches");
    assert_eq!(
        pytest.calls(),
        [(
            vec![
                "my benches".to_owned(),
                "--benchmark-only".into(),
                "-q".into(),
                "-p".into(),
                "no:cacheprovider".into()
            ],
            canonical(project.dir())
        )]
    );
}

#[test]
fn an_asv_suite_runs_where_its_config_is() {
    let project = Project::bare();
    put(
        &project,
        "asv_bench/asv.conf.json",
        "{\n    // asv allows comments\n    \"version\": 1,\n    \"benchmark_dir\": \"suite\",\n}\n",
    );
    put(
        &project,
        "asv_bench/suite/bench_sum.py",
        "def time_sum():\n    sum(range(100))\n",
    );
    init(&project, &[], 0);
    let config = project.read("memgate.yml");
    assert!(
        config.contains("  # found: asv_bench/asv.conf.json (benchmarks in asv_bench/suite/)\n"),
        "{config}"
    );
    assert!(config.contains("    cwd: \"asv_bench\"\n"), "{config}");

    let asv = StandIn::new("asv");
    let results = run_once(asv.memgate(&project), 0);
    assert_ok(&results, "asv-asv_bench");
    let suite = canonical(&project.path("asv_bench"));
    assert_eq!(
        asv.calls(),
        [
            (vec!["machine".to_owned(), "--yes".into()], suite.clone()),
            (
                vec![
                    "run".to_owned(),
                    "--python=same".into(),
                    "--quick".into(),
                    "--dry-run".into(),
                    "--show-stderr".into()
                ],
                suite
            ),
        ],
        "the setup once, then the measured run"
    );
}

#[test]
fn cargo_bench_targets_build_in_setup_and_run() {
    let project = Project::bare();
    put(
        &project,
        "Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bench]]\nname = \"listed\"\nharness = false\n\n[workspace]\n",
    );
    put(&project, "src/lib.rs", "");
    let bench = |marker: &str| {
        format!(
            "fn main() {{\n    std::fs::write(\"{marker}\", \"ran\").unwrap();\n    println!(\"benched\");\n}}\n"
        )
    };
    put(&project, "benches/listed.rs", &bench("ran-listed.txt"));
    // Found by cargo's discovery: harness = true, and no #[bench] is needed to run it.
    put(
        &project,
        "benches/found.rs",
        &format!("#[allow(dead_code)]\n{}", bench("ran-found.txt")),
    );
    let out = init(&project, &[], 0);
    assert_said(&out, "cargo-listed  Cargo.toml [[bench]] \"listed\"");
    let config = project.read("memgate.yml");
    assert!(
        config.contains("    setup: \"cargo bench --no-run --bench listed\"\n    command: \"cargo bench --bench listed\"\n"),
        "{config}"
    );

    let memgate = project
        .memgate()
        .env(
            "CARGO_TARGET_DIR",
            &project.path("target").display().to_string(),
        )
        .env("CARGO_NET_OFFLINE", "true");
    let results = run_once(memgate, 0);
    assert_ok(&results, "cargo-listed");
    assert!(
        project.path("ran-listed.txt").exists(),
        "the listed bench ran"
    );
    // A harness bench's main is libtest's: it ran (status ok), with no benchmark in it.
    assert_ok(&results, "cargo-found");
}

#[test]
fn bench_scripts_run_as_programs_or_by_their_interpreter() {
    let project = Project::bare();
    put(&project, "scripts/bench.sh", "echo sh > ran-sh.txt\n");
    put(
        &project,
        "scripts/bench it's.sh",
        "echo quoted > ran-quoted.txt\n",
    );
    put(
        &project,
        "scripts/bench_parse.py",
        "open('ran-py.txt', 'w').write('py')\n",
    );
    put(
        &project,
        "scripts/bench-exec",
        "#!/bin/sh\necho exec > ran-exec.txt\n",
    );
    make_executable(&project, "scripts/bench-exec");
    put(&project, "scripts/build.sh", "exit 1\n");
    let out = init(&project, &[], 0);
    let config = project.read("memgate.yml");
    assert!(
        config.contains(r#"    command: "sh 'scripts/bench it'\\''s.sh'""#),
        "{config}"
    );
    assert!(
        config.contains("    command: \"./scripts/bench-exec\"\n"),
        "{config}"
    );
    assert_said(&out, "memgate: next: memgate run\n");

    let results = run_once(project.memgate(), 0);
    for name in ["bench", "bench-it-s", "bench_parse", "bench-exec"] {
        assert_ok(&results, name);
    }
    for marker in ["ran-sh.txt", "ran-quoted.txt", "ran-py.txt", "ran-exec.txt"] {
        assert!(project.path(marker).exists(), "{marker}");
    }
    assert_eq!(
        results["benchmarks"].as_array().unwrap().len(),
        4,
        "not build.sh"
    );
}

#[test]
fn a_makefile_bench_target_runs_make() {
    let project = Project::bare();
    put(
        &project,
        "Makefile",
        ".PHONY: bench\nall:\n\tfalse\nbench:\n\t@echo made > made.txt\n",
    );
    init(&project, &[], 0);
    assert!(
        project
            .read("memgate.yml")
            .contains("    command: \"make bench\"\n")
    );
    let results = run_once(project.memgate(), 0);
    assert_ok(&results, "make-bench");
    assert!(project.path("made.txt").exists());
}

#[test]
fn console_scripts_are_commented_out_beside_a_runnable_example() {
    let project = Project::bare();
    put(
        &project,
        "pyproject.toml",
        "[project]\nname = \"x\"\n\n[project.scripts]\nxtool = \"x.cli:main\"\n",
    );
    let out = init(&project, &[], 0);
    assert_said(&out, "found nothing to run");
    assert_said(&out, "xtool  pyproject.toml [project.scripts]");
    let config = project.read("memgate.yml");
    assert!(
        config.contains("  # found: pyproject.toml [project.scripts]\n"),
        "{config}"
    );
    assert!(
        config.contains(
            "  # - name: \"xtool\"\n  #   command: \"xtool --help\"  # TODO: give it real work\n"
        ),
        "{config}"
    );
    let results = run_once(project.memgate(), 0);
    assert_eq!(results["benchmarks"].as_array().unwrap().len(), 1);
    assert_ok(&results, "example");
}

#[test]
fn an_empty_repository_gets_a_template_memgate_runs() {
    let project = Project::bare();
    project.git_init();
    let out = init(&project, &[], 0);
    assert_said(&out, "found nothing to run");
    assert!(
        out.stderr()
            .contains("memgate init --github writes the workflows"),
        "the workflows are offered: {}",
        out.stderr()
    );
    assert!(
        out.stderr().ends_with(
            "memgate: next: give benchmark \"example\" in memgate.yml a command that does real work, then memgate run\n"
        ),
        "{}",
        out.stderr()
    );
    let config = project.read("memgate.yml");
    assert!(config.contains("defaults:\n"), "{config}");
    assert!(
        config.contains("config/default.yml"),
        "where every key is documented: {config}"
    );
    let results = run_once(project.memgate(), 0);
    assert_ok(&results, "example");
}

#[test]
fn an_existing_config_is_replaced_only_with_force() {
    let project = Project::bare();
    put(&project, "Makefile", "bench:\n\ttrue\n");
    init(&project, &[], 0);
    let edited = "version: 1\nbenchmarks:\n  - {name: mine, command: \"true\"}\n";
    put(&project, "memgate.yml", edited);

    let out = init(&project, &[], 2);
    let file = project.path("memgate.yml").display().to_string();
    assert_eq!(
        out.stderr(),
        format!(
            "memgate: error: {file} exists already, and memgate init does not write over it: pass --force to replace it (its edits are lost), or --github to write only the workflows\n"
        )
    );
    assert_eq!(project.read("memgate.yml"), edited, "unchanged");

    init(&project, &["--force"], 0);
    assert!(project.read("memgate.yml").contains("\"make-bench\""));
}

#[test]
fn gitignore_gets_its_line_once() {
    let project = Project::bare();
    put(&project, ".gitignore", "/target");
    let out = init(&project, &[], 0);
    assert_said(&out, "memgate: added .memgate/ to ");
    assert_eq!(project.read(".gitignore"), "/target\n.memgate/\n");
    let out = init(&project, &["--force"], 0);
    assert!(
        !out.stderr().contains("added .memgate/"),
        "{}",
        out.stderr()
    );
    assert_eq!(project.read(".gitignore"), "/target\n.memgate/\n");

    let other = Project::bare();
    put(&other, ".gitignore", "# memgate\n/.memgate\n");
    init(&other, &[], 0);
    assert_eq!(
        other.read(".gitignore"),
        "# memgate\n/.memgate\n",
        "already ignored"
    );

    let fresh = Project::bare();
    init(&fresh, &[], 0);
    assert_eq!(fresh.read(".gitignore"), ".memgate/\n", "created");
}

#[test]
fn github_writes_the_workflows_and_never_over_one() {
    let project = Project::bare();
    put(&project, "scripts/bench.sh", "true\n");
    git(project.dir(), &["init", "-q", "-b", "trunk"]);
    let out = init(&project, &["--github"], 0);
    let pull_request = project.read(".github/workflows/memgate-pull-request.yml");
    let baselines = project.read(".github/workflows/memgate-baselines.yml");
    assert_eq!(
        pull_request,
        include_str!("../../examples/github/pull-request.yml")
    );
    assert!(
        baselines.contains("    branches: [\"trunk\"]\n"),
        "{baselines}"
    );
    assert_said(&out, "runs on pushes to trunk");
    assert!(project.read("memgate.yml").contains("\"bench\""));

    // A workflow is there: nothing is written, memgate.yml included.
    put(&project, "memgate.yml", "version: 1\n# mine\n");
    let out = init(&project, &["--github"], 2);
    let workflow = project.path(".github/workflows/memgate-pull-request.yml");
    assert_said(
        &out,
        &format!(
            "{} exists already, and memgate init does not write over it: remove it, or pass --force",
            workflow.display()
        ),
    );
    assert_eq!(project.read("memgate.yml"), "version: 1\n# mine\n");

    // memgate.yml is there, the workflows are not: only they are written.
    std::fs::remove_dir_all(project.path(".github")).unwrap();
    let out = init(&project, &["--github"], 0);
    assert_said(&out, "kept ");
    assert_eq!(project.read("memgate.yml"), "version: 1\n# mine\n");
    assert_eq!(
        project.read(".github/workflows/memgate-baselines.yml"),
        baselines
    );

    // --force writes everything again.
    init(&project, &["--github", "--force"], 0);
    assert!(project.read("memgate.yml").contains("\"bench\""));
}

#[test]
fn dir_chooses_the_folder_and_config_is_refused() {
    let project = Project::bare();
    put(&project, "sub/Makefile", "bench:\n\ttrue\n");
    let out = init(&project, &["--dir", "sub"], 0);
    assert!(project.read("sub/memgate.yml").contains("\"make-bench\""));
    assert!(!project.path("memgate.yml").exists());
    // memgate run would not find it from here by itself.
    let config = project.path("sub/memgate.yml").display().to_string();
    let quoted = format!("'{}'", config.replace('\'', r"'\''"));
    assert_said(
        &out,
        &format!("memgate: next: memgate --config {quoted} run\n"),
    );
    let results = run_once(project.memgate().args(["--config", &config]), 0);
    assert_ok(&results, "make-bench");

    let out = init(&project, &["--config", "other.yml"], 2);
    assert_said(&out, "takes no --config");
}

/// Found in review: a repository is someone else's text. Its links are not followed out
/// (a `.gitignore` pointing at a secret is left alone, not copied into the repository; a
/// linked `.github` gets no workflows), a file named with memgate's placeholder is left
/// out rather than written into a config memgate then refuses, and a console script
/// named like the example cannot clash with it.
#[test]
fn a_hostile_repository_gets_nothing_written_through_its_links() {
    let project = Project::bare();
    let outside = project.dir().parent().unwrap();
    std::fs::write(outside.join("secret"), "TOKEN=ghp_secret\n").unwrap();
    std::os::unix::fs::symlink("../secret", project.path(".gitignore")).unwrap();
    std::fs::create_dir(outside.join("elsewhere")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", project.path(".github")).unwrap();
    put(&project, "scripts/bench.sh", "true\n");
    put(&project, "scripts/bench{dataset.path}.sh", "true\n");
    put(
        &project,
        "pyproject.toml",
        "[project]\nname = \"x\"\n\n[project.scripts]\nexample = \"x.cli:main\"\n",
    );
    git(project.dir(), &["init", "-q", "-b", "main"]);

    let out = init(&project, &["--github"], 2);
    assert_said(&out, ".github is not a folder (a link, or a file)");
    assert!(
        std::fs::read_dir(outside.join("elsewhere"))
            .unwrap()
            .next()
            .is_none()
    );
    assert!(
        !project.path("memgate.yml").exists(),
        "nothing written on a refusal"
    );

    let out = init(&project, &[], 0);
    assert_said(&out, "left ");
    assert_said(&out, "alone (it is a link)");
    assert_said(&out, "left out: its command would hold \"{dataset.\"");
    assert_eq!(
        std::fs::read_to_string(outside.join("secret")).unwrap(),
        "TOKEN=ghp_secret\n"
    );
    assert!(
        std::fs::symlink_metadata(project.path(".gitignore"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    let config = project.read("memgate.yml");
    assert!(
        !config.contains("ghp_secret") && !config.contains("{dataset."),
        "{config}"
    );
    // The console script is suggested under a name of its own: uncommented, it loads.
    assert!(config.contains("  # - name: \"example-2\"\n"), "{config}");
    std::fs::write(
        project.path("memgate.yml"),
        config.replace(
            "  # - name: \"example-2\"\n  #   command:",
            "  - name: \"example-2\"\n    command:",
        ),
    )
    .unwrap();
    // Accepted (not exit 2): `bench` runs, and the uninstalled console script fails.
    let results = run_once(project.memgate(), 3);
    assert_ok(&results, "bench");
    assert_eq!(
        benchmark(&results, "example-2")["status"],
        "failed",
        "{results:#}"
    );
}
