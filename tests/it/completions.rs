//! `memgate completions SHELL` and `memgate man`: made from the same clap definitions as
//! the commands, so they name every command and option; they need no project.

use crate::util::Project;

#[test]
fn completions_name_the_commands_and_options_in_every_shell() {
    // An empty folder: no config, no repository.
    let project = Project::bare();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = project.memgate().args(["completions", shell]).run();
        out.code(0);
        let script = out.stdout();
        // Options as their shell writes them: `--config`, or fish's `-l config`.
        for word in ["explain", "check", "compare", "report", "config", "sites"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = project.memgate().args(["completions", "tcsh"]).run();
    out.code(2);
    assert!(out.stderr().contains("possible values"), "{}", out.stderr());
}

#[test]
fn the_bash_completions_are_bash() {
    let project = Project::bare();
    let out = project.memgate().args(["completions", "bash"]).run();
    out.code(0);
    project.write("memgate.bash", &out.stdout());
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(project.path("memgate.bash"))
        .status()
        .expect("bash runs");
    assert!(status.success(), "bash -n refused the completions");
}

#[test]
fn the_man_page_is_roff_and_lists_the_commands() {
    let out = Project::bare().memgate().args(["man"]).run();
    out.code(0);
    let page = out.stdout();
    assert!(page.contains(".TH memgate 1"), "{page}");
    assert!(
        page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"),
        "{page}"
    );
    // Each in the page's list of subcommands ("run" alone is in "runtime" too).
    for command in ["run", "check", "explain", "completions"] {
        assert!(
            page.contains(&format!("memgate\\-{command}(1)")),
            "the page lacks {command}"
        );
    }
}
