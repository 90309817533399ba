//! Bad configs and arguments: each gets exit code 2 and one exact message naming the
//! file, line and column, the key, and the fix.

use crate::util::Project;

/// Runs `memgate run` on `config` and asserts the whole of stderr. `{file}` in `expected`
/// stands for the config's path.
#[track_caller]
fn assert_config_error(config: &str, expected: &str) {
    let project = Project::new(config);
    let out = project.memgate().args(["run", "-q"]).run();
    out.code(2);
    let file = project.path("memgate.yml").display().to_string();
    let dir = project.dir().display().to_string();
    let expected = format!(
        "memgate: error: {}\n",
        expected.replace("{file}", &file).replace("{dir}", &dir)
    );
    assert_eq!(out.stderr(), expected);
    assert_eq!(out.stdout(), "", "nothing on stdout");
}

#[test]
fn unknown_key_with_a_suggestion() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: automl\n    command: python x.py\n    repeats: 3\n",
        r#"{file}:5:5: benchmark "automl": unknown key "repeats" (did you mean "repeat"?)"#,
    );
}

#[test]
fn unknown_top_level_key() {
    assert_config_error(
        "version: 1\nbenchmark:\n  - name: a\n    command: x\n",
        r#"{file}:2:1: unknown key "benchmark" (did you mean "benchmarks"?)"#,
    );
}

#[test]
fn unknown_key_in_a_dataset() {
    assert_config_error(
        "version: 1\ndatasets:\n  taxi: {path: t.csv, prepar: x}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:23: dataset "taxi": unknown key "prepar" (did you mean "prepare"?)"#,
    );
}

#[test]
fn bad_duration_unit() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    timeout: 10q\n",
        r#"{file}:5:14: benchmark "a", key "timeout": "10q" has an unknown unit "q": a duration is a number and a unit, like 250ms, 30s, 10m or 1h"#,
    );
}

#[test]
fn duration_without_unit() {
    assert_config_error(
        "version: 1\ndefaults:\n  timeout: 30\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:12: key "defaults.timeout": 30 has no unit: write it as a duration like 30s, 10m or 250ms"#,
    );
}

#[test]
fn ambiguous_size() {
    assert_config_error(
        "version: 1\ndefaults:\n  memory_limit: 8G\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:17: key "defaults.memory_limit": "8G" has an ambiguous unit "G": write GiB (powers of 1024) or GB (powers of 1000)"#,
    );
}

#[test]
fn wrong_type() {
    assert_config_error(
        "version: 1\ndefaults:\n  repeat: three\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:11: key "defaults.repeat": expected a whole number of runs, at least 1, found string "three""#,
    );
}

#[test]
fn zero_repeats() {
    assert_config_error(
        "version: 1\ndefaults:\n  repeat: 0\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:11: key "defaults.repeat": repeat is 0: give at least 1 measured run"#,
    );
}

#[test]
fn duplicate_benchmark_names() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n  - name: a\n    command: y\n",
        r#"{file}:5:11: duplicate benchmark name "a": every benchmark needs its own name"#,
    );
}

#[test]
fn unknown_dataset() {
    assert_config_error(
        "version: 1\ndatasets:\n  taxi: {path: t.csv}\nbenchmarks:\n  - name: a\n    command: x {dataset.path}\n    datasets: [taxis]\n",
        r#"{file}:7:16: benchmark "a", key "datasets[0]": unknown dataset "taxis" (did you mean "taxi"?): the datasets are "taxi""#,
    );
}

#[test]
fn empty_command_string() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: \"\"\n",
        r#"{file}:4:14: benchmark "a", key "command": empty command: give a shell command string or a list [program, arg, ...]"#,
    );
}

#[test]
fn empty_command_list() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: []\n",
        r#"{file}:4:14: benchmark "a", key "command": empty command: the list needs at least the program"#,
    );
}

#[test]
fn missing_command() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n",
        r#"{file}:3:5: benchmark "a": missing key "command""#,
    );
}

#[test]
fn missing_version() {
    assert_config_error(
        "benchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:1:1: missing key "version": add version: 1 at the top"#,
    );
}

#[test]
fn newer_version() {
    assert_config_error(
        "version: 2\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:1:10: key "version": config version 2 is newer than this memgate reads (1): upgrade memgate"#,
    );
}

