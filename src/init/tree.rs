//! The repository as `memgate init` sees it: the files below its root, listed once with a
//! bound on depth and count, without the folders of tools, environments and builds, and
//! without following a symbolic link out of the repository. Main type: [`Tree`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How many folder levels below the root the scan goes into (`a/b/c/d/e/f/g/h/file` at
/// most).
pub const MAX_DEPTH: usize = 8;
/// How many entries (files and folders) the scan looks at before it stops.
pub const MAX_ENTRIES: usize = 20_000;
/// The largest file read (a pyproject.toml, a test file).
const MAX_READ: u64 = 1024 * 1024;

/// Folders never looked into: version control, environments, caches and builds, which
/// hold copies of the project's files or other projects' (an installed package's tests).
const SKIPPED: &[&str] = &[
    "node_modules",
    "target",
    "venv",
    "site-packages",
    "__pycache__",
    "build",
    "dist",
];

/// The files of a repository, by their path relative to its root with `/` between
/// components (only paths that are UTF-8: a config cannot name the others).
pub struct Tree {
    root: PathBuf,
    files: BTreeSet<String>,
    /// The scan stopped at [`MAX_ENTRIES`].
    pub truncated: bool,
}

impl Tree {
    /// Lists the files below `root`.
    pub fn scan(root: &Path) -> Tree {
        let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut tree = Tree {
            root: root.to_path_buf(),
            files: BTreeSet::new(),
            truncated: false,
        };
        let mut seen = 0usize;
        // Depth first, each folder's entries in name order, so the result never depends
        // on the order the file system returns them in.
        let mut stack: Vec<(String, usize)> = vec![(String::new(), 0)];
        while let Some((dir, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
                continue;
            };
            let mut names: Vec<(String, std::fs::FileType)> = entries
                .flatten()
                .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
                .collect();
            names.sort_by(|a, b| a.0.cmp(&b.0));
            let mut subdirs = Vec::new();
            for (name, kind) in names {
                seen += 1;
                if seen > MAX_ENTRIES {
                    tree.truncated = true;
                    return tree;
                }
                let rel = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                if kind.is_dir() {
                    if depth < MAX_DEPTH && !skipped(&name) {
                        subdirs.push(rel);
                    }
                } else if kind.is_file()
                    || (kind.is_symlink() && inside(&real_root, &root.join(&rel)))
                {
                    tree.files.insert(rel);
                }
            }
            stack.extend(subdirs.into_iter().rev().map(|d| (d, depth + 1)));
        }
        tree
    }

    /// Whether the scan found the file `rel`.
    pub fn has(&self, rel: &str) -> bool {
        self.files.contains(rel)
    }

    /// Every file found, in name order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(String::as_str)
    }

    /// The files directly in the folder `dir` (`""` for the root), in name order.
    pub fn files_in<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a str> {
        self.files().filter(move |f| parent(f) == dir)
    }

    /// The text of the file `rel`, if the scan found it, it is at most 1 MiB and UTF-8.
    pub fn read(&self, rel: &str) -> Option<String> {
        if !self.has(rel) {
            return None;
        }
        let bytes = crate::files::read_bounded(&self.root.join(rel), MAX_READ).ok()?;
        String::from_utf8(bytes).ok()
    }

    /// The `#!` line the file `rel` starts with, if the scan found it and it has one.
    pub fn shebang(&self, rel: &str) -> Option<String> {
        self.has(rel)
            .then(|| crate::files::shebang(&self.root.join(rel)))
            .flatten()
    }

    /// Whether the file `rel` may be run as a program by its owner.
    pub fn is_executable(&self, rel: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        self.has(rel)
            && std::fs::metadata(self.root.join(rel))
                .is_ok_and(|m| m.permissions().mode() & 0o100 != 0)
    }
}

/// The folder of `rel` (`""` at the root).
pub fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The last component of `rel`.
pub fn file_name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, name)| name)
}

/// `dir/name`, or `name` when `dir` is the root.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn skipped(name: &str) -> bool {
    // Hidden folders: .git, .venv, .tox, .nox, .memgate, .asv (asv's environments hold
    // copies of the project), editors' and tools' caches.
    name.starts_with('.') || SKIPPED.contains(&name)
}

/// Whether the link at `path` leads to a regular file inside `real_root`.
fn inside(real_root: &Path, path: &Path) -> bool {
    std::fs::canonicalize(path)
        .is_ok_and(|target| target.starts_with(real_root) && target.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::folder;

    #[test]
    fn skips_tool_folders_and_links_out_of_the_repository() {
        let outside = folder(&[("secret/test_x.py", "x", 0o644)]);
        let files: Vec<_> = [
            "pyproject.toml",
            "tests/test_a.py",
            "my dir/it's.py",
            ".git/config",
            ".venv/lib/test_v.py",
            "node_modules/p/test.py",
            "target/debug/x.rs",
            "venv/test_v.py",
            "lib/site-packages/test_s.py",
        ]
        .into_iter()
        .map(|rel| (rel, "x", 0o644))
        .collect();
        let dir = folder(&files);
        let root = dir.path();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret/test_x.py"), root.join("out.py"))
            .unwrap();
        std::os::unix::fs::symlink(root.join("tests/test_a.py"), root.join("in.py")).unwrap();
        let tree = Tree::scan(root);
        let files: Vec<&str> = tree.files().collect();
        assert_eq!(
            files,
            [
                "in.py",
                "my dir/it's.py",
                "pyproject.toml",
                "tests/test_a.py"
            ]
        );
        assert!(!tree.truncated);
        assert_eq!(
            tree.files_in("tests").collect::<Vec<_>>(),
            ["tests/test_a.py"]
        );
        assert_eq!(tree.read("in.py").as_deref(), Some("x"));
        assert_eq!(tree.read("out.py"), None, "not listed, not read");
    }

    #[test]
    fn bounded_in_depth_and_count() {
        let deep = (0..=MAX_DEPTH)
            .map(|i| format!("d{i}"))
            .collect::<Vec<_>>()
            .join("/");
        let dir = folder(&[
            (&format!("{deep}/test_deep.py"), "", 0o644),
            ("d0/d1/d2/d3/d4/d5/d6/d7/test_deepest.py", "", 0o644),
        ]);
        let tree = Tree::scan(dir.path());
        assert!(tree.has("d0/d1/d2/d3/d4/d5/d6/d7/test_deepest.py"));
        assert!(!tree.files().any(|f| f.ends_with("test_deep.py")));

        let many = tempfile::tempdir().unwrap();
        for i in 0..MAX_ENTRIES + 5 {
            std::fs::write(many.path().join(format!("f{i}")), "").unwrap();
        }
        let tree = Tree::scan(many.path());
        assert!(tree.truncated);
        assert_eq!(tree.files().count(), MAX_ENTRIES);
    }
}
