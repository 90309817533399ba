//! Reading a process tree from `/proc`: its members (through each thread's `children`
//! file, so orphans re-parented to memgate's launcher are found too) and their resident
//! memory. Main type: [`ProcTree`].
//!
//! The sampler runs every few milliseconds, so this module is written for cost: each
//! process's `/proc` files are opened once and re-read with `pread`, a single process
//! is measured by its RSS from `stat` alone, and the expensive PSS (`smaps_rollup`
//! walks every page table of a process: ~130 µs even for a small one) is re-read only
//! for a process whose fault count or RSS moved, when the set of processes changed, on
//! a periodic full refresh, and within a CPU budget.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

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

/// How often every process's PSS is re-read even if none of them faulted: sharing
/// changes when one process breaks copy-on-write (its own PSS is refreshed by its
/// faults, but its siblings' shares change too).
const FULL_REFRESH: Duration = Duration::from_millis(100);
/// The share of elapsed time the sampler may spend reading `smaps_rollup` (about
/// 12.5 µs per MiB mapped), plus a start-up allowance. Beyond it, PSS is carried forward
/// by RSS changes, and a sample that would need a full re-read is skipped.
const PSS_BUDGET: f64 = 0.10;
const PSS_ALLOWANCE: Duration = Duration::from_millis(5);
/// How many samples in a row may be skipped for shared pages moving during the reads.
const MAX_UNSETTLED: u32 = 10;

/// What `/proc/PID/stat` tells the sampler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stat {
    /// The process is in `exit`, tearing its memory down (PF_EXITING).
    exiting: bool,
    faults: u64,
    threads: u64,
    rss_pages: u64,
}

/// The kept-open files and last figures of one process.
struct Proc {
    pid: i32,
    stat_file: File,
    /// `children` of each thread, the main thread first.
    children: Vec<File>,
    /// The threads `children` was opened for.
    tids: Vec<i32>,
    statm: Option<File>,
    stat: Stat,
    rollup: Option<File>,
    /// The last `smaps_rollup` read: the stat before it, and its own RSS and PSS.
    pss: Option<Rollup>,
    seen: u64,
}

#[derive(Clone, Copy, Debug)]
struct Rollup {
    stat: Stat,
    /// Anonymous resident memory at the read, in bytes.
    anon: u64,
    pss: u64,
}

/// Walks and measures the process tree below one root.
pub struct ProcTree {
    page_size: u64,
    buf: Vec<u8>,
    pids: Vec<i32>,
    queue: Vec<i32>,
    /// The root's pid and its threads' `children` files.
    root: Option<(i32, Vec<File>)>,
    procs: HashMap<i32, Proc>,
    generation: u64,
    /// The process set of the last multi-process sample.
    last_set: Vec<i32>,
    last_full: Option<Instant>,
    started: Instant,
    pss_spent: Duration,
    /// Samples skipped in a row because shared pages moved while they were read.
    unsettled: u32,
}

impl Default for ProcTree {
    fn default() -> Self {
        // SAFETY: sysconf has no preconditions.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        ProcTree {
            page_size: u64::try_from(page_size).unwrap_or(4096),
            buf: vec![0; 4096],
            pids: Vec::with_capacity(64),
            queue: Vec::with_capacity(64),
            root: None,
            procs: HashMap::new(),
            generation: 0,
            last_set: Vec::new(),
            last_full: None,
            started: Instant::now(),
            pss_spent: Duration::ZERO,
            unsettled: 0,
        }
    }
}

impl ProcTree {
    /// Every descendant of `root` (not `root` itself), parents before children. Their
    /// `stat` figures are refreshed on the way.
    pub fn descendants(&mut self, root: i32) -> &[i32] {
        self.generation += 1;
        self.pids.clear();
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        self.root_children(root, &mut queue);
        let mut next = 0;
        while next < queue.len() {
            let pid = queue[next];
            next += 1;
            if self.visit(pid, &mut queue) {
                self.pids.push(pid);
            }
        }
        self.queue = queue;
        // Forget processes that have gone, closing their files.
        let generation = self.generation;
        self.procs.retain(|_, p| p.seen == generation);
        &self.pids
    }

