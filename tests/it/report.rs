//! The HTML report end to end: what `run` and `check` leave in `.memgate/report/`, what
//! `memgate report` draws from stored results, that every chart file decodes at its size,
//! that the page needs nothing from anywhere, and that neither an earlier report nor a
//! planted link survives or is followed. Time thresholds are widened: nothing here
//! depends on durations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::{Outcome, Project, git};

/// Two benchmarks of clearly different memory; `big`'s size is read from `size.txt`, so a
/// commit can change it.
const CONFIG: &str = r#"
version: 1
defaults: {repeat: 3, warmup: 0}
thresholds:
  wall_time: {max_increase: 500%, min_change: 10s}
  cpu_time: {max_increase: 500%, min_change: 10s}
benchmarks:
  - name: small
    command: ["{shapes}", hold, "8", "30"]
  - name: big
    command: "{shapes} hold $(cat size.txt) 30"
"#;

/// A git project of [`CONFIG`], `big` holding `size` MiB, everything committed.
fn project(size: u32) -> Project {
    Project::sized(CONFIG, size)
}

fn report_dir(project: &Project) -> PathBuf {
    project.path(".memgate/report")
}

/// The names in `dir`, sorted.
#[track_caller]
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The path on memgate's `memgate: report: PATH` line, if any.
fn said_path(stderr: &str) -> Option<PathBuf> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("memgate: report: "))
        .map(PathBuf::from)
}

/// Decodes a PNG whole and returns its width and height.
#[track_caller]
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()));
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader
        .next_frame(&mut pixels)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()));
    (frame.width, frame.height)
}

/// An SVG file of memgate's: one document of the given size, its tags balanced.
#[track_caller]
fn assert_svg(path: &Path, (width, height): (u32, u32)) {
    let svg = std::fs::read_to_string(path).unwrap();
    let head = format!("<svg width=\"{width}\" height=\"{height}\" ");
    assert!(
        svg.starts_with(&head),
        "{} starts {:?}",
        path.display(),
        &svg[..svg.len().min(80)]
    );
    assert_eq!(
        svg.matches("<svg").count(),
        svg.matches("</svg>").count(),
        "{}",
        path.display()
    );
    assert!(svg.trim_end().ends_with("</svg>"), "{}", path.display());
}

/// The size a chart file is drawn at, by its kind (from its name), `metrics` being the
/// panels of its distribution.
#[track_caller]
fn chart_size(name: &str, metrics: usize) -> (u32, u32) {
    let stem = name.rsplit_once('.').unwrap().0;
    if stem.ends_with("-timeline") {
        (960, 420)
    } else if stem.ends_with("-distribution") {
        (960, 36 + 112 * metrics as u32)
    } else if stem.ends_with("-history") || stem.contains("-history-") {
        (960, 360)
    } else {
        panic!("a chart of no known kind: {name}")
    }
}

/// Every chart in `dir` decodes (PNG) or parses (SVG) at its size; `metrics` gives the
/// distribution panels of each file's benchmark (the name's part after `NN-`).
#[track_caller]
fn assert_charts(dir: &Path, metrics: &BTreeMap<&str, usize>) {
    for name in names(dir) {
        if name == "index.html" {
            continue;
        }
        let benchmark = metrics
            .keys()
            .find(|b| name[3..].starts_with(&format!("{b}-")))
            .map_or(0, |b| metrics[b]);
        let size = chart_size(&name, benchmark);
        let path = dir.join(&name);
        if name.ends_with(".png") {
            assert_eq!(png_size(&path), size, "{name}");
        } else {
            assert!(name.ends_with(".svg"), "{name}");
            assert_svg(&path, size);
        }
    }
}

/// A page that opens from an artifact or an email: nothing fetched, nothing run.
#[track_caller]
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "http://", "https://", "<script", "<link", "src=", "<iframe", "<img",
    ] {
        assert!(!lower.contains(bad), "index.html holds {bad:?}");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
}

