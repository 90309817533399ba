use super::*;
use crate::diagnose::explain::Diagnosis;
use crate::diagnose::growth::Growth;
use crate::diagnose::python::{CycleType, GcStats, PythonFindings, PythonProcess, Site};
use crate::diagnose::tree::{Breakdown, Kinds, ProcessShare};
use crate::measure::units::{Bytes, Seconds};

const MIB: u64 = 1 << 20;

fn side(peak: u64, frames: u64, command: &str) -> Diagnosis {
    Diagnosis {
        ending: "ok".into(),
        peak_memory: Bytes(peak * MIB),
        wall_time: Seconds(2.5),
        at_peak: Some(Breakdown {
            at: Seconds(2.1),
            total: Bytes(peak * MIB),
            processes: vec![
                ProcessShare {
                    pid: 100,
                    ppid: 1,
                    command: command.into(),
                    pss: Bytes((peak - 2) * MIB),
                    high_water_mark: Bytes((peak - 1) * MIB),
                },
                ProcessShare {
                    pid: 101,
                    ppid: 100,
                    command: "sh -c gzip -d".into(),
                    pss: Bytes(2 * MIB),
                    high_water_mark: Bytes(3 * MIB),
                },
            ],
            kinds: Kinds {
                anonymous: Bytes((peak - 12) * MIB),
                file: Bytes(12 * MIB),
                shared: Bytes(0),
            },
            ..Breakdown::default()
        }),
        growth: Some(Growth {
            bytes_per_second: -1.0e6,
            over: Seconds(1.2),
            r_squared: 0.4,
            still_growing: false,
        }),
        python: Some(PythonFindings {
            processes: vec![PythonProcess {
                pid: 100,
                command: "pipeline.py --variant x".into(),
                python: "3.11.7".into(),
                event: "exit".into(),
            }],
            gc: GcStats {
                collections: [120, 10, 2],
                time_s: 0.25,
                ..GcStats::default()
            },
            cycles: (frames > 0)
                .then(|| CycleType {
                    type_name: "__main__.Frame".into(),
                    count: 4,
                    bytes: Bytes(frames * MIB),
                    cycle_text: Some("Frame.ww -> StrongWW._frame_ref -> Frame".into()),
                })
                .into_iter()
                .collect(),
            cycle_objects: if frames > 0 { 40 } else { 0 },
            cycle_bytes: Bytes(frames * MIB),
            sites: vec![Site {
                file: "pipeline.py".into(),
                line: 142,
                bytes: Bytes((peak / 2) * MIB),
                count: 1000,
                code: "cols[name] = [float(v) for v in col]".into(),
                traceback: Vec::new(),
            }],
            sites_traced: true,
            snapshot_traced: Bytes((peak - 20) * MIB),
            peak_traced: Bytes((peak - 18) * MIB),
            ..PythonFindings::default()
        }),
        ..Diagnosis::default()
    }
}

fn explained() -> Explained {
    Explained {
        explain_version: 1,
        head: "b".repeat(40),
        base: Some("a".repeat(40)),
        explanations: vec![Explanation::new(
            "pipeline".into(),
            side(260, 110, "python3 pipeline.py --variant cycle"),
            Some(side(142, 0, "python3 pipeline.py --variant weakref")),
        )],
    }
}

#[test]
fn the_table_says_what_grew_first() {
    let text = String::from_utf8(text(&explained())).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn the_markdown_folds_each_benchmark() {
    let md = String::from_utf8(markdown(&explained())).unwrap();
    assert!(md.contains("<details><summary><b>pipeline</b>"));
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    insta::assert_snapshot!(md);
}

#[test]
fn a_head_alone_names_its_cycles_in_the_headline() {
    let e = Explanation::new("p".into(), side(260, 110, "python3 x.py"), None);
    assert!(e.differences.is_empty());
    assert_eq!(
        headline(&e),
        "peak 260 MiB; 110 MiB held by reference cycles of __main__.Frame"
    );
}

#[test]
fn hostile_names_are_escaped_everywhere() {
    let mut x = explained();
    let e = &mut x.explanations[0];
    e.benchmark = "<img src=x>|@team".into();
    let evil = "</details><script>alert(1)</script>|[x](http://e)\u{1b}[2J##[warning] fixes #12, o/r#3 https://evil";
    if let Some(py) = e.head.python.as_mut() {
        py.cycles[0].type_name = evil.into();
        py.sites[0].code = evil.into();
    }
    e.head.at_peak.as_mut().unwrap().processes[0].command = evil.into();
    *e = Explanation::new(e.benchmark.clone(), e.head.clone(), e.base.clone());
    let md = String::from_utf8(markdown(&x)).unwrap();
    assert!(!md.contains("<script>") && !md.contains("<img") && !md.contains("@team"));
    // No reference into another issue's timeline, no link.
    assert!(
        !md.contains("#12") && !md.contains("r#3") && !md.contains("://"),
        "{md}"
    );
    assert_eq!(md.matches("</details>").count(), 1);
    let html = html(&x);
    assert!(!html.contains("<script>") && !html.contains("<img"));
    let text = String::from_utf8(text(&x)).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains("##[warning]"));
}

#[test]
fn a_snapshot_far_below_the_peak_is_called_early() {
    let mut x = explained();
    let py = x.explanations[0].head.python.as_mut().unwrap();
    py.snapshot_traced = Bytes(60 * MIB);
    py.peak_traced = Bytes(500 * MIB);
    let text = String::from_utf8(text(&x)).unwrap();
    assert!(
        text.contains("the snapshot holds 12% of the traced peak"),
        "{text}"
    );
    assert!(
        String::from_utf8(markdown(&x))
            .unwrap()
            .contains("holds 12% of the traced peak")
    );
    // Near the peak: nothing to say.
    let text = String::from_utf8(super::text(&explained())).unwrap();
    assert!(!text.contains("of the traced peak:"), "{text}");
}

#[test]
fn json_round_trips() {
    let x = explained();
    let back: Explained = serde_json::from_slice(&json(&x)).unwrap();
    assert_eq!(back, x);
}
