//! The leak check end to end: a benchmark run at several values of a parameter, the
//! slope of its peaks recorded, stored and gated as `leak_slope`, with real Python
//! processes whose memory grows (or does not) by a known amount per unit.

use crate::util::{MIB, Project, assert_close, benchmark, git, median};

/// Two benchmarks over the helper: one holds 20 MiB more per iteration, one holds the
/// same whatever the count. `python:` and `explain:` ride along: they are read, not used.
const CONFIG: &str = r#"
version: 1
explain: auto
defaults: {repeat: 2, warmup: 1, python: true}
benchmarks:
  - name: pipeline
    command: python3 {leak_py} grow 20 {iterations}
    leak: {param: iterations, values: [1, 2, 4, 8]}
  - name: steady
    command: [python3, "{leak_py}", flat, "30", "{iterations}"]
    leak: {param: iterations, values: [1, 2, 4, 8]}
    python: false
"#;

#[test]
fn the_slope_of_a_leak_is_measured_stored_and_said() {
    let project = Project::new(CONFIG);
    project.git_init();
    let out = project.memgate().args(["run", "--format", "json"]).run();
    out.code(0);
    let results = out.json();

    let pipeline = benchmark(&results, "pipeline");
    assert_eq!(pipeline["status"], "ok");
    let slope = &pipeline["metrics"]["leak_slope"];
    assert_eq!(slope["unit"], "bytes");
    assert_eq!(slope["better"], "lower");
    assert_eq!(slope["samples"].as_array().unwrap().len(), 2, "one a run");
    assert_close(
        "pipeline's leak_slope",
        median(&results, "pipeline", "leak_slope"),
        20.0 * MIB,
        0.05,
    );
    // The other figures are those of the run at the largest value: 8 × 20 MiB held.
    assert_eq!(pipeline["runs"].as_array().unwrap().len(), 2);
    assert!(median(&results, "pipeline", "peak_memory") > 160.0 * MIB);
    assert_eq!(
        pipeline["command"],
        format!(
            "python3 {} grow 20 {{iterations}}",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helper/leak.py")
        )
    );

    let steady = median(&results, "steady", "leak_slope");
    assert!(
        steady.abs() < MIB,
        "steady's leak_slope is {:.3} MiB per iteration",
        steady / MIB
    );

    // Each execution has its logs; warmups run at the largest value alone.
    let logs = project.path(".memgate/logs/pipeline");
    for value in [1, 2, 4, 8] {
        assert!(
            logs.join(format!("run-2-iterations={value}.stderr"))
                .exists()
        );
    }
    assert!(logs.join("warmup-1-iterations=8.stderr").exists());
    assert!(!logs.join("warmup-1-iterations=1.stderr").exists());

    // Said per benchmark, under its line, in the parameter's words.
    let said = out.stderr();
    let line = said
        .lines()
        .find(|l| l.starts_with("pipeline: grows "))
        .unwrap_or_else(|| panic!("no growth line for pipeline:\n{said}"));
    let r_squared: f64 = line
        .strip_suffix(')')
        .and_then(|l| l.rsplit_once("(R² "))
        .and_then(|(_, r)| r.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(line.contains(" MiB per iteration (R² "), "{line}");
    assert!(r_squared > 0.95, "{line}");
    assert!(said.lines().any(|l| l.starts_with("steady: ")), "{said}");

    // Stored with the revision like any metric.
    let head = git(project.dir(), &["rev-parse", "HEAD"]);
    let note = git(
        project.dir(),
        &["notes", "--ref=memgate", "show", head.trim()],
    );
    assert!(note.contains("\"leak_slope\""), "{note}");
}

#[test]
fn a_failing_value_fails_the_run() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 2, warmup: 0}
benchmarks:
  - name: flaky
    command: python3 {leak_py} fail 1 {iterations}
    leak: {param: iterations, values: [1, 2, 4, 8]}
"#,
    );
    let results = project.run_json(&["--no-save"], 3);
    let flaky = benchmark(&results, "flaky");
    assert_eq!(flaky["status"], "failed");
    assert_eq!(flaky["failure"]["phase"], "run");
    assert_eq!(flaky["failure"]["attempt"], 1);
    assert_eq!(flaky["failure"]["exit_code"], 3);
    let message = flaky["failure"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("run 1 at iterations=4 exited with code 3 after "),
        "{message}"
    );
    assert!(message.contains("run-1-iterations=4.stderr"), "{message}");
    assert_eq!(
        flaky["failure"]["stderr_tail"],
        serde_json::json!(["failing on purpose at 4"])
    );
    // No figures from a run that did not finish.
    assert!(
        flaky["metrics"].as_object().unwrap().is_empty(),
        "{flaky:#}"
    );
}

#[test]
fn check_fails_when_a_leak_grows() {
    // The base leaks 8 MiB per iteration, the head 24: its slope triples.
    let project = Project::sized(
        r#"
version: 1
defaults: {repeat: 3, warmup: 0}
thresholds:
  wall_time: {max_increase: 500%, min_change: 10s}
  cpu_time: {max_increase: 500%, min_change: 10s}
benchmarks:
  - name: pipeline
    command: python3 {leak_py} grow $(cat size.txt) {iterations}
    leak: {param: iterations, values: [1, 2, 3]}
"#,
        8,
    );
    let base = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    project.write("size.txt", "24\n");
    project.commit("leak three times as much");
    let report = project.check_json(&base, 1);
    let leak = report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "leak_slope")
        .unwrap_or_else(|| panic!("no leak_slope comparison: {report:#}"));
    assert_eq!(leak["verdict"], "regression", "{leak:#}");
    assert_eq!(leak["unit"], "bytes");
    assert_close(
        "base leak_slope",
        leak["base"]["median"].as_f64().unwrap(),
        8.0 * MIB,
        0.05,
    );
    assert_close(
        "head leak_slope",
        leak["head"]["median"].as_f64().unwrap(),
        24.0 * MIB,
        0.05,
    );
}

/// `memgate explain` looks at a leak check where its figures come from: one execution,
/// at the largest value (found in review: every value ran, only the largest was looked
/// at).
#[test]
fn explain_diagnoses_a_leak_check_at_its_largest_value_alone() {
    let project = Project::new(
        r#"
version: 1
benchmarks:
  - name: pipeline
    command: echo {iterations} >> ran.txt; python3 {leak_py} grow 20 {iterations}
    leak: {param: iterations, values: [1, 2, 4]}
"#,
    );
    let out = project
        .memgate()
        .args(["explain", "--no-base", "--format", "json", "-q"])
        .run();
    out.code(0);
    let explained = out.json();
    assert_eq!(
        project.read("ran.txt"),
        "4\n",
        "one execution, at the largest value"
    );
    let peak = explained["explanations"][0]["head"]["peak_memory"]
        .as_f64()
        .unwrap();
    assert!(peak > 80.0 * MIB, "4 × 20 MiB held: {peak}");
}