    /// Appends the root's children to `queue`. The root is the launcher (or, in tests,
    /// the test process): its own figures are not wanted, so its `stat` is not read, and
    /// its threads are listed only once.
    fn root_children(&mut self, root: i32, queue: &mut Vec<i32>) {
        if self.root.as_ref().is_none_or(|(pid, _)| *pid != root) {
            self.root = Some((root, open_children(root, &list_tids(root))));
        }
        if let Some((_, files)) = &self.root {
            for file in files {
                if let Some(text) = read_at(file, &mut self.buf) {
                    queue.extend(parse_pids(text));
                }
            }
        }
    }

    /// Refreshes `pid`'s stat and appends its children to `queue`; false if it is gone.
    fn visit(&mut self, pid: i32, queue: &mut Vec<i32>) -> bool {
        let proc = match self.procs.entry(pid) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let Ok(stat_file) = File::open(format!("/proc/{pid}/stat")) else {
                    return false;
                };
                e.insert(Proc {
                    pid,
                    stat_file,
                    children: Vec::new(),
                    tids: Vec::new(),
                    statm: None,
                    stat: Stat::default(),
                    rollup: None,
                    pss: None,
                    seen: 0,
                })
            }
        };
        let Some(stat) = read_at(&proc.stat_file, &mut self.buf).and_then(parse_stat) else {
            // Gone (or a reused pid: the kept file refers to the old process).
            self.procs.remove(&pid);
            return false;
        };
        proc.stat = stat;
        proc.seen = self.generation;
        // A child belongs to the thread that forked it. With several threads, the set is
        // read again each time: one thread may end and another start between samples
        // with the count unchanged.
        if proc.children.is_empty() || stat.threads > 1 || proc.tids.len() != 1 {
            let tids = list_tids(pid);
            if tids != proc.tids || proc.children.is_empty() {
                proc.children = open_children(pid, &tids);
                proc.tids = tids;
            }
        }
        for file in &proc.children {
            if let Some(text) = read_at(file, &mut self.buf) {
                queue.extend(parse_pids(text));
            }
        }
        true
    }

    /// The memory of every process below `root`, `root` itself left out, or `None`
    /// when no consistent figure could be had within the CPU budget.
    ///
    /// A fork or exit between two reads shifts shared pages between processes already
    /// read and not yet read (a parent read whole before a fork, its children read after
    /// it, counts the buffer twice), so the tree is walked again after the reads, and a
    /// sample whose process set changed is taken again. If the tree keeps changing, the
    /// smallest of the tries stands.
    pub fn sample(&mut self, root: i32) -> Option<TreeSample> {
        let mut best: Option<TreeSample> = None;
        for _ in 0..3 {
            self.descendants(root);
            let mut pids = std::mem::take(&mut self.pids);
            // A process in exit unmaps its pages while its siblings' shares grow: leave
            // it out (the set then changes, and the others are read afresh).
            pids.retain(|p| self.procs.get(p).is_some_and(|p| !p.stat.exiting));
            let total = match pids.as_slice() {
                [] => Some(0),
                [only] => Some(
                    self.procs
                        .get(only)
                        .map_or(0, |p| p.stat.rss_pages * self.page_size),
                ),
                many => self.pss_total(many),
            };
            let sample = total.map(|total| TreeSample {
                total: Bytes(total),
                processes: pids.len(),
            });
            // One process has nothing to share; for more, check the set held still.
            let steady = pids.len() <= 1 || {
                self.descendants(root);
                let procs = &self.procs;
                self.pids
                    .retain(|p| procs.get(p).is_some_and(|p| !p.stat.exiting));
                self.pids == pids
            };
            self.pids = pids;
            let sample = sample?;
            if steady {
                return Some(sample);
            }
            best = Some(match best {
                Some(b) if b.total <= sample.total => b,
                _ => sample,
            });
        }
        best
    }

    fn within_budget(&self) -> bool {
        self.pss_spent <= PSS_ALLOWANCE + self.started.elapsed().mul_f64(PSS_BUDGET)
    }

    /// The shared pages of each of `pids`, in order.
    fn shared_pages(&mut self, pids: &[i32]) -> Vec<u64> {
        pids.iter()
            .map(|pid| {
                self.procs
                    .get_mut(pid)
                    .and_then(|p| p.statm_pages(&mut self.buf))
                    .map_or(0, |(_, shared)| shared)
            })
            .collect()
    }

    /// The PSS of `pids` together, re-reading only what may have changed; `None` when
    /// the set of processes changed (so every share may have) and the budget cannot pay
    /// for reading them all.
    fn pss_total(&mut self, pids: &[i32]) -> Option<u64> {
        let now = Instant::now();
        let within = self.within_budget();
        let set_changed = self.last_set != pids;
        if set_changed && !within {
            return None;
        }
        if set_changed {
            self.last_set = pids.to_vec();
        }
        let full =
            set_changed || (within && self.last_full.is_none_or(|t| now - t >= FULL_REFRESH));
        if full {
            self.last_full = Some(now);
        }
        // One statm read per process: its shared pages now, and its anonymous memory
        // for a PSS carried forward.
        let mut shared_before = Vec::with_capacity(pids.len());
        let mut read_any = false;
        let mut total = 0;
        for pid in pids {
            let within = self.within_budget();
            let Some(proc) = self.procs.get_mut(pid) else {
                shared_before.push(0); // as `shared_pages` counts a process that is gone
                continue;
            };
            let (resident, shared) = proc.statm_pages(&mut self.buf).unwrap_or_default();
            shared_before.push(shared);
            let stale = proc.pss.is_none_or(|r| r.stat != proc.stat);
            if full || proc.pss.is_none() || (stale && within) {
                let t = Instant::now();
                if proc.rollup.is_none() {
                    proc.rollup = File::open(format!("/proc/{pid}/smaps_rollup")).ok();
                }
                let rollup = proc
                    .rollup
                    .as_ref()
                    .and_then(|f| read_at(f, &mut self.buf))
                    .and_then(|text| {
                        Some((kib_field(text, b"Anonymous:")?, kib_field(text, b"Pss:")?))
                    });
                self.pss_spent += t.elapsed();
                if let Some((anon_kib, pss_kib)) = rollup {
                    read_any = true;
                    let pss = pss_kib * 1024;
                    proc.pss = Some(Rollup {
                        stat: proc.stat,
                        anon: anon_kib * 1024,
                        pss,
                    });
                    total += pss;
                    continue;
                }
            }
            // Not re-read: carry the last PSS forward by the change in anonymous memory
            // since that read. New anonymous pages are private; pages of a shared file or
            // shared memory may be shared by the whole tree, and wait for the next read
            // rather than count in full in every process.
            let anon = resident.saturating_sub(shared) * self.page_size;
            total += match proc.pss {
                Some(r) => (r.pss + anon).saturating_sub(r.anon),
                None => anon,
            };
        }
        // PSS is read one process at a time: pages a process maps while the others are
        // read count whole in one and shared in another. If shared pages moved during
        // the reads, the sample may count them twice: skip it, but not forever, or a
        // tree that never settles would get no figure at all.
        if read_any && self.shared_pages(pids) != shared_before && self.unsettled < MAX_UNSETTLED {
            self.unsettled += 1;
            return None;
        }
        self.unsettled = 0;
        Some(total)
    }
}

