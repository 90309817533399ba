//! Reading a process tree from `/proc`: its members (through each task's `children`
//! file, so orphans re-parented to memgate's launcher are found too) and their resident
//! memory. Main type: [`ProcTree`], which reuses its buffers so that sampling allocates
//! nothing in the steady state.

use std::fs::File;
use std::io::{self, Read};

use super::units::Bytes;

/// One look at a process tree's memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeSample {
    /// The tree's resident memory, shared pages counted once (PSS) when there is more
    /// than one process, plain RSS for a single process.
    pub total: Bytes,
    /// How many processes the tree had.
    pub processes: usize,
}

/// Walks and measures the process tree below one root.
pub struct ProcTree {
    page_size: u64,
    path: String,
    buf: Vec<u8>,
    pids: Vec<i32>,
}

impl Default for ProcTree {
    fn default() -> Self {
        // SAFETY: sysconf has no preconditions.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        ProcTree {
            page_size: u64::try_from(page_size).unwrap_or(4096),
            path: String::with_capacity(64),
            buf: Vec::with_capacity(4096),
            pids: Vec::with_capacity(64),
        }
    }
}

impl ProcTree {
    /// Every descendant of `root` (not `root` itself), parents before children.
    pub fn descendants(&mut self, root: i32) -> &[i32] {
        self.pids.clear();
        self.push_children(root);
        let mut next = 0;
        while next < self.pids.len() {
            let pid = self.pids[next];
            self.push_children(pid);
            next += 1;
        }
        &self.pids
    }

    /// Appends the children of every thread of `pid`: a child belongs to the thread that
    /// forked it.
    fn push_children(&mut self, pid: i32) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        for task in tasks.flatten() {
            let tid = task.file_name();
            let Some(tid) = tid.to_str() else { continue };
            self.path.clear();
            use std::fmt::Write;
            let _ = write!(self.path, "/proc/{pid}/task/{tid}/children");
            if read_into(&self.path, &mut self.buf).is_err() {
                continue;
            }
            let text = std::str::from_utf8(&self.buf).unwrap_or("");
            self.pids.extend(
                text.split_ascii_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }

    /// The memory of every process below `root`, `root` itself left out.
    ///
    /// PSS is read one process at a time. A fork or exit between two reads shifts shared
    /// pages between processes already read and not yet read (a parent read whole before
    /// a fork, its children read after it, counts the buffer twice), so the tree is walked
    /// again after the reads, and a sample whose process set changed is taken again. If
    /// the tree keeps changing, the smallest of the tries stands.
    pub fn sample(&mut self, root: i32) -> TreeSample {
        let mut best: Option<TreeSample> = None;
        for _ in 0..3 {
            self.descendants(root);
            let pids = std::mem::take(&mut self.pids);
            let total = match pids.as_slice() {
                [] => 0,
                [only] => self.rss(*only).unwrap_or(0),
                many => many.iter().map(|&pid| self.pss(pid).unwrap_or(0)).sum(),
            };
            let sample = TreeSample {
                total: Bytes(total),
                processes: pids.len(),
            };
            // One process has nothing to share; for more, check the set held still.
            let steady = pids.len() <= 1 || self.descendants(root) == pids.as_slice();
            self.pids = pids;
            if steady {
                return sample;
            }
            best = Some(match best {
                Some(b) if b.total <= sample.total => b,
                _ => sample,
            });
        }
        best.unwrap_or_default()
    }

    /// Resident set size from `statm` (the cheapest read the kernel offers).
    pub fn rss(&mut self, pid: i32) -> Option<u64> {
        self.read(pid, "statm")?;
        let text = std::str::from_utf8(&self.buf).ok()?;
        let pages: u64 = text.split_ascii_whitespace().nth(1)?.parse().ok()?;
        Some(pages * self.page_size)
    }

    /// Proportional set size from `smaps_rollup`: each shared page divided among its users.
    pub fn pss(&mut self, pid: i32) -> Option<u64> {
        self.read(pid, "smaps_rollup")?;
        kib_field(&self.buf, b"Pss:").map(|kib| kib * 1024)
    }

    /// A `kB` field of `/proc/PID/status`, such as `VmHWM`.
    pub fn status_field(&mut self, pid: i32, field: &str) -> Option<Bytes> {
        self.read(pid, "status")?;
        let key = format!("{field}:");
        kib_field(&self.buf, key.as_bytes()).map(Bytes::from_kib)
    }

    fn read(&mut self, pid: i32, file: &str) -> Option<()> {
        use std::fmt::Write;
        self.path.clear();
        let _ = write!(self.path, "/proc/{pid}/{file}");
        read_into(&self.path, &mut self.buf).ok()
    }
}

/// Reads a whole file into `buf`, reusing its allocation.
fn read_into(path: &str, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    File::open(path)?.read_to_end(buf)?;
    Ok(())
}

/// The number after `key` on its line, such as `Pss:   1234 kB`.
fn kib_field(text: &[u8], key: &[u8]) -> Option<u64> {
    let start = text.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = &text[start..];
    let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    std::str::from_utf8(&rest[..line_end])
        .ok()?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let text = b"Rss:  2048 kB\nPss:   1234 kB\nPss_Anon: 5 kB\n";
        assert_eq!(kib_field(text, b"Pss:"), Some(1234));
        assert_eq!(kib_field(text, b"Rss:"), Some(2048));
        assert_eq!(kib_field(text, b"Swap:"), None);
    }

    #[test]
    fn own_memory_is_readable() {
        let mut tree = ProcTree::default();
        let me = std::process::id() as i32;
        assert!(tree.rss(me).unwrap() > 0);
        assert!(tree.pss(me).unwrap() > 0);
        assert!(tree.status_field(me, "VmHWM").unwrap().0 > 0);
    }

    #[test]
    fn finds_a_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let mut tree = ProcTree::default();
        let found = tree.descendants(std::process::id() as i32).to_vec();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found.contains(&(child.id() as i32)), "{found:?}");
    }
}