/// The tags of an HTML page, `<` to `>`: text is escaped, so every raw `<` opens one.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|rest| rest.split_once('>').map_or(rest, |(tag, _)| tag))
        .collect()
}

/// How many metrics each benchmark of a run's JSON has.
fn metric_counts(results: &serde_json::Value) -> BTreeMap<String, usize> {
    results["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["benchmark"].as_str().unwrap().to_owned(),
                b["metrics"].as_object().unwrap().len(),
            )
        })
        .collect()
}

#[test]
fn a_run_writes_a_self_contained_report_with_every_chart_beside_it() {
    let project = project(24);
    let out = project
        .memgate()
        .args(["run", "--format", "json", "--repeat", "3"])
        .run();
    out.code(0);
    let dir = report_dir(&project);
    let index = said_path(&out.stderr()).expect("stderr names the report");
    assert_eq!(
        index.canonicalize().unwrap(),
        dir.join("index.html").canonicalize().unwrap()
    );
    // One revision stored: no history yet; two benchmarks: the overview.
    assert_eq!(
        names(&dir),
        [
            "00-every-benchmark-timeline.png",
            "00-every-benchmark-timeline.svg",
            "01-small-distribution.png",
            "01-small-distribution.svg",
            "01-small-timeline.png",
            "01-small-timeline.svg",
            "02-big-distribution.png",
            "02-big-distribution.svg",
            "02-big-timeline.png",
            "02-big-timeline.svg",
            "index.html",
        ]
    );
    let counts = metric_counts(&out.json());
    assert_eq!(counts["small"], 4, "the four built-in metrics");
    let metrics = counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_charts(&dir, &metrics);

    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert_self_contained(&html);
    for label in ["small", "big"] {
        assert!(
            html.contains(&format!(
                "<h2>{label} <span class=\"badge ok\">ok</span></h2>"
            )),
            "no section of {label}"
        );
    }
    // Every chart inline: the overview and each benchmark's two.
    assert_eq!(html.matches("<svg role=\"img\"").count(), 5);
    assert!(html.contains("<th>status</th>") && !html.contains("<th>verdict</th>"));
}

#[test]
fn no_report_writes_nothing_and_quiet_writes_it_without_a_word() {
    let project = project(8);
    let out = project
        .memgate()
        .args(["run", "--repeat", "1", "--no-report"])
        .run();
    out.code(0);
    assert!(!report_dir(&project).exists());
    assert!(said_path(&out.stderr()).is_none(), "{}", out.stderr());

    let out = project.memgate().args(["run", "--repeat", "1", "-q"]).run();
    out.code(0);
    assert!(report_dir(&project).join("index.html").is_file());
    assert!(report_dir(&project).join("01-small-timeline.png").is_file());
    for text in [out.stdout(), out.stderr()] {
        assert!(!text.contains("index.html"), "{text}");
    }
}

#[test]
fn a_new_run_leaves_nothing_of_the_earlier_report_and_follows_no_link() {
    let project = project(8);
    project
        .memgate()
        .args(["run", "--repeat", "1", "-q"])
        .run()
        .code(0);
    let dir = report_dir(&project);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), "keep").unwrap();
    std::fs::write(outside.path().join("victim.html"), "mine").unwrap();
    std::fs::write(dir.join("stale.txt"), "from before").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.join("link")).unwrap();
    // A link where memgate writes a file of its own, to a file that is not memgate's.
    std::fs::remove_file(dir.join("index.html")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("victim.html"), dir.join("index.html")).unwrap();
    // One benchmark this time: the other's charts are of an earlier report too.
    project
        .memgate()
        .args(["run", "--repeat", "1", "-q", "small"])
        .run()
        .code(0);

    let left = names(&dir);
    assert!(
        left.iter()
            .all(|n| n == "index.html" || n.starts_with("01-small-")),
        "{left:?}"
    );
    assert!(
        std::fs::symlink_metadata(dir.join("index.html"))
            .unwrap()
            .is_file()
    );
    assert!(
        std::fs::read_to_string(dir.join("index.html"))
            .unwrap()
            .contains("<h2>small ")
    );
    assert_eq!(names(outside.path()), ["keep.txt", "victim.html"]);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("keep.txt")).unwrap(),
        "keep"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("victim.html")).unwrap(),
        "mine"
    );
}