#[test]
fn bad_benchmark_name() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: \"my bench\"\n    command: x\n",
        r#"{file}:3:11: benchmark name "my bench" is not allowed: use letters, digits, '_', '-' and '.', not starting with '-' or '.', at most 100 characters"#,
    );
}

#[test]
fn benchmarks_not_a_list() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  name: a\n",
        r#"{file}:3:3: key "benchmarks": expected a list, found a mapping"#,
    );
}

#[test]
fn dataset_placeholder_without_dataset() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x {dataset.path}\n",
        r#"{file}:3:5: benchmark "a": the command uses {dataset.…} but the benchmark has no datasets: add datasets: [NAME]"#,
    );
}

#[test]
fn empty_file() {
    assert_config_error(
        "",
        "{file}:1:1: the file is empty: start it with version: 1 and a list of benchmarks:",
    );
}

#[test]
fn no_benchmarks() {
    assert_config_error(
        "version: 1\nbenchmarks: []\n",
        "{file}:1:1: no benchmarks: add at least one under benchmarks: (with a name and a command)",
    );
}

#[test]
fn sample_interval_too_short() {
    assert_config_error(
        "version: 1\ndefaults:\n  sample_interval: 100us\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:20: key "defaults.sample_interval": "100us" is below 1ms: the sampler cannot go faster"#,
    );
}

#[test]
fn unknown_benchmark_on_the_command_line() {
    let project = Project::new("version: 1\nbenchmarks:\n  - name: alpha\n    command: \"true\"\n");
    let out = project.memgate().args(["run", "alpah"]).run();
    out.code(2);
    let file = project.path("memgate.yml").display().to_string();
    assert_eq!(
        out.stderr(),
        format!(
            "memgate: error: no benchmark named \"alpah\" in {file} (did you mean \"alpha\"?): the benchmarks are alpha\n"
        )
    );
}

#[test]
fn missing_config_file() {
    let project = Project::new("version: 1\n");
    std::fs::remove_file(project.path("memgate.yml")).unwrap();
    let out = project.memgate().args(["run"]).run();
    out.code(2);
    assert!(
        out.stderr().contains("no memgate.yml in") && out.stderr().contains("pass --config FILE"),
        "{}",
        out.stderr()
    );
    let out = project
        .memgate()
        .args(["run", "--config", "nope.yml"])
        .run();
    out.code(2);
    assert!(
        out.stderr()
            .ends_with("nope.yml not found: check the path given to --config\n"),
        "{}",
        out.stderr()
    );
}

#[test]
fn bad_arguments_exit_2() {
    let project = Project::new("version: 1\nbenchmarks:\n  - name: a\n    command: \"true\"\n");
    project
        .memgate()
        .args(["run", "--repeat", "0"])
        .run()
        .code(2);
    project
        .memgate()
        .args(["run", "--format", "xml"])
        .run()
        .code(2);
    project.memgate().args(["frobnicate"]).run().code(2);
}

#[test]
fn missing_working_directory() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    cwd: nowhere\n",
        r#"{file}:5:10: benchmark "a", key "cwd": {dir}/nowhere is not a directory: create it or fix the path (relative to the config's directory)"#,
    );
}

#[test]
fn bad_testbed_name() {
    assert_config_error(
        "version: 1\ntestbed: \"my box\"\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:2:10: key "testbed": testbed name "my box" is not allowed: use letters, digits, '_', '-' and '.', not starting with '-' or '.', at most 100 characters"#,
    );
}

#[test]
fn threshold_min_change_in_the_wrong_unit() {
    assert_config_error(
        "version: 1\nthresholds:\n  peak_memory: {min_change: 20ms}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:29: key "thresholds.peak_memory.min_change": peak_memory is measured in bytes: write a size like 8MiB"#,
    );
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    thresholds:\n      wall_time: {min_change: 8MiB}\n",
        r#"{file}:6:31: benchmark "a", key "thresholds.wall_time.min_change": wall_time is measured in seconds: write a duration like 20ms"#,
    );
}

#[test]
fn threshold_in_the_wrong_direction() {
    assert_config_error(
        "version: 1\nthresholds:\n  peak_memory: {max_decrease: 5%}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:31: key "thresholds.peak_memory.max_decrease": lower is better for peak_memory, so a regression is an increase: use max_increase, not max_decrease"#,
    );
}

