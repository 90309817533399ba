//! Reading a process tree from `/proc`: its members (through each thread's `children`
//! file, so orphans re-parented to memgate's launcher are found too) and their memory.
//! Main type: [`ProcTree`].
//!
//! The sampler runs every few milliseconds over trees of up to hundreds of processes,
//! so each look costs what changed, not what exists:
//! - A process's `statm`, `schedstat` and `children` files are opened once and re-read
//!   with `pread`. (Not `smaps_rollup`: the kernel binds it to the process's memory at
//!   open, so one opened between vfork and exec would read the parent ever after.)
//! - A process that has not run since the last look (its `schedstat` run time is the
//!   same) cannot have forked or allocated: its figures are carried over, for one read
//!   of `schedstat`. One that ran gets `statm` (resident and shared pages) and its
//!   `children` read again; a multi-threaded one, the list of its threads too.
//! - PSS (`smaps_rollup` walks every page table of a process: ~10 µs for a small one,
//!   ~8 µs more per MiB) is read for a new process once, whatever the CPU budget, and
//!   for the whole tree in one pass (a *refresh*) when shares may have moved: processes
//!   came or went, one sharing copy-on-write pages ran, one shrank or exec'd, one's
//!   shared pages grew, or two seconds passed. Refreshes are paid from a CPU budget, and
//!   the first once processes stop coming and going may go into credit. Between them
//!   each process's figure is its last PSS carried forward by the change in its
//!   anonymous pages, which are private when new.
//!
//! A page is counted once where the kernel's figures allow: until a refresh reads it
//! with the others, a new process adds its private pages only (what it shares, a fork
//! with its parent or a program's libraries with their other users, is counted by
//! them); a child between vfork and exec adds nothing; a refresh during which a process
//! ended or shared pages moved is not adopted. What is left, until the next refresh:
//! new processes' shares of pages used outside the tree (low), shares that drift as
//! processes go (low), and pages a child breaks out of copy-on-write (low).

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
    /// The CPU time this look spent reading PSS (paid from its own budget).
    pub pss_cost: Duration,
}

/// The share of elapsed time the sampler may spend on refreshes and on re-reads after
/// exec, plus a start-up allowance. (A new process's first read is not held to it.)
const PSS_BUDGET: f64 = 0.02;
const PSS_ALLOWANCE: Duration = Duration::from_millis(5);
/// How far beyond the budget a refresh may go once processes stop coming and going.
const PSS_OVERDRAFT: Duration = Duration::from_millis(20);
/// How often the whole tree is re-read even if nothing in it moved: shares of pages
/// mapped outside the tree (libc, a dataset in the page cache) drift slowly.
const REFRESH_EVERY: Duration = Duration::from_secs(2);
/// A process sharing more copy-on-write anonymous memory than this has its shares
/// re-read when it runs: its writes move pages from shared to private unseen by `statm`.
const COW_SHARED: u64 = 1 << 20;
/// Growth of a process's shared pages (shmem, mapped files) beyond this since its last
/// read makes the tree's shares due for a refresh: they may be shared with a sibling
/// that counts them already, so they are not added as they come.
const SHARED_MOVED: u64 = 1 << 20;

/// What one process's figure is carried forward from.
#[derive(Clone, Copy, Debug, Default)]
struct Base {
    /// The bytes it counts for at the read: its PSS in a refresh, its private pages in
    /// a read of its own.
    counted: u64,
    /// From a refresh (PSS), not a read of its own (private pages).
    full: bool,
    /// Its anonymous resident bytes (`statm`) at the read.
    anon: u64,
    /// Its shared (file and shmem) resident bytes at the read.
    shared: u64,
}