/// The thread ids of `pid`, the main thread first.
fn list_tids(pid: i32) -> Vec<i32> {
    let mut tids: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| t.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    tids.sort_by_key(|&t| (t != pid, t));
    tids
}

/// Opens the `children` file of each of `tids` of `pid`.
fn open_children(pid: i32, tids: &[i32]) -> Vec<File> {
    tids.iter()
        .filter_map(|tid| File::open(format!("/proc/{pid}/task/{tid}/children")).ok())
        .collect()
}

/// Reads a whole (small) /proc file from offset 0 into `buf`, growing it as needed.
fn read_at<'a>(file: &File, buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    loop {
        let n = file.read_at(buf, 0).ok()?;
        if n < buf.len() {
            return Some(&buf[..n]);
        }
        let len = buf.len() * 2;
        buf.resize(len, 0);
    }
}

/// The fields of `/proc/PID/stat` the sampler needs. The command name may hold spaces
/// and parentheses, so fields are counted from the last `)`.
fn parse_stat(text: &[u8]) -> Option<Stat> {
    let close = text.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&text[close + 1..]).ok()?;
    // The first field after the name is field 3 (state) of proc(5); keep 3 to 24.
    let mut fields = [""; 22];
    for (slot, field) in fields.iter_mut().zip(rest.split_ascii_whitespace()) {
        *slot = field;
    }
    let field = |n: usize| fields[n - 3].parse::<u64>().ok();
    if fields[0] == "Z" {
        return None;
    }
    const PF_EXITING: u64 = 0x4;
    Some(Stat {
        exiting: field(9)? & PF_EXITING != 0,
        faults: field(10)? + field(12)?,
        threads: field(20)?,
        rss_pages: field(24)?,
    })
}

