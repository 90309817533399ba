//! What a hostile benchmark (a pull request's code) cannot do to the CI run: reach the
//! runner's command files or tokens, read memgate's environment or write to its output
//! through /proc, or have its text taken for a workflow command on either stream.

use crate::util::{Outcome, Project, live_commands};

/// The variables of a GitHub Actions step that no benchmark may see: written out here,
/// not taken from memgate, so that dropping one there fails a test.
const WITHHELD: [&str; 12] = [
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_RUNTIME_URL",
    "ACTIONS_RESULTS_URL",
    "ACTIONS_CACHE_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STATE",
    "GITHUB_STEP_SUMMARY",
];

/// Runs memgate in `project` as an Actions step would, every withheld variable set (the
/// command files as real files in the project).
fn as_a_step(project: &Project, args: &[&str]) -> Outcome {
    let mut memgate = project.memgate().args(args).env("GITHUB_ACTIONS", "true");
    for name in WITHHELD {
        let value = if name.starts_with("GITHUB_") && name != "GITHUB_TOKEN" {
            project.path(&name.to_lowercase()).display().to_string()
        } else {
            format!("secret-{name}")
        };
        memgate = memgate.env(name, &value);
    }
    memgate.run()
}

/// Neither stream carries a line the runner would act on.
#[track_caller]
fn assert_no_live_command(out: &Outcome) {
    let live = live_commands(&out.0.stdout, &out.0.stderr);
    assert_eq!(live, Vec::<String>::new(), "stderr:\n{}", out.stderr());
}

#[test]
fn memgate_withholds_what_these_tests_check() {
    let mut ours = WITHHELD.to_vec();
    let mut memgates = memgate::runner::execute::WITHHELD.to_vec();
    ours.sort_unstable();
    memgates.sort_unstable();
    assert_eq!(ours, memgates);
}

#[test]
fn no_command_file_or_token_reaches_a_benchmark() {
    // Issue 8: GITHUB_ENV, GITHUB_PATH and GITHUB_OUTPUT were passed to benchmarks, so a
    // benchmark could set variables for the steps after it.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: env\n    command: \"env; for f in \\\"$GITHUB_ENV\\\" \\\"$GITHUB_PATH\\\" \\\"$GITHUB_OUTPUT\\\"; do [ -n \\\"$f\\\" ] && echo EVIL=1 >> \\\"$f\\\"; done; true\"\n",
    );
    as_a_step(&project, &["run", "-q", "--no-save"]).code(0);
    let env = project.read(".memgate/logs/env/run-1.stdout");
    for name in WITHHELD {
        assert!(
            !env.contains(&format!("{name}=")),
            "{name} reached the benchmark"
        );
    }
    for file in ["github_env", "github_path", "github_output"] {
        assert!(
            !project.read_or_empty(file).contains("EVIL"),
            "the benchmark wrote {file}"
        );
    }
}

#[test]
fn a_benchmark_cannot_read_memgates_environment_or_write_to_its_output() {
    // Issue 8: a benchmark read GITHUB_TOKEN from /proc/<memgate>/environ and wrote into
    // memgate's stdout through /proc/<memgate>/fd/1. As root everything is readable, so
    // memgate runs as an ordinary user here, as it does on CI runners.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !std::path::Path::new("/usr/bin/setpriv").exists() {
        return; // Only root can start memgate as another user: nothing to check here.
    }
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0}
benchmarks:
  - name: snoop
    command: |
      launcher=$PPID
      memgate=$(cut -d' ' -f4 /proc/$launcher/stat)
      for pid in $memgate $launcher; do
        cat /proc/$pid/environ > environ-$pid 2>/dev/null
        echo "::error::through the descriptor" > /proc/$pid/fd/1 2>/dev/null
        echo "::error::through the descriptor" > /proc/$pid/fd/2 2>/dev/null
      done
      true