/// The kept-open files and last figures of one process.
struct Proc {
    pid: i32,
    /// The process whose `children` listed it first.
    parent: i32,
    statm: File,
    /// `None` where the kernel has no `schedstat`: then the process is read every tick.
    schedstat: Option<File>,
    /// `/proc/PID/task`, whose link count is the number of threads plus two.
    task_dir: Option<File>,
    /// Run time in ns at the last look.
    ran_ns: u64,
    threads: u64,
    /// `children` of each thread, the main thread first, and the threads they are of.
    children: Vec<File>,
    tids: Vec<i32>,
    /// The children found at the last read of `children`.
    kids: Vec<i32>,
    /// Resident and shared (file and shmem) pages at the last look.
    resident: u64,
    shared: u64,
    /// The anonymous bytes it may share with its parent, when first seen: before a read
    /// of its own, only what it has beyond them is its own (a forked child starts
    /// sharing all of its parent's pages).
    first_anon: u64,
    base: Option<Base>,
    /// A read of its own is wanted: it is new, or its memory was replaced (exec).
    own_read_due: bool,
    /// It shares more than [`COW_SHARED`] copy-on-write pages (at the last read).
    cow_shared: bool,
    /// It runs in its parent's memory (between vfork and exec), at the last read.
    shares_memory: bool,
    /// It has no memory: a zombie, or past the release of its memory in exit.
    zombie: bool,
    /// Since the last walk its anonymous memory shrank below its base (freed, or
    /// replaced by exec) or its shared pages grew: shares may have moved.
    moved: bool,
    /// Faults of the children it has reaped (`cminflt` + `cmajflt`), when last read:
    /// if they grew, a child was born and reaped out of the sampler's sight.
    reaped: u64,
    /// The walk in which it was last seen to run.
    ran: u64,
    seen: u64,
}

/// The fields of a `smaps_rollup` the sampler uses, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Rollup {
    pss: u64,
    private: u64,
    /// Anonymous memory counted whole less its PSS: what it shares copy-on-write.
    cow_shared: u64,
}

/// One read of a process's `smaps_rollup`, with its `statm` figures just after.
#[derive(Clone, Copy, Debug)]
struct Read {
    rollup: Rollup,
    /// Anonymous and shared resident bytes.
    anon: u64,
    shared: u64,
    /// `statm` did not move during the read: the figures go together.
    steady: bool,
    /// Resident or shared pages went down during the read.
    shrank: bool,
}

/// Walks and measures the process tree below one root.
pub struct ProcTree {
    page_size: u64,
    buf: Vec<u8>,
    pids: Vec<i32>,
    /// Pids to visit: each with whether it comes from a list read this tick, and its
    /// parent's pid (the root's for the root's children).
    queue: Vec<(i32, bool, i32)>,
    /// The root's pid and its threads' `children` files.
    root: Option<(i32, Vec<File>)>,
    procs: HashMap<i32, Proc>,
    generation: u64,
    last_refresh: Option<Instant>,
    /// Something moved that a refresh would see: shares of the tree's pages changed.
    refresh_due: bool,
    /// Processes came or went since the last refresh.
    unsettled: bool,
    /// The generation of the current sample's first walk.
    look_generation: u64,
    /// During the current sample: a process ended, or one moved (see `Proc::moved`).
    ended: bool,
    moved: bool,
    started: Instant,
    pss_spent: Duration,
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
            last_refresh: None,
            refresh_due: true,
            unsettled: true,
            look_generation: 0,
            ended: false,
            moved: false,
            started: Instant::now(),
            pss_spent: Duration::ZERO,
        }
    }
}

/// How much of each process a walk reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// What changed: a process that did not run keeps its figures and children.
    Changed,
    /// As `Changed`, and every process's children afresh (orphans re-parented to an
    /// idle subreaper show only there).
    Children,
    /// Everything, as if every process ran (for killing a tree: nothing may be missed).
    Everything,
}

/// What a look at one process found.
enum Look {
    Gone,
    Idle,
    Ran,
}

impl ProcTree {
    /// Every descendant of `root` (not `root` itself), parents before children, every
    /// `children` file read afresh (for killing a tree: nothing may be missed).
    pub fn descendants(&mut self, root: i32) -> &[i32] {
        self.walk(root, Reading::Everything);
        &self.pids
    }

    /// The processes the last walk of the tree found (by a sample, a count, or
    /// [`Self::descendants`]).
    pub fn pids(&self) -> &[i32] {
        &self.pids
    }