#[test]
fn a_link_in_place_of_the_report_folder_is_removed_not_followed() {
    let project = project(8);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious.txt"), "precious").unwrap();
    std::fs::create_dir(project.path(".memgate")).unwrap();
    std::os::unix::fs::symlink(outside.path(), report_dir(&project)).unwrap();

    let out = project.memgate().args(["run", "--repeat", "1"]).run();
    out.code(0);
    let stderr = out.stderr();
    assert!(stderr.contains("memgate: saved under "), "{stderr}");
    // The link went, not what it led to; the report is in a folder of memgate's own.
    let index = said_path(&stderr).unwrap_or_else(|| panic!("{stderr}"));
    assert!(index.is_file(), "{stderr}");
    let meta = std::fs::symlink_metadata(report_dir(&project)).unwrap();
    assert!(meta.is_dir() && !meta.file_type().is_symlink());
    assert_eq!(names(outside.path()), ["precious.txt"]);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("precious.txt")).unwrap(),
        "precious"
    );
}

#[test]
fn memgates_folder_linked_on_purpose_is_used_and_one_swapped_by_a_benchmark_is_not() {
    // Linked before memgate starts (a bigger disk, say): the report goes there.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: [/bin/true]\n",
    );
    let disk = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(disk.path(), project.path(".memgate")).unwrap();
    let out = project.memgate().args(["run", "--no-save"]).run();
    out.code(0);
    assert!(!out.stderr().contains("warning"), "{}", out.stderr());
    assert!(disk.path().join("report/index.html").is_file());

    // Swapped for a link while the benchmark ran: memgate empties nothing there.
    let project = Project::new(
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nbenchmarks:\n  - name: t\n    command: [sh, -c, 'mv .memgate .was && ln -s \"$OUTSIDE\" .memgate']\n",
    );
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(outside.path().join("report")).unwrap();
    std::fs::write(outside.path().join("report/keep.txt"), "keep").unwrap();
    std::fs::write(outside.path().join("keep.txt"), "keep").unwrap();
    std::fs::create_dir(project.path(".memgate")).unwrap();
    let out = project
        .memgate()
        .args(["run", "--no-save", "-q"])
        .env("OUTSIDE", outside.path().to_str().unwrap())
        .run();
    out.code(0);
    assert!(
        out.stderr().contains("memgate: warning: no HTML report: ")
            && out
                .stderr()
                .contains("was removed, replaced by a link or moved"),
        "{}",
        out.stderr()
    );
    // The benchmark did put its link there.
    assert_eq!(
        std::fs::read_link(project.path(".memgate")).unwrap(),
        outside.path()
    );
    assert_eq!(names(outside.path()), ["keep.txt", "report"]);
    assert_eq!(names(&outside.path().join("report")), ["keep.txt"]);
}

/// The stdout of `memgate report ARGS` (exit 0): the page's path, which exists.
#[track_caller]
fn report(project: &Project, args: &[&str]) -> PathBuf {
    let out = project.memgate().args(["report"]).args(args).run();
    out.code(0);
    let stdout = out.stdout();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let index = PathBuf::from(stdout.trim_end());
    assert!(index.is_file(), "{}", index.display());
    assert_eq!(index.file_name().unwrap(), "index.html");
    index
}

