//! Results kept per revision in git notes and shared through a remote; the directory
//! store; `show` and `log`; bad stored data. Real repositories in temporary folders,
//! a real bare remote, real `git`.

use std::time::Instant;

use crate::util::{MIB, Project, git, git_command, wait_until};

const CONFIG: &str = r#"
version: 1
defaults: {repeat: 2, warmup: 0}
benchmarks:
  - name: hold
    command: "{shapes} hold $(cat size.txt) 20"
"#;

/// A git project whose benchmark holds as many MiB as `size.txt` says.
fn project(size: u32) -> Project {
    Project::sized(CONFIG, size)
}

/// The notes of the records.
const RECORDS: &str = "--ref=memgate";
/// The notes of their timelines.
const TIMELINES: &str = "--ref=memgate-timelines";

/// The note of `rev` in `notes` ([`RECORDS`] or [`TIMELINES`]).
fn note_text(dir: &std::path::Path, notes: &str, rev: &str) -> String {
    git(dir, &["notes", notes, "show", rev])
}

/// Makes `bytes`, whatever they are, the note of HEAD in `notes`.
fn set_note(project: &Project, notes: &str, bytes: &[u8]) {
    std::fs::write(project.path("note.bin"), bytes).unwrap();
    let blob = git(project.dir(), &["hash-object", "-w", "note.bin"]);
    let args = ["notes", notes, "add", "-f", "-C", blob.trim(), "HEAD"];
    git(project.dir(), &args);
}

/// The note of `rev` in `notes`, one JSON line a record.
fn lines_of(dir: &std::path::Path, notes: &str, rev: &str) -> Vec<serde_json::Value> {
    note_text(dir, notes, rev)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON record"))
        .collect()
}

/// The memgate note of `rev`, one record a line.
fn note_lines(dir: &std::path::Path, rev: &str) -> Vec<serde_json::Value> {
    lines_of(dir, RECORDS, rev)
}

