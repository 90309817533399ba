//! Snapshots of every rendering of one fixed report holding each kind of verdict.

use std::collections::BTreeMap;

use crate::compare::{Report, Rev, ThresholdSpec, Thresholds, compare, overall};
use crate::results::{BenchmarkResult, Better, Failure, Metric, RunResults, Status};
use crate::testing::{self, metric};

const MIB: f64 = 1_048_576.0;

fn bench(name: &str, dataset: Option<&str>, metrics: Vec<(&str, Metric)>) -> BenchmarkResult {
    BenchmarkResult {
        benchmark: name.into(),
        dataset: dataset.map(str::to_owned),
        group: None,
        status: Status::Ok,
        command: "true".into(),
        metrics: metrics
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<BTreeMap<_, _>>(),
        runs: vec![],
        lower_bound_runs: 0,
        failure: None,
    }
}

fn results(benchmarks: Vec<BenchmarkResult>) -> RunResults {
    RunResults {
        memgate_version: "0.1.0".into(),
        testbed: testing::testbed(),
        benchmarks,
    }
}

fn scaled(values: &[f64], by: f64) -> Vec<f64> {
    values.iter().map(|v| v * by).collect()
}

pub fn fixture() -> Report {
    let mem = [100.0, 100.1, 99.9, 100.05, 99.95].map(|v| v * MIB);
    let time = [1.00, 1.02, 0.98, 1.01, 0.99];
    let noisy = [1.00, 1.40, 0.90, 1.35, 0.95];
    let base = results(vec![
        bench(
            "automl",
            Some("taxi"),
            vec![
                ("peak_memory", metric("bytes", &mem, Better::Lower)),
                ("wall_time", metric("seconds", &time, Better::Lower)),
                (
                    "score",
                    metric("", &[0.90, 0.901, 0.899, 0.9, 0.9], Better::Higher),
                ),
            ],
        ),
        bench(
            "parse",
            None,
            vec![
                ("peak_memory", metric("bytes", &mem, Better::Lower)),
                ("wall_time", metric("seconds", &noisy, Better::Lower)),
            ],
        ),
        bench(
            "export",
            None,
            vec![("peak_memory", metric("bytes", &mem, Better::Lower))],
        ),
    ]);
    let mut crashed = bench("export", None, vec![]);
    crashed.status = Status::Failed;
    crashed.failure = Some(Failure {
        phase: "run".into(),
        attempt: 2,
        message: "run 2 exited with code 1 | <script>alert(1)</script>".into(),
        exit_code: Some(1),
        signal: None,
        after: Default::default(),
        peak_memory: Default::default(),
        stderr_tail: vec![],
    });
    let head = results(vec![
        bench(
            "automl",
            Some("taxi"),
            vec![
                (
                    "peak_memory",
                    metric("bytes", &scaled(&mem, 1.30), Better::Lower),
                ),
                (
                    "wall_time",
                    metric("seconds", &scaled(&time, 0.80), Better::Lower),
                ),
                (
                    "score",
                    metric("", &[0.90, 0.901, 0.899, 0.9, 0.9], Better::Higher),
                ),
            ],
        ),
        bench(
            "parse",
            None,
            vec![
                ("peak_memory", metric("bytes", &mem, Better::Lower)),
                (
                    "wall_time",
                    metric("seconds", &[1.30, 1.00, 1.45, 0.95, 1.40], Better::Lower),
                ),
            ],
        ),
        crashed,
        bench(
            "new-one",
            None,
            vec![("peak_memory", metric("bytes", &mem, Better::Lower))],
        ),
    ]);
    let thresholds = Thresholds {
        per_metric: [
            (
                "peak_memory".to_string(),
                ThresholdSpec {
                    max_increase: Some(0.05),
                    min_change: Some(MIB),
                    alpha: Some(0.05),
                    ..Default::default()
                },
            ),
            (
                "wall_time".to_string(),
                ThresholdSpec {
                    max_increase: Some(0.10),
                    min_change: Some(0.02),
                    alpha: Some(0.01),
                    ..Default::default()
                },
            ),
        ]
        .into(),
        default: ThresholdSpec {
            max_increase: Some(0.05),
            max_decrease: Some(0.05),
            alpha: Some(0.05),
            ..Default::default()
        },
    };
    let comparisons = compare(Some(&base), &head, |_| &thresholds);
    Report {
        verdict: overall(&comparisons),
        base: Rev {
            rev: "a".repeat(40),
            note: Some("no results for 1234567890ab; used this one, 2 commits earlier".into()),
        },
        head: Rev {
            rev: "b".repeat(40),
            note: None,
        },
        testbed: "ci-large".into(),
        comparisons,
        timelines: vec![],
        explain: None,
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn table() {
    let plain = anstream::adapter::strip_str(&text(super::table::render(&fixture()))).to_string();
    insta::assert_snapshot!(plain);
}

#[test]
fn table_colors_the_verdicts() {
    let colored = text(super::table::render(&fixture()));
    assert!(
        colored.contains("\u{1b}[1m\u{1b}[31mregression\u{1b}[0m"),
        "{colored:?}"
    );
    assert!(colored.contains("\u{1b}[32mimprovement\u{1b}[0m"));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(text(super::markdown::render(&fixture())));
}

#[test]
fn junit() {
    let xml = text(super::junit::render(&fixture()));
    assert_eq!(testing::xml_error(&xml), None, "{xml}");
    insta::assert_snapshot!(xml);
}

#[test]
fn json_contract() {
    let json: serde_json::Value = serde_json::from_slice(&super::json(&fixture())).unwrap();
    assert_eq!(json["verdict"], "regression");
    assert_eq!(json["base"]["rev"], "a".repeat(40));
    let first = &json["comparisons"][0];
    for key in [
        "benchmark",
        "dataset",
        "metric",
        "unit",
        "base",
        "head",
        "change",
        "p_value",
        "verdict",
    ] {
        assert!(!first[key].is_null(), "{key}");
    }
    assert_eq!(first["benchmark"], "automl");
    assert_eq!(first["metric"], "peak_memory");
    assert!((first["change"].as_f64().unwrap() - 0.30).abs() < 1e-9);
    assert_eq!(first["verdict"], "regression");
    assert_eq!(first["base"]["samples"].as_array().unwrap().len(), 5);
}

#[test]
fn hostile_text_is_inert_in_every_rendering() {
    // Issue 8: text from a benchmark (here a failure's message, which quotes its command)
    // broke the markdown report, the job summary and the pull-request comment.
    let mut report = fixture();
    let hostile = "x\n::error::y </details> <img src=x onerror=alert(1)> ![i](http://e/p.png) [l](http://e) @org/team `c` \u{1b}[2J \u{0}";
    let mut failures = report
        .comparisons
        .iter_mut()
        .filter(|c| c.verdict == crate::compare::Verdict::Failure);
    failures.next().expect("the fixture has a failure").note = Some(hostile.into());
    assert!(failures.next().is_none());
    let markdown = text(super::markdown::render(&report));
    // The note is there, made inert.
    assert!(markdown.contains("onerror=alert(1)"), "{markdown}");
    assert_eq!(markdown.matches("</details>").count(), 1, "{markdown}");
    for raw in [
        "<img",
        "[l](",
        "![i](",
        "@org",
        "`c`",
        "\u{1b}",
        "\u{0}",
        "\n::error",
    ] {
        assert!(!markdown.contains(raw), "{raw:?} in\n{markdown}");
    }
    let table = text(super::table::render(&report));
    for raw in ["\u{1b}[2J", "\u{0}", "\n::error"] {
        assert!(!table.contains(raw), "{raw:?} in\n{table}");
    }
    let xml = text(super::junit::render(&report));
    assert!(xml.contains("onerror=alert(1)"), "{xml}");
    for raw in ["<img", "\u{1b}", "\u{0}", "\n::error"] {
        assert!(!xml.contains(raw), "{raw:?} in\n{xml}");
    }
    assert_eq!(testing::xml_error(&xml), None, "{xml}");
}