    /// How many processes the tree has, found as cheaply as a sample finds them.
    pub fn count(&mut self, root: i32) -> usize {
        self.walk(root, Reading::Changed);
        self.pids.len()
    }

    /// Lists the tree into `self.pids`, reading each process as `reading` says; true
    /// when its set of processes changed.
    fn walk(&mut self, root: i32, reading: Reading) -> bool {
        let all = reading == Reading::Everything;
        self.generation += 1;
        let mut changed = false;
        self.pids.clear();
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        self.root_children(root, &mut queue);
        let mut next = 0;
        while next < queue.len() {
            let (pid, fresh, parent) = queue[next];
            next += 1;
            let known = self.procs.contains_key(&pid);
            if !known {
                // A pid from a list not read this tick may be another process's by now.
                if !fresh || !self.add(pid, parent) {
                    continue;
                }
                changed = true;
            }
            let Some(proc) = self.procs.get_mut(&pid) else {
                continue;
            };
            if proc.seen == self.generation {
                continue; // listed twice (moved between two threads' lists mid-walk)
            }
            let look = if known || all {
                proc.look(&mut self.buf, self.page_size, all)
            } else {
                Look::Ran // just read whole by `add`
            };
            if proc.zombie {
                // Nothing to count and nothing to kill; its parent reaps it. Its memory
                // went just now: shares moved, and a spike before it may have been missed.
                if std::mem::take(&mut proc.moved) {
                    self.refresh_due = true;
                    self.moved = true;
                    self.ended = true;
                }
                proc.seen = self.generation;
                continue;
            }
            match look {
                Look::Gone => {
                    self.procs.remove(&pid);
                    changed = true;
                    self.ended = true;
                    continue;
                }
                Look::Ran => {
                    proc.ran = self.generation;
                    proc.read_kids(&mut self.buf);
                    queue.extend(proc.kids.iter().map(|&k| (k, true, pid)));
                    if proc.cow_shared || proc.moved {
                        self.refresh_due = true;
                    }
                    self.moved |= proc.moved;
                    proc.moved = false;
                }
                Look::Idle if reading == Reading::Children => {
                    proc.read_kids(&mut self.buf);
                    queue.extend(proc.kids.iter().map(|&k| (k, true, pid)));
                }
                Look::Idle => queue.extend(proc.kids.iter().map(|&k| (k, false, pid))),
            }
            proc.seen = self.generation;
            self.pids.push(pid);
        }
        self.queue = queue;
        // Forget processes that have gone, closing their files.
        let generation = self.generation;
        let count = self.procs.len();
        self.procs.retain(|_, p| p.seen == generation);
        self.ended |= self.procs.len() != count;
        changed || self.procs.len() != count
    }

    /// Appends the root's children to `queue`. The root is the launcher (or, in tests,
    /// the test process): its own figures are not wanted, and its threads are listed
    /// only once.
    fn root_children(&mut self, root: i32, queue: &mut Vec<(i32, bool, i32)>) {
        if self.root.as_ref().is_none_or(|(pid, _)| *pid != root) {
            self.root = Some((root, open_children(root, &list_tids(root))));
        }
        if let Some((_, files)) = &self.root {
            for file in files {
                if let Some(text) = read_at(file, &mut self.buf) {
                    queue.extend(parse_pids(text).map(|p| (p, true, root)));
                }
            }
        }
    }

