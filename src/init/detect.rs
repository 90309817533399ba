//! What `memgate init` finds in a repository: each detector's candidates in the order
//! the file lists them, named, with what it could not use said. Main type: [`Found`].

use std::path::Path;

use super::candidate::{Candidate, name_all};
use super::tree::{MAX_ENTRIES, Tree};
use super::{cargo, python, scripts};

/// The candidates found, named valid and unique, and sentences about what was not used.
pub struct Found {
    pub candidates: Vec<Candidate>,
    pub said: Vec<String>,
}

/// Looks at the repository at `root`; Python commands run `python` (the program name).
pub fn detect(root: &Path, python: &str) -> Found {
    let tree = Tree::scan(root);
    let mut said = Vec::new();
    if tree.truncated {
        said.push(format!(
            "the scan stopped after {MAX_ENTRIES} files and folders: benchmarks further in were not looked for"
        ));
    }
    let mut candidates = python::pytest(&tree, python);
    let (asv, asv_said) = python::asv(&tree, python);
    let (benches, cargo_said) = cargo::benches(&tree);
    let (scripts, scripts_said) = scripts::bench_scripts(&tree, python);
    candidates.extend(asv);
    candidates.extend(benches);
    candidates.extend(scripts);
    candidates.extend(scripts::make(&tree));
    candidates.extend(python::console_scripts(&tree));
    said.extend(asv_said);
    said.extend(cargo_said);
    said.extend(scripts_said);
    // A file named with memgate's placeholder would make the config refuse its command.
    candidates.retain(|c| {
        let clashes = std::iter::once(&c.command)
            .chain(&c.setup)
            .any(|text| text.contains("{dataset."));
        if clashes {
            said.push(format!(
                "{}: left out: its command would hold \"{{dataset.\", which memgate reads as a dataset's placeholder (rename the file)",
                c.found
            ));
        }
        !clashes
    });
    name_all(&mut candidates);
    Found { candidates, said }
}

/// The Python to write in commands: `python` where this machine has it on PATH (a virtual
/// environment, CI's setup-python), else `python3`.
pub fn python_program() -> &'static str {
    use std::os::unix::ffi::OsStrExt;
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        crate::files::find_program("python", &cwd, Some(path.as_bytes())).is_some()
    });
    if on_path { "python" } else { "python3" }
}