#[test]
fn report_draws_a_stored_run_or_comparison() {
    let project = project(8);
    let base = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    // Five runs a side: enough for the 8 → 40 MiB step to be significant.
    project
        .memgate()
        .args(["run", "--repeat", "5", "-q"])
        .run()
        .code(0);
    project.write("size.txt", "40\n");
    let head = project.commit("big holds five times as much");
    project
        .memgate()
        .args(["run", "--repeat", "5", "-q"])
        .run()
        .code(0);

    // HEAD's run, with the history of both stored revisions.
    let index = report(&project, &[]);
    let dir = index.parent().unwrap();
    assert_eq!(
        dir.canonicalize().unwrap(),
        report_dir(&project).canonicalize().unwrap()
    );
    let files = names(dir);
    for name in [
        "01-small-history.svg",
        "01-small-history.png",
        "02-big-history.svg",
    ] {
        assert!(files.iter().any(|f| f == name), "no {name} in {files:?}");
    }
    assert_charts(dir, &BTreeMap::from([("small", 4), ("big", 4)]));
    let html = std::fs::read_to_string(&index).unwrap();
    assert_self_contained(&html);
    assert!(html.contains(&format!("<title>memgate: {}</title>", &head[..12])));
    assert!(!html.contains("<th>verdict</th>"));

    // BASE HEAD: a comparison, with the verdicts `compare` gives.
    let compared = project
        .memgate()
        .args(["compare", &base, &head, "--format", "json"])
        .run();
    compared.code(1);
    let index = report(&project, &[&base, &head]);
    let html = std::fs::read_to_string(&index).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("<th>verdict</th>"));
    assert!(html.contains(&format!(
        "<title>memgate: {} → {}</title>",
        &base[..12],
        &head[..12]
    )));
    let comparisons = compared.json()["comparisons"].as_array().unwrap().clone();
    assert_eq!(comparisons.len(), 8, "two benchmarks × four metrics");
    // The JSON carries the regressed benchmark's timelines, for `memgate comment`'s
    // chart: base and head on one grid, each with the median peak the table gives.
    let timelines = compared.json()["timelines"].as_array().unwrap().clone();
    assert_eq!(timelines.len(), 1, "{timelines:?}");
    assert_eq!(timelines[0]["benchmark"], "big");
    let grid = &timelines[0]["grid"];
    for side in ["base", "head"] {
        assert_eq!(grid[side]["memory"].as_array().unwrap().len(), 40);
        let peak = grid[side]["peak"].as_f64().unwrap();
        let median = comparisons
            .iter()
            .find(|c| c["benchmark"] == "big" && c["metric"] == "peak_memory")
            .unwrap()[side]["median"]
            .as_f64()
            .unwrap();
        assert_eq!(peak, median, "{side}");
    }
    let mut per_benchmark: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &comparisons {
        let verdict = c["verdict"].as_str().unwrap();
        let row = format!(
            "<tr><td>{}</td><td>{}</td>",
            c["benchmark"].as_str().unwrap(),
            c["metric"].as_str().unwrap()
        );
        let line = html
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("no row {row}"));
        assert!(
            line.ends_with(&format!("<td class=\"{verdict}\">{verdict}</td></tr>")),
            "{line}"
        );
        *per_benchmark
            .entry(c["benchmark"].as_str().unwrap())
            .or_default() += 1;
    }
    assert!(
        html.contains("<tr><td>big</td><td>peak_memory</td>")
            && html.contains("<td class=\"regression\">regression</td></tr>")
    );
    // A distribution panel for each comparison of the benchmark.
    assert_charts(index.parent().unwrap(), &per_benchmark);

    // --output: there, not in .memgate/report/.
    let out_dir = project.path("elsewhere");
    let index = report(
        &project,
        &[&base, &head, "--output", out_dir.to_str().unwrap()],
    );
    assert_eq!(
        index.canonicalize().unwrap(),
        out_dir.join("index.html").canonicalize().unwrap()
    );
    assert!(out_dir.join("02-big-distribution.png").is_file());

    // -- BENCH: that benchmark alone.
    let index = report(&project, &["--", "small"]);
    let files = names(index.parent().unwrap());
    assert!(
        files
            .iter()
            .all(|f| f == "index.html" || f.starts_with("01-small-")),
        "{files:?}"
    );
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(html.contains("<h2>small "));
    assert!(!html.contains("<h2>big ") && !html.contains("<td>big</td>"));

    // An unknown benchmark, and revisions without results: usage errors that say which.
    let out = project.memgate().args(["report", "--", "nosuch"]).run();
    out.code(2);
    assert!(
        out.stderr()
            .contains("no benchmark \"nosuch\" in these results"),
        "{}",
        out.stderr()
    );
    let bare = project.commit("nothing measured here");
    for args in [vec![], vec![base.as_str(), bare.as_str()]] {
        let out = project.memgate().args(["report"]).args(&args).run();
        out.code(2);
        let stderr = out.stderr();
        assert!(
            stderr.contains(&format!("no results for {}", &bare[..12]))
                && stderr.contains("run `memgate run` there first"),
            "{stderr}"
        );
        assert!(out.stdout().is_empty(), "{}", out.stdout());
    }
}

