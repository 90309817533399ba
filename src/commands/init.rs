//! `memgate init [--force] [--github] [--dir DIR]`: write a commented memgate.yml of the
//! benchmarks the repository already has, `.memgate/` into `.gitignore`, and with
//! `--github` the example workflows; never over an existing file without `--force`. Says
//! what it found, what it wrote, and what to run next.

use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::config::CONFIG_FILE;
use crate::error::{Error, Result};
use crate::exit;
use crate::files::Unread;
use crate::git::Repo;
use crate::init::{self, Found, WORKFLOWS, WORKFLOWS_DIR, Workflow};
use crate::report::text::printable;

/// The largest `.gitignore` memgate reads to add its line.
const MAX_GITIGNORE: u64 = 1024 * 1024;

pub fn init(cwd: &Path, config: Option<&Path>, args: InitArgs) -> Result<i32> {
    if config.is_some() {
        return Err(Error::Usage(
            "memgate init writes memgate.yml in the project folder and takes no --config: choose the folder with --dir DIR".into(),
        ));
    }
    let dir = match &args.dir {
        Some(dir) => cwd.join(dir),
        None => Repo::discover(cwd)
            .and_then(|r| r.workdir().map(Path::to_path_buf))
            .unwrap_or_else(|| cwd.to_path_buf()),
    };
    // `a/./b/` as `a/b`: the paths printed are the ones a person would type.
    let dir: PathBuf = dir.components().collect();
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a folder: give --dir an existing folder",
            dir.display()
        )));
    }

    // Every refusal and every read before anything is written: a mistake costs nothing.
    let config_path = dir.join(CONFIG_FILE);
    let config_exists = exists(&config_path);
    if config_exists && !args.force && !args.github {
        return Err(Error::Usage(format!(
            "{} exists already, and memgate init does not write over it: pass --force to replace it (its edits are lost), or --github to write only the workflows",
            config_path.display()
        )));
    }
    let workflows = if args.github {
        Some(plan_workflows(&dir, args.force)?)
    } else {
        None
    };
    let gitignore = plan_gitignore(&dir)?;

    let mut runnable = true;
    if !config_exists || args.force {
        let found = init::detect(&dir, init::python_program());
        tell_found(&dir, &found);
        runnable = found.candidates.iter().any(|c| c.active);
        write(&config_path, &init::render(&found.candidates))?;
        eprintln!("memgate: wrote {}", config_path.display());
    } else {
        eprintln!(
            "memgate: kept {} as it is (--force writes a new one)",
            config_path.display()
        );
    }
    if let Some((path, text)) = gitignore {
        write(&path, &text)?;
        eprintln!(
            "memgate: added {} to {}",
            init::GITIGNORE_LINE,
            path.display()
        );
    }
    match workflows {
        Some((branch, planned)) => {
            for (workflow, path) in planned {
                std::fs::create_dir_all(path.parent().unwrap_or(&dir))
                    .map_err(|e| Error::io(format!("cannot create {WORKFLOWS_DIR}"), e))?;
                write(&path, &workflow.text(&branch))?;
                eprintln!("memgate: wrote {}: {}", path.display(), workflow.what);
            }
            eprintln!(
                "memgate: the baselines workflow runs on pushes to {branch}; commit the workflows, and each pull request is gated against its base"
            );
        }
        None => eprintln!(
            "memgate: to gate pull requests in GitHub Actions: memgate init --github writes the workflows to {WORKFLOWS_DIR}/ (and keeps memgate.yml)"
        ),
    }
    let run = next_command(cwd, &config_path);
    if runnable {
        eprintln!("memgate: next: {run}");
    } else {
        eprintln!(
            "memgate: next: give benchmark {:?} in memgate.yml a command that does real work, then {run}",
            init::EXAMPLE_NAME
        );
    }
    Ok(exit::SUCCESS)
}

