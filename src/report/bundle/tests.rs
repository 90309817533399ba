use super::*;
use crate::compare::{Rev, Thresholds, compare, overall};
use crate::measure::quality::PeakQuality;
use crate::measure::timeline::Timeline;
use crate::measure::units::{Bytes, Seconds};
use crate::results::{Better, Failure, Metric, RunRecord};
use crate::store::STORED_TIMELINE_POINTS;

const MIB: f64 = 1_048_576.0;

/// A run that climbs in a sawtooth to `top` bytes over `seconds`, as stored: thinned to
/// the points a stored record keeps.
fn run(top: f64, seconds: f64) -> RunRecord {
    let mut timeline = Timeline::default();
    for i in 0..1000 {
        let t = seconds * i as f64 / 999.0;
        let m = top * (0.3 + 0.7 * i as f64 / 1000.0) * (0.7 + 0.3 * ((i % 40) as f64 / 40.0));
        timeline.push(Seconds(t), Bytes(m as u64));
    }
    let mut run = crate::testing::run(&[], seconds);
    run.peak_memory = Bytes(top as u64);
    run.max_rss = Bytes(top as u64);
    run.peak_quality = Some(PeakQuality::Exact);
    run.timeline = timeline.thinned(STORED_TIMELINE_POINTS);
    run
}

fn benchmark(name: &str, dataset: Option<&str>, top: f64, runs: usize) -> BenchmarkResult {
    let runs: Vec<RunRecord> = (0..runs)
        .map(|i| run(top * (1.0 + 0.01 * i as f64), 2.0 + 0.1 * i as f64))
        .collect();
    let mut metrics = BTreeMap::new();
    let metric = |unit: &str, samples: Vec<f64>| Metric {
        unit: unit.into(),
        samples,
        better: Better::Lower,
    };
    metrics.insert(
        PEAK_MEMORY.to_owned(),
        metric(
            "bytes",
            runs.iter().map(|r| r.peak_memory.as_f64()).collect(),
        ),
    );
    metrics.insert(
        "wall_time".to_owned(),
        metric("seconds", runs.iter().map(|r| r.wall_time.0).collect()),
    );
    BenchmarkResult {
        benchmark: name.into(),
        dataset: dataset.map(str::to_owned),
        group: None,
        status: Status::Ok,
        command: "c".into(),
        metrics,
        runs,
        lower_bound_runs: 0,
        failure: None,
    }
}

fn results(benchmarks: Vec<BenchmarkResult>) -> RunResults {
    RunResults {
        memgate_version: "0.1.0".into(),
        testbed: crate::testing::testbed(),
        benchmarks,
    }
}