#[test]
fn benchmark_text_reaches_the_page_escaped() {
    // Names are checked where they enter: markup cannot name a benchmark.
    let refused =
        Project::new("version: 1\nbenchmarks:\n  - name: \"<b>&'\"\n    command: [/bin/true]\n");
    let out = refused.memgate().args(["run", "--repeat", "1"]).run();
    out.code(2);
    assert!(out.stderr().contains("is not allowed"), "{}", out.stderr());
    assert!(!refused.path(".memgate/report").exists());

    // What does reach the page: messages quoting a refused metric name and unit, and
    // the tail of a failed benchmark's stderr.
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 1, warmup: 0}
benchmarks:
  - name: metric
    command: ["sh", "{dir}/metric.sh"]
  - name: unit
    command: ["sh", "{dir}/unit.sh"]
  - name: noisy
    command: ["sh", "{dir}/noisy.sh"]
"#,
    );
    project.write(
        "metric.sh",
        "echo '{\"metric\": \"<script>\", \"value\": 1, \"unit\": \"\"}' >> \"$MEMGATE_METRICS\"\n",
    );
    project.write(
        "unit.sh",
        "echo '{\"metric\": \"score\", \"value\": 1, \"unit\": \"<b>https://evil.example</b>\"}' >> \"$MEMGATE_METRICS\"\n",
    );
    project.write(
        "noisy.sh",
        "echo '<script>alert(1)</script><a href=\"https://evil.example/x\">x</a> & \"q\"' >&2\nexit 1\n",
    );
    let out = project
        .memgate()
        .args(["run", "--no-save", "--repeat", "1"])
        .run();
    out.code(3);
    let dir = report_dir(&project);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for escaped in [
        "metric name &quot;&lt;script&gt;&quot; is not allowed",
        "unit &quot;&lt;b&gt;https://evil.example&lt;/b&gt;&quot; is not allowed",
        "<pre>&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href=&quot;https://evil.example/x&quot;&gt;x&lt;/a&gt; &amp; &quot;q&quot;</pre>",
    ] {
        assert!(html.contains(escaped), "no {escaped:?} in the page");
    }
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script") && !lower.contains("<b>"));
    // The address is shown as text, never made a link or a source: no tag holds it.
    for tag in tags(&html) {
        let tag = tag.to_lowercase();
        assert!(
            !tag.contains("evil") && !tag.contains("http"),
            "a tag holds benchmark text: <{tag}>"
        );
    }
    for name in names(&dir) {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            name == "index.html" || !text.contains("evil"),
            "{name} holds benchmark text"
        );
    }
}

