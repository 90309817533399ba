//! The action's installer, `scripts/install.sh`, run for real: release binaries served by
//! a real HTTP server on 127.0.0.1, the checksum table a real file, `cargo` a stand-in
//! program where a source build would take minutes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn target() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

fn sha256(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves one file at one path, 404 elsewhere, and keeps the paths asked for.
struct Releases {
    server: Arc<tiny_http::Server>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Releases {
    fn serve(path: String, body: Option<Vec<u8>>) -> Releases {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (s, a) = (server.clone(), asked.clone());
        std::thread::spawn(move || {
            for request in s.incoming_requests() {
                a.lock().unwrap().push(request.url().to_owned());
                let reply = match &body {
                    Some(bytes) if request.url() == path => {
                        tiny_http::Response::from_data(bytes.clone())
                    }
                    _ => {
                        tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
                    }
                };
                let _ = request.respond(reply);
            }
        });
        Releases { server, asked }
    }

    fn url(&self) -> String {
        format!("http://{}", self.server.server_addr().to_ip().unwrap())
    }
}

impl Drop for Releases {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// A runner's job: its temp folder, GITHUB_OUTPUT and GITHUB_PATH, and a PATH without
/// memgate.
struct Job {
    dir: tempfile::TempDir,
    /// The action's folder (default this repository).
    action: PathBuf,
    checksums: PathBuf,
    releases: String,
    env: Vec<(String, String)>,
}

impl Job {
    fn new(releases: &Releases, table: &str) -> Job {
        let dir = tempfile::tempdir().unwrap();
        let checksums = dir.path().join("checksums.txt");
        std::fs::write(&checksums, table).unwrap();
        std::fs::create_dir(dir.path().join("runner-temp")).unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        Job {
            action: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            checksums,
            releases: releases.url(),
            env: Vec::new(),
            dir,
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_default()
    }

    fn outputs(&self) -> BTreeMap<String, String> {
        crate::util::outputs(&self.read("output.txt"))
    }

    fn install(&self, args: &[&str]) -> Output {
        Command::new("bash")
            .arg(self.action.join("scripts/install.sh"))
            .args(args)
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.file("bin").display()),
            )
            .env("HOME", self.dir.path())
            .env("CARGO_HOME", self.file("cargo-home"))
            .env("GITHUB_ACTION_PATH", &self.action)
            .env("GITHUB_OUTPUT", self.file("output.txt"))
            .env("GITHUB_PATH", self.file("path.txt"))
            .env("RUNNER_TEMP", self.file("runner-temp"))
            .env("MEMGATE_CHECKSUMS", &self.checksums)
            .env("MEMGATE_RELEASES_URL", &self.releases)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A release asset as the release workflow packs it: `memgate` alone in a tar.gz, and
/// its SHA-256. The binary is the one under test, so what gets installed can be run.
/// Packed once for all the tests (the debug binary is large).
fn asset() -> &'static (Vec<u8>, String) {
    static ASSET: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    ASSET.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-asset");
        let stage = dir.join("stage");
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_memgate"), stage.join("memgate")).unwrap();
        let tarball = dir.join("memgate.tar.gz");
        let status = Command::new("tar")
            .arg("-C")
            .arg(&stage)
            .arg("-czf")
            .arg(&tarball)
            .arg("memgate")
            .status()
            .unwrap();
        assert!(status.success());
        (std::fs::read(&tarball).unwrap(), sha256(&tarball))
    })
}

fn asset_path() -> String {
    format!("/v{VERSION}/memgate-{}.tar.gz", target())
}

#[test]
fn the_action_installs_the_release_binary_whose_checksum_the_table_records() {
    let releases = Releases::serve(asset_path(), Some(asset().0.clone()));
    let table = format!(
        "# a comment\n0.0.1 {t} {}\n{VERSION} {t} {}\n",
        "0".repeat(64),
        asset().1,
        t = target()
    );
    let job = Job::new(&releases, &table);

    let plan = job.install(&["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(
        !job.outputs().contains_key("cache-key"),
        "no build, no cache"
    );

    let out = job.install(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("SHA-256 verified"), "{}", text(&out));
    assert_eq!(*releases.asked.lock().unwrap(), vec![asset_path()]);
    let outputs = job.outputs();
    let bin = PathBuf::from(&outputs["bin"]);
    assert!(
        bin.starts_with(job.file("runner-temp")),
        "{}",
        bin.display()
    );
    assert_eq!(outputs["sha256"], sha256(&bin));
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("memgate {VERSION}")
    );
    // Later steps find it on PATH.
    assert_eq!(
        job.read("path.txt").trim(),
        bin.parent().unwrap().to_str().unwrap()
    );
}

#[test]
fn a_download_with_another_checksum_is_never_installed() {
    let releases = Releases::serve(asset_path(), Some(asset().0.clone()));
    let table = format!("{VERSION} {} {}\n", target(), "ab".repeat(32));
    let job = Job::new(&releases, &table);

    let out = job.install(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("does not have the SHA-256"),
        "{}",
        text(&out)
    );
    assert!(!job.outputs().contains_key("bin"));
    assert!(
        !job.file(&format!("runner-temp/memgate-{VERSION}/bin/memgate"))
            .exists()
    );
    assert_eq!(job.read("path.txt"), "");
}

#[test]
fn a_table_line_without_a_checksum_stops_the_install() {
    let releases = Releases::serve(asset_path(), None);
    let job = Job::new(&releases, &format!("{VERSION} {} not-a-sum\n", target()));
    let out = job.install(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("has no SHA-256"), "{}", text(&out));
    assert!(releases.asked.lock().unwrap().is_empty());
}

/// A stand-in for `cargo install`: writes the binary under test where `--root` says and
/// keeps its arguments.
fn fake_cargo(job: &Job) {
    let script = format!(
        "#!/bin/sh\necho \"$@\" > '{log}'\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\n\
         mkdir -p \"$root/bin\" && cp '{bin}' \"$root/bin/memgate\"\n",
        log = job.file("cargo-args.txt").display(),
        bin = env!("CARGO_BIN_EXE_memgate"),
    );
    let path = job.file("bin/cargo");
    std::fs::write(&path, script).unwrap();
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
}

#[test]
fn a_failed_download_falls_back_to_the_source_build() {
    let releases = Releases::serve(asset_path(), None); // every path is a 404
    let table = format!("{VERSION} {} {}\n", target(), "ab".repeat(32));
    let job = Job::new(&releases, &table);
    fake_cargo(&job);

    let out = job.install(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("::warning title=memgate::could not download"),
        "{}",
        text(&out)
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        job.read("cargo-args.txt").trim(),
        format!(
            "install --locked --force --quiet --path {} --root {}",
            root.display(),
            job.file("cargo-home").display()
        )
    );
    assert_eq!(
        PathBuf::from(&job.outputs()["bin"]),
        job.file("cargo-home/bin/memgate")
    );
}

#[test]
fn without_a_table_line_the_source_is_built_under_a_key_of_the_source() {
    let releases = Releases::serve(asset_path(), None);
    let job = Job::new(&releases, "# nothing released yet\n");
    fake_cargo(&job);

    let plan = job.install(&["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let outputs = job.outputs();
    let key = &outputs["cache-key"];
    assert!(
        key.starts_with(&format!(
            "memgate-Linux-unknown-{}-{VERSION}-",
            std::env::consts::ARCH
        )),
        "{key}"
    );
    assert_eq!(key.rsplit('-').next().unwrap().len(), 32, "{key}");

    let out = job.install(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        releases.asked.lock().unwrap().is_empty(),
        "no download without a line"
    );
    assert!(job.file("cargo-args.txt").exists());
}

#[test]
fn a_comment_job_installs_into_its_own_folder_even_with_memgate_on_path() {
    let releases = Releases::serve(asset_path(), Some(asset().0.clone()));
    let table = format!("{VERSION} {} {}\n", target(), asset().1);
    let mut job = Job::new(&releases, &table);
    // A memgate of the right version already on the machine, left by an earlier job.
    std::fs::copy(env!("CARGO_BIN_EXE_memgate"), job.file("bin/memgate")).unwrap();
    job.env
        .push(("MEMGATE_FRESH".into(), "memgate-report/report.json".into()));
    let plan = job.install(&["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(job.outputs().is_empty(), "a comment job caches nothing");

    let out = job.install(&[]);
    assert!(out.status.success(), "{}", text(&out));
    let bin = PathBuf::from(&job.outputs()["bin"]);
    assert!(
        bin.starts_with(job.file("runner-temp")),
        "{}",
        bin.display()
    );
    assert_eq!(releases.asked.lock().unwrap().len(), 1);
    assert_eq!(
        job.read("path.txt"),
        "",
        "a comment job's PATH is left alone"
    );
}

#[test]
fn a_version_with_neither_a_binary_nor_its_source_is_an_error() {
    let releases = Releases::serve(asset_path(), None);
    let mut job = Job::new(&releases, "");
    fake_cargo(&job);
    job.env.push(("MEMGATE_VERSION".into(), "9.9.9".into()));
    let out = job.install(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("use the action at v9.9.9"),
        "{}",
        text(&out)
    );
    assert!(!job.file("cargo-args.txt").exists());
}

/// The cache key follows every file the binary is built from, the compiled-in config
/// among them, and the runner's image.
#[test]
fn the_cache_key_changes_with_a_compiled_in_file_and_the_image() {
    let releases = Releases::serve(asset_path(), None);
    let mut job = Job::new(&releases, "");
    let copy = job.file("action");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir(&copy).unwrap();
    for part in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "config",
        "examples",
        "scripts",
    ] {
        let status = Command::new("cp")
            .arg("-a")
            .arg(root.join(part))
            .arg(&copy)
            .status()
            .unwrap();
        assert!(status.success());
    }
    job.action = copy.clone();
    let key = |job: &Job| {
        std::fs::write(job.file("output.txt"), "").unwrap();
        let out = job.install(&["plan"]);
        assert!(out.status.success(), "{}", text(&out));
        job.outputs()["cache-key"].clone()
    };
    let first = key(&job);
    assert_eq!(key(&job), first, "the same files, the same key");
    let default = copy.join("config/default.yml");
    let text = std::fs::read_to_string(&default).unwrap();
    std::fs::write(&default, format!("{text}# changed\n")).unwrap();
    let changed = key(&job);
    assert_ne!(changed, first);
    job.env.push(("ImageOS".into(), "ubuntu24".into()));
    job.env.push(("ImageVersion".into(), "20261124.1".into()));
    let imaged = key(&job);
    assert!(
        imaged.starts_with("memgate-ubuntu24-20261124.1-"),
        "{imaged}"
    );
    assert_ne!(imaged, changed);
}

/// The cache key hashes what the binary is built from: the package's `include` list in
/// Cargo.toml (less the README and licenses, which no build reads). The two lists are
/// kept in step by this test.
#[test]
fn the_cache_key_covers_every_file_the_package_builds_from() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let script = std::fs::read_to_string(root.join("scripts/install.sh")).unwrap();
    let hashed: Vec<&str> = script
        .lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix("key=$(cd \"$action_dir\" && find ")
        })
        .expect("the key's find")
        .split(" -type")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    for entry in manifest["package"]["include"].as_array().unwrap() {
        let entry = entry.as_str().unwrap().trim_start_matches('/');
        if entry.starts_with("README") || entry.starts_with("LICENSE") {
            continue;
        }
        // The part before the first glob: a file, or the folder the pattern is in.
        let fixed: Vec<&str> = entry
            .split('/')
            .take_while(|part| !part.contains('*'))
            .collect();
        let fixed = fixed.join("/");
        assert!(
            hashed
                .iter()
                .any(|h| fixed == *h || fixed.starts_with(&format!("{h}/"))),
            "{entry} of Cargo.toml's include is not in the cache key's {hashed:?}"
        );
    }
}