fn comparison(base: &RunResults, head: &RunResults) -> Report {
    let thresholds = Thresholds::default();
    let comparisons = compare(Some(base), head, |_| &thresholds);
    Report {
        verdict: overall(&comparisons),
        base: Rev {
            rev: "a".repeat(40),
            note: None,
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

fn input<'a>(
    report: Option<&'a Report>,
    base: Option<&'a RunResults>,
    head: &'a RunResults,
) -> Input<'a> {
    Input {
        testbed: "ci-large",
        report,
        base: base.map(|results| Sided {
            rev: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            note: None,
            results,
        }),
        head: Sided {
            rev: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            note: Some("the working tree"),
            results: head,
        },
        history: Vec::new(),
        limits: BTreeMap::new(),
    }
}

fn page(files: &[File]) -> String {
    assert_eq!(files[0].name, INDEX);
    String::from_utf8(files[0].bytes.clone()).unwrap()
}

#[test]
fn fifty_benchmarks_compared_stay_under_two_megabytes() {
    // Twenty runs a side, each timeline as long as a stored one.
    let base = results(
        (0..50)
            .map(|i| benchmark(&format!("bench-{i}"), Some("data"), 400.0 * MIB, 20))
            .collect(),
    );
    let head = results(
        (0..50)
            .map(|i| benchmark(&format!("bench-{i}"), Some("data"), 520.0 * MIB, 20))
            .collect(),
    );
    let report = comparison(&base, &head);
    let files = build(&input(Some(&report), Some(&base), &head)).unwrap();
    let html = page(&files);
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert!(html.contains("(median of 20 runs; 9 others faint)"));
    if std::env::var_os("MEMGATE_SHOW_SIZES").is_some() {
        eprintln!(
            "50 benchmarks compared, 20 runs a side: index.html {} bytes",
            html.len()
        );
    }
    // Every benchmark has its timeline and distribution, inline and beside the page.
    assert_eq!(html.matches("<svg ").count(), 100);
    assert_eq!(files.len(), 1 + 50 * 2 * 2);
    assert!(html.contains("bench-49[data]"));
    assert!(html.contains("regression"));
}

#[test]
fn the_page_asks_for_nothing_from_anywhere() {
    let base = results(vec![benchmark("a", None, 100.0 * MIB, 3)]);
    let head = results(vec![benchmark("a", None, 150.0 * MIB, 3)]);
    let report = comparison(&base, &head);
    for files in [
        build(&input(Some(&report), Some(&base), &head)).unwrap(),
        build(&input(None, None, &head)).unwrap(),
    ] {
        let html = page(&files).to_lowercase();
        for bad in [
            "http://", "https://", "<script", "<link", "src=", "url(", "@import",
        ] {
            assert!(!html.contains(bad), "{bad} in the page");
        }
        assert!(html.contains("<style>") && html.contains("prefers-color-scheme: dark"));
        assert!(html.contains("<meta name=\"viewport\""));
    }
}

#[test]
fn text_from_benchmarks_is_escaped_everywhere() {
    let hostile = "<img src=x onerror=alert(1)>&\"'\u{1b}[31m";
    let mut b = benchmark(hostile, Some("<b>"), 100.0 * MIB, 3);
    b.metrics.insert(
        "<script>".into(),
        Metric {
            unit: "</svg><script>".into(),
            samples: vec![1.0, 2.0, 3.0],
            better: Better::Lower,
        },
    );
    b.status = Status::Failed;
    b.failure = Some(Failure {
        phase: "run".into(),
        attempt: 2,
        message: "exited <1>".into(),
        exit_code: Some(1),
        signal: None,
        after: Seconds(1.0),
        peak_memory: Bytes(1),
        stderr_tail: vec!["</pre><script>alert(1)</script>".into()],
    });
    let head = results(vec![b]);
    let files = build(&input(None, None, &head)).unwrap();
    let html = page(&files);
    for raw in ["<img", "<script", "<b>", "</pre><script", "\u{1b}"] {
        assert!(!html.contains(raw), "{raw:?} unescaped in the page");
    }
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;"));
    assert!(html.contains("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Every SVG is well formed enough: one root, closed.
    for f in files.iter().filter(|f| f.name.ends_with(".svg")) {
        let svg = std::str::from_utf8(&f.bytes).unwrap();
        assert_eq!(svg.matches("<svg").count(), 1, "{}", f.name);
        assert!(svg.trim_end().ends_with("</svg>"), "{}", f.name);
        assert!(
            !svg.contains("<script") && !svg.contains("<img"),
            "{}",
            f.name
        );
    }
    // File names are memgate's own: no directory, no dot-dot, nothing hostile.
    for f in &files {
        assert!(
            f.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "{}",
            f.name
        );
        assert!(!f.name.contains(".."), "{}", f.name);
    }
}

#[test]
fn a_run_of_several_benchmarks_has_an_overview_and_one_has_none() {
    let two = results(vec![
        benchmark("cycle", Some("trips"), 260.0 * MIB, 3),
        benchmark("weakref", Some("trips"), 140.0 * MIB, 3),
    ]);
    let files = build(&input(None, None, &two)).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"00-every-benchmark-timeline.svg"),
        "{names:?}"
    );
    assert!(
        names.contains(&"00-every-benchmark-timeline.png"),
        "{names:?}"
    );
    assert!(names.contains(&"01-cycle_trips_-timeline.png"), "{names:?}");
    let overview = files
        .iter()
        .find(|f| f.name == "00-every-benchmark-timeline.svg")
        .unwrap();
    let overview = std::str::from_utf8(&overview.bytes).unwrap();
    assert!(
        overview.contains("cycle[trips] (peak 263 MiB)"),
        "{overview}"
    );
    assert!(
        overview.contains("weakref[trips] (peak 141 MiB)"),
        "{overview}"
    );
    let one = results(vec![benchmark("cycle", None, 260.0 * MIB, 3)]);
    let files = build(&input(None, None, &one)).unwrap();
    assert!(!files.iter().any(|f| f.name.starts_with("00-")));
}

#[test]
fn a_run_page_says_how_far_apart_a_groups_members_are() {
    let grouped = |name: &str, top: f64| {
        let mut b = benchmark(name, Some("trips"), top, 3);
        b.group = Some("pipeline".into());
        b
    };
    let run = results(vec![
        grouped("cycle", 260.0 * MIB),
        grouped("weakref", 140.0 * MIB),
    ]);
    let html = page(&build(&input(None, None, &run)).unwrap());
    assert!(
        html.contains(
            "<ul class=\"groups\">\n<li>cycle[trips] uses 1.86× the memory of weakref[trips]</li>\n</ul>"
        ),
        "{html}"
    );
    // A comparison's page is about base against head: no group sentences there.
    let report = comparison(&run, &run);
    let html = page(&build(&input(Some(&report), Some(&run), &run)).unwrap());
    assert!(!html.contains("class=\"groups\""), "{html}");
}

#[test]
fn a_killed_run_and_a_limit_are_drawn() {
    let mut b = benchmark("big", None, 700.0 * MIB, 2);
    b.status = Status::MemoryLimit;
    b.failure = Some(Failure {
        phase: "run".into(),
        attempt: 3,
        message: "went over the memory limit of 1.00 GiB".into(),
        exit_code: None,
        signal: Some(9),
        after: Seconds(1.5),
        peak_memory: Bytes(1 << 30),
        stderr_tail: vec!["MemoryError".into()],
    });
    let head = results(vec![b]);
    let mut input = input(None, None, &head);
    input.limits.insert("big".into(), (1u64 << 30) as f64);
    let files = build(&input).unwrap();
    let timeline = files
        .iter()
        .find(|f| f.name == "01-big-timeline.svg")
        .unwrap();
    let svg = std::str::from_utf8(&timeline.bytes).unwrap();
    assert!(svg.contains("killed: memory limit"), "{svg}");
    assert!(svg.contains("memory limit 1.00 GiB"), "{svg}");
    let html = page(&files);
    assert!(html.contains("went over the memory limit of 1.00 GiB (memory_limit)"));
    assert!(html.contains("MemoryError"));
}

#[test]
fn the_history_marks_base_and_head_and_dirty_revisions() {
    let stored: Vec<RunResults> = (0..4)
        .map(|i| {
            results(vec![benchmark(
                "a",
                None,
                (100.0 + 50.0 * i as f64) * MIB,
                3,
            )])
        })
        .collect();
    let head = &stored[3];
    let revs = ["1111111", "2222222", "3333333", "4444444"];
    let mut input = input(None, None, head);
    input.history = stored
        .iter()
        .zip(revs)
        .enumerate()
        .map(|(i, (results, rev))| Revision {
            rev,
            dirty: i == 2,
            role: (i == 3).then_some(Side::Head),
            results,
        })
        .collect();
    let files = build(&input).unwrap();
    let history = files.iter().find(|f| f.name == "01-a-history.svg").unwrap();
    let svg = std::str::from_utf8(&history.bytes).unwrap();
    assert!(svg.contains("peak_memory across revisions"), "{svg}");
    assert!(svg.contains(">\nhead\n<"), "{svg}");
    assert!(
        svg.contains("dirty: measured with uncommitted changes"),
        "{svg}"
    );
    for rev in revs {
        assert!(svg.contains(rev), "{rev} in {svg}");
    }
}

#[test]
fn every_regressed_metric_has_a_history_of_its_own_file() {
    let stored: Vec<RunResults> = (0..3)
        .map(|i| {
            let mut b = benchmark("a", None, (100.0 + 60.0 * i as f64) * MIB, 5);
            let slow = b.metrics.get_mut("wall_time").unwrap();
            slow.samples = slow.samples.iter().map(|s| s * (1.0 + i as f64)).collect();
            results(vec![b])
        })
        .collect();
    let report = comparison(&stored[1], &stored[2]);
    assert!(
        report
            .comparisons
            .iter()
            .filter(|c| c.verdict == Verdict::Regression)
            .count()
            >= 2
    );
    let mut input = input(Some(&report), Some(&stored[1]), &stored[2]);
    input.history = stored
        .iter()
        .zip(["1111111", "2222222", "3333333"])
        .map(|(results, rev)| Revision {
            rev,
            dirty: false,
            role: None,
            results,
        })
        .collect();
    let files = build(&input).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"01-a-history.svg"), "{names:?}");
    assert!(names.contains(&"01-a-history-1-wall_time.svg"), "{names:?}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}

#[test]
fn a_benchmark_with_a_hundred_metrics_gets_a_chart_of_eight() {
    let mut b = benchmark("many", None, 100.0 * MIB, 3);
    for i in 0..120 {
        b.metrics.insert(
            format!("m{i:03}"),
            Metric {
                unit: "".into(),
                samples: vec![1.0, 2.0, 3.0],
                better: Better::Lower,
            },
        );
    }
    let head = results(vec![b]);
    let files = build(&input(None, None, &head)).unwrap();
    let chart = files
        .iter()
        .find(|f| f.name == "01-many-distribution.svg")
        .unwrap();
    let svg = std::str::from_utf8(&chart.bytes).unwrap();
    assert!(
        svg.starts_with("<svg width=\"960\" height=\"932\""),
        "{}",
        &svg[..80]
    );
    assert!(svg.contains("every run (8 of 122 metrics)"), "{svg}");
    // memgate's own metrics come first.
    assert!(
        svg.contains("peak_memory") && svg.contains("wall_time"),
        "{svg}"
    );
}

#[test]
fn a_regression_is_never_the_metric_a_full_distribution_leaves_out() {
    let base = results(vec![benchmark("a", None, 100.0 * MIB, 5)]);
    let head = results(vec![benchmark("a", None, 200.0 * MIB, 5)]);
    let report = comparison(&base, &head);
    let template = report
        .comparisons
        .iter()
        .find(|c| c.verdict == Verdict::Regression)
        .unwrap();
    // Twelve inconclusive metrics named before the regressed one.
    let mut all: Vec<Comparison> = (0..12)
        .map(|i| {
            let mut c = template.clone();
            c.metric = format!("a{i:02}");
            c.verdict = Verdict::Inconclusive;
            c
        })
        .collect();
    let mut regressed = template.clone();
    regressed.metric = "zz_latency".into();
    all.push(regressed);
    let mine: Vec<&Comparison> = all.iter().collect();
    let chart = data::comparison_distribution("a", &mine, &all).unwrap();
    assert_eq!(chart.panels.len(), 8);
    assert_eq!(chart.panels[0].metric, "zz_latency");
    assert!(
        chart.title.ends_with("(8 of 13 metrics)"),
        "{}",
        chart.title
    );
}