/// The `NAME=VALUE` lines of a GitHub output file.
fn outputs(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn check_in_actions_names_the_report_in_its_step_outputs() {
    let project = project(8);
    let base = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    git(project.dir(), &["checkout", "-q", "-b", "feature"]);
    project.write("README.md", "# Only words changed\n");
    project.commit("docs");
    let step = tempfile::tempdir().unwrap();
    let output = step.path().join("output.txt");
    let out: Outcome = project
        .memgate()
        .args(["check", "--base", &base, "--repeat", "3", "-q"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", output.to_str().unwrap())
        .env(
            "GITHUB_STEP_SUMMARY",
            step.path().join("summary.md").to_str().unwrap(),
        )
        .run();
    out.code(0);
    let written = outputs(&std::fs::read_to_string(&output).unwrap());
    let html = PathBuf::from(&written["report-html"]);
    let dir = PathBuf::from(&written["report-dir"]);
    assert!(html.is_file(), "{}", html.display());
    assert!(dir.is_dir(), "{}", dir.display());
    assert_eq!(html.parent().unwrap(), dir);
    assert_eq!(
        dir.canonicalize().unwrap(),
        report_dir(&project).canonicalize().unwrap()
    );
    assert!(dir.join("01-small-timeline.svg").is_file());
    assert!(dir.join("02-big-distribution.png").is_file());
    let page = std::fs::read_to_string(&html).unwrap();
    assert_self_contained(&page);
    assert!(page.contains("<th>verdict</th>"));
    assert_eq!(written["verdict"], "pass");
}

#[test]
fn the_history_of_a_run_ends_with_what_was_just_measured() {
    let project = project(8);
    let run = |args: &[&str]| {
        project
            .memgate()
            .args(["run", "--repeat", "1", "-q"])
            .args(args)
            .run()
            .code(0);
    };
    run(&[]);
    project.write("size.txt", "16\n");
    project.commit("big holds twice as much");
    run(&[]);
    // Uncommitted, not saved: HEAD has a clean record of 16 MiB, the run measures 48.
    project.write("size.txt", "48\n");
    run(&["--no-save"]);
    let svg = std::fs::read_to_string(report_dir(&project).join("02-big-history.svg")).unwrap();
    // The head is the dirty run just measured (hollow), on an axis that reaches it.
    assert!(
        svg.contains("dirty: measured with uncommitted changes"),
        "{svg}"
    );
    assert!(svg.contains(">\nhead\n<"), "{svg}");
    assert!(svg.contains(">\n40\n<"), "an axis up to 48 MiB: {svg}");
}

#[test]
fn check_writes_no_report_through_a_link_a_benchmark_put_in_memgates_place() {
    let project = Project::new(
        // Only the head's run (the last) finds a .memgate to swap: the base runs in a
        // worktree of its own.
        // The head's run does more than the base's: thresholds wide enough that it passes.
        "version: 1\ndefaults: {repeat: 1, warmup: 0}\nthresholds:\n  default: {max_increase: 1000%}\n  peak_memory: {max_increase: 1000%, min_change: 1GiB}\n  max_rss: {max_increase: 1000%, min_change: 1GiB}\n  wall_time: {max_increase: 1000%, min_change: 60s}\n  cpu_time: {max_increase: 1000%, min_change: 60s}\nbenchmarks:\n  - name: t\n    command: [sh, -c, 'if [ -d .memgate ] && [ ! -L .memgate ]; then mv .memgate .was && ln -s \"$OUTSIDE\" .memgate; fi']\n",
    );
    project.git_init();
    project.commit("a benchmark that swaps memgate's folder");
    let base = git(project.dir(), &["rev-parse", "HEAD"]).trim().to_owned();
    project.write("README.md", "# Only words changed\n");
    project.commit("docs");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), "keep").unwrap();
    std::fs::create_dir(project.path(".memgate")).unwrap();
    let step = tempfile::tempdir().unwrap();
    let output = step.path().join("output.txt");
    let out = project
        .memgate()
        .args(["check", "--base", &base, "--rerun-base", "-q"])
        .env("OUTSIDE", outside.path().to_str().unwrap())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", output.to_str().unwrap())
        .env(
            "GITHUB_STEP_SUMMARY",
            step.path().join("summary.md").to_str().unwrap(),
        )
        .run();
    out.code(0);
    assert_eq!(
        std::fs::read_link(project.path(".memgate")).unwrap(),
        outside.path()
    );
    // Nothing written through the link: no report, no .gitignore; the verdict stands.
    assert_eq!(names(outside.path()), ["keep.txt"]);
    let written = outputs(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(written["verdict"], "pass");
    for key in ["report", "report-json", "report-html", "report-dir"] {
        assert!(!written.contains_key(key), "{key} in {written:?}");
    }
    assert!(
        out.stderr().contains("no report.md or report.json"),
        "{}",
        out.stderr()
    );
}