    /// Opens and reads a process seen for the first time; false if it is gone. Until
    /// its own pages are read (in this same look, see `read_new`), a forked child is
    /// taken to share at most its parent's anonymous pages, which the parent counts
    /// (the root's are not counted: none).
    fn add(&mut self, pid: i32, parent: i32) -> bool {
        let parent_anon = self
            .procs
            .get(&parent)
            .map_or(0, |p| p.anon(self.page_size));
        let Ok(statm) = File::open(format!("/proc/{pid}/statm")) else {
            return false;
        };
        let mut proc = Proc {
            pid,
            parent,
            statm,
            schedstat: File::open(format!("/proc/{pid}/schedstat")).ok(),
            task_dir: File::open(format!("/proc/{pid}/task")).ok(),
            ran_ns: 0,
            threads: 0,
            children: Vec::new(),
            tids: Vec::new(),
            kids: Vec::new(),
            resident: 0,
            shared: 0,
            first_anon: 0,
            base: None,
            own_read_due: true,
            cow_shared: false,
            shares_memory: false,
            zombie: false,
            moved: false,
            reaped: 0,
            ran: 0,
            seen: 0,
        };
        if matches!(proc.look(&mut self.buf, self.page_size, true), Look::Gone) {
            return false;
        }
        proc.first_anon = proc.anon(self.page_size).min(parent_anon);
        proc.reaped = reaped_faults(pid, &mut self.buf).unwrap_or(0);
        self.procs.insert(pid, proc);
        true
    }

    /// The memory of every process below `root`, `root` itself left out.
    pub fn sample(&mut self, root: i32) -> TreeSample {
        let spent = self.pss_spent;
        self.ended = false;
        self.moved = false;
        let mut changed = self.walk(root, Reading::Changed);
        if self.ended {
            // Orphans go to the nearest subreaper, which may be idle in `wait`: every
            // process's children are read again once after an end.
            changed |= self.walk(root, Reading::Children);
        }
        if changed {
            self.refresh_due = true;
            self.unsettled = true;
        }
        self.look_generation = self.generation;
        let pids = std::mem::take(&mut self.pids);
        if pids.len() > 1 {
            self.read_new(&pids);
            let stale = self
                .last_refresh
                .is_none_or(|t| t.elapsed() >= REFRESH_EVERY);
            // Once processes stop coming and going, their shares are read at once, on
            // credit if need be: a plateau after a burst of starts (a pool warming up)
            // is often where the peak is.
            let settling = self.unsettled && !changed;
            if (self.refresh_due || stale) && self.refresh_fits(&pids, Duration::ZERO)
                || settling && self.refresh_fits(&pids, PSS_OVERDRAFT)
            {
                self.refresh(root, &pids);
            }
        }
        let total = match pids.as_slice() {
            [] => 0,
            [only] => self
                .procs
                .get(only)
                .map_or(0, |p| p.resident * self.page_size),
            many => many
                .iter()
                .filter_map(|pid| self.procs.get(pid))
                .map(|p| p.estimate(self.page_size))
                .sum(),
        };
        let processes = pids.len();
        self.pids = pids;
        TreeSample {
            total: Bytes(total),
            processes,
            pss_cost: self.pss_spent.saturating_sub(spent),
        }
    }

    /// After a look that came late (the sampler starved of CPU): whether the tree's
    /// memory can have been higher in between. It cannot if, in the gap, no process
    /// ended, none shrank or was replaced by exec (its anonymous memory dropped), none
    /// reaped a child the sampler never saw (its children's fault count grew), and every
    /// process that ran is at its high-water mark now (within 1%): pages leave the tree
    /// only through a process whose resident memory drops, which would then be below
    /// its mark.
    pub fn held_since_last_look(&mut self) -> bool {
        if self.ended || self.moved {
            return false;
        }
        let mut held = true;
        let mut resident = 0;
        let mut below_mark = 0;
        let since = self.look_generation;
        for proc in self.procs.values_mut().filter(|p| p.ran >= since) {
            let Ok(status) = std::fs::read(format!("/proc/{}/status", proc.pid)) else {
                return false; // ended since the walk
            };
            let reaped = reaped_faults(proc.pid, &mut self.buf);
            if reaped != Some(proc.reaped) {
                held = false;
                proc.reaped = reaped.unwrap_or(proc.reaped);
            }
            let (Some(rss), Some(hwm)) = (
                kib_field(&status, b"\nVmRSS:"),
                kib_field(&status, b"\nVmHWM:"),
            ) else {
                continue; // a zombie: nothing mapped
            };
            resident += rss;
            below_mark += hwm.saturating_sub(rss);
        }
        held && below_mark * 100 <= resident
    }

