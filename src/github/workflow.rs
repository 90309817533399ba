//! The workflow-command surfaces of a step: the job summary, outputs, annotations, and
//! `::stop-commands::` around everything else memgate prints.
//!
//! Under GitHub Actions a line of a step's output that starts with `::` is a command to
//! the runner. Anything memgate prints may hold a benchmark's text (its stderr, a name, a
//! unit, a message), so memgate stops commands on each stream it writes for the whole of
//! its run ([`stop_commands`]), with a token no benchmark can know, and prints its own
//! annotations and warnings through [`command`], which resumes them for those lines
//! only. Each stream's markers go on that stream, so the runner sees them in order
//! whatever it reads first.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use crate::compare::{Comparison, Report, Verdict};
use crate::error::{Error, Result};
use crate::report::comparison::cells::{percent, threshold};

/// GitHub refuses a step summary over 1 MiB.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Appends `markdown` to the step summary at `path`, cut with a note where the file would
/// pass GitHub's limit.
pub fn append_summary(path: &Path, markdown: &str, full_report: &str) -> Result<()> {
    let existing = std::fs::metadata(path).map_or(0, |m| m.len() as usize);
    let room = SUMMARY_LIMIT.saturating_sub(existing);
    let text = fit(
        markdown,
        room,
        &format!(
            "\n\n*The report is cut here: GitHub takes at most 1 MiB of summary. The whole of it is in {full_report}.*\n"
        ),
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            Error::io(
                format!("cannot open GITHUB_STEP_SUMMARY {}", path.display()),
                e,
            )
        })?;
    file.write_all(text.as_bytes()).map_err(|e| {
        Error::io(
            format!("cannot write GITHUB_STEP_SUMMARY {}", path.display()),
            e,
        )
    })
}

/// `text` whole if it fits in `room` bytes, else cut at a line (or a character) so that
/// it and `note` fit.
pub fn fit(text: &str, room: usize, note: &str) -> String {
    if text.len() <= room {
        return text.to_owned();
    }
    let budget = room.saturating_sub(note.len());
    let mut end = budget.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text[..end].rfind('\n').map_or(end, |i| i + 1);
    let mut out = text[..cut].to_owned();
    if out.len() + note.len() <= room {
        out.push_str(note);
    }
    out
}

/// Writes `key=value` lines to the step's outputs file.
pub fn set_outputs(path: &Path, outputs: &[(&str, String)]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(format!("cannot open GITHUB_OUTPUT {}", path.display()), e))?;
    for (key, value) in outputs {
        // One line each: a value never holds a newline (paths and verdicts).
        let value = value.replace(['\n', '\r'], " ");
        writeln!(file, "{key}={value}")
            .map_err(|e| Error::io(format!("cannot write GITHUB_OUTPUT {}", path.display()), e))?;
    }
    Ok(())
}

/// Escapes a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property (a title).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A `::warning` workflow command from memgate, one line.
pub fn warning(text: &str) -> String {
    format!("::warning title=memgate::{}\n", escape_data(text))
}

/// `::error` for regressions and failures, `::notice` for improvements.
pub fn annotations(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.comparisons {
        let (command, what) = match c.verdict {
            Verdict::Regression => ("error", "regression"),
            Verdict::Failure => ("error", "failure"),
            Verdict::Improvement => ("notice", "improvement"),
            _ => continue,
        };
        let title = format!("memgate {what}: {} {}", c.label(), c.metric);
        out.push_str(&format!(
            "::{command} title={}::{}\n",
            escape_property(&title),
            escape_data(&message(c))
        ));
    }
    out
}

fn message(c: &Comparison) -> String {
    use crate::report::comparison::cells::value;
    match c.verdict {
        Verdict::Failure => c
            .note
            .clone()
            .unwrap_or_else(|| "the benchmark failed".into()),
        _ => format!(
            "{} of {} {}: {} → {} ({}, threshold {})",
            c.metric,
            c.label(),
            if c.verdict == Verdict::Regression {
                "got worse"
            } else {
                "got better"
            },
            value(c.base.median, &c.unit),
            value(c.head.median, &c.unit),
            percent(c.change),
            threshold(c)
        ),
    }
}

/// The tokens of the streams whose workflow commands memgate has stopped.
struct Stopped {
    stdout: Option<String>,
    stderr: Option<String>,
}

static STOPPED: Mutex<Stopped> = Mutex::new(Stopped {
    stdout: None,
    stderr: None,
});

/// Stops workflow commands on stderr, and on stdout too unless stdout carries a document
/// (JSON, JUnit) that must stay whole: such a document escapes every line break, so no
/// line of it can be a command.
pub fn stop_commands(stdout_too: bool) {
    let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    if stdout_too && stopped.stdout.is_none() {
        let token = stop_token();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "::stop-commands::{token}").and_then(|()| out.flush());
        stopped.stdout = Some(token);
    }
    if stopped.stderr.is_none() {
        let token = stop_token();
        let _ = writeln!(std::io::stderr().lock(), "::stop-commands::{token}");
        stopped.stderr = Some(token);
    }
}

/// Resumes workflow commands on every stream where memgate stopped them.
pub fn resume_commands() {
    let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(token) = stopped.stdout.take() {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "::{token}::").and_then(|()| out.flush());
    }
    if let Some(token) = stopped.stderr.take() {
        let _ = writeln!(std::io::stderr().lock(), "::{token}::");
    }
}

/// Prints memgate's own workflow commands (`lines`, each ending in a newline) on stderr,
/// where the runner acts on them: if commands are stopped there, they are resumed for
/// these lines and stopped again with a new token.
pub fn command(lines: &str) {
    if lines.is_empty() {
        return;
    }
    let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    let mut err = std::io::stderr().lock();
    match stopped.stderr.take() {
        Some(token) => {
            let next = stop_token();
            let _ = write!(err, "::{token}::\n{lines}::stop-commands::{next}\n");
            stopped.stderr = Some(next);
        }
        None => {
            let _ = err.write_all(lines.as_bytes());
        }
    }
}

/// A token no benchmark can guess, for `::stop-commands::`.
pub fn stop_token() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut random) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = random.read_exact(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_commands() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }

    #[test]
    fn fitting_cuts_at_a_line_and_keeps_the_note() {
        let text = "line one\nline two\nline three\n";
        assert_eq!(fit(text, 100, "[cut]"), text);
        let cut = fit(text, 23, "[cut]");
        assert_eq!(cut, "line one\nline two\n[cut]");
        assert!(cut.len() <= 23);
        // One byte less and the second line no longer fits whole.
        assert_eq!(fit(text, 22, "[cut]"), "line one\n[cut]");
        assert_eq!(fit("ééééé", 5, ""), "éé");
    }

    #[test]
    fn tokens_differ() {
        let (a, b) = (stop_token(), stop_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