#[test]
fn threshold_alpha_as_a_percentage() {
    assert_config_error(
        "version: 1\nthresholds:\n  wall_time: {alpha: 5%}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:22: key "thresholds.wall_time.alpha": alpha "5%" is not a number: give a significance level like 0.05 (not a percentage)"#,
    );
}

#[test]
fn threshold_unknown_key() {
    assert_config_error(
        "version: 1\nthresholds:\n  wall_time: {max_increse: 5%}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:15: key "thresholds.wall_time": unknown key "max_increse" (did you mean "max_increase"?)"#,
    );
}

// Issue 8, items 2 and 9: names that would become paths, bytes no program can take, and
// every mistake of a file reported at once, each with its place.

#[test]
fn dataset_names_cannot_leave_the_logs_folder() {
    assert_config_error(
        "version: 1\ndatasets:\n  ../../../x: {path: d.csv}\nbenchmarks:\n  - name: a\n    command: x\n    datasets: [../../../x]\n",
        r#"{file}:3:3: key "datasets": dataset name "../../../x" is not allowed: use letters, digits, '_', '-' and '.', not starting with '-' or '.', at most 100 characters"#,
    );
}

#[test]
fn dot_names_are_not_benchmarks() {
    for name in ["..", "."] {
        assert_config_error(
            &format!("version: 1\nbenchmarks:\n  - name: \"{name}\"\n    command: x\n"),
            &format!(
                r#"{{file}}:3:11: benchmark name "{name}" is not allowed: use letters, digits, '_', '-' and '.', not starting with '-' or '.', at most 100 characters"#
            ),
        );
    }
}

#[test]
fn nul_bytes_are_refused_where_they_stand() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: \"echo \\0\"\n",
        r#"{file}:4:14: benchmark "a", key "command": the command holds a NUL byte, which no program can be given: remove it"#,
    );
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: [echo, \"a\\0\"]\n",
        r#"{file}:4:21: benchmark "a", key "command[1]": the argument holds a NUL byte, which no program can be given: remove it"#,
    );
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    env: {A: \"b\\0\"}\n",
        r#"{file}:5:14: benchmark "a", key "env.A": the value holds a NUL byte, which no program can be given: remove it"#,
    );
    assert_config_error(
        "version: 1\ndatasets:\n  d: {path: \"a\\0b\"}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:13: dataset "d", key "path": the path "a\0b" holds a control character (a newline, a NUL, ...): remove it"#,
    );
    assert_config_error(
        "version: 1\ndatasets:\n  d: {path: \"a\\nb\"}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:13: dataset "d", key "path": the path "a\nb" holds a control character (a newline, a NUL, ...): remove it"#,
    );
}

#[test]
fn environment_variable_names_are_checked() {
    for key in ["''", "A=B"] {
        let shown = if key == "''" { "" } else { key };
        assert_config_error(
            &format!(
                "version: 1\ndefaults:\n  env: {{{key}: x}}\nbenchmarks:\n  - name: a\n    command: x\n"
            ),
            &format!(
                r#"{{file}}:3:9: key "defaults.env": environment variable name "{shown}" is not allowed: give a name without '=' or control characters, like PYTHONHASHSEED"#
            ),
        );
    }
}

#[test]
fn a_dataset_listed_twice() {
    assert_config_error(
        "version: 1\ndatasets:\n  d: {path: d.csv}\nbenchmarks:\n  - name: a\n    command: x\n    datasets: [d, d]\n",
        r#"{file}:7:19: benchmark "a", key "datasets[1]": dataset "d" is listed twice: list each dataset once"#,
    );
}

#[test]
fn a_key_given_twice() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    repeat: 3\n    repeat: 4\n",
        r#"{file}:6:5: benchmark "a": key "repeat" appears twice: keep one (YAML takes only the last)"#,
    );
}

#[test]
fn a_custom_metric_has_no_size_or_duration() {
    assert_config_error(
        "version: 1\nthresholds:\n  score: {min_change: 1MiB}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:23: key "thresholds.score.min_change": "1MiB": a custom metric's min_change is a plain number in the unit the benchmark reports (like 0.5); sizes and durations are for peak_memory, max_rss, leak_slope, wall_time and cpu_time"#,
    );
}