    fn budget_left(&self) -> Duration {
        self.budget_with(Duration::ZERO)
    }

    /// The budget left, with `credit` beyond it.
    fn budget_with(&self, credit: Duration) -> Duration {
        (PSS_ALLOWANCE + credit + self.started.elapsed().mul_f64(PSS_BUDGET))
            .saturating_sub(self.pss_spent)
    }

    /// Reads each new process's pages, whatever the budget (once a process, and again
    /// while it runs in its parent's memory: until then it could count pages its parent
    /// counts too, or miss pages it had before it was first seen), and each exec'd
    /// one's as the budget allows.
    fn read_new(&mut self, pids: &[i32]) {
        for pid in pids {
            let page_size = self.page_size;
            let broke = self.budget_left().is_zero();
            let parent_counted = self
                .procs
                .get(pid)
                .is_some_and(|p| self.procs.contains_key(&p.parent));
            let Some(proc) = self
                .procs
                .get_mut(pid)
                .filter(|p| p.own_read_due && (p.base.is_none() || p.shares_memory || !broke))
            else {
                continue;
            };
            let t = thread_cpu();
            // A child between vfork and exec runs in its parent's memory, read whole
            // through either: it counts nothing of its own, and is read again next look.
            // Asked before and after the read: an exec in between changes the answer.
            let before = same_memory(*pid, proc.parent);
            let read = proc.read_rollup(&mut self.buf, page_size);
            proc.shares_memory = before || same_memory(*pid, proc.parent);
            self.pss_spent += thread_cpu().saturating_sub(t);
            // Until a refresh reads it with the rest, a process whose parent is counted
            // counts its private pages only: the pages it shares may be counted whole by
            // its parent (a fork), and counting its share of the others (an exec'd
            // program's libraries) would leave the older sharers' larger shares standing,
            // which adds up over a burst of starts. One whose parent is not counted (the
            // first process, an orphan) counts all its anonymous memory: nobody else
            // does, even if a child it forked shares it now. A read it moved during is
            // not used: it is taken again next look.
            match read {
                Some(r) if r.steady => {
                    let counted = if proc.shares_memory {
                        0
                    } else if parent_counted {
                        r.rollup.private
                    } else {
                        r.rollup.pss + r.rollup.cow_shared
                    };
                    proc.base = Some(Base {
                        counted,
                        full: false,
                        anon: r.anon,
                        shared: r.shared,
                    });
                    proc.own_read_due = proc.shares_memory;
                }
                _ => proc.own_read_due = true,
            }
        }
    }

    /// Whether a refresh of `pids` fits the budget, by their size: about 10 µs a
    /// process and 8 µs per MiB resident. (Not by what their last reads cost: a read
    /// that met a fork spins on its lock, and says nothing about the next one.)
    fn refresh_fits(&self, pids: &[i32], credit: Duration) -> bool {
        let micros: u64 = pids
            .iter()
            .filter_map(|pid| self.procs.get(pid))
            .map(|p| 10 + p.resident * self.page_size / (128 << 10))
            .sum();
        Duration::from_micros(micros) <= self.budget_with(credit)
    }

