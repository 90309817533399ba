//! Measurement accuracy: for each memory shape the helper program knows the truth (the
//! kernel's own figures, read from /proc/self/status inside the helper), and memgate's
//! `peak_memory` must be within 3% of it.

use crate::util::{MIB, Project, assert_close, benchmark, median};

/// Runs one shape once and returns (peak_memory, max_rss, truth) in bytes.
fn measure_shape(args: &str) -> (f64, f64, f64) {
    let project = Project::new(&format!(
        r#"
version: 1
defaults:
  repeat: 1
  warmup: 0
  env: {{SHAPES_TRUTH: "{{dir}}/truth"}}
benchmarks:
  - name: shape
    command: "{{shapes}} {args}"
"#
    ));
    let results = project.run_json_proc(&[], 0);
    let peak = median(&results, "shape", "peak_memory");
    let max_rss = median(&results, "shape", "max_rss");
    // The orphan writes its truth last, just before the run ends.
    (peak, max_rss, project.truth("truth"))
}

#[test]
fn short_spike_between_samples_is_caught() {
    // 20 MiB touched and freed within a few ms: a 10 ms sampler misses it nearly always;
    // the high-water mark does not.
    let (peak, max_rss, truth) = measure_shape("spike 20 100 100");
    assert_close("spike peak_memory", peak, truth, 0.03);
    assert_close("spike max_rss", max_rss, truth, 0.03);
}

#[test]
fn held_memory_plus_spike_is_caught() {
    let (peak, _, truth) = measure_shape("held_spike 50 200 100");
    assert!(truth > 250.0 * MIB);
    assert_close("held+spike peak_memory", peak, truth, 0.03);
}

#[test]
fn a_tree_counts_every_process() {
    // 4 children holding 100 MiB each at once: the tree is ~400 MiB, no process >100 MiB.
    let (peak, max_rss, truth) = measure_shape("tree 4 100 500");
    assert_close("tree peak_memory", peak, truth, 0.03);
    assert!(peak >= 400.0 * MIB, "peak {:.1} MiB", peak / MIB);
    assert!(max_rss < 110.0 * MIB, "max_rss {:.1} MiB", max_rss / MIB);
}

#[test]
fn copy_on_write_pages_are_counted_once() {
    // A 200 MiB buffer shared by the parent and 4 forked readers: a sum of RSS says
    // ~1 GiB, the truth is ~200 MiB.
    let (peak, _, truth) = measure_shape("cow 200 4 300");
    assert_close("cow peak_memory", peak, truth, 0.03);
}

#[test]
fn a_child_between_vfork_and_exec_is_not_its_parent_again() {
    // Issue 9's forkserver plateau: a child seen between vfork and exec runs in its
    // parent's memory, and `smaps_rollup` is bound to the memory it had when opened,
    // so a file kept open read the parent's 100 MiB for the child ever after.
    let (peak, _, truth) = measure_shape("vfork 100 300");
    assert!(truth > 100.0 * MIB);
    assert_close("vfork peak_memory", peak, truth, 0.03);
}

#[test]
fn an_orphaned_grandchild_is_measured() {
    // The parent exits at once; its grandchild, re-parented to memgate's launcher,
    // then holds 100 MiB.
    let (peak, _, truth) = measure_shape("orphan 100 300");
    assert_close("orphan peak_memory", peak, truth, 0.03);
}

#[test]
fn steady_growth() {
    let (peak, _, truth) = measure_shape("grow 200 1000");
    assert_close("grow peak_memory", peak, truth, 0.03);
}

#[test]
fn memgates_own_memory_stays_out_of_the_figures() {
    // memgate holds 300 MiB; the children it measures are tiny. At exec the kernel folds
    // the forking process's memory into the child's ru_maxrss: memgate never forks them.
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 3, warmup: 0, env: {SHAPES_TRUTH: "{dir}/truth"}}
benchmarks:
  - name: true
    command: [/bin/true]
  - name: idle
    command: ["{shapes}", idle, "50"]
"#,
    );
    // The /proc probe: the truth is the process's own RSS, which a cgroup does not
    // charge for pages of files another process brought into memory first.
    let results = project.run_json_proc(&["--debug-hold-memory", "300MiB"], 0);
    for name in ["true", "idle"] {
        for metric in ["peak_memory", "max_rss"] {
            let figure = median(&results, name, metric);
            assert!(
                figure < 6.0 * MIB,
                "{name} {metric} = {:.1} MiB while memgate held 300 MiB",
                figure / MIB
            );
        }
    }
    // Below the launcher's fold at exec (~1.5 MiB) the kernel's ru_maxrss cannot be told
    // from the fold, so a tiny process is known to a few hundred KiB.
    let idle = median(&results, "idle", "peak_memory");
    let truth = project.truth("truth");
    assert!(
        (idle - truth).abs() < 0.5 * MIB,
        "idle {idle} vs truth {truth}"
    );
}

