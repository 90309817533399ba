//! `memgate explain` end to end: real processes under diagnosis, real git repositories
//! for the base, the Python helper in real CPython processes, and `check` running it
//! after a peak-memory regression. Figures are memory only: never durations.

use serde_json::Value;

use crate::util::{MIB, Project, assert_close};

/// `memgate explain --format json` in `project` with `args`; asserts exit 0.
#[track_caller]
fn explain(project: &Project, args: &[&str]) -> Value {
    explain_exiting(project, args, 0)
}

/// As [`explain`], asserting exit `code` (3 when a benchmark failed, explained).
#[track_caller]
fn explain_exiting(project: &Project, args: &[&str], code: i32) -> Value {
    let out = project
        .memgate()
        .args(["explain", "--format", "json", "-q"])
        .args(args)
        .run();
    out.code(code);
    out.json()
}

/// The explanation of `benchmark`.
#[track_caller]
fn of<'a>(explained: &'a Value, benchmark: &str) -> &'a Value {
    find(&explained["explanations"], "benchmark", benchmark)
}

/// The first item of the list `items` whose `key` is `value`.
#[track_caller]
fn find<'a>(items: &'a Value, key: &str, value: &str) -> &'a Value {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {items:#}"))
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} {value:?} in {items:#}"))
}