    /// Reads every process's PSS in one pass and adopts the figures if nothing moved
    /// while they were read: a fork or exit mid-pass (a parent read whole before a fork
    /// and its child after it count the buffer twice) or pages becoming shared.
    fn refresh(&mut self, root: i32, pids: &[i32]) {
        let page_size = self.page_size;
        let t = thread_cpu();
        let shared_before = self.shared_pages(pids);
        let mut read = Vec::with_capacity(pids.len());
        for pid in pids {
            let Some(proc) = self.procs.get_mut(pid) else {
                continue;
            };
            if let Some(found) = proc.read_rollup(&mut self.buf, page_size) {
                read.push((*pid, found));
            }
        }
        // A process that shrank while it was read may have handed pages to one read
        // after it: the pass is dropped as if shared pages moved. One that grew has
        // a figure below what it holds: kept, erring low, with another refresh due.
        let moved = self.shared_pages(pids) != shared_before || read.iter().any(|(_, r)| r.shrank);
        let grew = read.iter().any(|(_, r)| !r.steady);
        self.pss_spent += thread_cpu().saturating_sub(t);
        self.last_refresh = Some(Instant::now());
        // A process that could not be read (a zombie) keeps its figure. A pass during
        // which a process ended (its pages' other sharers read after it count them
        // more), or shared pages moved, may count a page twice, and a peak is the
        // largest sample: it is dropped, and the refresh stays due (each process's
        // figure of its own still counts meanwhile). Processes that started meanwhile
        // are not in the pass: they get reads of their own.
        let ended = std::mem::take(&mut self.ended);
        let started = self.walk(root, Reading::Changed);
        let ended_during = self.ended;
        self.ended |= ended;
        if ended_during || moved {
            return;
        }
        // Processes that started meanwhile are not in the pass: their shares are due.
        self.refresh_due = started || grew;
        self.unsettled = started;
        for (
            pid,
            Read {
                rollup,
                anon,
                shared,
                ..
            },
        ) in read
        {
            if let Some(proc) = self.procs.get_mut(&pid) {
                if proc.shares_memory {
                    proc.shares_memory = same_memory(pid, proc.parent);
                }
                proc.base = Some(Base {
                    counted: if proc.shares_memory { 0 } else { rollup.pss },
                    full: true,
                    anon,
                    shared,
                });
                proc.own_read_due = false;
            }
        }
    }

    /// The shared pages of each of `pids`, in order, read now.
    fn shared_pages(&mut self, pids: &[i32]) -> Vec<u64> {
        pids.iter()
            .map(|pid| {
                self.procs
                    .get(pid)
                    .and_then(|p| read_at(&p.statm, &mut self.buf).and_then(parse_statm))
                    .map_or(0, |(_, _, shared)| shared)
            })
            .collect()
    }
}

impl Proc {
    /// Reads its children afresh, from each of its threads' `children` file.
    fn read_kids(&mut self, buf: &mut Vec<u8>) {
        self.kids.clear();
        for file in &self.children {
            if let Some(text) = read_at(file, buf) {
                self.kids.extend(parse_pids(text));
            }
        }
    }

    /// Refreshes what changed since the last look; with `all`, reads everything.
    fn look(&mut self, buf: &mut Vec<u8>, page_size: u64, all: bool) -> Look {
        let ran = match &self.schedstat {
            Some(file) => match read_at(file, buf).and_then(parse_first) {
                // 0: no run time kept (old kernels without delay accounting).
                Some(ns) => {
                    let ran = ns != self.ran_ns || ns == 0;
                    self.ran_ns = ns;
                    ran
                }
                None => return Look::Gone,
            },
            None => true,
        };
        // Another thread than the first may have run and forked: with several threads,
        // look every tick.
        if !(ran || all || self.threads != 1) {
            return Look::Idle;
        }
        let Some((size, resident, shared)) = read_at(&self.statm, buf).and_then(parse_statm) else {
            return Look::Gone;
        };
        self.resident = resident;
        self.shared = shared;
        if size == 0 {
            // No memory at all: a zombie, or a process past the release of its memory
            // in exit. It counts nothing (not even a share it had), its pages' other
            // users now hold them whole, and it is not there to be killed.
            if !self.zombie {
                self.moved = true;
            }
            self.zombie = true;
            self.base = Some(Base::default());
            return Look::Ran;
        }
        let anon = self.anon(page_size);
        if let Some(base) = &mut self.base {
            if anon < base.anon {
                // It freed memory, or exec replaced it: carry on from here. A figure of
                // its own is read again (in case it was an exec, whose new program's
                // first pages are not growth); a refresh's waits for the next refresh.
                base.counted = (base.counted + anon).saturating_sub(base.anon);
                base.anon = anon;
                self.own_read_due = !base.full;
                self.moved = true;
            }
            let shared = shared * page_size;
            if shared > base.shared + SHARED_MOVED {
                base.shared = shared;
                self.moved = true;
            } else if shared + SHARED_MOVED < base.shared {
                // Unmapped shared or file pages: they may have been counted whole here
                // (before any refresh, as private), so they go, erring low.
                base.counted = base.counted.saturating_sub(base.shared - shared);
                base.shared = shared;
                self.moved = true;
            }
        }
        // The set of threads, not just their number: one may end and another start
        // between two looks, and the new one's children are in its own file.
        let threads = self.thread_count();
        if threads != self.threads || threads != 1 || self.children.is_empty() {
            let tids = list_tids(self.pid);
            if tids != self.tids || self.children.is_empty() {
                self.children = open_children(self.pid, &tids);
                self.tids = tids;
            }
            self.threads = threads;
        }
        Look::Ran
    }

