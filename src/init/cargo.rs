//! `cargo bench` targets `memgate init` finds: a package's `[[bench]]` entries and the
//! files cargo discovers in `benches/` (unless `autobenches = false`), for the root
//! package and a workspace's members. One benchmark per target, built in its setup so
//! that the compiler is not measured.

use super::candidate::{Candidate, shell_words};
use super::tree::{self, Tree};

/// The bench targets of the root package and of the workspace's members.
pub fn benches(tree: &Tree) -> (Vec<Candidate>, Vec<String>) {
    let mut out = Vec::new();
    let mut said = Vec::new();
    let Some(root) = manifest(tree, "", &mut said) else {
        return (out, said);
    };
    if root.contains_key("package") {
        out.extend(package_benches(tree, "", &root, None));
    }
    for dir in members(tree, &root) {
        let Some(member) = manifest(tree, &dir, &mut said) else {
            continue;
        };
        let Some(name) = member
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str)
        else {
            continue;
        };
        out.extend(package_benches(tree, &dir, &member, Some(name)));
    }
    (out, said)
}

/// The Cargo.toml in `dir`, parsed, if there is one.
fn manifest(tree: &Tree, dir: &str, said: &mut Vec<String>) -> Option<toml::Table> {
    let file = tree::join(dir, "Cargo.toml");
    let text = tree.read(&file)?;
    match text.parse::<toml::Table>() {
        Ok(table) => Some(table),
        Err(e) => {
            let first = e.to_string();
            let first = first.lines().next().unwrap_or("").trim();
            said.push(format!(
                "{file}: not read, it is not TOML cargo reads ({first})"
            ));
            None
        }
    }
}

/// The folders of the workspace's members (`members`, `*` and `?` within a component),
/// less `exclude`, the root itself left out.
fn members(tree: &Tree, root: &toml::Table) -> Vec<String> {
    let list = |key: &str| -> Vec<String> {
        root.get("workspace")
            .and_then(|w| w.get(key))
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(|s| s.trim_end_matches('/').trim_start_matches("./").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (include, exclude) = (list("members"), list("exclude"));
    tree.files()
        .filter(|f| tree::file_name(f) == "Cargo.toml")
        .map(tree::parent)
        .filter(|dir| {
            !dir.is_empty()
                && include.iter().any(|p| glob(p, dir))
                && !exclude.iter().any(|p| glob(p, dir))
        })
        .map(str::to_owned)
        .collect()
}

/// Whether `path` matches `pattern`, a workspace member glob, as cargo reads it (with
/// the glob crate cargo uses): `*` and `?` never cross a `/`. A pattern glob cannot
/// read matches nothing.
fn glob(pattern: &str, path: &str) -> bool {
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..Default::default()
    };
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches_with(path, options))
}