#[test]
fn durations_are_bounded() {
    assert_config_error(
        "version: 1\ndefaults:\n  sample_interval: 3000000000000000h\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:20: key "defaults.sample_interval": "3000000000000000h" is above 60s: a memory timeline needs a sample at least every minute"#,
    );
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    timeout: 400h\n",
        r#"{file}:5:14: benchmark "a", key "timeout": "400h" is out of range: give a timeout from 1ms to 168h (a week)"#,
    );
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    timeout: 10us\n",
        r#"{file}:5:14: benchmark "a", key "timeout": "10us" is out of range: give a timeout from 1ms to 168h (a week)"#,
    );
}

#[test]
fn every_mistake_is_reported_in_order() {
    assert_config_error(
        "version: 1\ndefaults:\n  timeout: 10q\n  repaet: 3\nbenchmarks:\n  - name: a\n    command: x\n    cwd: nowhere\n  - name: \"b c\"\n    command: []\n    thresholds:\n      peak_memory: {max_decrease: 5%}\n",
        &[
            r#"{file}:3:12: key "defaults.timeout": "10q" has an unknown unit "q": a duration is a number and a unit, like 250ms, 30s, 10m or 1h"#,
            r#"{file}:4:3: key "defaults": unknown key "repaet" (did you mean "repeat"?)"#,
            r#"{file}:8:10: benchmark "a", key "cwd": {dir}/nowhere is not a directory: create it or fix the path (relative to the config's directory)"#,
            r#"{file}:9:11: benchmark name "b c" is not allowed: use letters, digits, '_', '-' and '.', not starting with '-' or '.', at most 100 characters"#,
            r#"{file}:10:14: benchmark "b c", key "command": empty command: the list needs at least the program"#,
            r#"{file}:12:35: benchmark "b c", key "thresholds.peak_memory.max_decrease": lower is better for peak_memory, so a regression is an increase: use max_increase, not max_decrease"#,
        ]
        .join("\nmemgate: error: "),
    );
}

#[test]
fn deep_nesting_is_refused_before_it_is_read() {
    // 40,000 levels in 80 KB took the YAML loader 55 s to reject.
    let deep = format!(
        "version: 1\nbenchmarks: {}{}\n",
        "[".repeat(40_000),
        "]".repeat(40_000)
    );
    assert_config_error(
        &deep,
        "{file}:2:76: lists and mappings nest deeper than 64 levels here: a config needs a handful",
    );
}

#[test]
fn a_file_that_is_not_utf8() {
    let project = Project::new("");
    std::fs::write(
        project.path("memgate.yml"),
        b"version: 1\nbenchmarks: \xff\n",
    )
    .unwrap();
    let out = project.memgate().args(["run", "-q"]).run();
    out.code(2);
    let file = project.path("memgate.yml").display().to_string();
    assert_eq!(
        out.stderr(),
        format!("memgate: error: {file}:2:13: the file is not UTF-8 text: save it as UTF-8\n")
    );
}

// Found in review: a key read one way by one pass and another way by the next; aliases
// expanded to gigabytes; a dataset name with a dot described as a key.

#[test]
fn a_dataset_name_is_read_as_written() {
    // `0x10` was the key "16" to one pass and "0x10" to the other: the config was taken,
    // and the benchmark ran without its dataset.
    let project = Project::new(
        "version: 1\ndatasets: {0x10: {path: d.csv}}\nbenchmarks:\n  - name: b\n    command: x {dataset.path}\n    datasets: [\"0x10\"]\n",
    );
    let out = project
        .memgate()
        .args(["run", "-q", "--no-save", "--format", "json"])
        .run();
    out.code(3);
    let json = out.json();
    assert_eq!(json["benchmarks"][0]["dataset"], "0x10");
}

#[test]
fn aliases_are_refused_before_they_expand() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - {name: &n a, command: x}\n  - {name: b, command: *n}\n",
        "{file}:4:24: YAML aliases (*name) are not read: write the value out, or put what benchmarks share under defaults:",
    );
}

#[test]
fn a_dotted_dataset_name_is_named_whole() {
    assert_config_error(
        "version: 1\ndatasets:\n  v1.0: {path: 5}\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:16: dataset "v1.0", key "path": expected a path, found the number 5"#,
    );
}

#[test]
fn a_control_character_is_placed_where_it_stands() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\u{1b}y\n",
        "{file}:4:15: a control character (U+001B): remove it, or write it as an escape in a quoted string",
    );
}