/// How many timeline points the runs of a record (as `show --format json` prints it) hold.
fn points(record: &serde_json::Value) -> usize {
    record["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["runs"].as_array().unwrap())
        .map(|r| r["timeline"]["points"].as_array().unwrap().len())
        .sum()
}

fn peak(record: &serde_json::Value) -> f64 {
    let samples = record["benchmarks"][0]["metrics"]["peak_memory"]["samples"]
        .as_array()
        .unwrap();
    samples[0].as_f64().unwrap()
}

#[test]
fn run_saves_a_record_under_head() {
    let project = project(30);
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let out = project.memgate().args(["run", "--format", "json"]).run();
    out.code(0);
    assert!(out.stderr().contains(&format!(
        "memgate: saved under {} in git notes (refs/notes/memgate)",
        &head[..12]
    )));
    let lines = note_lines(project.dir(), "HEAD");
    assert_eq!(lines.len(), 1);
    let record = &lines[0];
    assert_eq!(record["schema"], 1);
    assert_eq!(record["revision"], head);
    assert_eq!(record["dirty"], false);
    assert_eq!(record["config_digest"].as_str().unwrap().len(), 64);
    assert!(
        record["testbed"]["id"]
            .as_str()
            .unwrap()
            .starts_with("auto-")
    );
    assert!(peak(record) > 30.0 * MIB);
    // A second run adds a record; the first stays.
    project.memgate().args(["run", "-q"]).run().code(0);
    assert_eq!(note_lines(project.dir(), "HEAD").len(), 2);
    // --no-save saves nothing.
    project
        .memgate()
        .args(["run", "-q", "--no-save"])
        .run()
        .code(0);
    assert_eq!(note_lines(project.dir(), "HEAD").len(), 2);
}

#[test]
fn a_dirty_working_tree_is_marked() {
    let project = project(20);
    project.write("size.txt", "25\n");
    let out = project.memgate().args(["run"]).run();
    out.code(0);
    assert!(
        out.stderr()
            .contains("(marked dirty: the working tree has changes)"),
        "{}",
        out.stderr()
    );
    assert_eq!(note_lines(project.dir(), "HEAD")[0]["dirty"], true);
    let shown = project.memgate().args(["show"]).run();
    shown.code(0);
    assert!(
        shown
            .stdout()
            .contains("DIRTY working tree: not a baseline")
    );
    let log = project.memgate().args(["log"]).run();
    assert!(log.stdout().contains("(dirty)"), "{}", log.stdout());
}

#[test]
fn run_rev_measures_that_revision_and_leaves_no_worktree() {
    let project = project(20);
    let first = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    project.write("size.txt", "60\n");
    let second = project.commit("hold more");
    // The user's own uncommitted change must survive untouched.
    project.write("size.txt", "99\n");
    project
        .memgate()
        .args(["run", "-q", "--rev", "HEAD~1"])
        .run()
        .code(0);
    let record = &note_lines(project.dir(), &first)[0];
    assert_eq!(record["revision"], first);
    assert_eq!(record["dirty"], false);
    let measured = peak(record);
    assert!(measured > 20.0 * MIB && measured < 30.0 * MIB, "{measured}");
    assert_eq!(project.read("size.txt"), "99\n");
    assert_eq!(git(project.dir(), &["rev-parse", "HEAD"]).trim(), second);
    assert_eq!(
        git(project.dir(), &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert!(git(project.dir(), &["branch", "--list"]).lines().count() == 1);
}

#[test]
fn run_rev_leaves_no_worktree_when_the_benchmark_fails() {
    let project = project(20);
    project.write("size.txt", "not a number\n");
    project.commit("break it");
    project
        .memgate()
        .args(["run", "-q", "--rev", "HEAD"])
        .run()
        .code(3);
    assert_eq!(
        git(project.dir(), &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    // Even a failed run is recorded, with its status.
    let record = &note_lines(project.dir(), "HEAD")[0];
    assert_eq!(record["benchmarks"][0]["status"], "failed");
}

#[test]
fn run_rev_leaves_no_worktree_on_ctrl_c() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: slow\n    command: \"echo started > {dir}/started; sleep 30\"\n",
    );
    project.git_init();
    let mut child = project
        .memgate()
        .args(["run", "-q", "--rev", "HEAD"])
        .command()
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the benchmark has started", || {
        project.path("started").exists()
    });
    assert_eq!(
        git(project.dir(), &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        2
    );
    // SAFETY: plain kill of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(
        git(project.dir(), &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
}

/// A bare remote, the project pushed to it, and a second clone.
/// memgate with `args` in the clone; asserts it succeeded, returns (stdout, stderr).
#[track_caller]
fn in_clone(project: &Project, clone: &tempfile::TempDir, args: &[&str]) -> (String, String) {
    let out = project
        .memgate()
        .args(args)
        .command()
        .current_dir(clone.path())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

fn remote_and_clone(project: &Project) -> (tempfile::TempDir, tempfile::TempDir) {
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare", "-b", "main"]);
    let url = remote.path().display().to_string();
    git(project.dir(), &["remote", "add", "origin", &url]);
    git(project.dir(), &["push", "-q", "origin", "main"]);
    let clone = tempfile::tempdir().unwrap();
    git(clone.path(), &["clone", "-q", &url, "."]);
    (remote, clone)
}

#[test]
fn notes_push_and_fetch_share_results() {
    let project = project(20);
    let (remote, clone) = remote_and_clone(&project);
    project.memgate().args(["run", "-q"]).run().code(0);
    let pushed = project.memgate().args(["notes", "push"]).run();
    pushed.code(0);
    assert_eq!(
        pushed.stderr(),
        "memgate: pushed the memgate notes to origin\n"
    );
    assert_eq!(note_lines(remote.path(), "main").len(), 1);
    assert_eq!(lines_of(remote.path(), TIMELINES, "main").len(), 1);

    let fetch = |dir: &std::path::Path| {
        let out = project
            .memgate()
            .args(["notes", "fetch"])
            .command()
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_eq!(
        fetch(clone.path()),
        "memgate: merged the memgate notes of origin\n"
    );
    assert_eq!(note_lines(clone.path(), "HEAD").len(), 1);
    assert_eq!(lines_of(clone.path(), TIMELINES, "HEAD").len(), 1);
    let shown = project
        .memgate()
        .args(["show", "HEAD"])
        .command()
        .current_dir(clone.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("1 record in git notes"));
    // The timelines came along.
    let shown = project
        .memgate()
        .args(["show", "HEAD", "--format", "json"])
        .command()
        .current_dir(clone.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&shown.stderr), "");
    let records: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert!(points(&records[0]) > 0);
}

#[test]
fn a_fetch_never_overwrites_what_a_local_run_saved() {
    let project = project(20);
    let (_remote, clone) = remote_and_clone(&project);
    // The clone saves and pushes a record for the commit; the project saves its own.
    in_clone(&project, &clone, &["run", "-q", "--testbed", "clone"]);
    in_clone(&project, &clone, &["notes", "push"]);
    project
        .memgate()
        .args(["run", "-q", "--testbed", "local"])
        .run()
        .code(0);
    project.memgate().args(["notes", "fetch"]).run().code(0);
    let lines = note_lines(project.dir(), "HEAD");
    let mut testbeds: Vec<_> = lines
        .iter()
        .map(|r| r["testbed"]["id"].as_str().unwrap().to_owned())
        .collect();
    testbeds.sort();
    assert_eq!(testbeds, ["clone", "local"]);
}

#[test]
fn two_clones_pushing_at_once_both_keep_their_records() {
    let project = project(20);
    let (remote, clone) = remote_and_clone(&project);
    let memgate_in = |dir: &std::path::Path, args: &[&str]| {
        project
            .memgate()
            .args(args)
            .command()
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let a = memgate_in(project.dir(), &["run", "-q", "--testbed", "a"]);
    let b = memgate_in(clone.path(), &["run", "-q", "--testbed", "b"]);
    assert!(a.status.success() && b.status.success());
    // Both push at the same moment: one wins the race, the other fetches, merges, retries.
    let spawn = |dir: &std::path::Path| {
        project
            .memgate()
            .args(["notes", "push"])
            .command()
            .current_dir(dir)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(project.dir()), spawn(clone.path()));
    for push in [pa, pb] {
        let out = push.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let lines = note_lines(remote.path(), "main");
    let mut testbeds: Vec<_> = lines
        .iter()
        .map(|r| r["testbed"]["id"].as_str().unwrap().to_owned())
        .collect();
    testbeds.sort();
    assert_eq!(testbeds, ["a", "b"]);
}

#[test]
fn a_push_behind_another_runners_merges_and_retries() {
    let project = project(20);
    let (remote, clone) = remote_and_clone(&project);
    let memgate_in = |dir: &std::path::Path, args: &[&str]| {
        project
            .memgate()
            .args(args)
            .command()
            .current_dir(dir)
            .output()
            .unwrap()
    };
    assert!(
        memgate_in(project.dir(), &["run", "-q", "--testbed", "a"])
            .status
            .success()
    );
    assert!(
        memgate_in(clone.path(), &["run", "-q", "--testbed", "b"])
            .status
            .success()
    );
    assert!(
        memgate_in(project.dir(), &["notes", "push"])
            .status
            .success()
    );
    // The clone's notes do not contain the project's: its push is rejected, then merged.
    let out = memgate_in(clone.path(), &["notes", "push"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "memgate: pushed the memgate notes to origin (after merging notes others had pushed; 2 attempts)\n"
    );
    assert_eq!(note_lines(remote.path(), "main").len(), 2);
    assert_eq!(note_lines(clone.path(), "HEAD").len(), 2);
    assert_eq!(lines_of(remote.path(), TIMELINES, "main").len(), 2);
}

#[test]
fn fetch_from_a_remote_without_notes_says_so() {
    let project = project(20);
    let (_remote, _clone) = remote_and_clone(&project);
    let out = project.memgate().args(["notes", "fetch"]).run();
    out.code(0);
    assert_eq!(out.stderr(), "memgate: origin has no memgate notes yet\n");
}

#[test]
fn killed_while_saving_the_store_stays_readable() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: [/bin/true]\n",
    );
    project.git_init();
    // How long a whole run takes, so the kills land around the save at its end.
    let t = Instant::now();
    project.memgate().args(["run", "-q"]).run().code(0);
    let full = t.elapsed();
    let mut state: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delay = full.mul_f64(0.5 + (state % 1000) as f64 / 1000.0 * 0.7);
        let mut child = project
            .memgate()
            .args(["run", "-q"])
            .command()
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let list = git_command(project.dir(), &["notes", "--ref=memgate", "list"])
            .output()
            .unwrap();
        assert!(
            list.status.success(),
            "{}",
            String::from_utf8_lossy(&list.stderr)
        );
        let shown = project.memgate().args(["show"]).run();
        shown.code(0);
        assert!(!shown.stderr().contains("warning"), "{}", shown.stderr());
    }
    let records = note_lines(project.dir(), "HEAD").len();
    assert!((1..=21).contains(&records), "{records}");
}

#[test]
fn bad_records_are_reported_and_the_good_ones_still_read() {
    let project = project(20);
    project.memgate().args(["run", "-q"]).run().code(0);
    let good = note_text(project.dir(), RECORDS, "HEAD");
    let note = format!(
        "{}this is not json\n{{\"schema\": 99, \"anything\": true}}\n",
        good
    );
    set_note(&project, RECORDS, note.as_bytes());
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let short = &head[..12];
    let out = project.memgate().args(["show"]).run();
    out.code(0);
    assert!(
        out.stdout().contains("1 record in git notes"),
        "{}",
        out.stdout()
    );
    let warnings: Vec<_> = out.stderr().lines().map(str::to_owned).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with(&format!(
        "memgate: warning: commit {short}, line 2 of its note in refs/notes/memgate: not a memgate record ("
    )), "{}", warnings[0]);
    assert!(warnings[0].ends_with(&format!(
        "; drop or fix the line with `git notes --ref=memgate edit {short}`"
    )));
    assert_eq!(
        warnings[1],
        format!(
            "memgate: warning: commit {short}, line 3 of its note in refs/notes/memgate: written by a newer memgate (schema 99 > 1): upgrade memgate to read it; drop or fix the line with `git notes --ref=memgate edit {short}`"
        )
    );
    // log still shows the good figure.
    let log = project.memgate().args(["log"]).run();
    log.code(0);
    assert!(log.stdout().contains("MiB"), "{}", log.stdout());
}

#[test]
fn results_of_a_commit_that_is_gone_are_still_shown() {
    let project = project(20);
    let doomed = project.commit("soon gone");
    project.memgate().args(["run", "-q"]).run().code(0);
    git(project.dir(), &["reset", "-q", "--hard", "HEAD~1"]);
    git(
        project.dir(),
        &["reflog", "expire", "--expire=now", "--all"],
    );
    git(project.dir(), &["gc", "-q", "--prune=now"]);
    let out = project.memgate().args(["show", &doomed]).run();
    out.code(0);
    assert!(out.stdout().contains("1 record in git notes"));
    assert!(out.stderr().contains(&format!(
        "commit {doomed} is not in this repository (rewritten history?); its results stay in the notes until `git notes --ref=memgate prune` and `git notes --ref=memgate-timelines prune`"
    )), "{}", out.stderr());
}

#[test]
fn log_walks_first_parents_newest_first() {
    let project = project(20);
    project.memgate().args(["run", "-q"]).run().code(0);
    project.write("size.txt", "40\n");
    project.commit("hold 40");
    project.write("README", "docs only\n");
    project.commit("docs only");
    project.memgate().args(["run", "-q"]).run().code(0);
    let out = project.memgate().args(["log", "hold", "-n", "3"]).run();
    out.code(0);
    let stdout = out.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("peak_memory of hold on testbed auto-"),
        "{}",
        out.stdout()
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["revision", "date", "hold", "subject"]
    );
    assert_eq!(lines.len(), 5, "{}", out.stdout());
    assert!(
        lines[2].contains("MiB") && lines[2].ends_with("docs only"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("·") && lines[3].ends_with("hold 40  (no results)"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].contains("MiB") && lines[4].ends_with("first"),
        "{}",
        lines[4]
    );
    let wall = project
        .memgate()
        .args(["log", "--metric", "wall_time", "-n", "1"])
        .run();
    assert!(wall.stdout().contains(" ms"), "{}", wall.stdout());
}

#[test]
fn log_names_the_testbeds_it_has_when_this_one_has_none() {
    let project = project(20);
    project
        .memgate()
        .args(["run", "-q", "--testbed", "ci-large"])
        .run()
        .code(0);
    let out = project.memgate().args(["log"]).run();
    out.code(0);
    assert!(
        out.stderr()
            .contains("stored testbeds: ci-large (choose one with --testbed NAME)"),
        "{}",
        out.stderr()
    );
    let named = project
        .memgate()
        .args(["log"])
        .env("MEMGATE_TESTBED", "ci-large")
        .run();
    assert!(named.stdout().contains("MiB"), "{}", named.stdout());
}

#[test]
fn the_directory_store_works_without_git() {
    let project = Project::new(CONFIG);
    project.write("size.txt", "20\n");
    let out = project
        .memgate()
        .args(["run", "-q", "--store", "results"])
        .run();
    out.code(2);
    assert_eq!(
        out.stderr(),
        "memgate: error: not in a git repository: pass --label NAME to save under a name in --store, or --no-save\n"
    );
    project
        .memgate()
        .args(["run", "-q", "--store", "results", "--label", "v1.0"])
        .run()
        .code(0);
    let files: Vec<_> = std::fs::read_dir(project.path("results/v1.0"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let shown = project
        .memgate()
        .args(["show", "v1.0", "--store", "results", "--format", "json"])
        .run();
    shown.code(0);
    let records = shown.json();
    assert_eq!(records[0]["revision"], "v1.0");
    // The timelines are kept apart, outside the revision's folder (older memgates read
    // every file there as a record), and come back with `show --format json`.
    assert!(shown.stderr().is_empty(), "{}", shown.stderr());
    assert!(points(&records[0]) > 0);
    let key = records[0]["timelines_key"].as_str().unwrap();
    assert!(
        project
            .path(&format!("results/.timelines/v1.0/{key}.json"))
            .is_file()
    );
    // A damaged file is named, the others still read.
    std::fs::write(
        project.path("results/v1.0/zz-broken.json"),
        "{\"schema\": 1",
    )
    .unwrap();
    let shown = project
        .memgate()
        .args(["show", "v1.0", "--store", "results"])
        .run();
    shown.code(0);
    assert!(
        shown
            .stderr()
            .contains("zz-broken.json: not a memgate record"),
        "{}",
        shown.stderr()
    );
    assert!(shown.stderr().contains("; remove or fix the file"));
}

#[test]
fn a_users_worktree_named_like_memgates_is_left_alone() {
    // Review finding: stale clean-up once removed any worktree named memgate-<number>.
    let project = project(20);
    let theirs = tempfile::tempdir().unwrap();
    let path = theirs.path().join("memgate-4242");
    git(
        project.dir(),
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "userbranch",
            &path.display().to_string(),
        ],
    );
    std::fs::write(path.join("notes.txt"), "uncommitted work\n").unwrap();
    project
        .memgate()
        .args(["run", "-q", "--no-save", "--rev", "HEAD"])
        .run()
        .code(0);
    assert_eq!(
        std::fs::read_to_string(path.join("notes.txt")).unwrap(),
        "uncommitted work\n"
    );
    assert!(git(project.dir(), &["worktree", "list"]).contains("memgate-4242"));
}

#[test]
fn the_worktree_of_a_killed_memgate_is_removed_by_the_next() {
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: slow\n    command: \"echo up > {dir}/started; test -f {dir}/fast || sleep 30\"\n",
    );
    project.git_init();
    // memgate's temporary folders go here, to be counted.
    let temp = tempfile::tempdir().unwrap();
    let tmpdir = temp.path().display().to_string();
    let mut child = project
        .memgate()
        .env("TMPDIR", &tmpdir)
        .args(["run", "-q", "--no-save", "--rev", "HEAD"])
        .command()
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the benchmark has started", || {
        project.path("started").exists()
    });
    child.kill().unwrap(); // SIGKILL: no clean-up of its own
    child.wait().unwrap();
    let count = || {
        git(project.dir(), &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count()
    };
    let left = || std::fs::read_dir(temp.path()).unwrap().count();
    assert_eq!(count(), 2, "the killed memgate's worktree is left");
    assert_eq!(left(), 1, "and its temporary folder");
    // Someone else's folder of a like name, with other content, is left alone.
    std::fs::create_dir(temp.path().join("memgate-4194303-0notours")).unwrap();
    std::fs::write(temp.path().join("memgate-4194303-0notours/keep.txt"), "x").unwrap();
    // So is a worktree of a like name that is not memgate's (review finding) ...
    let other = temp.path().join("memgate-4194302-0worktree");
    std::fs::create_dir_all(other.join("tree")).unwrap();
    std::fs::write(
        other.join("tree/.git"),
        "gitdir: /home/me/repo/.git/worktrees/mine\n",
    )
    .unwrap();
    // ... and a folder a live memgate holds (in another pid namespace, its pid means
    // nothing here): it keeps an flock on it.
    let held = temp.path().join("memgate-4194301-0held");
    std::fs::create_dir(&held).unwrap();
    let lock = std::fs::File::open(&held).unwrap();
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a valid descriptor.
        assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    }
    project.write("fast", "");
    project
        .memgate()
        .env("TMPDIR", &tmpdir)
        .args(["run", "-q", "--no-save", "--rev", "HEAD"])
        .run()
        .code(0);
    assert_eq!(count(), 1);
    // Issue 8: every SIGKILL left an empty /tmp/memgate-<pid>-* folder behind.
    let names: Vec<String> = std::fs::read_dir(temp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(
        names,
        [
            "memgate-4194301-0held",
            "memgate-4194302-0worktree",
            "memgate-4194303-0notours"
        ]
    );
    drop(lock);
}

// Issue 8, item 8: damaged stored data is reported, never skipped without a word, and
// never hangs or fills memory.

#[test]
fn a_note_with_a_nul_byte_is_damaged_not_empty() {
    // A note starting with a NUL byte read as "no results stored", exit 0: libgit2's
    // note message stops at the NUL.
    let project = project(20);
    project.memgate().args(["run", "-q"]).run().code(0);
    let good = note_text(project.dir(), RECORDS, "HEAD");
    set_note(&project, RECORDS, format!("\0{good}").as_bytes());
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let out = project.memgate().args(["show"]).run();
    out.code(2);
    assert!(
        out.stderr().starts_with(&format!(
            "memgate: warning: commit {}, line 1 of its note in refs/notes/memgate: not a memgate record (",
            &head[..12]
        )),
        "{}",
        out.stderr()
    );
    assert!(
        out.stderr()
            .contains("memgate: error: no readable record for")
    );
    // A new run saves beside it; nothing of the old note is lost.
    project.memgate().args(["run", "-q"]).run().code(0);
    let note = note_text(project.dir(), RECORDS, "HEAD");
    assert_eq!(note.lines().count(), 2, "{note}");
    assert!(note.starts_with('\u{fffd}'));
    project.memgate().args(["show"]).run().code(0);
}

#[test]
fn a_note_under_fan_out_directories_is_read() {
    // Git moves notes into directories named by two hex digits of the commit
    // (ab/cd/ef01...) once there are many; memgate, which finds a note's blob itself,
    // looks there as git does.
    let project = project(20);
    project.memgate().args(["run", "-q"]).run().code(0);
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let blob = git(project.dir(), &["notes", "--ref=memgate", "list", "HEAD"]);
    let mktree = |entry: String| {
        let mut child = git_command(project.dir(), &["mktree"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(entry.as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let inner = mktree(format!("100644 blob {}\t{}\n", blob.trim(), &head[4..]));
    let middle = mktree(format!("040000 tree {inner}\t{}\n", &head[2..4]));
    let root = mktree(format!("040000 tree {middle}\t{}\n", &head[..2]));
    let commit = git(project.dir(), &["commit-tree", &root, "-m", "fan-out"]);
    git(
        project.dir(),
        &["update-ref", "refs/notes/memgate", commit.trim()],
    );
    assert_eq!(note_lines(project.dir(), "HEAD").len(), 1, "git reads it");
    let shown = project.memgate().args(["show"]).run();
    shown.code(0);
    assert!(
        shown.stdout().contains("1 record in git notes"),
        "{}",
        shown.stdout()
    );
    let log = project.memgate().args(["log", "-n", "1"]).run();
    assert!(log.stdout().contains("MiB"), "{}", log.stdout());
}

#[test]
fn records_that_are_not_what_they_claim_are_refused() {
    let project = project(20);
    project.memgate().args(["run", "-q"]).run().code(0);
    let good = note_text(project.dir(), RECORDS, "HEAD");
    let record: serde_json::Value = serde_json::from_str(good.trim()).unwrap();
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let other = "0".repeat(40);
    let variant = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut r = record.clone();
        change(&mut r);
        r.to_string()
    };
    let lines = [
        variant(&|r| r["schema"] = 0.into()),
        variant(&|r| r["time"] = "yesterday".into()),
        variant(&|r| r["revision"] = other.clone().into()),
        variant(&|r| r["benchmarks"][0]["metrics"]["peak_memory"]["unit"] = "<img src=x>".into()),
        variant(&|r| r["benchmarks"][0]["benchmark"] = "../x".into()),
        variant(&|r| r["benchmarks"][0]["group"] = "<b>".into()),
    ];
    set_note(&project, RECORDS, lines.join("\n").as_bytes());
    let out = project.memgate().args(["show"]).run();
    out.code(2);
    let short = &head[..12];
    let at = |n: usize| {
        format!("memgate: warning: commit {short}, line {n} of its note in refs/notes/memgate: ")
    };
    let stderr = out.stderr();
    let warnings: Vec<&str> = stderr.lines().collect();
    let expected = [
        format!(
            "{}schema 0 does not exist: not a record memgate wrote",
            at(1)
        ),
        format!(
            "{}its time \"yesterday\" is not an RFC 3339 time like 2026-12-01T12:00:00Z",
            at(2)
        ),
        format!(
            "{}it is stored under {short} but says it was measured on 000000000000: a record copied from elsewhere",
            at(3)
        ),
        format!("{}unit \"<img src=x>\" is not allowed: ", at(4)),
        format!("{}benchmark name \"../x\" is not allowed: ", at(5)),
        format!("{}group name \"<b>\" is not allowed: ", at(6)),
    ];
    for (warning, expected) in warnings.iter().zip(&expected) {
        assert!(
            warning.starts_with(expected.as_str()),
            "{warning}\nnot\n{expected}"
        );
    }
    assert_eq!(warnings.len(), 7, "{warnings:?}");
}

#[test]
fn a_store_directory_reads_only_regular_files_within_a_bound() {
    let project = Project::new(CONFIG);
    project.write("size.txt", "20\n");
    project
        .memgate()
        .args(["run", "-q", "--store", "results", "--label", "v1"])
        .run()
        .code(0);
    let dir = project.path("results/v1");
    std::fs::write(dir.join("latin1.json"), b"{\"schema\": 1, \"caf\xe9\": 1}").unwrap();
    std::fs::create_dir(dir.join("x.json")).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(dir.join("fifo.json"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.json")).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    std::fs::write(dir.join(".tmpAbC123"), "{\"sch").unwrap();
    // Before: show hung on the FIFO, read /dev/zero until memory ran out, and skipped the
    // rest without a word.
    let out = project
        .memgate()
        .args(["show", "v1", "--store", "results"])
        .run_bounded();
    out.code(0);
    assert!(
        out.stdout().contains("1 record in directory"),
        "{}",
        out.stdout()
    );
    let stderr = out.stderr();
    for (file, what) in [
        (
            ".tmpAbC123",
            "an unfinished record, left by a memgate stopped while saving; remove the file",
        ),
        (
            "fifo.json",
            "not read: it is a FIFO, not a regular file; remove or fix the file",
        ),
        (
            "latin1.json",
            "not UTF-8 text: not a record; remove or fix the file",
        ),
        (
            "notes.txt",
            "not a record (records end in .json); remove it",
        ),
        (
            "x.json",
            "not read: it is a directory, not a regular file; remove or fix the file",
        ),
        (
            "zero.json",
            "not read: it is a device, not a regular file; remove or fix the file",
        ),
    ] {
        let line = format!("memgate: warning: {}: {what}", dir.join(file).display());
        assert!(stderr.contains(&line), "{line}\nnot in\n{stderr}");
    }
}

#[test]
fn a_remote_is_never_an_option_to_git() {
    // Issue 8: `notes fetch -- '--upload-pack=touch /tmp/x'` ran the command.
    let project = project(20);
    let marker = project.path("pwned");
    let evil = format!("--upload-pack=touch {}", marker.display());
    for command in ["fetch", "push"] {
        let out = project
            .memgate()
            .args(["notes", command, "--", &evil])
            .run();
        out.code(2);
        assert_eq!(
            out.stderr(),
            format!(
                "memgate: error: {evil:?} is not a remote: give a remote's name (like origin), a URL or a path\n"
            )
        );
    }
    assert!(!marker.exists());
}

#[test]
fn a_bad_label_is_refused_before_anything_runs() {
    // Issue 8: `--store D run --label ..` wrote into D's parent; in review, a bad label
    // was still refused only after every benchmark had run.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: touch ran.txt\n",
    );
    let out = project
        .memgate()
        .args(["run", "-q", "--store", "results", "--label", ".."])
        .run();
    out.code(2);
    assert!(
        out.stderr().contains("label \"..\" is not allowed"),
        "{}",
        out.stderr()
    );
    assert!(!project.path("ran.txt").exists());
    assert!(!project.path("results").exists());
}

#[test]
fn a_commit_from_after_the_year_9999_is_shown() {
    // Found in review: log and show panicked on a commit dated beyond what RFC 3339
    // writes.
    let project = project(20);
    let tree = git(project.dir(), &["rev-parse", "HEAD^{tree}"]);
    let parent = git(project.dir(), &["rev-parse", "HEAD"]);
    let future = git_command(
        project.dir(),
        &[
            "commit-tree",
            tree.trim(),
            "-p",
            parent.trim(),
            "-m",
            "from the future",
        ],
    )
    .env("GIT_COMMITTER_DATE", "@300000000000 +0000")
    .env("GIT_AUTHOR_DATE", "@300000000000 +0000")
    .output()
    .unwrap();
    let future = String::from_utf8_lossy(&future.stdout).trim().to_owned();
    let log = project.memgate().args(["log", "--from", &future]).run();
    log.code(0);
    assert!(log.stdout().contains("after 9999"), "{}", log.stdout());
    project.memgate().args(["show", &future]).run().code(0);
}

#[test]
fn waiting_for_the_store_lock_gives_way_to_ctrl_c() {
    // Found in review: memgate waited for another process's lock on the store through
    // SIGINT and SIGTERM, then saved and exited 0.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: touch ran.txt\n",
    );
    std::fs::create_dir(project.path("results")).unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg(project.path("results/.lock"))
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    wait_until("the lock is held", || {
        project.path("results/.lock").exists()
    });
    let child = project
        .memgate()
        .args(["run", "-q", "--store", "results", "--label", "x"])
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lock = std::fs::canonicalize(project.path("results/.lock")).unwrap();
    let fds = format!("/proc/{}/fd", child.id());
    wait_until("memgate waits for the lock", || {
        std::fs::read_dir(&fds).is_ok_and(|mut fds| {
            fds.any(|fd| fd.is_ok_and(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == lock)))
        })
    });
    assert!(project.path("ran.txt").exists(), "the benchmark ran first");
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut child = child;
    let started = Instant::now();
    wait_until("memgate ends", || {
        child.try_wait().unwrap().is_some() || started.elapsed().as_secs() > 15
    });
    let _ = child.kill();
    let status = child.wait().unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(status.code(), Some(130));
    let saved = std::fs::read_dir(project.path("results/x"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(saved, 0, "nothing saved");
}

// Issue 9: a record's timelines are kept apart from its figures, which `log` and
// `compare` read along a thousand commits without them.

#[test]
fn timelines_are_stored_apart_and_shown_with_the_runs() {
    let project = project(20);
    project.memgate().args(["run", "-q"]).run().code(0);
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let record = &note_lines(project.dir(), "HEAD")[0];
    let key = record["timelines_key"].as_str().expect("a key");
    // Each run keeps an empty timeline, which older memgates require.
    for run in record["benchmarks"][0]["runs"].as_array().unwrap() {
        assert_eq!(run["timeline"], serde_json::json!({"points": []}));
    }
    let apart = lines_of(project.dir(), TIMELINES, "HEAD");
    assert_eq!(apart.len(), 1);
    assert_eq!(apart[0]["key"], key);
    assert_eq!(apart[0]["revision"], head);
    assert_eq!(apart[0]["benchmarks"][0]["benchmark"], "hold");
    let stored = apart[0]["benchmarks"][0]["runs"].as_array().unwrap();
    assert_eq!(stored.len(), 2);
    // `show --format json` puts them back in their runs.
    let shown = project.memgate().args(["show", "--format", "json"]).run();
    shown.code(0);
    assert_eq!(shown.stderr(), "");
    let records = shown.json();
    assert!(points(&records[0]) > 0);
    let runs = records[0]["benchmarks"][0]["runs"].as_array().unwrap();
    for (run, timeline) in runs.iter().zip(stored) {
        assert_eq!(&run["timeline"], timeline);
    }
}

/// HEAD of a project whose note is the golden one of memgate 0.1.0, timelines inline.
fn golden_project() -> Project {
    let project = project(20);
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let golden = include_str!("../fixtures/note-schema-1-inline-timelines.jsonl")
        .replace("0123456789abcdef0123456789abcdef01234567", &head);
    set_note(&project, RECORDS, golden.as_bytes());
    project
}

#[test]
fn records_stored_with_their_timelines_inline_still_read() {
    let project = golden_project();
    let log = project.memgate().args(["log", "--testbed", "golden"]).run();
    log.code(0);
    assert_eq!(log.stderr(), "");
    let stdout = log.stdout();
    let row = stdout.lines().nth(2).unwrap();
    assert_eq!(
        row.split_whitespace().skip(2).take(3).collect::<Vec<_>>(),
        ["9.28", "MiB", "failed"],
        "{stdout}"
    );
    let shown = project.memgate().args(["show", "--format", "json"]).run();
    shown.code(0);
    assert_eq!(shown.stderr(), "");
    let records = shown.json();
    assert_eq!(records.as_array().unwrap().len(), 2);
    for record in records.as_array().unwrap() {
        for run in record["benchmarks"][0]["runs"].as_array().unwrap() {
            assert!(run["timeline"]["points"].as_array().unwrap().len() > 5);
        }
    }
    // The benchmark that exited 3 makes the verdict a failure; the other is compared.
    let compared = project
        .memgate()
        .args(["compare", "HEAD", "HEAD", "--testbed", "golden"])
        .args(["--format", "json"])
        .run();
    compared.code(3);
    assert_eq!(compared.stderr(), "");
    let report = compared.json();
    let verdicts: Vec<(&str, &str)> = report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["metric"].as_str().unwrap(),
                c["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(verdicts.contains(&("peak_memory", "pass")), "{verdicts:?}");
}

#[test]
fn a_damaged_timelines_note_is_named_and_breaks_nothing() {
    let project = project(20);
    project.memgate().args(["run", "-q"]).run().code(0);
    let head = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    let short = &head[..12];
    let record = &note_lines(project.dir(), "HEAD")[0];
    set_note(
        &project,
        TIMELINES,
        b"{\"schema\": 1, \"revision\": \"x\n\0garbage\n",
    );
    // log, compare and show's table do not read timelines.
    for args in [&["log"][..], &["compare", "HEAD", "HEAD"], &["show"]] {
        let out = project.memgate().args(args).run();
        out.code(0);
        assert_eq!(out.stderr(), "", "{args:?}");
    }
    let missing = format!(
        "memgate: warning: commit {short}: the timelines of its record of {} on testbed {} (key {}) are not in refs/notes/memgate-timelines; fetch them with `memgate notes fetch` if the record was pushed from elsewhere; its figures are complete",
        record["time"].as_str().unwrap(),
        record["testbed"]["id"].as_str().unwrap(),
        record["timelines_key"].as_str().unwrap(),
    );
    let shown = project.memgate().args(["show", "--format", "json"]).run();
    shown.code(0);
    let stderr = shown.stderr();
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 3, "{stderr}");
    let fix =
        format!("; drop or fix the line with `git notes --ref=memgate-timelines edit {short}`");
    for (n, warning) in warnings[..2].iter().enumerate() {
        let at = format!(
            "memgate: warning: commit {short}, line {} of its note in refs/notes/memgate-timelines: not memgate timelines (",
            n + 1
        );
        assert!(
            warning.starts_with(&at) && warning.ends_with(&fix),
            "{warning}"
        );
    }
    assert_eq!(warnings[2], missing);
    // The record is shown, without its timelines.
    let records = shown.json();
    assert_eq!(
        records[0]["benchmarks"][0]["runs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(points(&records[0]), 0);
    // Without the note at all, only the record's own message.
    git(project.dir(), &["notes", TIMELINES, "remove", "HEAD"]);
    let shown = project.memgate().args(["show", "--format", "json"]).run();
    shown.code(0);
    assert_eq!(shown.stderr(), format!("{missing}\n"));
}

#[test]
fn a_remote_without_timelines_is_fetched_from_and_pushed_to() {
    // An older memgate pushed the records alone.
    let project = project(20);
    let (remote, clone) = remote_and_clone(&project);
    project.memgate().args(["run", "-q"]).run().code(0);
    git(
        project.dir(),
        &[
            "push",
            "-q",
            "origin",
            "refs/notes/memgate:refs/notes/memgate",
        ],
    );
    let (_, fetched) = in_clone(&project, &clone, &["notes", "fetch"]);
    assert_eq!(fetched, "memgate: merged the memgate notes of origin\n");
    let (_, stderr) = in_clone(&project, &clone, &["show", "--format", "json"]);
    assert!(
        stderr.contains(
            "are not in refs/notes/memgate-timelines; fetch them with `memgate notes fetch`"
        ),
        "{stderr}"
    );
    // A newer memgate pushes them too; then they are fetched.
    project.memgate().args(["notes", "push"]).run().code(0);
    assert_eq!(lines_of(remote.path(), TIMELINES, "main").len(), 1);
    in_clone(&project, &clone, &["notes", "fetch"]);
    let (stdout, stderr) = in_clone(&project, &clone, &["show", "--format", "json"]);
    assert_eq!(stderr, "");
    let records: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(points(&records[0]) > 0);
}
