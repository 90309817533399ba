//! How `compare` scales with the number of runs.
//!
//! The Hodges–Lehmann shift alone, `memgate::compare::stats::shift`, at 1,000 to 20,000
//! runs a side, beside the sort-based way it was computed before (every difference built
//! and sorted) where that still fits in memory; and the real binary, `memgate --store DIR
//! compare base head`, over a directory store holding one record of 5,000 runs a side.
//! Seeded: the samples repeat exactly; the times do not.
//!
//! Run: `cargo bench --bench scale`

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use memgate::compare::stats::{EXACT_LIMIT, Shift, median, shift};
use memgate::measure::probe::ProbeKind;
use memgate::measure::timeline::Timeline;
use memgate::measure::units::{Bytes, Seconds};
use memgate::results::{BenchmarkResult, Better, Metric, RunRecord, RunResults, Status, Testbed};
use memgate::store::{DirStore, Record, Store};
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use statrs::distribution::{ContinuousCDF, Normal};

/// The confidence level `compare` asks for.
const LEVEL: f64 = 0.95;

/// The testbed the stored records name, and `--testbed` with them.
const TESTBED: &str = "scale-bench";

/// Runs a side of the end-to-end comparison.
const END_TO_END_RUNS: usize = 5_000;

/// Memory-like figures: about `center` bytes, 3% spread, whole KiB (so some tie).
fn memory(rng: &mut StdRng, center: f64, n: usize) -> Vec<f64> {
    let noise = Normal::new(center, center * 0.03).unwrap();
    (0..n)
        .map(|_| (noise.sample(rng) / 1024.0).round() * 1024.0)
        .collect()
}

/// Time-like figures: about `center` seconds, 3% spread, no ties.
fn seconds(rng: &mut StdRng, center: f64, n: usize) -> Vec<f64> {
    let noise = Normal::new(center, center * 0.03).unwrap();
    (0..n).map(|_| noise.sample(rng).max(0.0)).collect()
}

/// Each call's elapsed time in seconds, sorted, and the last call's value.
fn timed<T>(calls: usize, mut f: impl FnMut() -> T) -> (Vec<f64>, T) {
    let mut times = Vec::with_capacity(calls);
    let mut last = None;
    for _ in 0..calls {
        let start = Instant::now();
        let value = f();
        times.push(start.elapsed().as_secs_f64());
        last = Some(value);
    }
    times.sort_by(f64::total_cmp);
    (times, last.expect("at least one call"))
}

fn median_of(times: &[f64]) -> f64 {
    median(times).expect("at least one time")
}

/// `shift` as memgate computed it before selection: every difference built and
/// sorted, the median sorting a copy of them again. Only the normal-approximation
/// branch of the interval's rank, the one these sizes take; its lines are the old
/// ones, so the figures must match bit for bit.
fn shift_by_sorting(first: &[f64], second: &[f64], level: f64) -> Shift {
    let (n, m) = (first.len(), second.len());
    assert!(n + m > EXACT_LIMIT, "the peer has no exact branch");
    let mut diffs: Vec<f64> = second
        .iter()
        .flat_map(|&y| first.iter().map(move |&x| y - x))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let estimate = median(&diffs).unwrap();
    let nm = diffs.len();
    let alpha_half = (1.0 - level) / 2.0;
    let z = Normal::standard().inverse_cdf(1.0 - alpha_half);
    let (nf, mf) = (n as f64, m as f64);
    let spread = (nf * mf * (nf + mf + 1.0) / 12.0).sqrt();
    let k = ((nf * mf / 2.0 - z * spread).floor() as usize).clamp(1, nm.div_ceil(2));
    Shift {
        estimate,
        low: diffs[k - 1],
        high: diffs[nm - k],
        level,
    }
}

fn bits(s: Shift) -> [u64; 4] {
    [s.estimate, s.low, s.high, s.level].map(f64::to_bits)
}

fn shift_scaling() {
    println!("## `stats::shift` alone (memory-like figures, whole KiB, head 2% larger)\n");
    println!(
        "| runs a side | differences | selection, median of 5 | sorting (before), median of 3 | sorting / selection |"
    );
    println!("|---:|---:|---:|---:|---:|");
    let mut rng = StdRng::seed_from_u64(11);
    for n in [1_000, 5_000, 10_000, 20_000] {
        let base = memory(&mut rng, 1e8, n);
        let head = memory(&mut rng, 1.02e8, n);
        let (selection, selected) = timed(5, || shift(&base, &head, LEVEL).unwrap());
        let selection = median_of(&selection);
        // The sorted differences take 8·n² bytes, twice over with the median's copy:
        // 400 MB at 5,000 a side, 1.6 GB at 10,000.
        let (sorting, ratio) = if n <= 5_000 {
            let (sorting, sorted) = timed(3, || shift_by_sorting(&base, &head, LEVEL));
            assert_eq!(
                bits(selected),
                bits(sorted),
                "selection and sorting disagree at {n} a side: {selected:?} vs {sorted:?}"
            );
            let sorting = median_of(&sorting);
            (
                format!("{:.1} ms", sorting * 1e3),
                format!("{:.0}×", sorting / selection),
            )
        } else {
            ("not run".to_owned(), "—".to_owned())
        };
        println!(
            "| {n} | {:.1e} | {:.2} ms | {sorting} | {ratio} |",
            (n * n) as f64,
            selection * 1e3
        );
    }
    println!("\nWhere both ran, their estimate, low, high and level are bit-identical.");
}

