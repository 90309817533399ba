//! The probe of one run's process tree: a cgroup v2 where memgate may create one, else
//! `/proc`. Main type: [`TreeProbe`].

use super::cgroup::{CgroupParent, RunCgroup, Version};
use super::proc::{ProcTree, TreeSample};
use super::units::Bytes;

/// Which source the memory figures of a run came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// A cgroup v2 per run: `memory.peak`, plus the processes' high-water marks.
    Cgroup,
    /// A v1 memory cgroup per run: `memory.max_usage_in_bytes`, plus the processes'
    /// high-water marks.
    CgroupV1,
    /// Per-process high-water marks plus a sampler of the tree's PSS over /proc.
    Proc,
}

/// Samples and, when asked, kills one run's process tree.
pub struct TreeProbe {
    tree: ProcTree,
    /// The launcher's pid: the tree is its descendants.
    root: i32,
    cgroup: Option<RunCgroup>,
}

impl TreeProbe {
    /// A probe for the tree below `root`, reading `cgroup` where there is one.
    pub fn new(root: i32, cgroup: Option<RunCgroup>) -> Self {
        TreeProbe {
            tree: ProcTree::default(),
            root,
            cgroup,
        }
    }

    pub fn kind(&self) -> ProbeKind {
        ProbeKind::of(self.cgroup.as_ref().map(RunCgroup::version))
    }

    /// The tree's memory now; `None` when the cgroup could not be read.
    pub fn sample(&mut self) -> Option<TreeSample> {
        match &self.cgroup {
            Some(cg) => Some(TreeSample {
                total: cg.current()?,
                processes: self.tree.count(self.root),
                pss_cost: std::time::Duration::ZERO,
            }),
            None => Some(self.tree.sample(self.root)),
        }
    }

    /// The tree's processes (not the launcher), parents before children, as the last
    /// sample found them: no walk of its own, which would also change what the next
    /// sample sees.
    pub fn pids(&self) -> &[i32] {
        self.tree.pids()
    }

    /// After a late look: whether the tree's memory can have been higher in between
    /// (see [`ProcTree::held_since_last_look`]). A cgroup keeps its own peak.
    pub fn held_since_last_look(&mut self) -> bool {
        self.cgroup.is_some() || self.tree.held_since_last_look()
    }

    /// The kernel's own peak for the tree, where the probe has one.
    pub fn kernel_peak(&self) -> Option<Bytes> {
        self.cgroup.as_ref().and_then(RunCgroup::peak)
    }

    /// Kills every process of the tree; the launcher stays to reap them.
    pub fn kill(&mut self) {
        // Not `cgroup.kill`: the tree is killed process by process so the launcher, which
        // reaps them and reports, lives on.
        crate::runner::launcher::kill_tree(&mut self.tree, self.root);
    }
}

impl ProbeKind {
    /// The probe of runs in a cgroup of `version`, or in none.
    pub fn of(version: Option<Version>) -> Self {
        match version {
            Some(Version::V2) => ProbeKind::Cgroup,
            Some(Version::V1) => ProbeKind::CgroupV1,
            None => ProbeKind::Proc,
        }
    }

    /// For people: where the figures came from.
    pub fn describe(self) -> &'static str {
        match self {
            ProbeKind::Cgroup => "cgroup v2",
            ProbeKind::CgroupV1 => "cgroup v1",
            ProbeKind::Proc => "/proc",
        }
    }
}

/// The kind of probe [`choose`] would give, for a testbed's fingerprint.
pub fn choose_kind() -> Result<ProbeKind, String> {
    Ok(ProbeKind::of(choose()?.map(|p| p.version())))
}

/// Chooses the probe once per memgate process. `MEMGATE_PROBE=proc` forces /proc;
/// `cgroup` insists on a cgroup and fails where none can be had.
pub fn choose() -> Result<Option<CgroupParent>, String> {
    match std::env::var("MEMGATE_PROBE").as_deref() {
        Ok("proc") => Ok(None),
        Ok("cgroup") => CgroupParent::detect().map(Some).ok_or_else(|| {
            "MEMGATE_PROBE=cgroup, but memgate may not create a memory cgroup here (v2 with the memory controller, or v1): run it in a delegated cgroup, or unset MEMGATE_PROBE".to_string()
        }),
        Ok("auto") | Err(_) => Ok(CgroupParent::detect()),
        Ok(other) => Err(format!(
            "MEMGATE_PROBE={other:?} is not known: use auto, cgroup or proc"
        )),
    }
}
