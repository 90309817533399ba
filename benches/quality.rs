//! The gate's quality on simulated trials, and the speed of `compare`.
//!
//! Trials draw base and head samples from noisy distributions (normal, and Student's t
//! with 3 degrees of freedom for heavy tails, at 3% and 10% spread), with the head
//! unchanged (A/A: any regression is a false alarm) or 5%, 10% or 30% worse (A/B: a
//! regression is a detection). memgate's verdict is set beside a plain percentage rule
//! (a regression when the head's median is worse than the base's by more than the same
//! threshold) on the very same samples. Seeded: the figures repeat exactly.
//!
//! Run: `cargo bench --bench quality`

use std::collections::BTreeMap;
use std::time::Instant;

use memgate::compare::stats::median;
use memgate::compare::verdict::judge;
use memgate::compare::{Threshold, ThresholdSpec, Thresholds, Verdict, compare};
use memgate::measure::probe::ProbeKind;
use memgate::measure::units::Bytes;
use memgate::results::{BenchmarkResult, Better, Metric, RunResults, Status, Testbed};
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use statrs::distribution::{Normal, StudentsT};

const TRIALS: usize = 2000;

#[derive(Clone, Copy)]
enum Noise {
    Normal(f64),
    HeavyTailed(f64),
}

impl Noise {
    fn name(self) -> String {
        match self {
            Noise::Normal(s) => format!("normal, {:.0}% sd", s * 100.0),
            Noise::HeavyTailed(s) => format!("Student t (3 df), {:.0}% sd", s * 100.0),
        }
    }

    fn samples(self, rng: &mut StdRng, center: f64, n: usize) -> Vec<f64> {
        match self {
            Noise::Normal(spread) => {
                let d = Normal::new(center, center * spread).unwrap();
                (0..n).map(|_| d.sample(rng)).collect()
            }
            Noise::HeavyTailed(spread) => {
                // t with 3 df has variance 3·scale²: scale the sd to `spread`.
                let d = StudentsT::new(center, center * spread / 3f64.sqrt(), 3.0).unwrap();
                (0..n).map(|_| d.sample(rng).max(center * 0.01)).collect()
            }
        }
    }
}

/// (memgate's, the plain rule's) share of trials called a regression.
fn rates(noise: Noise, repeat: usize, effect: f64, threshold: Threshold, seed: u64) -> (f64, f64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut gate, mut plain) = (0, 0);
    for _ in 0..TRIALS {
        let base = noise.samples(&mut rng, 100.0, repeat);
        let head = noise.samples(&mut rng, 100.0 * (1.0 + effect), repeat);
        if judge(&base, &head, Better::Lower, threshold).verdict == Verdict::Regression {
            gate += 1;
        }
        let change = median(&head).unwrap() / median(&base).unwrap() - 1.0;
        if change > threshold.max_worse {
            plain += 1;
        }
    }
    (gate as f64 / TRIALS as f64, plain as f64 / TRIALS as f64)
}

fn table(title: &str, threshold: Threshold) {
    println!(
        "\n## {title}: threshold {:.0}%, alpha {}\n",
        threshold.max_worse * 100.0,
        threshold.alpha
    );
    println!("{TRIALS} trials a cell; each cell: memgate / plain percentage rule.\n");
    println!("| noise | repeat | false alarms (A/A) | +5% caught | +10% caught | +30% caught |");
    println!("|---|---:|---:|---:|---:|---:|");
    let noises = [
        Noise::Normal(0.03),
        Noise::Normal(0.10),
        Noise::HeavyTailed(0.03),
        Noise::HeavyTailed(0.10),
    ];
    for (i, noise) in noises.into_iter().enumerate() {
        for repeat in [5, 10] {
            let cells: Vec<String> = [0.0, 0.05, 0.10, 0.30]
                .iter()
                .enumerate()
                .map(|(j, &effect)| {
                    let seed = (i * 100 + repeat * 10 + j) as u64;
                    let (gate, plain) = rates(noise, repeat, effect, threshold, seed);
                    format!("{:.1}% / {:.1}%", gate * 100.0, plain * 100.0)
                })
                .collect();
            println!("| {} | {repeat} | {} |", noise.name(), cells.join(" | "));
        }
    }
}

fn compare_speed(tied: bool) {
    let testbed = Testbed {
        id: "bench".into(),
        name: None,
        os: "linux".into(),
        kernel: "6".into(),
        arch: "x86_64".into(),
        cpu: "cpu".into(),
        cores: 2,
        memory: Bytes(1 << 34),
        probe: ProbeKind::Proc,
    };
    let mut rng = StdRng::seed_from_u64(7);
    let noise = Normal::new(1.0, 0.03).unwrap();
    let mut results = |shift: f64| RunResults {
        memgate_version: "bench".into(),
        testbed: testbed.clone(),
        benchmarks: (0..250)
            .map(|b| BenchmarkResult {
                benchmark: format!("bench-{b}"),
                dataset: None,
                group: None,
                status: Status::Ok,
                command: "true".into(),
                metrics: ["peak_memory", "max_rss", "wall_time", "cpu_time"]
                    .iter()
                    .map(|m| {
                        let samples = (0..10)
                            .map(|_| {
                                let v = 1e8 * shift * noise.sample(&mut rng);
                                // Memory figures often tie: round to whole MiB.
                                if tied {
                                    (v / 1048576.0).round() * 1048576.0
                                } else {
                                    v
                                }
                            })
                            .collect();
                        (
                            m.to_string(),
                            Metric {
                                unit: "bytes".into(),
                                samples,
                                better: Better::Lower,
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
                runs: vec![],
                lower_bound_runs: 0,
                failure: None,
            })
            .collect(),
    };
    let (base, head) = (results(1.0), results(1.08));
    let thresholds = Thresholds {
        per_metric: BTreeMap::new(),
        default: ThresholdSpec {
            max_increase: Some(0.05),
            alpha: Some(0.05),
            ..Default::default()
        },
    };
    let mut times = Vec::new();
    let mut pairs = 0;
    for _ in 0..20 {
        let start = Instant::now();
        let comparisons = compare(Some(&base), &head, |_| &thresholds);
        times.push(start.elapsed().as_secs_f64());
        pairs = comparisons.len();
    }
    times.sort_by(f64::total_cmp);
    let kind = if tied {
        "figures rounded to whole MiB, so many tie"
    } else {
        "no ties"
    };
    println!("\n## compare() on {pairs} benchmark × metric pairs (10 runs a side, {kind})\n");
    println!(
        "median {:.1} ms, min {:.1} ms, max {:.1} ms over 20 calls (target: under 100 ms)",
        times[10] * 1e3,
        times[0] * 1e3,
        times[19] * 1e3
    );
}

fn main() {
    // `cargo bench` passes --bench; any other argument is a filter we do not need.
    println!("# memgate gate quality (simulated trials)");
    table(
        "peak_memory defaults",
        Threshold {
            max_worse: 0.05,
            min_change: 0.0,
            alpha: 0.05,
        },
    );
    table(
        "wall_time defaults",
        Threshold {
            max_worse: 0.10,
            min_change: 0.0,
            alpha: 0.01,
        },
    );
    compare_speed(false);
    compare_speed(true);
}