/// One benchmark with 5,000 runs: the four built-in metrics and a short timeline a run.
fn results(rng: &mut StdRng, runs: usize, worse: f64) -> RunResults {
    let peak = memory(rng, 1e8 * worse, runs);
    let rss = memory(rng, 0.9e8 * worse, runs);
    let wall = seconds(rng, 0.05 * worse, runs);
    let cpu = seconds(rng, 0.04 * worse, runs);
    let metric = |unit: &str, samples: &[f64]| Metric {
        unit: unit.to_owned(),
        samples: samples.to_vec(),
        better: Better::Lower,
    };
    let metrics = BTreeMap::from([
        ("peak_memory".to_owned(), metric("bytes", &peak)),
        ("max_rss".to_owned(), metric("bytes", &rss)),
        ("wall_time".to_owned(), metric("seconds", &wall)),
        ("cpu_time".to_owned(), metric("seconds", &cpu)),
    ]);
    let runs = (0..runs)
        .map(|i| {
            // A 50 ms run sampled every 5 ms: 10 points rising to its peak.
            let mut timeline = Timeline::default();
            for point in 1..=10u32 {
                let fraction = f64::from(point) / 10.0;
                timeline.push(
                    Seconds(wall[i] * fraction),
                    Bytes((peak[i] * fraction) as u64),
                );
            }
            RunRecord {
                status: Status::Ok,
                wall_time: Seconds(wall[i]),
                cpu_time: Seconds(cpu[i]),
                peak_memory: Bytes(peak[i] as u64),
                max_rss: Bytes(rss[i] as u64),
                exit_code: Some(0),
                signal: None,
                sampler_cpu_time: Seconds(0.0001),
                peak_quality: None,
                samples: None,
                peak_lower_bound: None,
                peak_upper_bound: None,
                timeline,
            }
        })
        .collect();
    RunResults {
        memgate_version: env!("CARGO_PKG_VERSION").to_owned(),
        testbed: Testbed {
            id: TESTBED.into(),
            name: Some(TESTBED.into()),
            os: "linux".into(),
            kernel: "6".into(),
            arch: "x86_64".into(),
            cpu: "cpu".into(),
            cores: 2,
            memory: Bytes(1 << 34),
            probe: ProbeKind::Proc,
        },
        benchmarks: vec![BenchmarkResult {
            benchmark: "scale".into(),
            dataset: None,
            status: Status::Ok,
            command: "true".into(),
            metrics,
            runs,
            failure: None,
        }],
    }
}

/// Total size of the files under `dir`, in bytes.
fn stored_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stored_bytes(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn end_to_end() {
    // Outside git, with no memgate.yml: the directory store and the built-in thresholds.
    let temp = tempfile::tempdir().unwrap();
    let store_dir = temp.path().join("store");
    let store = DirStore::new(store_dir.clone());
    let mut rng = StdRng::seed_from_u64(23);
    for (label, worse) in [("base", 1.0), ("head", 1.02)] {
        let results = results(&mut rng, END_TO_END_RUNS, worse);
        store
            .save(label, &Record::new(label, &results, "scale-bench", false))
            .unwrap();
    }
    let binary = env!("CARGO_BIN_EXE_memgate");
    let compare = |format: &str| {
        let output = Command::new(binary)
            .arg("--store")
            .arg(&store_dir)
            .args(["--testbed", TESTBED, "compare", "base", "head"])
            .args(["--format", format])
            .current_dir(temp.path())
            .env_remove("MEMGATE_TESTBED")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GIT_DIR")
            .output()
            .unwrap();
        // 0: nothing regressed; 1: a regression. Anything else: memgate failed.
        let code = output.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "memgate compare exited with {code:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        (code, output.stdout.len())
    };
    println!(
        "\n## `memgate --store DIR compare base head` end to end ({END_TO_END_RUNS} runs a side)\n"
    );
    println!(
        "One record a side, one benchmark: peak_memory, max_rss, wall_time, cpu_time, and a \
         10-point timeline a run; {:.1} MB stored in all. Release binary {binary}.\n",
        stored_bytes(&store_dir) as f64 / 1e6
    );
    println!("| --format | median of 5 | min | max | exit code | stdout |");
    println!("|---|---:|---:|---:|---:|---:|");
    for format in ["table", "json"] {
        compare(format); // warm the page cache
        let (times, (code, stdout)) = timed(5, || compare(format));
        println!(
            "| {format} | {:.0} ms | {:.0} ms | {:.0} ms | {} | {:.1} kB |",
            median_of(&times) * 1e3,
            times[0] * 1e3,
            times[times.len() - 1] * 1e3,
            code.map_or("-".to_owned(), |c| c.to_string()),
            stdout as f64 / 1e3
        );
    }
    println!("\nTarget: table, 5,000 runs a side, under 1000 ms.");
}

fn main() {
    // `cargo bench` passes --bench; any other argument is a filter we do not need.
    println!("# How compare scales with the number of runs\n");
    shift_scaling();
    end_to_end();
}