    /// The number of threads, from the link count of `/proc/PID/task` (threads + 2);
    /// 0 when unknown, which makes the process looked at every tick.
    fn thread_count(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        self.task_dir
            .as_ref()
            .and_then(|d| d.metadata().ok())
            .map_or(0, |m| m.nlink().saturating_sub(2))
    }

    fn anon(&self, page_size: u64) -> u64 {
        self.resident.saturating_sub(self.shared) * page_size
    }

    /// What it counts for now: the figure of its last read carried forward by its
    /// anonymous pages since; before any read, its growth since it was first seen.
    fn estimate(&self, page_size: u64) -> u64 {
        let anon = self.anon(page_size);
        match self.base {
            Some(b) => (b.counted + anon).saturating_sub(b.anon),
            None => anon.saturating_sub(self.first_anon),
        }
    }

    /// Reads `smaps_rollup`, then `statm` for the anonymous and shared bytes the figures
    /// go with.
    fn read_rollup(&mut self, buf: &mut Vec<u8>, page_size: u64) -> Option<Read> {
        let (_, resident_before, shared_before) =
            read_at(&self.statm, buf).and_then(parse_statm)?;
        // Opened afresh for every read: the kernel binds `smaps_rollup` to the memory of
        // the process when it is opened, and a child first seen between vfork (or
        // fork) and exec would be read as its parent (or its own old copy) ever after.
        // That counted a forkserver's parent twice.
        let file = File::open(format!("/proc/{}/smaps_rollup", self.pid)).ok()?;
        let rollup = parse_rollup(read_at(&file, buf)?)?;
        let (_, resident, shared) = read_at(&self.statm, buf).and_then(parse_statm)?;
        self.resident = resident;
        self.shared = shared;
        self.cow_shared = rollup.cow_shared > COW_SHARED;
        Some(Read {
            rollup,
            anon: self.anon(page_size),
            shared: shared * page_size,
            steady: (resident_before, shared_before) == (resident, shared),
            shrank: resident < resident_before || shared < shared_before,
        })
    }
}

/// The CPU time of the calling thread: the budget is CPU, and a read that waits on a
/// lock held by a forking process costs wall time but no CPU.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
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

/// Whether `pid` runs in the same memory as `parent` (a vfork or `CLONE_VM` child): by
/// `kcmp`, or where `kcmp` is refused (container seccomp profiles refuse it) by their
/// `statm` being the same; false if either is gone.
fn same_memory(pid: i32, parent: i32) -> bool {
    const KCMP_VM: libc::c_int = 1;
    // SAFETY: kcmp only compares two processes' kernel objects; no memory is passed.
    let kcmp = |a: i32, b: i32| unsafe { libc::syscall(libc::SYS_kcmp, a, b, KCMP_VM, 0, 0) };
    static KCMP_WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let me = std::process::id() as i32;
    if *KCMP_WORKS.get_or_init(|| kcmp(me, me) == 0) {
        return kcmp(pid, parent) == 0;
    }
    let statm = |p: i32| std::fs::read(format!("/proc/{p}/statm")).ok();
    matches!((statm(pid), statm(parent)), (Some(a), Some(b)) if a == b)
}

