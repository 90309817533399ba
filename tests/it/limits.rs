//! Limits and stopping: beyond the timeout or memory limit, on Ctrl-C, SIGTERM, or when
//! memgate itself is killed, no process of the benchmark's tree survives.

use std::time::{Duration, Instant};

use crate::util::{MIB, Project, alive, benchmark, median, pids, processes_running};

/// Waits until the helper has written `count` pids to `file`.
fn wait_for_pids(project: &Project, file: &str, count: usize) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = pids(project, file);
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} pids appeared",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[track_caller]
fn assert_all_gone(found: &[i32]) {
    assert!(!found.is_empty());
    let survivors: Vec<_> = found.iter().filter(|&&p| alive(p)).collect();
    assert!(survivors.is_empty(), "processes survived: {survivors:?}");
}

#[test]
fn timeout_kills_the_whole_tree_and_goes_on() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 2, warmup: 0}
benchmarks:
  - name: stuck
    command: ["{shapes}", sleeptree, "3", "{dir}/pids"]
    timeout: 1s
  - name: after
    command: [/bin/true]
"#,
    );
    let results = project.run_json(&[], 3);
    let stuck = benchmark(&results, "stuck");
    assert_eq!(stuck["status"], "timeout");
    assert!(
        stuck["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("timed out (timeout 1.00 s)")
    );
    // root + 3 children + 3 grandchildren, and a timeout stops further runs.
    assert_all_gone(&pids(&project, "pids"));
    assert_eq!(pids(&project, "pids").len(), 7);
    assert_eq!(benchmark(&results, "after")["status"], "ok");
}

#[test]
fn memory_limit_kills_the_tree_and_reports_the_figure() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0}
benchmarks:
  - name: hog
    command: ["{shapes}", hold, "300", "20001"]
    memory_limit: 100MiB
  - name: tree
    # No process exceeds 100 MiB; the tree does.
    command: ["{shapes}", tree, "4", "100", "20002"]
    memory_limit: 250MiB
"#,
    );
    let results = project.run_json(&[], 3);
    // The hog and the tree's parent and 4 children: none survives.
    assert_eq!(
        processes_running(&["hold", "300", "20001"]),
        Vec::<i32>::new()
    );
    assert_eq!(
        processes_running(&["tree", "4", "100", "20002"]),
        Vec::<i32>::new()
    );
    for name in ["hog", "tree"] {
        let b = benchmark(&results, name);
        assert_eq!(b["status"], "memory_limit", "{name}");
        let peak = b["failure"]["peak_memory"].as_f64().unwrap();
        let limit = if name == "hog" { 100.0 } else { 250.0 };
        assert!(peak > limit * MIB, "{name}: peak {:.0} MiB", peak / MIB);
        let message = b["failure"]["message"].as_str().unwrap();
        assert!(
            message.contains("went over the memory limit of"),
            "{message}"
        );
        // Killed long before its 20 s were up.
        assert!(b["failure"]["after"].as_f64().unwrap() < 15.0);
    }
}

#[test]
fn a_spike_over_the_limit_between_samples_is_still_a_memory_limit() {
    // 200 MiB touched and freed within a few milliseconds: the sampler misses it, the
    // high-water mark does not.
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0, sample_interval: 50ms}
benchmarks:
  - name: spike
    command: ["{shapes}", spike, "200", "10", "10"]
    memory_limit: 100MiB
"#,
    );
    let results = project.run_json(&[], 3);
    assert_eq!(benchmark(&results, "spike")["status"], "memory_limit");
}

#[test]
fn a_daemon_is_waited_for_and_measured() {
    // The benchmark daemonizes a worker (double fork + setsid) and exits at once: the
    // run ends when the daemon does.
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0}
benchmarks:
  - name: daemon
    command: ["{shapes}", daemon, "700", "{dir}/pids"]
"#,
    );
    let results = project.run_json(&[], 0);
    assert!(median(&results, "daemon", "wall_time") >= 0.65);
    assert_all_gone(&pids(&project, "pids"));
}

/// Starts memgate on a tree of sleepers, waits until all are up, sends `signal`, and
/// checks memgate's exit and that none of the tree survived.
fn stop_memgate_with(signal: i32, expected_code: Option<i32>) {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0}
benchmarks:
  - name: sleepers
    command: ["{shapes}", sleeptree, "4", "{dir}/pids"]
"#,
    );
    let mut child = project
        .memgate()
        .args(["run", "-q"])
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("memgate starts");
    let found = wait_for_pids(&project, "pids", 9);
    // SAFETY: plain kill of our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = child.wait().expect("memgate exits");
    assert_eq!(status.code(), expected_code, "{status:?}");
    // After a SIGKILL memgate cannot clean up; the launcher's parent-death signal does.
    let deadline = Instant::now() + Duration::from_secs(10);
    while found.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_all_gone(&found);
}

#[test]
fn ctrl_c_leaves_no_process_behind() {
    stop_memgate_with(libc::SIGINT, Some(130));
}

#[test]
fn sigterm_leaves_no_process_behind() {
    stop_memgate_with(libc::SIGTERM, Some(130));
}

#[test]
fn killing_memgate_leaves_no_process_behind() {
    stop_memgate_with(libc::SIGKILL, None);
}

#[test]
fn the_survivor_search_finds_a_live_process() {
    // The checks above pass vacuously if the search never matched: it does.
    let mut sleeper = std::process::Command::new("sleep")
        .arg("7.25")
        .spawn()
        .unwrap();
    // Right after a vfork-style spawn the child's cmdline can still read empty: the
    // parent resumes when exec replaces the memory, before the arguments are set up.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut found = processes_running(&["sleep", "7.25"]);
    while found.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        found = processes_running(&["sleep", "7.25"]);
    }
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert_eq!(found, vec![sleeper.id() as i32]);
    assert!(processes_running(&["sleep", "7.25"]).is_empty());
}
