//! How `compare` scales with the number of runs and of benchmarks.
//!
//! The Hodges–Lehmann shift alone, `memgate::compare::stats::shift`, at 1,000 to 20,000
//! runs a side, beside the sort-based way it was computed before (every difference built
//! and sorted) where that still fits in memory; the real binary, `memgate --store DIR
//! compare base head`, over a directory store holding one record of 5,000 runs a side;
//! and `memgate compare BASE HEAD` in a git repository whose notes hold a record a side of
//! 250 or 2,500 benchmarks (1,000 or 10,000 benchmark × metric pairs), stored as memgate
//! stores them and as memgate 0.1.0 did (timelines inline).
//! Seeded: the samples repeat exactly; the times do not.
//!
//! Run: `cargo bench --bench scale [-- shift|runs|pairs]` (all three parts unless one is
//! named); `MEMGATE_BIN=PATH cargo bench --bench scale` times another memgate binary (an
//! older build, say) on the same records.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use memgate::compare::stats::{EXACT_LIMIT, Shift, median, shift};
use memgate::git::Repo;
use memgate::measure::probe::ProbeKind;
use memgate::measure::timeline::Timeline;
use memgate::measure::units::{Bytes, Seconds};
use memgate::results::{BenchmarkResult, Better, Metric, RunRecord, RunResults, Status, Testbed};
use memgate::store::{DirStore, NotesStore, Record, Store};
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

/// A benchmark named `name` with `runs` runs: the four built-in metrics and a timeline
/// of `points` points a run.
fn benchmark(
    rng: &mut StdRng,
    name: &str,
    runs: usize,
    worse: f64,
    points: u32,
) -> BenchmarkResult {
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
            // A run sampled `points` times, rising to its peak.
            let mut timeline = Timeline::default();
            for point in 1..=points {
                let fraction = f64::from(point) / f64::from(points);
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
    BenchmarkResult {
        benchmark: name.into(),
        dataset: None,
        group: None,
        status: Status::Ok,
        command: "true".into(),
        metrics,
        runs,
        lower_bound_runs: 0,
        failure: None,
    }
}

/// One side's results of `benchmarks`.
fn results(benchmarks: Vec<BenchmarkResult>) -> RunResults {
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
        benchmarks,
    }
}

/// The CPU time (user + system) of the children waited for so far, in seconds.
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The memgate binary to time: `MEMGATE_BIN`, else this build's.
fn binary() -> String {
    std::env::var("MEMGATE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_memgate").to_owned())
}

