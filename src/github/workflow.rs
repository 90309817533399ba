//! The workflow-command surfaces of a step: the job summary, outputs, annotations, and
//! `::stop-commands::` around everything else memgate prints.
//!
//! Under GitHub Actions a line of a step's output that starts with `::`, or holds `##[`,
//! is a command to the runner. Anything memgate prints may hold a benchmark's text (its
//! stderr, a message), so:
//! - memgate stops commands for its whole run ([`stop_commands`]), first thing, on
//!   stderr, with a token no benchmark can know. The runner keeps one stop for the whole
//!   step, whichever stream a line comes on.
//! - what memgate prints on stdout never holds a command of a benchmark's even when
//!   commands run (`report::text::inert`): the runner may read a stdout line after a
//!   stderr one written later.
//! - memgate's own annotations and warnings ([`command`]) wait until the end, and are
//!   printed on stderr after commands are resumed ([`resume_commands`]).
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
    let existing = std::fs::symlink_metadata(path).map_or(0, |m| m.len() as usize);
    let room = SUMMARY_LIMIT.saturating_sub(existing);
    let text = fit(
        markdown,
        room,
        &format!(
            "\n\n*The report is cut here: GitHub takes at most 1 MiB of summary. The whole of it is in {full_report}.*\n"
        ),
    );
    let mut file = open_to_append(path).map_err(|e| {
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
    let mut file = open_to_append(path)
        .map_err(|e| Error::io(format!("cannot open GITHUB_OUTPUT {}", path.display()), e))?;
    for (key, value) in outputs {
        // One line each: a value never holds a newline (paths and verdicts).
        let value = value.replace(['\n', '\r'], " ");
        writeln!(file, "{key}={value}")
            .map_err(|e| Error::io(format!("cannot write GITHUB_OUTPUT {}", path.display()), e))?;
    }
    Ok(())
}

/// Escapes a workflow command's message (and keeps any `##[` in it from reading as a
/// command of the older form).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace("##[", "## [")
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

/// Whether memgate has stopped workflow commands (its token), and its own commands
/// waiting for the end.
struct Stopped {
    token: Option<String>,
    waiting: String,
}

static STOPPED: Mutex<Stopped> = Mutex::new(Stopped {
    token: None,
    waiting: String::new(),
});

/// Stops workflow commands for the rest of memgate's run.
pub fn stop_commands() {
    let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    if stopped.token.is_none() {
        let token = stop_token();
        let _ = writeln!(std::io::stderr().lock(), "::stop-commands::{token}");
        stopped.token = Some(token);
    }
}

/// Once the benchmarks' processes are all gone and commands are still stopped: ends any
/// line left unfinished on stdout or stderr (a benchmark may write to the step's output
/// through the shell that started memgate, as the same user), so memgate's own output
/// cannot finish it into a command, and gives the runner time to read that end before
/// anything else. `stdout_too` is false where stdout carries a document a leading line
/// break would spoil (JUnit XML).
pub fn runs_ended(stdout_too: bool) {
    let stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    if stopped.token.is_none() {
        return;
    }
    if stdout_too {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"\n").and_then(|()| out.flush());
    }
    let _ = std::io::stderr().lock().write_all(b"\n");
    std::thread::sleep(std::time::Duration::from_millis(100));
}

/// Resumes workflow commands, after everything else memgate printed, and prints
/// memgate's own commands that waited for it.
pub fn resume_commands() {
    let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::io::stdout().lock().flush();
    if let Some(token) = stopped.token.take() {
        let waiting = std::mem::take(&mut stopped.waiting);
        let _ = write!(std::io::stderr().lock(), "::{token}::\n{waiting}");
    }
}

/// memgate's own workflow commands (`lines`, each ending in a newline): printed on
/// stderr at once if commands run, else when they are resumed at the end.
pub fn command(lines: &str) {
    let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    if stopped.token.is_some() {
        stopped.waiting.push_str(lines);
    } else {
        let _ = std::io::stderr().lock().write_all(lines.as_bytes());
    }
}

/// The runner's command files of this step, as they were before any benchmark ran. A
/// benchmark gets none of their paths, but it runs as the same user and could find them
/// (in `$RUNNER_TEMP`, or in the environment of the shell that started memgate); what
/// it wrote there, or a link it put in their place, would act on the steps after this
/// one (`BASH_ENV`, `LD_PRELOAD`, `PATH`). [`CommandFiles::snapshot`] before the runs;
/// [`CommandFiles::verify`] after them; and on any other way out of memgate (an error,
/// Ctrl-C) its `Drop` puts them back all the same. Best effort: a memgate killed
/// outright (SIGKILL) cannot.
pub struct CommandFiles {
    files: Vec<CommandFile>,
    verified: bool,
}

