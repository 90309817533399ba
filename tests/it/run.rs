//! `memgate run` as a user meets it: the JSON contract, exit codes, failures with their
//! stderr, custom metrics, datasets and setup, selection and overrides, the table.

use crate::util::{Project, benchmark, median};

#[test]
fn json_follows_the_contract() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 3, warmup: 1}
benchmarks:
  - name: hold
    command: ["{shapes}", hold, "20", "30"]
"#,
    );
    let results = project.run_json(&[], 0);
    assert_eq!(results["memgate_version"], env!("CARGO_PKG_VERSION"));
    for key in ["os", "kernel", "cpu", "cores", "memory", "probe"] {
        assert!(!results["testbed"][key].is_null(), "testbed.{key}");
    }
    let b = benchmark(&results, "hold");
    assert_eq!(b["status"], "ok");
    assert!(b["dataset"].is_null());
    for (metric, unit) in [
        ("peak_memory", "bytes"),
        ("max_rss", "bytes"),
        ("wall_time", "seconds"),
        ("cpu_time", "seconds"),
    ] {
        assert_eq!(b["metrics"][metric]["unit"], unit, "{metric}");
        assert_eq!(
            b["metrics"][metric]["samples"].as_array().unwrap().len(),
            3,
            "{metric}"
        );
    }
    assert_eq!(b["runs"].as_array().unwrap().len(), 3);
    assert!(median(&results, "hold", "peak_memory") > 20.0 * 1048576.0);
}

#[test]
fn a_failing_benchmark_is_reported_and_the_others_run() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 2, warmup: 0}
benchmarks:
  - name: broken
    command: "echo some context >&2; {shapes} exit 7"
  - name: missing
    command: [/no/such/program]
  - name: fine
    command: [/bin/true]
"#,
    );
    let results = project.run_json(&[], 3);
    let broken = benchmark(&results, "broken");
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["failure"]["exit_code"], 7);
    assert_eq!(broken["failure"]["phase"], "run");
    assert_eq!(
        broken["failure"]["stderr_tail"],
        serde_json::json!(["some context", "failing on purpose"])
    );
    let message = broken["failure"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("run 1 exited with code 7 after "),
        "{message}"
    );
    let missing = benchmark(&results, "missing");
    assert_eq!(missing["status"], "failed");
    // Issue 8: a command that never started was reported "at peak memory 660 KiB".
    let message = missing["failure"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("run 1 could not start \"/no/such/program\": No such file or directory (os error 2) (check the command, PATH and cwd "),
        "{missing:#}"
    );
    assert!(!message.contains("peak memory") && !message.contains(" after "));
    assert_eq!(missing["failure"]["peak_memory"], 0);
    assert_eq!(benchmark(&results, "fine")["status"], "ok");
}

#[test]
fn a_benchmark_killed_by_a_signal_says_so() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: segv\n    command: \"kill -SEGV $$\"\n",
    );
    let results = project.run_json(&[], 3);
    let b = benchmark(&results, "segv");
    assert_eq!(b["failure"]["signal"], 11);
    assert!(
        b["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("killed by signal 11 (SIGSEGV)")
    );
}

#[test]
fn custom_metrics_are_collected_per_run() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 3, warmup: 1}
benchmarks:
  - name: model
    command: "echo '{\"metric\": \"score\", \"value\": 0.93, \"unit\": \"\", \"better\": \"higher\"}' >> \"$MEMGATE_METRICS\""
  - name: bad
    command: "echo 'not json' >> \"$MEMGATE_METRICS\""
"#,
    );
    let results = project.run_json(&[], 3);
    let score = &benchmark(&results, "model")["metrics"]["score"];
    assert_eq!(score["samples"], serde_json::json!([0.93, 0.93, 0.93]));
    assert_eq!(score["better"], "higher");
    let bad = benchmark(&results, "bad");
    assert_eq!(bad["status"], "failed");
    assert!(
        bad["failure"]["message"]
            .as_str()
            .unwrap()
            .starts_with("$MEMGATE_METRICS line 1: ")
    );
}

#[test]
fn datasets_are_prepared_once_and_setup_runs_once() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 2, warmup: 1}
datasets:
  small:
    path: data/small.txt
    prepare: "echo prepared >> {dir}/log; echo 1 > {path}"
  large:
    path: data/large.txt
    prepare: [sh, -c, "echo prepared >> {dir}/log; echo 12345 > \"$0\"", "{path}"]