/// Runs memgate with `args` in `dir`: exit code and stdout. Exit codes 0 (nothing
/// regressed) and 1 (a regression) are the gate's; anything else means memgate failed.
fn memgate(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<u8>) {
    let output = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env_remove("MEMGATE_TESTBED")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "memgate {args:?} exited with {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (code, output.stdout)
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
        let results = results(vec![benchmark(
            &mut rng,
            "scale",
            END_TO_END_RUNS,
            worse,
            10,
        )]);
        store
            .save(label, &Record::new(label, &results, "scale-bench", false))
            .unwrap();
    }
    let store_arg = store_dir.display().to_string();
    let compare = |format: &str| {
        let args = ["--store", &store_arg, "--testbed", TESTBED, "compare"];
        let (code, stdout) = memgate(
            temp.path(),
            &[&args[..], &["base", "head", "--format", format]].concat(),
        );
        (code, stdout.len())
    };
    println!(
        "\n## `memgate --store DIR compare base head` end to end ({END_TO_END_RUNS} runs a side)\n"
    );
    println!(
        "One record a side, one benchmark: peak_memory, max_rss, wall_time, cpu_time, and a \
         10-point timeline a run; {:.1} MB stored in all. Binary {}.\n",
        stored_bytes(&store_dir) as f64 / 1e6,
        binary()
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

/// How a record is stored in the notes.
#[derive(Clone, Copy)]
enum Format {
    /// As memgate stores it: the figures, and the timelines apart.
    Apart,
    /// As memgate 0.1.0 did: one line, the timelines inline.
    Inline,
}

/// `git` in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// A repository of two commits, base and head, with their records stored in `format`.
fn pairs_repo(dir: &Path, sides: &[Record; 2], format: Format) -> [String; 2] {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut revisions = Vec::new();
    for name in ["base", "head"] {
        git(dir, &["commit", "-q", "--allow-empty", "-m", name]);
        revisions.push(git(dir, &["rev-parse", "HEAD"]).trim().to_owned());
    }
    let store = NotesStore::open(&Repo::discover(dir).unwrap()).unwrap();
    for (revision, record) in revisions.iter().zip(sides) {
        let mut record = record.clone();
        record.revision = revision.clone();
        match format {
            Format::Apart => store.save(revision, &record).unwrap(),
            Format::Inline => {
                let note = dir.join("note.json");
                std::fs::write(&note, format!("{}\n", record.to_line())).unwrap();
                let note = note.display().to_string();
                git(
                    dir,
                    &["notes", "--ref=memgate", "add", "-f", "-F", &note, revision],
                );
            }
        }
    }
    let [base, head] = <[String; 2]>::try_from(revisions).unwrap();
    [base, head]
}

fn many_pairs() {
    println!("\n## `memgate compare BASE HEAD --format json` on many benchmark × metric pairs\n");
    println!(
        "A git repository of two commits; each holds a record of N benchmarks, each with the \
         four built-in metrics and 5 runs, its runs' timelines of 200 points thinned as memgate \
         stores them (at most 200,000 points a record). Stored as memgate stores records \
         (timelines apart, in refs/notes/memgate-timelines) and as memgate 0.1.0 did \
         (timelines inline). Built-in thresholds, `--testbed {TESTBED}`. Binary {}.\n",
        binary()
    );
    println!("| pairs | stored as | record note | median of 7 | min | max | CPU, median |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    let mut rng = StdRng::seed_from_u64(31);
    for pairs in [1_000, 10_000] {
        let sides = [1.0, 1.02].map(|worse| {
            let benchmarks = (0..pairs / 4)
                .map(|i| benchmark(&mut rng, &format!("b{i}"), 5, worse, 200))
                .collect();
            Record::new("r", &results(benchmarks), "scale-bench", false)
        });
        let mut outputs = Vec::new();
        for (format, name) in [
            (Format::Apart, "timelines apart"),
            (Format::Inline, "inline (0.1.0)"),
        ] {
            let temp = tempfile::tempdir().unwrap();
            let [base, head] = pairs_repo(temp.path(), &sides, format);
            let note = git(temp.path(), &["notes", "--ref=memgate", "show", &base]).len();
            let args = [
                "--testbed",
                TESTBED,
                "compare",
                &base,
                &head,
                "--format",
                "json",
            ];
            memgate(temp.path(), &args); // warm the page cache
            let mut cpu = Vec::new();
            let (times, (_, stdout)) = timed(7, || {
                let before = children_cpu();
                let out = memgate(temp.path(), &args);
                cpu.push(children_cpu() - before);
                out
            });
            let report: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
            assert_eq!(report["comparisons"].as_array().unwrap().len(), pairs);
            outputs.push(report["comparisons"].clone());
            println!(
                "| {pairs} | {name} | {:.1} MB | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
                note as f64 / 1e6,
                median_of(&times) * 1e3,
                times[0] * 1e3,
                times[times.len() - 1] * 1e3,
                median_of(&cpu) * 1e3
            );
        }
        assert!(
            outputs.windows(2).all(|w| w[0] == w[1]),
            "the two ways of storing give different comparisons"
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\nCPU: user + system time of the memgate process. Load average when done: {}.",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("Target: 10,000 pairs, as memgate stores them, under 200 ms.");
}

fn main() {
    // `cargo bench` passes --bench; another argument runs only the parts whose name holds
    // it (`shift`, `runs`, `pairs`).
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    println!("# How compare scales with the number of runs and benchmarks\n");
    if wanted("shift") {
        shift_scaling();
    }
    if wanted("runs") {
        end_to_end();
    }
    if wanted("pairs") {
        many_pairs();
    }
}
