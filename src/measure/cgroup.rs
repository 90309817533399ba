//! cgroup v2 probe: a child cgroup per run whose `memory.peak` is the kernel's own figure
//! for the whole tree at its largest (shared pages counted once, page cache included).
//! Used where memgate may create such a cgroup with the memory controller; elsewhere the
//! /proc probe stands in. Main types: [`CgroupParent`], [`RunCgroup`].

use std::path::{Path, PathBuf};

use super::units::Bytes;

/// A cgroup under which memgate may create run cgroups with the memory controller.
#[derive(Clone, Debug)]
pub struct CgroupParent {
    dir: PathBuf,
}

/// The cgroup one run lives in. Removed on drop.
#[derive(Debug)]
pub struct RunCgroup {
    dir: PathBuf,
}

impl CgroupParent {
    /// The cgroup v2 directory memgate itself runs in, if memgate may create children with
    /// the memory controller there; `None` means "use /proc".
    pub fn detect() -> Option<Self> {
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
        let parent = CgroupParent { dir };
        let probe = parent
            .create(&format!("memgate-probe-{}", std::process::id()))
            .ok()?;
        probe.dir.join("memory.peak").is_file().then_some(parent)
    }

    /// Creates a fresh cgroup for one run.
    pub fn create(&self, name: &str) -> std::io::Result<RunCgroup> {
        let dir = self.dir.join(name);
        std::fs::create_dir(&dir)?;
        Ok(RunCgroup { dir })
    }
}

impl RunCgroup {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The largest charge the cgroup has seen (`memory.peak`).
    pub fn peak(&self) -> Option<Bytes> {
        read_bytes(&self.dir.join("memory.peak"))
    }

    /// The charge now (`memory.current`).
    pub fn current(&self) -> Option<Bytes> {
        read_bytes(&self.dir.join("memory.current"))
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        // The run's processes are reaped by now; an rmdir can still race the kernel's
        // release of the last one, so try a few times.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
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
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mount_point = left.split_whitespace().nth(4)?;
        (right.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(mount_point))
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