/// Says what was found: benchmarks, suggestions left commented out, what was not used.
fn tell_found(dir: &Path, found: &Found) {
    let (active, suggested): (Vec<_>, Vec<_>) = found.candidates.iter().partition(|c| c.active);
    let width = found
        .candidates
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let list = |candidates: &[&init::Candidate]| {
        for c in candidates {
            eprintln!("  {:width$}  {}", c.name, printable(&c.found));
        }
    };
    if active.is_empty() {
        eprintln!(
            "memgate: found nothing to run in {} (looked for pytest-benchmark suites, asv, cargo bench targets, scripts/bench*, a Makefile bench target); memgate.yml gets an example benchmark \"{}\": replace its command with one that does the work to measure",
            dir.display(),
            init::EXAMPLE_NAME
        );
    } else {
        eprintln!(
            "memgate: found {} in {}:",
            count(active.len(), "benchmark"),
            dir.display()
        );
        list(&active);
    }
    if !suggested.is_empty() {
        eprintln!(
            "memgate: written commented out, to give real work first (as they are they measure nothing real):"
        );
        list(&suggested);
    }
    for said in &found.said {
        eprintln!("memgate: note: {}", printable(said));
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The default branch the workflows are written for, and each with its path (refusing
/// any that exists, without `force`).
fn plan_workflows(dir: &Path, force: bool) -> Result<(String, Vec<(&'static Workflow, PathBuf)>)> {
    let repo = Repo::discover(dir);
    if let Some(top) = repo.as_ref().and_then(Repo::workdir) {
        let top: PathBuf = top.components().collect();
        if !same_place(&top, dir) {
            return Err(Error::Usage(format!(
                "--github writes workflows that run memgate at the repository root {}, where it would not find memgate.yml in {}: run memgate init at the root, or write the workflows from memgate's examples/github/ with --config {}",
                top.display(),
                dir.display(),
                dir.join(CONFIG_FILE).display()
            )));
        }
    }
    // A repository without a commit yet has no default branch but the one HEAD is on.
    let branch = repo
        .as_ref()
        .and_then(|r| r.default_branch().or_else(|| r.head_branch()))
        .map(|b| {
            b.trim_start_matches("refs/heads/")
                .trim_start_matches("refs/remotes/origin/")
                .to_owned()
        })
        .unwrap_or_else(|| "main".into());
    // Every folder on the way is a real one: a linked `.github` would have the
    // workflows written (and with --force, files replaced) wherever it points.
    let mut folder = dir.to_path_buf();
    for part in Path::new(WORKFLOWS_DIR).components() {
        folder.push(part);
        if std::fs::symlink_metadata(&folder).is_ok_and(|m| !m.is_dir()) {
            return Err(Error::Usage(format!(
                "{} is not a folder (a link, or a file): memgate init writes the workflows only into a real {WORKFLOWS_DIR}/; make it one, or copy them from memgate's examples/github/",
                folder.display()
            )));
        }
    }
    let mut planned = Vec::new();
    for workflow in &WORKFLOWS {
        let path = dir.join(WORKFLOWS_DIR).join(workflow.file);
        if exists(&path) && !force {
            return Err(Error::Usage(format!(
                "{} exists already, and memgate init does not write over it: remove it, or pass --force to replace it (and memgate.yml with it)",
                path.display()
            )));
        }
        planned.push((workflow, path));
    }
    Ok((branch, planned))
}

/// The `.gitignore` beside memgate.yml and its text with `.memgate/` added; `None` when
/// it ignores `.memgate/` already, or is a link or not UTF-8 (then it is left alone,
/// with a word). A link is never read: the repository may point it at any file, whose
/// text would then be written into the repository.
fn plan_gitignore(dir: &Path) -> Result<Option<(PathBuf, String)>> {
    let path = dir.join(".gitignore");
    let leave = |why: &str| {
        eprintln!(
            "memgate: left {} alone ({why}): add the line {} to it",
            path.display(),
            init::GITIGNORE_LINE
        );
    };
    // Read without following a link: a link (dangling or not) is left alone.
    let existing = match crate::files::read_own(&path, MAX_GITIGNORE) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                leave("it is not UTF-8");
                return Ok(None);
            }
        },
        Err(Unread::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(Unread::NotAFile("a symbolic link")) => {
            leave("it is a link");
            return Ok(None);
        }
        Err(e) => {
            return Err(Error::Usage(format!(
                "cannot read {}: {e}: make it a text file, or move it away",
                path.display()
            )));
        }
    };
    Ok(init::with_memgate(existing.as_deref()).map(|text| (path, text)))
}

/// Whether `a` and `b` name the same file or folder (both exist).
fn same_place(a: &Path, b: &Path) -> bool {
    std::fs::canonicalize(a)
        .ok()
        .is_some_and(|a| std::fs::canonicalize(b).ok() == Some(a))
}

/// Whether anything stands at `path`, a dangling link included.
fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Writes `text` to `path` as a new file renamed into place (never through a link), with
/// the mode the file had, else the usual 0644.
fn write(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map_or(0o644, |m| m.permissions().mode() & 0o7777);
    crate::files::replace_with_mode(path, &[text.as_bytes()], mode)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// The command that runs the new config from `cwd`: `memgate run` where memgate finds it
/// by itself, else with `--config`.
fn next_command(cwd: &Path, config_path: &Path) -> String {
    let found = crate::config::find(None, cwd).ok();
    if found.is_some_and(|f| same_place(&f, config_path)) {
        "memgate run".into()
    } else {
        format!(
            "memgate --config {} run",
            crate::config::shell_quote(&config_path.display().to_string())
        )
    }
}
