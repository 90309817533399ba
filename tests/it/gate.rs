//! The gate end to end: `memgate check` and `memgate compare` in real repositories.
//! Time thresholds are widened in these configs: tests never depend on durations, and
//! memory is steady enough to judge.

use crate::util::{Project, git};

const CONFIG: &str = r#"
version: 1
defaults: {repeat: 5, warmup: 1}
thresholds:
  wall_time: {max_increase: 500%, min_change: 10s}
  cpu_time: {max_increase: 500%, min_change: 10s}
benchmarks:
  - name: pipeline
    command: "{shapes} hold $(cat size.txt) 30"
"#;

fn project(size: u32) -> (Project, String) {
    let project = Project::new(CONFIG);
    project.write("size.txt", &format!("{size}\n"));
    project.git_init();
    let base = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    git(project.dir(), &["checkout", "-q", "-b", "feature"]);
    (project, base)
}

fn verdicts(report: &serde_json::Value) -> Vec<(String, String)> {
    report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["metric"].as_str().unwrap().to_owned(),
                c["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn check_fails_on_30_percent_more_memory() {
    let (project, base) = project(60);
    project.write("size.txt", "78\n");
    project.commit("hold 30% more");
    let report = project.check_json(&base, 1);
    assert_eq!(report["verdict"], "regression");
    assert_eq!(report["base"]["rev"], base);
    let peak = &report["comparisons"][0];
    assert_eq!(peak["benchmark"], "pipeline");
    assert_eq!(peak["metric"], "peak_memory");
    assert_eq!(peak["verdict"], "regression");
    let change = peak["change"].as_f64().unwrap();
    assert!((0.25..0.35).contains(&change), "{change}");
    assert!(peak["p_value"].as_f64().unwrap() < 0.01);
    // The base ran in this session and was saved for the next check.
    let saved = git(project.dir(), &["notes", "--ref=memgate", "show", &base]);
    assert_eq!(saved.lines().count(), 1);
}

#[test]
fn check_passes_a_readme_change() {
    let (project, base) = project(60);
    project.write("README.md", "# Only words changed\n");
    project.commit("docs");
    let report = project.check_json(&base, 0);
    assert_eq!(report["verdict"], "pass");
    let pass = |metric: &str| (metric.to_owned(), "pass".to_owned());
    assert_eq!(
        verdicts(&report),
        ["peak_memory", "max_rss", "wall_time", "cpu_time"].map(pass),
        "{report:#}"
    );
}

#[test]
fn check_takes_the_stored_base_when_there_is_one() {
    let (project, base) = project(60);
    // Measure the base on its own first.
    git(project.dir(), &["checkout", "-q", "main"]);
    project.memgate().args(["run", "-q"]).run().code(0);
    git(project.dir(), &["checkout", "-q", "feature"]);
    project.write("size.txt", "90\n");
    let out = project.memgate().args(["check", "--base", &base]).run();
    out.code(1);
    assert!(
        out.stdout()
            .contains(&format!("base {} (stored results)", &base[..12])),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout().contains("head ")
            && out
                .stdout()
                .contains("(the working tree, with uncommitted changes)")
    );
    // Nothing ran for the base: its logs are not there.
    assert!(!project.path(".memgate/logs/@base").exists());
    // HEAD is the base commit here (the change is not committed): without --save its
    // note holds the base's record alone; with --save, the head's too, marked dirty.
    let records = || {
        git(project.dir(), &["notes", "--ref=memgate", "show", "HEAD"])
            .lines()
            .count()
    };
    assert_eq!(records(), 1);
    project
        .memgate()
        .args(["check", "--base", &base, "-q", "--save"])
        .run()
        .code(1);
    assert_eq!(records(), 2);
    let saved = git(project.dir(), &["notes", "--ref=memgate", "show", "HEAD"]);
    let record: serde_json::Value = serde_json::from_str(saved.lines().last().unwrap()).unwrap();
    assert_eq!(record["dirty"], true);
}

#[test]
fn check_reports_a_failing_benchmark_with_exit_3() {
    let (project, base) = project(60);
    project.write("size.txt", "lots\n");
    let report = project.check_json(&base, 3);
    assert_eq!(report["verdict"], "failure");
    let first = &report["comparisons"][0];
    assert_eq!(first["verdict"], "failure");
    assert!(
        first["note"]
            .as_str()
            .unwrap()
            .starts_with("failed on head: warmup 1 exited with code 2"),
        "{first:#}"
    );
}

#[test]
fn compare_uses_stored_results_and_walks_back_to_a_measured_base() {
    let (project, _) = project(60);
    git(project.dir(), &["checkout", "-q", "main"]);
    project.memgate().args(["run", "-q"]).run().code(0);
    let measured = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    project.write("notes.txt", "unmeasured\n");
    let unmeasured = project.commit("unmeasured commit on main");
    git(project.dir(), &["checkout", "-q", "-B", "feature"]);
    project.write("size.txt", "80\n");
    project.commit("grow");
    project.memgate().args(["run", "-q"]).run().code(0);
    let out = project
        .memgate()
        .args(["compare", &unmeasured, "--format", "json"])
        .run();
    out.code(1);
    let report = out.json();
    assert_eq!(report["base"]["rev"], measured);
    assert_eq!(
        report["base"]["note"],
        format!(
            "{} has no results for testbed {}; used {}, 1 commit earlier",
            &unmeasured[..12],
            report["testbed"].as_str().unwrap(),
            &measured[..12]
        )
    );
    assert_eq!(
        verdicts(&report)[0],
        ("peak_memory".to_owned(), "regression".to_owned())
    );
    // The default base is the merge-base of HEAD and main: the same commit here.
    let default = project
        .memgate()
        .args(["compare", "--format", "json"])
        .run();
    default.code(1);
    assert_eq!(default.json()["base"]["rev"], measured);
}

#[test]
fn compare_without_head_results_says_what_to_do() {
    let (project, base) = project(60);
    let out = project.memgate().args(["compare", &base]).run();
    out.code(2);
    assert!(
        out.stderr().contains("no results for ")
            && out
                .stderr()
                .contains("run `memgate run` there first, or use `memgate check`"),
        "{}",
        out.stderr()
    );
}

#[test]
fn formats_go_to_a_file_and_the_table_to_the_terminal() {
    let (project, base) = project(60);
    project.write("size.txt", "78\n");
    for (format, file, starts) in [
        ("markdown", "report.md", "### 🔴 memgate: regression"),
        (
            "junit",
            "report.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        ),
        ("json", "report.json", "{"),
    ] {
        let out = project
            .memgate()
            .args([
                "check", "--base", &base, "-q", "--format", format, "--output", file,
            ])
            .run();
        out.code(1);
        let written = project.read(file);
        assert!(written.starts_with(starts), "{format}: {written}");
        assert!(!written.contains('\u{1b}'), "no ANSI codes in {file}");
        assert!(
            out.stdout().contains("verdict: regression"),
            "{}",
            out.stdout()
        );
        assert!(!out.stdout().contains('\u{1b}'), "no ANSI codes on a pipe");
    }
    let xml = project.read("report.xml");
    assert!(xml.contains("<failure type=\"regression\""), "{xml}");
}

#[test]
fn the_table_of_a_real_check() {
    let (project, base) = project(60);
    project.write("size.txt", "78\n");
    let out = project
        .memgate()
        .args(["check", "--base", &base, "-q"])
        .run();
    out.code(1);
    insta::with_settings!({filters => vec![
        (r"auto-[0-9a-f]{12}", "[testbed]"),
        (r"\b[0-9a-f]{12}\b", "[rev]"),
        (r"[+-]?[0-9]+(\.[0-9]+)?( ?(MiB|KiB|GiB|ms|µs|s|%))", "[n]$2"),
        (r"<?0\.[0-9]{2,}", "[p]"),
        (r" +", " "),
    ]}, {
        insta::assert_snapshot!(out.stdout());
    });
}

#[test]
fn compare_without_any_base_results_fails_unless_allowed() {
    // Issue 8: with no base results at all, compare exited 0 with every comparison
    // "missing": a missing baseline let every change through.
    let (project, base) = project(60);
    project.write("size.txt", "70\n");
    project.commit("grow");
    project.memgate().args(["run", "-q"]).run().code(0);
    let out = project.memgate().args(["compare", &base]).run();
    out.code(2);
    assert!(
        out.stderr().contains(&format!(
            "memgate: error: no base figures to compare with at all, for base {}: git notes (refs/notes/memgate) holds no results of it or the 49 commits before it on testbed ",
            &base[..12]
        )) && out.stderr().contains(
            ": fetch them with `memgate notes fetch`, or use `memgate check`, which runs the base itself; or pass --allow-missing to let the change through without a baseline"
        ),
        "{}",
        out.stderr()
    );
    // The report is still shown, so the user sees what was compared.
    assert!(out.stdout().contains("missing"), "{}", out.stdout());
    let allowed = project
        .memgate()
        .args(["compare", &base, "--allow-missing", "--format", "json"])
        .run();
    allowed.code(0);
    let missing = |metric: &str| (metric.to_owned(), "missing".to_owned());
    assert_eq!(
        verdicts(&allowed.json()),
        ["peak_memory", "max_rss", "wall_time", "cpu_time"].map(missing)
    );
}

#[test]
fn log_says_where_results_may_be_and_refuses_an_unknown_metric() {
    let (project, _) = project(60);
    // A fresh clone: no notes at all.
    let out = project.memgate().args(["log"]).run();
    out.code(0);
    assert!(
        out.stderr().contains(
            "if they were pushed to a remote, fetch them with `memgate notes fetch [REMOTE]`"
        ),
        "{}",
        out.stderr()
    );
    project.memgate().args(["run", "-q"]).run().code(0);
    // Issue 8: `log -m peak_mem` printed dashes and exited 0.
    let out = project.memgate().args(["log", "-m", "peak_mem"]).run();
    out.code(2);
    assert_eq!(
        out.stderr(),
        "memgate: error: no metric \"peak_mem\" in these results (did you mean \"peak_memory\"?): the metrics are cpu_time, max_rss, peak_memory, wall_time\n"
    );
    assert_eq!(out.stdout(), "");
}

#[test]
fn a_peak_that_is_only_a_lower_bound_is_inconclusive_not_a_pass() {
    // Issue 9: a sampler starved of CPU reads a tree low; the head's figure then passes
    // whatever the tree really used. The stored head says its peaks are lower bounds (as
    // memgate writes it when the sampler kept too few looks), and compare, reading the
    // lean records, does not judge them.
    let (project, base) = project(60);
    git(project.dir(), &["checkout", "-q", "main"]);
    project.memgate().args(["run", "-q"]).run().code(0);
    git(project.dir(), &["checkout", "-q", "feature"]);
    project.write("notes.txt", "a change\n");
    project.commit("a change");
    project.memgate().args(["run", "-q"]).run().code(0);
    let note = git(project.dir(), &["notes", "--ref=memgate", "show", "HEAD"]);
    let mut record: serde_json::Value = serde_json::from_str(note.trim()).unwrap();
    record["benchmarks"][0]["lower_bound_runs"] = 5.into();
    project.write("note.json", &record.to_string());
    git(
        project.dir(),
        &[
            "notes",
            "--ref=memgate",
            "add",
            "-f",
            "-F",
            "note.json",
            "HEAD",
        ],
    );
    let out = project
        .memgate()
        .args(["compare", &base, "--format", "json"])
        .run();
    out.code(0);
    let report = out.json();
    let peak = report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "peak_memory")
        .unwrap();
    assert_eq!(peak["verdict"], "inconclusive", "{peak:#}");
    assert_eq!(peak["decided_by"], "not_exact");
    assert!(
        peak["note"]
            .as_str()
            .unwrap()
            .starts_with("not judged: the peak of 5 of 5 head runs is only a lower bound"),
        "{peak:#}"
    );
}

/// `--color`: always styles the verdicts even into a pipe; never keeps them out even when
/// the environment forces colour; the default writes none into a pipe.
#[test]
fn color_always_and_never_override_the_terminal_test() {
    let (project, base) = project(60);
    project.write("size.txt", "78\n");
    let styled = |args: &[&str], force: bool| {
        let mut memgate = project
            .memgate()
            .args(["check", "--base", &base, "-q"])
            .args(args);
        if force {
            memgate = memgate.env("CLICOLOR_FORCE", "1");
        }
        let out = memgate.run();
        out.code(1);
        out.stdout().contains('\u{1b}')
    };
    assert!(styled(&["--color", "always"], false));
    assert!(!styled(&["--color", "never"], true));
    assert!(!styled(&[], false));
}
