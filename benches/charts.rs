//! How long a chart takes: the timeline of one run of 100,000 points (what a long run
//! sampled every millisecond would give, were it kept whole) thinned for drawing and
//! drawn to SVG and to PNG, against the target of 200 ms each. Also the whole report of
//! 50 benchmarks compared, 20 runs a side: its time and the page's size (target: under
//! 2 MB).
//!
//! Run: `cargo bench --bench charts`. Prints the median and the slowest of 15 rounds;
//! exits 1 if a median misses its target.

use std::collections::BTreeMap;
use std::time::Instant;

use memgate::compare::{Report, Rev, Thresholds, compare, overall};
use memgate::measure::probe::ProbeKind;
use memgate::measure::timeline::Timeline;
use memgate::measure::units::{Bytes, Seconds};
use memgate::report::bundle::{self, Input, Sided};
use memgate::report::chart::data::{self, Named};
use memgate::report::chart::{self, Format, Side};
use memgate::results::{BenchmarkResult, Better, Metric, RunRecord, RunResults, Status, Testbed};

const ROUNDS: usize = 15;
const MIB: f64 = 1_048_576.0;

/// A run of `points` samples: a sawtooth climbing to `top` bytes over `seconds`.
fn run(points: usize, top: f64, seconds: f64) -> RunRecord {
    let mut timeline = Timeline::default();
    timeline.points = (0..points)
        .map(|i| {
            let t = seconds * i as f64 / (points - 1) as f64;
            let tooth = (i % (points / 50).max(1)) as f64 / (points / 50).max(1) as f64;
            let m = top * (0.3 + 0.7 * i as f64 / points as f64) * (0.6 + 0.4 * tooth);
            (Seconds(t), Bytes(m as u64))
        })
        .collect();
    RunRecord {
        status: Status::Ok,
        wall_time: Seconds(seconds),
        cpu_time: Seconds(seconds),
        peak_memory: Bytes(top as u64),
        max_rss: Bytes(top as u64),
        exit_code: Some(0),
        signal: None,
        sampler_cpu_time: Seconds(0.0),
        peak_quality: None,
        samples: None,
        peak_lower_bound: None,
        peak_upper_bound: None,
        timeline,
    }
}

fn benchmark(name: &str, runs: Vec<RunRecord>) -> BenchmarkResult {
    let mut metrics = BTreeMap::new();
    metrics.insert(
        "peak_memory".to_owned(),
        Metric {
            unit: "bytes".into(),
            samples: runs.iter().map(|r| r.peak_memory.as_f64()).collect(),
            better: Better::Lower,
        },
    );
    metrics.insert(
        "wall_time".to_owned(),
        Metric {
            unit: "seconds".into(),
            samples: runs.iter().map(|r| r.wall_time.0).collect(),
            better: Better::Lower,
        },
    );
    BenchmarkResult {
        benchmark: name.into(),
        dataset: None,
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
        memgate_version: "bench".into(),
        testbed: Testbed {
            id: "bench".into(),
            name: None,
            os: "linux".into(),
            kernel: "6".into(),
            arch: "x86_64".into(),
            cpu: "cpu".into(),
            cores: 2,
            memory: Bytes(1 << 34),
            probe: ProbeKind::Proc,
        },
        benchmarks,
    }
}

/// Median and slowest of `ROUNDS` timings of `f`, in milliseconds.
fn time(mut f: impl FnMut()) -> (f64, f64) {
    let mut ms: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[ROUNDS / 2], ms[ROUNDS - 1])
}

fn main() {
    let mut missed = false;
    let mut verdict = |what: &str, median: f64, slowest: f64, target: f64| {
        let ok = median < target;
        missed |= !ok;
        println!(
            "{what:<58} median {median:>7.1} ms  slowest {slowest:>7.1} ms  target {target:.0} ms: {}",
            if ok { "met" } else { "MISSED" }
        );
    };

    let long = results(vec![benchmark(
        "long",
        vec![run(100_000, 800.0 * MIB, 100.0)],
    )]);
    let b = &long.benchmarks[0];
    let named = Named {
        side: Side::Base,
        name: "head",
    };
    for format in [Format::Svg, Format::Png] {
        let mut bytes = 0;
        let (median, slowest) = time(|| {
            let chart = data::timeline("long", &[(named, b)], Some(1024.0 * MIB)).unwrap();
            bytes = chart::render(&chart, format).unwrap().len();
        });
        verdict(
            &format!("timeline of 100,000 points, thinned and drawn, {format:?} ({bytes} B)"),
            median,
            slowest,
            200.0,
        );
    }

    let side = |top: f64| {
        results(
            (0..50)
                .map(|i| {
                    let runs = (0..20)
                        .map(|k| run(200, top * (1.0 + 0.002 * k as f64), 30.0))
                        .collect();
                    benchmark(&format!("bench-{i}"), runs)
                })
                .collect(),
        )
    };
    let (base, head) = (side(400.0 * MIB), side(520.0 * MIB));
    let thresholds = Thresholds::default();
    let comparisons = compare(Some(&base), &head, |_| &thresholds);
    let report = Report {
        verdict: overall(&comparisons),
        base: Rev {
            rev: "base".into(),
            note: None,
        },
        head: Rev {
            rev: "head".into(),
            note: None,
        },
        testbed: "bench".into(),
        comparisons,
        timelines: vec![],
        explain: None,
    };
    let input = Input {
        testbed: "bench",
        report: Some(&report),
        base: Some(Sided {
            rev: "base",
            note: None,
            results: &base,
        }),
        head: Sided {
            rev: "head",
            note: None,
            results: &head,
        },
        history: Vec::new(),
        limits: BTreeMap::new(),
    };
    let mut page = 0;
    let mut all = 0;
    let (median, slowest) = time(|| {
        let files = bundle::build(&input).unwrap();
        page = files[0].bytes.len();
        all = files.iter().map(|f| f.bytes.len()).sum();
    });
    println!(
        "report of 50 benchmarks compared, 20 runs a side: index.html {:.2} MB (target under 2 MB: {}), all files {:.2} MB",
        page as f64 / 1e6,
        if page < 2_000_000 { "met" } else { "MISSED" },
        all as f64 / 1e6
    );
    missed |= page >= 2_000_000;
    println!(
        "report of 50 benchmarks compared (200 charts, SVG and PNG): median {median:.0} ms, slowest {slowest:.0} ms"
    );
    if missed {
        std::process::exit(1);
    }
}