/// One benchmark per bench target of the package in `dir`; `package` names it for `-p`
/// when it is a member, not the root.
fn package_benches(
    tree: &Tree,
    dir: &str,
    manifest: &toml::Table,
    package: Option<&str>,
) -> Vec<Candidate> {
    let settings = manifest.get("package").and_then(toml::Value::as_table);
    let edition = settings
        .and_then(|p| p.get("edition"))
        .and_then(toml::Value::as_str)
        .unwrap_or("2015");
    let explicit: Vec<&toml::Table> = manifest
        .get("bench")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_table).collect())
        .unwrap_or_default();
    // Edition 2015 discovers nothing once one target is listed; later ones unless told not to.
    let auto = settings
        .and_then(|p| p.get("autobenches"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(edition != "2015" || explicit.is_empty());

    // (name, its file relative to the package, required features, where it was found)
    let mut targets: Vec<(String, String, Vec<String>, String)> = Vec::new();
    let manifest_file = tree::join(dir, "Cargo.toml");
    for bench in explicit {
        let Some(name) = bench.get("name").and_then(toml::Value::as_str) else {
            continue;
        };
        let path = bench.get("path").and_then(toml::Value::as_str).map_or_else(
            || format!("benches/{name}.rs"),
            |p| p.trim_start_matches("./").to_owned(),
        );
        let features = bench
            .get("required-features")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        targets.push((
            name.to_owned(),
            path,
            features,
            format!("{manifest_file} [[bench]] {name:?}"),
        ));
    }
    if auto {
        let benches_dir = tree::join(dir, "benches");
        let prefix = format!("{benches_dir}/");
        for file in tree.files().filter(|f| f.starts_with(&prefix)) {
            let rest = &file[prefix.len()..];
            let name = match rest.split('/').collect::<Vec<_>>()[..] {
                [one] => one.strip_suffix(".rs"),
                [folder, "main.rs"] => Some(folder),
                _ => None,
            };
            let Some(name) = name else { continue };
            let path = format!("benches/{rest}");
            // A file a listed target names is that target, whatever its name.
            if targets.iter().any(|(n, p, ..)| n == name || *p == path) {
                continue;
            }
            targets.push((name.to_owned(), path, vec![], file.to_owned()));
        }
    }
    targets
        .into_iter()
        .map(|(name, _, features, found)| {
            let mut args = vec!["cargo".to_owned(), "bench".into()];
            if let Some(package) = package {
                args.extend(["-p".into(), package.to_owned()]);
            }
            args.extend(["--bench".into(), name.clone()]);
            if !features.is_empty() {
                args.extend(["--features".into(), features.join(",")]);
            }
            let mut setup = args.clone();
            setup.insert(2, "--no-run".into());
            Candidate {
                name: match package {
                    Some(package) => format!("cargo-{package}-{name}"),
                    None => format!("cargo-{name}"),
                },
                command: shell_words(&args),
                setup: Some(shell_words(&setup)),
                cwd: None,
                found,
                note: "The build is the setup (once, not measured); each run measures cargo's \
                       check that the build is fresh, then the bench binary."
                    .into(),
                active: true,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::text_folder as repo;

    fn summary(found: &[Candidate]) -> Vec<(String, String, String)> {
        found
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.command.clone(),
                    c.setup.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn listed_and_discovered_targets() {
        let dir = repo(&[
            (
                "Cargo.toml",
                "[package]\nname = \"p\"\nedition = \"2021\"\n[[bench]]\nname = \"parse\"\nharness = false\nrequired-features = [\"fast\", \"simd\"]\n[[bench]]\nname = \"renamed\"\npath = \"benches/io.rs\"\n",
            ),
            ("benches/parse.rs", "fn main() {}"),
            ("benches/io.rs", "fn main() {}"),
            ("benches/my bench.rs", "fn main() {}"),
            ("benches/multi/main.rs", "fn main() {}"),
            ("benches/multi/helper.rs", ""),
            ("benches/README.md", ""),
        ]);
        let (found, said) = benches(&Tree::scan(dir.path()));
        assert!(said.is_empty());
        assert_eq!(
            summary(&found),
            [
                (
                    "cargo-parse".into(),
                    "cargo bench --bench parse --features fast,simd".into(),
                    "cargo bench --no-run --bench parse --features fast,simd".into()
                ),
                (
                    "cargo-renamed".into(),
                    "cargo bench --bench renamed".into(),
                    "cargo bench --no-run --bench renamed".into()
                ),
                (
                    "cargo-multi".into(),
                    "cargo bench --bench multi".into(),
                    "cargo bench --no-run --bench multi".into()
                ),
                (
                    "cargo-my bench".into(),
                    "cargo bench --bench 'my bench'".into(),
                    "cargo bench --no-run --bench 'my bench'".into()
                ),
            ]
        );
        assert_eq!(found[0].found, "Cargo.toml [[bench]] \"parse\"");
        assert_eq!(found[2].found, "benches/multi/main.rs");
    }

    #[test]
    fn autobenches_off_and_edition_2015() {
        for manifest in [
            "[package]\nname = \"p\"\nedition = \"2021\"\nautobenches = false\n[[bench]]\nname = \"a\"\n",
            "[package]\nname = \"p\"\n[[bench]]\nname = \"a\"\n",
        ] {
            let dir = repo(&[
                ("Cargo.toml", manifest),
                ("benches/a.rs", ""),
                ("benches/b.rs", ""),
            ]);
            let names: Vec<String> = benches(&Tree::scan(dir.path()))
                .0
                .into_iter()
                .map(|c| c.name)
                .collect();
            assert_eq!(names, ["cargo-a"], "{manifest}");
        }
    }

    #[test]
    fn workspace_members() {
        let dir = repo(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\", \"tools/cli/\"]\nexclude = [\"crates/skip\"]\n",
            ),
            ("benches/ignored.rs", ""),
            (
                "crates/core/Cargo.toml",
                "[package]\nname = \"core\"\nedition = \"2021\"\n",
            ),
            ("crates/core/benches/hot.rs", ""),
            (
                "crates/skip/Cargo.toml",
                "[package]\nname = \"skip\"\nedition = \"2021\"\n",
            ),
            ("crates/skip/benches/x.rs", ""),
            (
                "tools/cli/Cargo.toml",
                "[package]\nname = \"cli\"\nedition = \"2021\"\n",
            ),
            ("tools/cli/benches/start.rs", ""),
            ("broken/Cargo.toml", "not toml ["),
        ]);
        let (found, said) = benches(&Tree::scan(dir.path()));
        assert_eq!(
            summary(&found),
            [
                (
                    "cargo-core-hot".into(),
                    "cargo bench -p core --bench hot".into(),
                    "cargo bench --no-run -p core --bench hot".into()
                ),
                (
                    "cargo-cli-start".into(),
                    "cargo bench -p cli --bench start".into(),
                    "cargo bench --no-run -p cli --bench start".into()
                ),
            ]
        );
        assert!(
            said.is_empty(),
            "a folder outside the workspace is not read: {said:?}"
        );
        let broken = repo(&[("Cargo.toml", "[package\n")]);
        let (found, said) = benches(&Tree::scan(broken.path()));
        assert!(found.is_empty());
        assert!(said[0].starts_with("Cargo.toml: not read"), "{said:?}");
    }

    #[test]
    fn globs() {
        assert!(glob("crates/*", "crates/a"));
        assert!(!glob("crates/*", "crates/a/b"));
        assert!(glob("c?ates/*-x", "crates/a-x"));
        assert!(!glob("crates/*-x", "crates/a-y"));
        assert!(glob("tools/cli", "tools/cli"));
        assert!(!glob("[", "x"), "a pattern that is no glob matches nothing");
    }
}
