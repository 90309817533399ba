//! `group:`: benchmarks of one group compared with each other under the run's table, in
//! real runs of the shapes helper that hold clearly different amounts of memory.

use crate::util::{Project, benchmark};

/// The ratio in a line `NAME uses R× the memory of REFERENCE`, if `text` holds one.
fn memory_ratio(text: &str, name: &str, reference: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(&format!("{name} uses "))?;
        let ratio = rest.strip_suffix(&format!("× the memory of {reference}"))?;
        ratio.parse().ok()
    })
}

#[test]
fn members_of_a_group_far_apart_are_compared_and_others_are_not() {
    let project = Project::new(
        r#"
version: 1
defaults: {repeat: 3, warmup: 0}
benchmarks:
  - name: small
    command: ["{shapes}", hold, "30", "150"]
    group: holders
  - name: large
    command: ["{shapes}", hold, "90", "150"]
    group: holders
  - name: loner
    command: ["{shapes}", hold, "200", "150"]
  - name: alone
    command: ["{shapes}", hold, "60", "150"]
    group: solo
"#,
    );
    project.git_init();
    let out = project
        .memgate()
        .args([
            "run",
            "--no-report",
            "--format",
            "json",
            "--output",
            "out.json",
        ])
        .run();
    out.code(0);
    let table = out.stdout();
    // 90 MiB against 30 MiB, each with the process's own megabyte or so beside it.
    let ratio =
        memory_ratio(&table, "large", "small").unwrap_or_else(|| panic!("no group line:\n{table}"));
    assert!((2.5..=3.1).contains(&ratio), "{ratio}\n{table}");
    assert_eq!(
        table.matches(" the memory of ").count(),
        1,
        "only the group's members are compared:\n{table}"
    );
    for name in ["loner", "alone"] {
        assert!(
            !table
                .lines()
                .any(|l| l.starts_with(&format!("{name} uses"))
                    || l.ends_with(&format!(" of {name}"))),
            "{name}:\n{table}"
        );
    }
    // The group is kept with the results, and said again from the store.
    let json: serde_json::Value = serde_json::from_str(&project.read("out.json")).unwrap();
    assert_eq!(benchmark(&json, "large")["group"], "holders");
    assert!(benchmark(&json, "loner").get("group").is_none(), "{json:#}");
    let show = project.memgate().args(["show"]).run();
    show.code(0);
    let stored = memory_ratio(&show.stdout(), "large", "small")
        .unwrap_or_else(|| panic!("no group line in show:\n{}", show.stdout()));
    assert_eq!(stored, ratio);
}