/// Resident and shared (file and shmem) pages from `statm`.
fn parse_statm(text: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(text).ok()?;
    let mut fields = text.split_ascii_whitespace().skip(1);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

impl Proc {
    /// (resident, shared) pages now, through the kept-open `statm`.
    fn statm_pages(&mut self, buf: &mut Vec<u8>) -> Option<(u64, u64)> {
        if self.statm.is_none() {
            self.statm = File::open(format!("/proc/{}/statm", self.pid)).ok();
        }
        self.statm
            .as_ref()
            .and_then(|f| read_at(f, buf))
            .and_then(parse_statm)
    }
}

/// The pids in a `children` file: numbers separated by spaces.
fn parse_pids(text: &[u8]) -> impl Iterator<Item = i32> + '_ {
    text.split(|&b| b == b' ')
        .filter_map(|p| std::str::from_utf8(p).ok()?.trim().parse::<i32>().ok())
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
    fn stat_with_a_strange_name() {
        let text = b"42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 7 0 1 2 0 0 20 0 3 0 12345 1000000 250 18446744073709551615";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                exiting: false,
                faults: 107,
                threads: 3,
                rss_pages: 250
            })
        );
        let zombie = b"42 (x) Z 1 42 42 0 -1 4194560 100 0 7 0 1 2 0 0 20 0 1 0 12345 0 0 0";
        assert_eq!(parse_stat(zombie), None);
    }

    #[test]
    fn samples_one_process_and_two() {
        // Each tree below a shell of its own: other tests' children are not ours to count.
        let tree_of = |children: usize| {
            use std::os::unix::process::CommandExt;
            let script = format!("{}wait", "sleep 5 & ".repeat(children));
            let shell = std::process::Command::new("sh")
                .args(["-c", &script])
                .process_group(0)
                .spawn()
                .unwrap();
            // Until the shell's children, as the kernel lists them, are sleep and asleep:
            // the name changes early in exec, before the program is loaded.
            let listed = format!("/proc/{0}/task/{0}/children", shell.id());
            let sleeping = || {
                let children = std::fs::read_to_string(&listed).unwrap_or_default();
                children
                    .split_whitespace()
                    .filter(|pid| {
                        std::fs::read_to_string(format!("/proc/{pid}/stat"))
                            .is_ok_and(|stat| stat.contains(" (sleep) S "))
                    })
                    .count()
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while sleeping() < children {
                assert!(Instant::now() < deadline, "the shell started no sleep");
                std::thread::sleep(Duration::from_millis(5));
            }
            let sample = ProcTree::default().sample(shell.id() as i32).unwrap();
            // SAFETY: kill has no memory preconditions; the group is the shell's own.
            unsafe { libc::kill(-(shell.id() as i32), libc::SIGKILL) };
            let mut shell = shell;
            shell.wait().unwrap();
            sample
        };
        let single = tree_of(1);
        let pair = tree_of(2);
        assert_eq!(single.processes, 1);
        assert!(single.total > Bytes(100 << 10), "{single:?}");
        assert_eq!(pair.processes, 2);
        // Two copies of sleep share their program's and libc's pages: PSS counts them
        // once (and shares libc with every other user on the machine).
        assert!(pair.total > Bytes(100 << 10), "{pair:?}");
        assert!(pair.total.0 < 2 * single.total.0, "{pair:?} vs {single:?}");
    }

    #[test]
    fn finds_a_child_and_forgets_it() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let mut tree = ProcTree::default();
        let me = std::process::id() as i32;
        let found = tree.descendants(me).to_vec();
        assert!(found.contains(&(child.id() as i32)), "{found:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!tree.descendants(me).contains(&(child.id() as i32)));
    }
}