fn bytes(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn a_native_tree_gets_its_processes_and_memory_kinds_at_the_peak() {
    let project = Project::new(
        "version: 1\nbenchmarks:\n  - name: tree\n    command: \"{shapes} hold 48 600 & {shapes} hold 16 600; wait\"\n",
    );
    let x = explain(&project, &[]);
    let head = &of(&x, "tree")["head"];
    assert_eq!(head["ending"], "ok");
    assert!(head["python"].is_null(), "no Python here: {head:#}");
    let at_peak = &head["at_peak"];
    let processes = at_peak["processes"].as_array().unwrap();
    let holds: Vec<&Value> = processes
        .iter()
        .filter(|p| {
            let command = p["command"].as_str().unwrap();
            command.starts_with(&crate::util::shapes().display().to_string())
        })
        .collect();
    assert_eq!(holds.len(), 2, "{at_peak:#}");
    // Largest first, each its own share and its own high-water mark.
    assert_close("the larger's PSS", bytes(&holds[0]["pss"]), 48.0 * MIB, 0.1);
    assert_close(
        "the smaller's PSS",
        bytes(&holds[1]["pss"]),
        16.0 * MIB,
        0.15,
    );
    assert!(bytes(&holds[0]["high_water_mark"]) >= 48.0 * MIB);
    let kinds = &at_peak["kinds"];
    assert!(bytes(&kinds["anonymous"]) >= 60.0 * MIB, "{kinds:#}");
    assert!(bytes(&kinds["file"]) > 0.0, "{kinds:#}");
    assert!(x["base"].is_null(), "no git, no base");
    // The table says the same.
    let out = project.memgate().args(["explain", "-q"]).run();
    out.code(0);
    let text = out.stdout();
    assert!(
        text.contains("at the peak") && text.contains("anonymous"),
        "{text}"
    );
    assert!(text.contains("shapes hold 48 600"), "{text}");
}

#[test]
fn the_base_is_diagnosed_in_its_worktree_and_the_growth_named() {
    let project = Project::sized(
        "version: 1\nbenchmarks:\n  - name: hold\n    command: \"{shapes} hold $(cat size.txt) 300\"\n",
        20,
    );
    project.write("size.txt", "60\n");
    project.commit("hold more");
    let x = explain(&project, &["--base", "HEAD~1"]);
    let e = of(&x, "hold");
    assert_eq!(x["base"].as_str().unwrap().len(), 40);
    let first = &e["differences"][0];
    assert!(first["change"].as_f64().unwrap() > 35.0 * MIB, "{e:#}");
    let process = find(&e["differences"], "name", "shapes hold");
    assert_eq!(process["topic"], "process");
    assert_close(
        "the process's growth",
        bytes(&process["change"]),
        40.0 * MIB,
        0.1,
    );
    // --no-base: head alone, no differences.
    let x = explain(&project, &["--no-base"]);
    assert!(x["base"].is_null());
    assert!(of(&x, "hold")["differences"].as_array().unwrap().is_empty());
}

#[test]
fn explain_reports_go_where_asked_and_unknown_benchmarks_are_refused() {
    let project = Project::new(
        "version: 1\nbenchmarks:\n  - name: one\n    command: [\"{shapes}\", hold, \"8\", \"50\"]\n",
    );
    let out = project
        .memgate()
        .args(["explain", "-q", "--format", "markdown", "--output", "x.md"])
        .run();
    out.code(0);
    let md = project.read("x.md");
    assert!(md.contains("<details><summary><b>one</b>"), "{md}");
    assert!(
        out.stdout().contains("memgate explain"),
        "the table on the terminal"
    );
    let out = project.memgate().args(["explain", "nope"]).run();
    out.code(2);
    assert!(out.stderr().contains("nope"), "{}", out.stderr());
}

/// The bundled example's config over a smaller dataset, run from the example's folder.
fn refcycle(rows: u32) -> Project {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/refcycle");
    Project::new(&format!(
        r#"version: 1
defaults: {{timeout: 5m, env: {{PYTHONHASHSEED: "0"}}}}
datasets:
  trips:
    path: trips.csv
    prepare: python3 {dir}/make_data.py --rows {rows} --out {{path}}
benchmarks:
  - name: pipeline-cycle
    command: python3 {dir}/pipeline.py --data {{dataset.path}} --variant cycle
    datasets: [trips]
  - name: pipeline-weakref
    command: python3 {dir}/pipeline.py --data {{dataset.path}} --variant weakref
    datasets: [trips]
"#,
        dir = example.display()
    ))
}

#[test]
fn the_example_s_cycle_is_named_with_its_edges_and_the_fix_has_none() {
    let project = refcycle(50_000);
    let x = explain(&project, &["--sites"]);
    let cycle = &of(&x, "pipeline-cycle[trips]")["head"]["python"];
    let frame = find(&cycle["cycles"], "type", "__main__.Frame");
    assert_eq!(
        frame["cycle_text"], "Frame.ww -> StrongWW._frame_ref -> Frame",
        "{frame:#}"
    );
    assert!(frame["count"].as_u64().unwrap() >= 2, "{frame:#}");
    // Frames of 50,000 rows hold several MiB each.
    assert!(bytes(&frame["bytes"]) > 10.0 * MIB, "{frame:#}");
    let weak = &of(&x, "pipeline-weakref[trips]")["head"]["python"];
    assert!(weak.is_object(), "the helper reported: {weak:#}");
    let types: Vec<&str> = weak["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert!(!types.contains(&"__main__.Frame"), "{types:?}");
    // The allocation sites near the peak point into the pipeline.
    let sites = cycle["sites"].as_array().unwrap();
    assert!(
        sites
            .iter()
            .any(|s| s["file"].as_str().unwrap().ends_with("pipeline.py")),
        "{sites:#?}"
    );
}

#[test]
fn a_python_tree_is_explained_across_its_processes() {
    let project = Project::new(
        "version: 1\nbenchmarks:\n  - name: parent\n    command: [python3, parent.py]\n",
    );
    project.write(
        "child.py",
        "import gc\nclass Node:\n    pass\ndef make():\n    a, b = Node(), Node()\n    a.other, b.other = b, a\n    a.payload = bytearray(8 << 20)\nfor _ in range(4):\n    make()\n    gc.collect()\n",
    );
    project.write(
        "parent.py",
        "import subprocess, sys\nprocs = [subprocess.Popen([sys.executable, 'child.py']) for _ in range(2)]\nkeep = bytearray(30 << 20)\nfor p in procs:\n    assert p.wait() == 0\n",
    );
    let x = explain(&project, &[]);
    let head = &of(&x, "parent")["head"];
    let python = &head["python"];
    assert_eq!(
        python["processes"].as_array().unwrap().len(),
        3,
        "{python:#}"
    );
    let node = find(&python["cycles"], "type", "__main__.Node");
    // Two children, four pairs each.
    assert_eq!(node["count"], 16, "{node:#}");
    assert_eq!(node["cycle_text"], "Node.other -> Node.other -> Node");
    assert!(bytes(&node["bytes"]) >= 8.0 * 8.0 * MIB, "{node:#}");
    assert!(head["at_peak"]["processes"].as_array().unwrap().len() >= 2);
}

#[test]
fn a_run_killed_at_its_memory_limit_keeps_its_python_report() {
    let project = Project::new(
        "version: 1\nbenchmarks:\n  - name: oom\n    command: [python3, oom.py]\n    memory_limit: 200MiB\n",
    );
    project.write(
        "oom.py",
        // 2 MiB every 20 ms: the 20 MiB between 90% of the limit and the limit take
        // 200 ms, for the helper's poller (every 10 ms) to see the file and report.
        "import time\nblocks = []\ndef grow():\n    blocks.append(bytearray(2 << 20))\nwhile True:\n    grow()\n    time.sleep(0.02)\n",
    );
    let x = explain_exiting(&project, &["--sites"], 3);
    let head = &of(&x, "oom")["head"];
    assert_eq!(head["ending"], "memory_limit", "{head:#}");
    assert!(head["limit_reached_at"].is_number(), "{head:#}");
    assert!(!head["timeline"]["points"].as_array().unwrap().is_empty());
    let python = &head["python"];
    assert_eq!(python["at_limit"], true, "{python:#}");
    let top = &python["sites"][0];
    assert!(
        top["file"].as_str().unwrap().ends_with("oom.py"),
        "{python:#}"
    );
    assert_eq!(top["line"], 4, "{top:#}");
    assert!(bytes(&top["bytes"]) > 150.0 * MIB, "{top:#}");
}

/// The helper's own tests, in Python (`tests/python/`): cycles named on generated object
/// graphs, the program's behaviour unchanged, child processes, sites, the limit.
#[test]
fn the_python_helper_passes_its_own_tests() {
    let out = std::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests/python"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the helper's tests failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `explain: auto`: a check whose peak memory regressed explains the benchmark that did
/// (and only it), base against head, in its JSON, markdown and terminal reports.
#[test]
fn check_explains_a_peak_memory_regression_when_the_config_says_auto() {
    let project = Project::sized(
        r#"version: 1
explain: auto
defaults: {repeat: 3, warmup: 0}
thresholds:
  wall_time: {max_increase: 500%, min_change: 10s}
  cpu_time: {max_increase: 500%, min_change: 10s}
benchmarks:
  - name: grows
    command: "{shapes} hold $(cat size.txt) 200"
  - name: steady
    command: ["{shapes}", hold, "8", "50"]
"#,
        20,
    );
    let base = crate::util::git(project.dir(), &["rev-parse", "HEAD"])
        .trim()
        .to_owned();
    project.write("size.txt", "60\n");
    project.commit("hold 40 MiB more");
    let report = project.check_json(&base, 1);
    let explained = &report["explain"];
    assert_eq!(explained["base"], base.as_str(), "{explained:#}");
    let explanations = explained["explanations"].as_array().unwrap();
    assert_eq!(
        explanations.len(),
        1,
        "only the regressed benchmark: {explained:#}"
    );
    let e = &explanations[0];
    assert_eq!(e["benchmark"], "grows");
    let process = find(&e["differences"], "topic", "process");
    assert_close(
        "the process's growth",
        bytes(&process["change"]),
        40.0 * MIB,
        0.1,
    );
    // The table on the terminal says it too.
    let out = project.memgate().args(["check", "--base", &base]).run();
    out.code(1);
    assert!(out.stdout().contains("grows: peak"), "{}", out.stdout());
}

/// A benchmark that puts a FIFO (or a link) where memgate asks the helpers to report at
/// the limit neither hangs memgate nor gets it to write through it.
#[test]
fn a_fifo_planted_at_the_limit_file_does_not_hang_the_diagnosis() {
    let project = Project::new(
        "version: 1\nbenchmarks:\n  - name: plant\n    command: [python3, plant.py]\n    memory_limit: 200MiB\n    timeout: 30s\n",
    );
    project.write(
        "plant.py",
        "import os, time\nos.mkfifo(os.path.join(os.environ['MEMGATE_DIAG_DIR'], 'limit'))\nblocks = [bytearray(10 << 20) for _ in range(17)]\ntime.sleep(0.5)\n",
    );
    let (out, ended) = project
        .memgate()
        .args(["explain", "--format", "json", "-q"])
        .spawn()
        .finish(std::time::Duration::from_secs(25));
    assert!(ended, "memgate hung on the FIFO");
    out.code(0);
    let x = out.json();
    let head = &of(&x, "plant")["head"];
    assert!(head["limit_reached_at"].is_number(), "{head:#}");
}