struct CommandFile {
    name: &'static str,
    path: std::path::PathBuf,
    /// The file's identity (device, inode) then, if it was a regular file.
    identity: Option<(u64, u64)>,
    bytes: Vec<u8>,
}

/// The variables that name the command files whose content acts on later steps. (The job
/// summary does not: a user may well tee memgate's own output into it.)
const COMMAND_FILES: [&str; 4] = ["GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE"];

/// The most memgate keeps of a command file to compare: they hold a few lines.
const MAX_COMMAND_FILE: u64 = 16 * 1024 * 1024;

/// A regular file's (device, inode), not following a link.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

impl CommandFiles {
    /// The command files' contents now (none outside GitHub Actions).
    pub fn snapshot() -> CommandFiles {
        let mut files = Vec::new();
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            for name in COMMAND_FILES {
                let Some(path) = std::env::var_os(name).filter(|p| !p.is_empty()) else {
                    continue;
                };
                let path = std::path::PathBuf::from(path);
                let bytes = crate::files::read_own(&path, MAX_COMMAND_FILE).unwrap_or_default();
                files.push(CommandFile {
                    name,
                    identity: identity(&path),
                    path,
                    bytes,
                });
            }
        }
        CommandFiles {
            files,
            verified: false,
        }
    }

    /// Checks that no command file changed since the snapshot, in content or identity (a
    /// link or another file in its place). One that did is put back as it was, and the
    /// run is an error: something a benchmark started wrote to it.
    pub fn verify(&mut self) -> Result<()> {
        self.verified = true;
        let (changed, failed) = self.restore();
        if let Some(error) = failed {
            return Err(error);
        }
        if changed.is_empty() {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "a benchmark wrote to the runner's command file{} {} (which would act on the steps after this one): memgate put {} back as {} was, and stops here",
            if changed.len() == 1 { "" } else { "s" },
            changed.join(", "),
            if changed.len() == 1 { "it" } else { "them" },
            if changed.len() == 1 { "it" } else { "they" },
        )))
    }

    /// Puts back every file that changed: the names of those, and the first error of
    /// those that could not be (the others are still put back).
    fn restore(&self) -> (Vec<&'static str>, Option<Error>) {
        let mut changed = Vec::new();
        let mut failed = None;
        for file in &self.files {
            let now = crate::files::read_own(&file.path, MAX_COMMAND_FILE).ok();
            let same = identity(&file.path) == file.identity
                && now.as_deref().unwrap_or_default() == file.bytes.as_slice();
            if same {
                continue;
            }
            changed.push(file.name);
            // A fresh file renamed over the path: never written through what is there.
            if let Err(e) = crate::files::replace(&file.path, &[&file.bytes]) {
                failed.get_or_insert_with(|| {
                    Error::io(
                        format!("cannot put back {} {}", file.name, file.path.display()),
                        e,
                    )
                });
            }
        }
        (changed, failed)
    }
}

impl Drop for CommandFiles {
    /// On a way out of memgate other than [`CommandFiles::verify`] (an error, Ctrl-C),
    /// the files are put back all the same.
    fn drop(&mut self) {
        if self.verified {
            return;
        }
        let (changed, failed) = self.restore();
        if !changed.is_empty() {
            eprintln!(
                "memgate: a benchmark wrote to the runner's command files {}: memgate put them back",
                changed.join(", ")
            );
        }
        if let Some(error) = failed {
            eprintln!("memgate: error: {error}");
        }
    }
}

/// Opens a command file (the summary, the outputs) to append memgate's own lines: never
/// through a link, nor into a FIFO.
fn open_to_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(std::io::Error::other("it is not a regular file"))
    }
}

/// A token no benchmark can guess, for `::stop-commands::`.
pub fn stop_token() -> String {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom writes at most the buffer's length into it.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if got != bytes.len() as isize {
        // No kernel randomness (a very old kernel): the time, the pid and this stack's
        // address, hashed, are still nothing a benchmark can know in advance.
        use sha2::Digest;
        let seed = format!(
            "{:?} {} {:p}",
            std::time::SystemTime::now(),
            std::process::id(),
            &bytes
        );
        bytes.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes())[..16]);
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