"#,
    );
    // The project is the ordinary user's to write in.
    let chmod = std::process::Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(project.dir())
        .status()
        .unwrap();
    assert!(chmod.success());
    let memgate = env!("CARGO_BIN_EXE_memgate");
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args([memgate, "run", "-q", "--no-save"])
        .current_dir(project.dir())
        .env("GITHUB_TOKEN", "ghp_stolen_if_you_see_this")
        .env("HOME", project.dir())
        .output()
        .unwrap();
    let out = Outcome(out);
    out.code(0);
    let mut looked = 0;
    for entry in std::fs::read_dir(project.dir()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("environ-") {
            looked += 1;
            let stolen = std::fs::read_to_string(entry.path()).unwrap_or_default();
            assert!(stolen.is_empty(), "{name} was readable: {stolen}");
        }
    }
    assert_eq!(looked, 2, "the benchmark ran and tried both processes");
    for stream in [out.stdout(), out.stderr()] {
        assert!(!stream.contains("through the descriptor"));
    }
}

#[test]
fn under_actions_no_stream_carries_a_benchmarks_command() {
    // Issue 8: a custom metric's unit, a failure's stderr and the progress lines reached
    // the CI log as written. The unit is now refused; the stderr tail is shown inside a
    // stop-commands block on stdout, and stderr is stopped too.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: ok\n    command: \"true\"\n  - name: loud\n    command: \"echo '::error::from stderr' >&2; echo '##[error]v1 from stderr' >&2; echo '::set-output name=x::y'; exit 1\"\n",
    );
    let out = as_a_step(&project, &["run", "--no-save"]);
    out.code(3);
    let stdout = out.stdout();
    assert!(stdout.contains("| ::error::from stderr"), "{stdout}");
    // Review finding: `##[error]` anywhere in a line is a command of the older form.
    assert!(stdout.contains("| ##\\[error]v1 from stderr"), "{stdout}");
    assert_no_live_command(&out);
    // JSON on stdout stays one document, with the same data; stderr is stopped.
    let out = as_a_step(&project, &["run", "--no-save", "--format", "json"]);
    let json = out.code(3).json();
    assert_eq!(json["benchmarks"][1]["status"], "failed");
    assert_eq!(
        json["benchmarks"][1]["failure"]["stderr_tail"],
        serde_json::json!(["::error::from stderr", "##[error]v1 from stderr"])
    );
    assert!(out.stderr().starts_with("::stop-commands::"));
    assert_no_live_command(&out);
}

#[test]
fn a_unit_that_would_be_a_command_or_markup_is_refused() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: m\n    command: [python3, emit.py]\n",
    );
    for unit in [
        "u\n::error::x",
        "<img src=x onerror=alert(1)>",
        "</details>",
    ] {
        // Rust's quoting of the unit is a Python string literal too.
        project.write(
            "emit.py",
            &format!(
                "import json, os\nopen(os.environ['MEMGATE_METRICS'], 'a').write(json.dumps({{'metric': 's', 'value': 1, 'unit': {unit:?}}}) + '\\n')\n"
            ),
        );
        let out = as_a_step(&project, &["run", "--no-save", "--format", "json"]);
        let json = out.code(3).json();
        let message = json["benchmarks"][0]["failure"]["message"]
            .as_str()
            .unwrap();
        assert!(message.contains("is not allowed"), "{message}");
        assert_no_live_command(&out);
    }
}

#[test]
fn files_a_benchmark_plants_neither_hang_nor_flood_memgate() {
    // Review findings: memgate read the metrics file, the logs and the stderr tail with a
    // plain open and read, so a FIFO hung it past its timeout and Ctrl-C, and a link to
    // /dev/zero filled memory; the launcher created the next run's log through whatever
    // stood in its place.
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 2, warmup: 0, timeout: 20s}
benchmarks:
  - name: fifo-metrics
    command: mkfifo "$MEMGATE_METRICS"
  - name: zero-metrics
    command: ln -s /dev/zero "$MEMGATE_METRICS"
  - name: next-log
    command: d=$(dirname "$MEMGATE_METRICS"); mkfifo "$d/run-2.stdout"; ln -s /dev/zero "$d/run-2.stderr"; true
  - name: own-log
    command: d=$(dirname "$MEMGATE_METRICS"); rm "$d/run-1.stdout"; mkfifo "$d/run-1.stdout"; rm "$d/run-1.stderr"; ln -s /dev/zero "$d/run-1.stderr"; exit 1
  - name: after
    command: "true"