benchmarks:
  - name: count
    setup: "echo setup >> {dir}/log"
    command: "wc -c < {dataset.path} >> {dir}/sizes; echo {dataset.name} >> {dir}/names"
    datasets: [small, large]
"#,
    );
    let results = project.run_json(&[], 0);
    assert_eq!(project.read("log"), "prepared\nsetup\nprepared\n");
    assert_eq!(
        project.read("names"),
        "small\n".repeat(3) + &"large\n".repeat(3)
    );
    let datasets: Vec<_> = results["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["dataset"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(datasets, ["small", "large"]);
    // A second session finds the data and does not prepare it again.
    project.run_json(&[], 0);
    assert_eq!(project.read("log").matches("prepared").count(), 2);
}

#[test]
fn a_failing_prepare_fails_the_benchmark() {
    let project = Project::new(
        r#"
version: 1
datasets:
  d: {path: d.csv, prepare: "echo cannot download >&2; exit 4"}
benchmarks:
  - name: b
    command: "cat {dataset.path}"
    datasets: [d]
"#,
    );
    let results = project.run_json(&[], 3);
    let b = benchmark(&results, "b");
    assert_eq!(b["failure"]["phase"], "prepare");
    assert_eq!(
        b["failure"]["stderr_tail"],
        serde_json::json!(["cannot download"])
    );
}

#[test]
fn selection_and_overrides() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 5, warmup: 3}
benchmarks:
  - name: a
    command: "echo a >> {dir}/ran"
  - name: b
    command: "echo b >> {dir}/ran"
"#,
    );
    let results = project.run_json(&["b", "--repeat", "2", "--warmup", "1"], 0);
    assert_eq!(results["benchmarks"].as_array().unwrap().len(), 1);
    assert_eq!(project.read("ran"), "b\nb\nb\n");
}

#[test]
fn table_on_stdout_and_json_to_a_file() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 2, warmup: 0}\nbenchmarks:\n  - name: t\n    command: [/bin/true]\n",
    );
    let out = project
        .memgate()
        .args(["run", "--format", "json", "--output", "out.json"])
        .run();
    out.code(0);
    let stdout = out.stdout();
    let header = stdout.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "benchmark",
            "status",
            "metric",
            "median",
            "min",
            "…",
            "max",
            "spread",
            "runs",
            "memory",
            "over",
            "time"
        ]
    );
    assert!(stdout.contains("t          ok      cpu_time"), "{stdout}");
    assert!(stdout.contains("1 benchmark: 1 ok, 0 failed"), "{stdout}");
    // Not a terminal: a plain progress line, no animation; then where the report is.
    let report = project.path(".memgate/report/index.html");
    assert_eq!(
        out.stderr(),
        format!(
            "t: ok (2 runs)\nmemgate: not saved: not in a git repository (use --store DIR --label NAME to keep results)\nmemgate: report: {}\n",
            report.display()
        )
    );
    let json: serde_json::Value = serde_json::from_str(&project.read("out.json")).unwrap();
    assert_eq!(benchmark(&json, "t")["status"], "ok");
}

#[test]
fn environment_reaches_the_benchmark() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0, env: {GREETING: hello, N: 3}}
benchmarks:
  - name: env
    env: {N: 4}
    command: "echo $GREETING $N $MEMGATE_BENCHMARK > {dir}/env"
"#,
    );
    project.run_json(&[], 0);
    assert_eq!(project.read("env"), "hello 4 env\n");
}

#[test]
fn the_config_is_found_at_the_repository_root() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: pwd\n    command: \"pwd > {dir}/where\"\n",
    );
    std::fs::create_dir_all(project.path(".git")).unwrap();
    std::fs::create_dir_all(project.path("src/deep")).unwrap();
    let out = project
        .memgate()
        .args(["run", "-q"])
        .command()
        .current_dir(project.path("src/deep"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Benchmarks run in the config's directory by default.
    let canonical = project.dir().canonicalize().unwrap();
    assert_eq!(
        project.read("where").trim(),
        canonical.display().to_string()
    );
}

#[test]
fn the_probe_can_be_chosen() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: [/bin/true]\n",
    );
    assert_eq!(project.run_json_proc(&[], 0)["testbed"]["probe"], "proc");
    let out = project
        .memgate()
        .env("MEMGATE_PROBE", "bogus")
        .args(["run"])
        .run();
    out.code(2);
    assert_eq!(
        out.stderr(),
        "memgate: error: MEMGATE_PROBE=\"bogus\" is not known: use auto, cgroup or proc\n"
    );
}