#[test]
fn run_counts_on_the_command_line_are_bounded() {
    // Found in review: --repeat 4294967295 --warmup 1 overflowed (a panic in a debug
    // build), and the command line went past the config's bound of 100,000 runs.
    let project = Project::new("version: 1\nbenchmarks:\n  - name: a\n    command: \"true\"\n");
    for (args, message) in [
        (
            ["--repeat", "4294967295"],
            "error: invalid value '4294967295' for '--repeat <N>': 4294967295 is not in 1..=100000",
        ),
        (
            ["--warmup", "100001"],
            "error: invalid value '100001' for '--warmup <N>': 100001 is not in 0..=100000",
        ),
    ] {
        let out = project.memgate().args(["run", "-q"]).args(args).run();
        out.code(2);
        assert!(out.stderr().starts_with(message), "{}", out.stderr());
    }
}

#[test]
fn a_character_that_is_not_one_is_placed() {
    // Found in review: U+FFFE and U+FFFF were still reported at 1:1.
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\u{fffe}\n",
        "{file}:4:15: a character that is not one (U+FFFE): remove it, or write it as an escape in a quoted string",
    );
}

#[test]
fn python_is_true_or_false() {
    assert_config_error(
        "version: 1\ndefaults:\n  python: yes\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:11: key "defaults.python": "yes" is not a boolean here: write python: true"#,
    );
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    python: auto\n",
        r#"{file}:5:13: benchmark "a", key "python": python: auto is what leaving it out means (explain looks at the command): remove the key, or write true or false"#,
    );
}

#[test]
fn explain_is_off_or_auto() {
    assert_config_error(
        "version: 1\nexplain: true\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:2:10: key "explain": explain is not a boolean: write explain: auto"#,
    );
    assert_config_error(
        "version: 1\nexplain: on\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:2:10: key "explain": unknown explain mode "on": write off (the default) or auto (check runs memgate explain after a peak_memory regression)"#,
    );
}

#[test]
fn a_leak_check_needs_its_placeholder_in_the_command() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: pipeline\n    command: python pipeline.py --iterations 4\n    leak: {param: iterations, values: [1, 2, 4, 8]}\n",
        r#"{file}:3:5: benchmark "pipeline": leak varies iterations, but the command does not use {iterations}: put {iterations} in the command where the value goes, like python bench.py --iterations {iterations}"#,
    );
}

#[test]
fn a_leak_check_needs_two_different_values() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: pipeline\n    command: python pipeline.py {iterations}\n    leak:\n      param: iterations\n      values: [4]\n",
        r#"{file}:7:15: benchmark "pipeline", key "leak.values": only one value: give at least 2 different ones, like [1, 2, 4, 8], so that memgate can fit a line through the peaks"#,
    );
}

#[test]
fn a_leak_parameter_is_a_simple_name_of_its_own() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: pipeline\n    command: python pipeline.py {n-iter}\n    leak: {param: n-iter, values: [1, 2]}\n",
        r#"{file}:5:19: benchmark "pipeline", key "leak.param": leak param "n-iter" is not a simple name: use letters, digits and '_', not starting with a digit, at most 64 characters, like iterations (the command then holds {iterations})"#,
    );
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: pipeline\n    command: python pipeline.py {dataset}\n    leak: {param: dataset, values: [1, 2]}\n",
        r#"{file}:5:19: benchmark "pipeline", key "leak.param": leak param "dataset" is taken by memgate's own placeholders ({dataset.path}, {dataset.name}, {path}): give the parameter another name, like iterations"#,
    );
}

#[test]
fn a_group_is_a_name() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: pipeline-cycle\n    command: x\n    group: \"pipe line\"\n",
        r#"{file}:5:12: benchmark "pipeline-cycle", key "group": group name "pipe line" is not allowed: use letters, digits, '_', '-' and '.', not starting with '-' or '.', at most 100 characters"#,
    );
}

#[test]
fn a_group_is_given_per_benchmark_not_in_defaults() {
    assert_config_error(
        "version: 1\ndefaults:\n  group: pipeline\nbenchmarks:\n  - name: a\n    command: x\n",
        r#"{file}:3:3: key "defaults": unknown key "group": the keys here are repeat, warmup, timeout, memory_limit, sample_interval, env, python"#,
    );
}

#[test]
fn a_misspelt_group_key_is_suggested() {
    assert_config_error(
        "version: 1\nbenchmarks:\n  - name: a\n    command: x\n    groups: pipeline\n",
        r#"{file}:5:5: benchmark "a": unknown key "groups" (did you mean "group"?)"#,
    );
}