#[test]
fn cpu_time_covers_the_whole_tree() {
    // A shell and two burners; each burner writes its own CPU time (getrusage) as the
    // truth. The tree's cpu_time holds both, plus a little for the shell.
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0, env: {SHAPES_CPU: "{dir}/cpu"}}
benchmarks:
  - name: burn
    command: "{shapes} burn 300 & {shapes} burn 300; wait"
"#,
    );
    let results = project.run_json(&[], 0);
    let cpu = median(&results, "burn", "cpu_time");
    let truth: f64 = project
        .read("cpu")
        .lines()
        .map(|l| l.strip_prefix("cpu_us ").unwrap().parse::<f64>().unwrap() / 1e6)
        .sum();
    assert_eq!(project.read("cpu").lines().count(), 2);
    assert!(
        cpu >= truth && cpu <= truth + 0.1,
        "cpu_time {cpu}, burners' own {truth}"
    );
}

#[test]
fn the_timeline_is_sampled_and_kept_small() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0, sample_interval: 5ms}
benchmarks:
  - name: grow
    command: ["{shapes}", grow, "100", "600"]
"#,
    );
    let results = project.run_json(&[], 0);
    let points = benchmark(&results, "grow")["runs"][0]["timeline"]["points"]
        .as_array()
        .expect("timeline points")
        .clone();
    assert!(points.len() >= 20, "{} points", points.len());
    let bytes: Vec<f64> = points.iter().map(|p| p[1].as_f64().unwrap()).collect();
    let times: Vec<f64> = points.iter().map(|p| p[0].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "time goes forward");
    // It grows: the last third is well above the first third.
    let third = bytes.len() / 3;
    let early: f64 = bytes[..third].iter().sum::<f64>() / third as f64;
    let late: f64 = bytes[2 * third..].iter().sum::<f64>() / (bytes.len() - 2 * third) as f64;
    assert!(late > early + 30.0 * MIB, "early {early}, late {late}");
}

#[test]
fn hundreds_of_processes_on_a_busy_machine_are_counted_or_marked() {
    // Issue 9: 127 children of 10 MiB read as 11 MiB when the sampler went blind on a
    // busy machine. 300 processes of 2 MiB each, two more processes keeping both cores
    // busy, and the /proc sampler (the cgroup would be exact): every run's figure is
    // the whole tree's, or the run says its peak is only a lower bound.
    let project = Project::new(
        r#"
version: 1
defaults:
  repeat: 3
  warmup: 0
  env: {SHAPES_TRUTH: "{dir}/truth"}
benchmarks:
  - name: wide
    command: "{shapes} tree 299 2 1500"
"#,
    );
    // Both cores kept busy while memgate runs; stopped however the run ends.
    struct Load(Vec<std::process::Child>);
    impl Drop for Load {
        fn drop(&mut self) {
            for burner in &mut self.0 {
                let _ = burner.kill();
                let _ = burner.wait();
            }
        }
    }
    let load = Load(
        (0..2)
            .map(|_| {
                std::process::Command::new(crate::util::shapes())
                    .args(["burn", "60000"])
                    .spawn()
                    .expect("a burner")
            })
            .collect(),
    );
    let results = project.run_json_proc(&["--no-save"], 0);
    drop(load);
    // The children's own pages at least; at most every process's RSS, shared pages
    // counted in each (the helper's truth for the last run).
    let private = 299.0 * 2.0 * MIB;
    let rss_sum = project.truth("truth");
    let runs = benchmark(&results, "wide")["runs"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(runs.len(), 3);
    for run in &runs {
        let peak = run["peak_memory"].as_f64().unwrap();
        let quality = run["peak_quality"].as_str().unwrap();
        let samples = &run["samples"];
        assert!(samples["kept"].as_u64().unwrap() > 0, "{run:#}");
        assert!(
            quality == "lower_bound"
                || (quality == "sampled" && peak >= private && peak <= rss_sum),
            "peak {:.1} MiB ({quality}, samples {samples}), children's own {:.1} MiB, RSS sum {:.1} MiB",
            peak / MIB,
            private / MIB,
            rss_sum / MIB
        );
        assert!(peak >= run["peak_lower_bound"].as_f64().unwrap(), "{run:#}");
    }
}
