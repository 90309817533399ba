//! cgroup probe: a child cgroup per run whose high-water mark is the kernel's own figure
//! for the whole tree at its largest (shared pages counted once, page cache included):
//! `memory.peak` in cgroup v2, `memory.max_usage_in_bytes` in a v1 memory hierarchy.
//! Used where memgate may create such a cgroup, v2 first; elsewhere the /proc probe
//! stands in. Main types: [`CgroupParent`], [`RunCgroup`].

use std::path::{Path, PathBuf};

use super::units::Bytes;

/// Which cgroup interface a parent offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    /// The files of the charge now and of its high-water mark.
    fn files(self) -> (&'static str, &'static str) {
        match self {
            Version::V1 => ("memory.usage_in_bytes", "memory.max_usage_in_bytes"),
            Version::V2 => ("memory.current", "memory.peak"),
        }
    }
}

/// A cgroup under which memgate may create run cgroups with the memory controller.
#[derive(Clone, Debug)]
pub struct CgroupParent {
    dir: PathBuf,
    version: Version,
}

/// The cgroup one run lives in. Removed on drop.
#[derive(Debug)]
pub struct RunCgroup {
    dir: PathBuf,
    version: Version,
}

impl CgroupParent {
    /// Where memgate may create run cgroups: in its own cgroup v2 with the memory
    /// controller, else in its own v1 memory cgroup; `None` means "use /proc".
    pub fn detect() -> Option<Self> {
        Self::detect_v2().or_else(Self::detect_v1)
    }

    pub fn version(&self) -> Version {
        self.version
    }

    fn detect_v2() -> Option<Self> {
        let mount = cgroup2_mount()?;
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let relative = own.lines().find_map(|l| l.strip_prefix("0::"))?;
        let dir = mount.join(relative.trim_start_matches('/'));
        let subtree = std::fs::read_to_string(dir.join("cgroup.subtree_control")).ok()?;
        if !subtree.split_whitespace().any(|c| c == "memory") {
            // Enabling it fails while the cgroup holds processes (memgate itself): the
            // kernel's no-internal-processes rule. Then /proc it is.
            std::fs::write(dir.join("cgroup.subtree_control"), "+memory").ok()?;
        }
        CgroupParent {
            dir,
            version: Version::V2,
        }
        .tried()
    }

    /// The v1 memory cgroup memgate runs in (root may create children there; a
    /// delegated one may too).
    fn detect_v1() -> Option<Self> {
        let mount = cgroup1_memory_mount()?;
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let relative = own.lines().find_map(|l| {
            let (_, rest) = l.split_once(':')?;
            let (controllers, path) = rest.split_once(':')?;
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then_some(path)
        })?;
        CgroupParent {
            dir: mount.join(relative.trim_start_matches('/')),
            version: Version::V1,
        }
        .tried()
    }

    /// Itself, if a run cgroup can be created here and has a high-water mark. Run
    /// cgroups left by memgates that were killed (whose pid no longer runs) go first.
    fn tried(self) -> Option<Self> {
        self.sweep();
        let probe = self
            .create(&format!("memgate-probe-{}", std::process::id()))
            .ok()?;
        probe
            .dir
            .join(self.version.files().1)
            .is_file()
            .then_some(self)
    }

    /// Removes the `memgate-PID-*` and `memgate-probe-PID` cgroups of memgates that no
    /// longer run: a memgate killed outright cannot remove its own.
    fn sweep(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("memgate-")) else {
                continue;
            };
            let rest = rest.strip_prefix("probe-").unwrap_or(rest);
            let pid = rest.split('-').next().and_then(|p| p.parse::<i32>().ok());
            // SAFETY: kill with signal 0 only checks that the process exists.
            // An hour old at least: a memgate in another pid namespace sharing this
            // cgroup may have a pid that is free here.
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 3600));
            let gone = old
                && pid.is_some_and(|pid| {
                    pid > 0
                        && unsafe { libc::kill(pid, 0) } != 0
                        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
                });
            if gone {
                remove_tree(&entry.path());
            }
        }
    }

    /// Creates a fresh cgroup for one run.
    pub fn create(&self, name: &str) -> std::io::Result<RunCgroup> {
        let dir = self.dir.join(name);
        std::fs::create_dir(&dir)?;
        Ok(RunCgroup {
            dir,
            version: self.version,
        })
    }
}

impl RunCgroup {
    pub fn version(&self) -> Version {
        self.version
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The largest charge the cgroup has seen.
    pub fn peak(&self) -> Option<Bytes> {
        read_bytes(&self.dir.join(self.version.files().1))
    }

    /// The charge now.
    pub fn current(&self) -> Option<Bytes> {
        read_bytes(&self.dir.join(self.version.files().0))
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        // The run's processes are reaped by now; an rmdir can still race the kernel's
        // release of the last one, so try a few times. Cgroups the benchmark made
        // inside its own go first.
        for _ in 0..50 {
            if remove_tree(&self.dir) || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

/// Removes a cgroup and the cgroups below it, deepest first; true if it is gone.
fn remove_tree(dir: &Path) -> bool {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            // Only directories are cgroups; the rest are the kernel's files.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path());
            }
        }
    }
    std::fs::remove_dir(dir).is_ok()
}

fn read_bytes(path: &Path) -> Option<Bytes> {
    std::fs::read_to_string(path)
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Bytes)
}

/// Where the cgroup v2 hierarchy is mounted, from `/proc/self/mountinfo`.
fn cgroup2_mount() -> Option<PathBuf> {
    find_mount(|kind, _| kind == "cgroup2")
}

/// Where the v1 memory controller is mounted.
fn cgroup1_memory_mount() -> Option<PathBuf> {
    find_mount(|kind, options| kind == "cgroup" && options.split(',').any(|o| o == "memory"))
}

/// The first mount point whose file system type and super options `wanted` accepts.
fn find_mount(wanted: impl Fn(&str, &str) -> bool) -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mount_point = left.split_whitespace().nth(4)?;
        let mut right = right.split_whitespace();
        let (kind, options) = (right.next()?, right.nth(1).unwrap_or(""));
        wanted(kind, options).then(|| PathBuf::from(mount_point))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_cgroup2_mount_when_there_is_one() {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let has_v2 = info.contains(" - cgroup2 ");
        assert_eq!(super::cgroup2_mount().is_some(), has_v2);
    }
}