"#,
    );
    let out = project
        .memgate()
        .args(["run", "--no-save", "--format", "json"])
        .run_bounded();
    out.code(3);
    let json = out.json();
    let failure = |name: &str| {
        crate::util::benchmark(&json, name)["failure"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        failure("fifo-metrics").contains(
            "it is a FIFO, not a regular file: append JSON lines to it as to a regular file"
        ),
        "{}",
        failure("fifo-metrics")
    );
    assert!(failure("zero-metrics").contains("it is a symbolic link, not a regular file"));
    assert_eq!(crate::util::benchmark(&json, "next-log")["status"], "ok");
    assert!(failure("own-log").starts_with("run 1 exited with code 1"));
    assert_eq!(crate::util::benchmark(&json, "after")["status"], "ok");
}

#[test]
fn a_benchmark_that_finds_the_command_files_anyway_is_caught_and_undone() {
    // Review finding: a benchmark could read GITHUB_ENV's path from the environment of the
    // shell that started memgate (or find it in $RUNNER_TEMP) and set BASH_ENV for the
    // steps after it. Here it is simply told the path.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0, env: {FOUND: \"{dir}/github_env\"}}\nbenchmarks:\n  - name: sneaky\n    command: echo BASH_ENV=/tmp/evil.sh >> \"$FOUND\"\n",
    );
    project.write("github_env", "KEPT=1\n");
    let stderr = as_a_step(&project, &["run", "--no-save"]).code(2).stderr();
    assert!(
        stderr.contains(
            "memgate: error: a benchmark wrote to the runner's command file GITHUB_ENV (which would act on the steps after this one): memgate put it back as it was, and stops here"
        ),
        "{stderr}"
    );
    assert_eq!(project.read("github_env"), "KEPT=1\n");
}

#[test]
fn a_link_in_place_of_a_command_file_is_caught_and_undone() {
    // Found in review: content alone was compared, through links, so a GITHUB_PATH
    // replaced by a link to the (empty) job summary passed, and memgate's summary then
    // went into GITHUB_PATH.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0, env: {FOUND: \"{dir}/github_path\", OTHER: \"{dir}/github_step_summary\"}}\nbenchmarks:\n  - name: sneaky\n    command: rm \"$FOUND\"; ln -s \"$OTHER\" \"$FOUND\"\n",
    );
    project.write("github_path", "");
    project.write("github_step_summary", "");
    let stderr = as_a_step(&project, &["run", "--no-save"]).code(2).stderr();
    assert!(stderr.contains("command file GITHUB_PATH"), "{stderr}");
    let meta = std::fs::symlink_metadata(project.path("github_path")).unwrap();
    assert!(meta.is_file(), "a regular file again, not the link");
}

#[test]
fn command_files_are_put_back_however_memgate_ends() {
    // Found in review: the files were checked only when the runs ended well; a benchmark
    // that wrote GITHUB_ENV and then stopped memgate kept its line.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0, env: {FOUND: \"{dir}/github_env\"}}\nbenchmarks:\n  - name: sneaky\n    command: echo BASH_ENV=/tmp/evil.sh >> \"$FOUND\"; kill -TERM $(cut -d' ' -f4 /proc/$PPID/stat); sleep 5\n",
    );
    project.write("github_env", "");
    let stderr = as_a_step(&project, &["run", "--no-save"])
        .code(130)
        .stderr();
    assert_eq!(project.read("github_env"), "");
    assert!(stderr.contains("memgate put them back"), "{stderr}");
}

#[test]
fn memgates_output_may_be_teed_into_the_job_summary() {
    // Found in review: `memgate run | tee -a "$GITHUB_STEP_SUMMARY"` was taken for a
    // benchmark's write to a command file. The summary acts on no later step.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: \"true\"\n",
    );
    let memgate = env!("CARGO_BIN_EXE_memgate");
    let summary = project.path("github_step_summary");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {memgate} run --no-save 2>&1 | tee -a \"$GITHUB_STEP_SUMMARY\""
        ))
        .current_dir(project.dir())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    Outcome(out).code(0);
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("1 benchmark: 1 ok")
    );
}