#[test]
fn benchmarks_start_with_default_signal_handling() {
    // memgate (Rust) ignores SIGPIPE; an ignored signal would survive exec into the
    // benchmark and change how a pipeline like `yes | head` ends.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: sig\n    command: \"grep -E 'SigIgn|SigBlk' /proc/self/status > {dir}/sig\"\n",
    );
    project.run_json(&[], 0);
    assert_eq!(
        project.read("sig"),
        "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );
}

#[test]
fn the_cgroup_probe_where_the_machine_allows_it() {
    // Where memgate may create a memory cgroup (v2 first, else v1: this project's CI
    // machines run as root with the memory controller on v1), MEMGATE_PROBE=cgroup
    // measures through it; elsewhere it refuses with a fix, rather than falling back
    // quietly.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: hold\n    command: [\"{shapes}\", hold, \"64\", \"300\"]\n",
    );
    let out = project
        .memgate()
        .env("MEMGATE_PROBE", "cgroup")
        .args(["run", "--format", "json", "-q"])
        .run();
    if out.0.status.code() == Some(0) {
        let results = out.json();
        let probe = results["testbed"]["probe"].as_str().unwrap();
        assert!(probe == "cgroup" || probe == "cgroup_v1", "{probe}");
        assert_eq!(
            benchmark(&results, "hold")["runs"][0]["peak_quality"],
            "exact"
        );
        let peak = median(&results, "hold", "peak_memory");
        assert!(
            peak > 64.0 * 1048576.0 && peak < 80.0 * 1048576.0,
            "peak {peak}"
        );
    } else {
        out.code(2);
        assert_eq!(
            out.stderr(),
            "memgate: error: MEMGATE_PROBE=cgroup, but memgate may not create a memory cgroup here (v2 with the memory controller, or v1): run it in a delegated cgroup, or unset MEMGATE_PROBE\n"
        );
    }
}

#[test]
fn no_secret_and_no_stray_descriptor_reaches_a_benchmark() {
    // Review finding: GITHUB_TOKEN and descriptors memgate inherited were passed on.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: look\n    command: [ls, /proc/self/fd]\n  - name: env\n    command: [env]\n",
    );
    let memgate = env!("CARGO_BIN_EXE_memgate");
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("exec 9>leak.txt; exec {memgate} run -q --no-save"))
        .current_dir(project.dir())
        .env("GITHUB_TOKEN", "ghp_secret_value")
        .env("ACTIONS_RUNTIME_TOKEN", "runtime_secret")
        .output()
        .unwrap();
    assert!(status.status.success());
    // No shell between: ls itself is the benchmark (3 is its own directory handle).
    assert_eq!(
        project.read(".memgate/logs/look/run-1.stdout"),
        "0\n1\n2\n3\n"
    );
    let env = project.read(".memgate/logs/env/run-1.stdout");
    assert!(
        !env.contains("ghp_secret_value") && !env.contains("runtime_secret"),
        "{env}"
    );
    assert!(env.contains("MEMGATE_BENCHMARK=env"));
}

#[test]
fn memgates_folder_never_shows_as_untracked() {
    // Issue 8: memgate wrote .memgate/ into the user's repository, where `git status`
    // listed it.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: \"true\"\n",
    );
    crate::util::git(project.dir(), &["init", "-q", "-b", "main"]);
    project.commit("config only, no .gitignore of its own");
    project.memgate().args(["run", "-q"]).run().code(0);
    assert!(project.path(".memgate/logs/t/run-1.stdout").exists());
    assert_eq!(
        crate::util::git(
            project.dir(),
            &["status", "--porcelain", "--untracked-files=all"]
        ),
        ""
    );
    assert!(project.read(".memgate/.gitignore").ends_with("\n*\n"));
}

#[test]
fn a_log_says_the_time_left_after_each_benchmark_but_the_last() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 2, warmup: 1}\nbenchmarks:\n  - name: a\n    command: [/bin/true]\n  - name: b\n    command: [/bin/true]\n",
    );
    let out = project
        .memgate()
        .args(["run", "--no-save", "--no-report"])
        .run();
    out.code(0);
    let stderr = out.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    // The first benchmark's runs predict the second's: some time is left, however
    // little (the figure itself depends on the machine).
    let left = lines[0]
        .strip_prefix("a: ok (2 runs); ~")
        .and_then(|rest| rest.strip_suffix(" left"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        left.ends_with('s') && left.chars().next().unwrap().is_ascii_digit(),
        "{stderr}"
    );
    // Nothing is left after the last one.
    assert_eq!(lines[1], "b: ok (2 runs)");
}
