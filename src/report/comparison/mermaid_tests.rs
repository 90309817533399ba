//! The markdown report's charts of memory over time: what they show, what they may hold,
//! and how many there are. Every Mermaid block these tests make is also written to
//! `target/mermaid-blocks/`, where `scripts/check-mermaid` has Mermaid itself parse and
//! draw it (CI runs it after the tests).

use std::collections::BTreeMap;

use super::markdown::{MAX_CHARTS, render, render_with_timelines};
use super::mermaid::{INSTANTS, number};
use super::tests::fixture;
use crate::compare::{Comparison, Report, Verdict};
use crate::results::{BenchmarkResult, RunRecord, RunResults, Status};
use crate::testing::{self, run};

const MIB: u64 = 1024 * 1024;

/// A run that climbs to `peak` over `seconds` and falls back at the end.
fn climb(peak: u64, seconds: f64) -> RunRecord {
    let points: Vec<(f64, u64)> = (0..=100)
        .map(|i| {
            let t = seconds * i as f64 / 100.0;
            let bytes = if i == 100 { peak / 10 } else { peak * i / 99 };
            (t, bytes.min(peak))
        })
        .collect();
    run(&points, seconds)
}

fn results(benchmarks: Vec<(&str, Option<&str>, Vec<RunRecord>)>) -> RunResults {
    RunResults {
        memgate_version: "0.1.0".into(),
        testbed: testing::testbed(),
        benchmarks: benchmarks
            .into_iter()
            .map(|(name, dataset, runs)| BenchmarkResult {
                benchmark: name.into(),
                dataset: dataset.map(str::to_owned),
                group: None,
                status: Status::Ok,
                command: "true".into(),
                metrics: BTreeMap::new(),
                runs,
                lower_bound_runs: 0,
                failure: None,
            })
            .collect(),
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// The Mermaid blocks of `markdown`, without their fences.
fn blocks(markdown: &str) -> Vec<&str> {
    markdown
        .split("```mermaid\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default())
        .collect()
}

/// Writes `markdown`'s Mermaid blocks as `target/mermaid-blocks/NAME-I.mmd` for
/// `scripts/check-mermaid`.
fn keep(name: &str, markdown: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mermaid-blocks");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, block) in blocks(markdown).into_iter().enumerate() {
        std::fs::write(dir.join(format!("{name}-{i}.mmd")), block).unwrap();
    }
}

/// Whether `text` is a number as xychart's grammar reads one:
/// `[+-]?(\d+(\.\d+)?|\.\d+)`, so no exponent, no `NaN`, no `inf`.
fn grammar_number(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    match unsigned.split_once('.') {
        None => digits(unsigned),
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && digits(frac),
    }
}

/// The lines of one block, checked against the subset of xychart-beta memgate writes;
/// returns the values of each `line`.
#[track_caller]
fn check_block(block: &str) -> Vec<Vec<f64>> {
    let lines: Vec<&str> = block.lines().collect();
    assert!(lines.len() >= 6, "{block}");
    assert!(
        lines[0].starts_with(r#"%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": ""#)
            && lines[0].ends_with(r#""}}}}%%"#),
        "{block}"
    );
    assert_eq!(lines[1], "xychart-beta");
    let title = lines[2]
        .strip_prefix("    title \"")
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("title: {block}"));
    assert!(
        !title.contains(['"', '`', '%', '#', ';', '<', '>']),
        "{title}"
    );
    for (line, axis) in [(lines[3], "x-axis"), (lines[4], "y-axis")] {
        let rest = line
            .strip_prefix(&format!("    {axis} \""))
            .unwrap_or_else(|| panic!("{axis}: {block}"));
        let (name, range) = rest.split_once("\" ").expect(axis);
        assert!(!name.contains('"'), "{name}");
        let (low, high) = range.split_once(" --> ").expect(axis);
        assert_eq!(low, "0");
        assert!(grammar_number(high), "{axis} top {high:?}");
        assert!(high.parse::<f64>().unwrap() > 0.0, "{axis} top {high}");
    }
    let values: Vec<Vec<f64>> = lines[5..]
        .iter()
        .map(|line| {
            let list = line
                .strip_prefix("    line [")
                .and_then(|l| l.strip_suffix(']'))
                .unwrap_or_else(|| panic!("line: {line:?} in {block}"));
            list.split(", ")
                .map(|n| {
                    assert!(grammar_number(n), "{n:?} in {line}");
                    n.parse().unwrap()
                })
                .collect()
        })
        .collect();
    assert!(matches!(values.len(), 1 | 2), "{block}");
    let palette = lines[0].matches('#').count();
    assert_eq!(palette, values.len(), "one colour a line: {block}");
    for line in &values {
        assert_eq!(line.len(), INSTANTS, "{block}");
    }
    values
}

/// The fixture's regressed benchmark, `automl[taxi]`, with a run on each side: head
/// climbs higher (130 MiB against 100) and runs longer (2.5 s against 2).
fn fixture_runs() -> (RunResults, RunResults) {
    let base = results(vec![
        ("automl", Some("taxi"), vec![climb(100 * MIB, 2.0)]),
        ("parse", None, vec![climb(50 * MIB, 1.0)]),
    ]);
    let head = results(vec![
        ("automl", Some("taxi"), vec![climb(130 * MIB, 2.5)]),
        ("parse", None, vec![climb(50 * MIB, 1.0)]),
    ]);
    (base, head)
}

#[test]
fn a_regression_gets_its_chart() {
    let (base, head) = fixture_runs();
    let markdown = text(render_with_timelines(&fixture(), Some(&base), Some(&head)));
    keep("fixture", &markdown);
    // One chart: automl[taxi] regressed (in peak_memory); parse only went inconclusive.
    let found = blocks(&markdown);
    assert_eq!(found.len(), 1, "{markdown}");
    assert!(markdown.contains("<details><summary>memory over time: automl[taxi]</summary>"));
    let lines = check_block(found[0]);
    let (b, h) = (&lines[0], &lines[1]);
    // Head ran to the end of the grid; base ended at 2 of 2.5 s, and is 0 after.
    assert_eq!(*b.last().unwrap(), 0.0);
    assert!(*h.last().unwrap() > 0.0);
    // The peaks survive the resampling.
    assert_eq!(b.iter().copied().fold(0.0, f64::max), 100.0);
    assert_eq!(h.iter().copied().fold(0.0, f64::max), 130.0);
    // Without timelines, the report is what it was.
    assert_eq!(
        text(render(&fixture())),
        text(render_with_timelines(&fixture(), None, None))
    );
    insta::assert_snapshot!(markdown);
}

#[test]
fn a_chart_per_benchmark_however_many_metrics_regressed() {
    let mut report = fixture();
    // wall_time of automl[taxi] regresses too.
    for c in report.comparisons.iter_mut() {
        if c.label() == "automl[taxi]" {
            c.verdict = Verdict::Regression;
        }
    }
    let (base, head) = fixture_runs();
    let markdown = text(render_with_timelines(&report, Some(&base), Some(&head)));
    assert_eq!(blocks(&markdown).len(), 1, "{markdown}");
}

#[test]
fn hostile_names_cannot_leave_their_fold() {
    let hostile = "evil```\n</details></summary>\"'`<img src=x onerror=alert(1)>@org\n```\n%%{init: {\"theme\": \"dark\"}}%%\r\n# title\u{0}";
    let mut report = fixture();
    for c in report.comparisons.iter_mut() {
        if c.benchmark == "automl" {
            c.benchmark = hostile.into();
            c.dataset = Some(format!("{hostile}\"]"));
        }
    }
    let dataset = format!("{hostile}\"]");
    let base = results(vec![(
        hostile,
        Some(dataset.as_str()),
        vec![climb(100 * MIB, 2.0)],
    )]);
    let head = results(vec![(
        hostile,
        Some(dataset.as_str()),
        vec![climb(130 * MIB, 2.5)],
    )]);
    let markdown = text(render_with_timelines(&report, Some(&base), Some(&head)));
    keep("hostile", &markdown);
    // The one block opens and closes as memgate wrote it; the name is in neither.
    assert_eq!(markdown.matches("```").count(), 2, "{markdown}");
    let found = blocks(&markdown);
    assert_eq!(found.len(), 1, "{markdown}");
    assert!(!found[0].contains("evil"), "{}", found[0]);
    check_block(found[0]);
    // The fold's summary holds the name as text: one fold ends where memgate ends it.
    assert_eq!(markdown.matches("<details>").count(), 2, "{markdown}");
    assert_eq!(markdown.matches("</details>").count(), 2, "{markdown}");
    assert_eq!(markdown.matches("</summary>").count(), 2, "{markdown}");
    // The only directive at a line's start is memgate's own, in the block.
    assert_eq!(markdown.matches("\n%%{").count(), 1, "{markdown}");
    for raw in ["<img", "@org", "\r", "\u{0}", "\n# title", "'`"] {
        assert!(!markdown.contains(raw), "{raw:?} in\n{markdown}");
    }
    let summary = markdown
        .lines()
        .find(|l| l.starts_with("<details><summary>memory over time: "))
        .unwrap();
    assert!(
        summary.contains("evil&#96;&#96;&#96; &lt;/details&gt;"),
        "{summary}"
    );
}

#[test]
fn numbers_never_take_an_exponent() {
    for (value, decimals, want) in [
        (1e-12, 2, "0"),
        (-1e-12, 2, "0"),
        (1e21, 0, "1000000000000000"),
        (f64::NAN, 2, "0"),
        (f64::INFINITY, 2, "0"),
        (12.50, 2, "12.5"),
        (130.0, 1, "130"),
        (0.125, 3, "0.125"),
    ] {
        assert_eq!(number(value, decimals), want, "{value}");
        assert!(grammar_number(&number(value, decimals)));
    }
    // Runs at the edges: a tiny one over microseconds, a huge one that claims to run
    // for 1e300 s, and a damaged one.
    let tiny = run(&[(0.0, 1), (1e-9, 3), (2e-6, 2)], 2e-6);
    let huge = run(&[(0.0, u64::MAX / 2), (1.0, u64::MAX)], 1e300);
    let damaged = run(&[(f64::NAN, 5), (-3.0, 9), (f64::INFINITY, 7)], f64::NAN);
    let mut report = fixture();
    let labels = ["tiny", "huge", "damaged"];
    let regression = report.comparisons[0].clone();
    report.comparisons = labels
        .iter()
        .map(|name| Comparison {
            benchmark: (*name).into(),
            dataset: None,
            ..regression.clone()
        })
        .collect();
    let base = results(vec![
        ("tiny", None, vec![tiny.clone()]),
        ("huge", None, vec![huge.clone()]),
        ("damaged", None, vec![damaged.clone()]),
    ]);
    let head = results(vec![
        ("tiny", None, vec![huge]),
        ("huge", None, vec![tiny]),
        ("damaged", None, vec![damaged]),
    ]);
    let markdown = text(render_with_timelines(&report, Some(&base), Some(&head)));
    keep("extremes", &markdown);
    let found = blocks(&markdown);
    assert_eq!(found.len(), 3, "{markdown}");
    for block in found {
        // Every number of the axes and lines, checked against the grammar.
        check_block(block);
    }
}

#[test]
fn both_lines_have_a_value_at_every_instant() {
    // A short base (sampled 3 times) and a long head (sampled 1000 times).
    let base = results(vec![(
        "automl",
        Some("taxi"),
        vec![run(&[(0.0, MIB), (0.1, 2 * MIB), (0.2, MIB)], 0.2)],
    )]);
    let long: Vec<(f64, u64)> = (0..1000)
        .map(|i| (i as f64 * 0.01, (i % 7) * MIB))
        .collect();
    let head = results(vec![("automl", Some("taxi"), vec![run(&long, 10.0)])]);
    let markdown = text(render_with_timelines(&fixture(), Some(&base), Some(&head)));
    keep("lengths", &markdown);
    let found = blocks(&markdown);
    let lines = check_block(found[0]);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].len(), lines[1].len());
    // Over 10 s in seconds; the short base is gone after its 0.2 s.
    assert!(
        found[0].contains("x-axis \"time (s)\" 0 --> 10\n"),
        "{}",
        found[0]
    );
    assert!(lines[0][2..].iter().all(|v| *v == 0.0), "{:?}", lines[0]);
    // A run under a second is drawn in milliseconds.
    let markdown = text(render_with_timelines(&fixture(), Some(&base), Some(&base)));
    assert!(
        markdown.contains("x-axis \"time (ms)\" 0 --> 200\n"),
        "{markdown}"
    );
}

/// `count` regressed benchmarks (`bench-0`, ...), each with a run on both sides.
fn regressions(count: usize) -> (Report, RunResults, RunResults) {
    let mut report = fixture();
    let regression = report.comparisons[0].clone();
    assert_eq!(regression.verdict, Verdict::Regression);
    let names: Vec<String> = (0..count).map(|i| format!("bench-{i}")).collect();
    report.comparisons = names
        .iter()
        .map(|name| Comparison {
            benchmark: name.clone(),
            dataset: None,
            ..regression.clone()
        })
        .collect();
    let side = |peak: u64| {
        results(
            names
                .iter()
                .map(|n| (n.as_str(), None, vec![climb(peak, 3.0)]))
                .collect(),
        )
    };
    (report, side(100 * MIB), side(130 * MIB))
}

#[test]
fn at_most_ten_charts() {
    let (report, base, head) = regressions(MAX_CHARTS);
    let markdown = text(render_with_timelines(&report, Some(&base), Some(&head)));
    assert_eq!(blocks(&markdown).len(), MAX_CHARTS);
    assert!(!markdown.contains("left out"), "{markdown}");

    let (report, base, head) = regressions(MAX_CHARTS + 3);
    let markdown = text(render_with_timelines(&report, Some(&base), Some(&head)));
    assert_eq!(blocks(&markdown).len(), MAX_CHARTS);
    // The first ten, in the report's order.
    assert!(markdown.contains("memory over time: bench-9<"));
    assert!(!markdown.contains("memory over time: bench-10<"));
    assert!(
        markdown
            .contains("3 more charts of memory over time left out: a report shows at most 10.\n"),
        "{markdown}"
    );
}

#[test]
fn charts_never_push_the_report_past_a_comment() {
    let limit = crate::github::comment::COMMENT_LIMIT;
    let (mut report, base, head) = regressions(MAX_CHARTS);
    // Passing comparisons enough to fill most of a comment with the table of them all.
    let pass = Comparison {
        verdict: Verdict::Pass,
        ..report.comparisons[0].clone()
    };
    let without = |report: &Report| text(render(report)).len();
    let mut i = 0;
    while without(&report) < limit - 4000 {
        for _ in 0..5 {
            report.comparisons.push(Comparison {
                benchmark: format!("passing-{i}"),
                ..pass.clone()
            });
            i += 1;
        }
    }
    let markdown = text(render_with_timelines(&report, Some(&base), Some(&head)));
    assert!(markdown.len() <= limit, "{}", markdown.len());
    let shown = blocks(&markdown).len();
    assert!((1..MAX_CHARTS).contains(&shown), "{shown}");
    let sentence = format!(
        "{} charts of memory over time left out: with them, the report would pass the 65,536 characters of a pull-request comment.\n",
        MAX_CHARTS - shown
    );
    assert!(markdown.contains(&sentence), "{markdown}");
    // Every fold that was opened is closed: no chart is cut.
    assert_eq!(markdown.matches("```").count(), 2 * shown);
    assert_eq!(
        markdown.matches("<details>").count(),
        markdown.matches("</details>").count()
    );

    // A report that is too long already gets no chart, and says so.
    while without(&report) < limit {
        report.comparisons.push(Comparison {
            benchmark: format!("passing-{i}"),
            ..pass.clone()
        });
        i += 1;
    }
    let markdown = text(render_with_timelines(&report, Some(&base), Some(&head)));
    assert!(blocks(&markdown).is_empty());
    assert!(markdown.contains("10 charts of memory over time left out: with them"));
}

#[test]
fn a_side_without_a_timeline() {
    let (base, head) = fixture_runs();
    let no_runs = results(vec![("automl", Some("taxi"), vec![])]);
    let empty = results(vec![("automl", Some("taxi"), vec![run(&[], 1.0)])]);
    // Head alone: one orange line, and the title says base has none.
    for missing in [None, Some(&no_runs), Some(&empty)] {
        let markdown = text(render_with_timelines(&fixture(), missing, Some(&head)));
        let found = blocks(&markdown);
        assert_eq!(found.len(), 1, "{markdown}");
        assert_eq!(check_block(found[0]).len(), 1);
        assert!(found[0].contains(r##""plotColorPalette": "#E69F00""##));
        assert!(found[0].contains("head 130 MiB (orange), base has no timeline"));
        keep("head-alone", &markdown);
    }
    // Base alone.
    let markdown = text(render_with_timelines(&fixture(), Some(&base), Some(&empty)));
    let found = blocks(&markdown);
    assert_eq!(check_block(found[0]).len(), 1);
    assert!(found[0].contains(r##""plotColorPalette": "#0072B2""##));
    assert!(found[0].contains("base 100 MiB (blue), head has no timeline"));
    keep("base-alone", &markdown);
    // Neither: no fold, no sentence, the report as it was.
    for (b, h) in [
        (Some(&no_runs), Some(&empty)),
        (Some(&empty), None),
        (None, None),
    ] {
        let markdown = text(render_with_timelines(&fixture(), b, h));
        assert_eq!(markdown, text(render(&fixture())));
    }
}

/// A float of any kind a damaged or hostile record may hold.
fn any_seconds() -> impl proptest::strategy::Strategy<Value = f64> {
    use proptest::prelude::*;
    prop_oneof![
        0.0..10.0f64,
        0.0..1e-6f64,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-1.0),
        Just(1e300),
    ]
}

proptest::proptest! {
    /// Any pair of runs, however damaged, makes a chart of the subset memgate writes
    /// (numbers the grammar reads, one value per instant on each line), or none.
    #[test]
    fn any_runs_make_a_well_formed_chart(
        sides in proptest::collection::vec(
            proptest::option::of((
                proptest::collection::vec((any_seconds(), proptest::prelude::any::<u64>()), 0..60),
                any_seconds(),
            )),
            2,
        ),
    ) {
        let make = |side: &Option<(Vec<(f64, u64)>, f64)>| {
            side.as_ref().map(|(points, wall)| {
                results(vec![("automl", Some("taxi"), vec![run(points, *wall)])])
            })
        };
        let (base, head) = (make(&sides[0]), make(&sides[1]));
        let markdown = text(render_with_timelines(&fixture(), base.as_ref(), head.as_ref()));
        let drawn = sides
            .iter()
            .filter(|s| s.as_ref().is_some_and(|(points, _)| !points.is_empty()))
            .count();
        let found = blocks(&markdown);
        proptest::prop_assert_eq!(found.len(), usize::from(drawn > 0));
        if let Some(block) = found.first() {
            proptest::prop_assert_eq!(check_block(block).len(), drawn);
        }
    }
}