/// The faults of the children `pid` has reaped (`cminflt` + `cmajflt` of its `stat`).
fn reaped_faults(pid: i32, buf: &mut Vec<u8>) -> Option<u64> {
    let file = File::open(format!("/proc/{pid}/stat")).ok()?;
    parse_reaped(read_at(&file, buf)?)
}

/// `cminflt` + `cmajflt` from a `stat` line. The command name may hold spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_reaped(text: &[u8]) -> Option<u64> {
    let close = text.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&text[close + 1..]).ok()?;
    // After the name: state (field 3), ... cminflt (11), majflt (12), cmajflt (13).
    let mut fields = rest.split_ascii_whitespace().skip(8);
    let cminflt: u64 = fields.next()?.parse().ok()?;
    let cmajflt: u64 = fields.nth(1)?.parse().ok()?;
    Some(cminflt + cmajflt)
}

/// The first number of a line, such as the run time in `schedstat`.
fn parse_first(text: &[u8]) -> Option<u64> {
    std::str::from_utf8(text)
        .ok()?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Total, resident and shared (file and shmem) pages from `statm`.
fn parse_statm(text: &[u8]) -> Option<(u64, u64, u64)> {
    let text = std::str::from_utf8(text).ok()?;
    let mut fields = text.split_ascii_whitespace();
    let mut next = || fields.next()?.parse().ok();
    Some((next()?, next()?, next()?))
}

/// The figures of a `smaps_rollup`. Kernels before 5.9 have no `Pss_Anon`: there, all
/// anonymous memory is taken as possibly shared copy-on-write.
fn parse_rollup(text: &[u8]) -> Option<Rollup> {
    let kib = |key: &[u8]| kib_field(text, key).map(|k| k * 1024);
    let anonymous = kib(b"\nAnonymous:")?;
    Some(Rollup {
        pss: kib(b"\nPss:")?,
        private: kib(b"\nPrivate_Clean:")? + kib(b"\nPrivate_Dirty:")?,
        cow_shared: anonymous.saturating_sub(kib(b"\nPss_Anon:").unwrap_or(0)),
    })
}

/// The pids in a `children` file: numbers separated by spaces.
fn parse_pids(text: &[u8]) -> impl Iterator<Item = i32> + '_ {
    text.split(|&b| b == b' ')
        .filter_map(|p| std::str::from_utf8(p).ok()?.trim().parse::<i32>().ok())
}

/// The number after `key` on its line, such as `Pss:   1234 kB`; a key that may also
/// end another one is given with its line break (`\nVmHWM:`).
pub(crate) fn kib_field(text: &[u8], key: &[u8]) -> Option<u64> {
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
    fn rollup_figures() {
        let text = b"5608-7ffd ---p 00000000 00:00 0   [rollup]\nRss:  1708 kB\nPss:  360 kB\nPss_Dirty:  112 kB\nPss_Anon:  100 kB\nShared_Clean:  1556 kB\nPrivate_Clean:  40 kB\nPrivate_Dirty:  112 kB\nAnonymous:  112 kB\nSwapPss:  7 kB\n";
        assert_eq!(
            parse_rollup(text),
            Some(Rollup {
                pss: 360 << 10,
                private: 152 << 10,
                cow_shared: 12 << 10,
            })
        );
        // Before Pss_Anon (Linux 5.9), all anonymous memory may be shared.
        let old = b"x [rollup]\nRss: 8 kB\nPss: 4 kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: 4 kB\nAnonymous: 8 kB\n";
        assert_eq!(parse_rollup(old).map(|r| r.cow_shared), Some(8 << 10));
        assert_eq!(parse_first(b"123456 789 3\n"), Some(123456));
        let stat = b"42 (a) b (c) S 1 42 42 0 -1 4194560 100 7 3 2 1 2 0 0 20 0 3 0 12345";
        assert_eq!(parse_reaped(stat), Some(9));
        assert_eq!(
            parse_statm(b"765 441 413 5 0 123 0\n"),
            Some((765, 441, 413))
        );
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
            let sample = ProcTree::default().sample(shell.id() as i32);
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
