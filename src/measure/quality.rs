//! How far a run's peak can be trusted: [`PeakQuality`], decided from the probe, the
//! sampler's record of samples kept against due, and what the kernel's high-water
//! marks say. A run whose peak is only a lower bound is not a figure to gate on.

use serde::{Deserialize, Serialize};

/// How a run's peak memory was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeakQuality {
    /// The kernel's own figure: a cgroup's high-water mark, or the high-water mark of
    /// the one process the run had.
    Exact,
    /// The largest of the sampler's looks at the whole tree (and of the processes'
    /// high-water marks), with at least [`SAMPLING_FLOOR`] of its samples kept or
    /// covered.
    Sampled,
    /// The sampler kept too few samples of a tree (a busy machine starved it), or a
    /// cgroup's high-water mark was reset: the true peak may be well above the figure.
    LowerBound,
}

impl PeakQuality {
    pub fn as_str(self) -> &'static str {
        match self {
            PeakQuality::Exact => "exact",
            PeakQuality::Sampled => "sampled",
            PeakQuality::LowerBound => "lower_bound",
        }
    }
}

/// The share of due samples a run of several processes must keep for its peak to
/// count as sampled rather than a lower bound.
pub const SAMPLING_FLOOR: f64 = 0.5;

/// The sampler's looks at a run's tree: those it took, and those its schedule called
/// for (one an interval, the interval stretched when the tree is too large to look at
/// that often within the sampler's CPU budget).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Samples {
    pub kept: u64,
    pub due: u64,
    /// Of the due samples not kept, those the processes' high-water marks show held
    /// nothing higher than the next sample kept.
    #[serde(default)]
    pub covered: u64,
}

impl Samples {
    /// At least [`SAMPLING_FLOOR`] of the due samples were kept or covered (or none
    /// were due).
    pub fn enough(self) -> bool {
        (self.kept + self.covered) as f64 >= self.due as f64 * SAMPLING_FLOOR
    }
}

/// What is known about one run's tree, for [`judge`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence {
    /// The memory came from a cgroup.
    pub cgroup: bool,
    /// The cgroup's high-water mark is below what the sampler saw it hold: reset.
    pub cgroup_reset: bool,
    pub samples: Samples,
    /// The most processes any sample saw.
    pub most_processes: usize,
    /// The launcher reaped a process other than the first (an orphan).
    pub orphans: bool,
    /// The first process reaped children of its own (their faults are in its `stat`):
    /// its high-water mark, which `wait4` gives as the largest of its own and theirs,
    /// is not the tree's peak.
    pub root_reaped_children: bool,
    /// The first process's high-water mark is its own, above what the launcher's fork
    /// folded into it.
    pub own_high_water_mark: bool,
}

/// The quality of a run's peak.
pub fn judge(e: Evidence) -> PeakQuality {
    // The kernel's word that the run had a single process: none seen beside it, none
    // reaped by the launcher, none reaped by it.
    let one_process = e.most_processes <= 1 && !e.orphans && !e.root_reaped_children;
    if e.cgroup_reset {
        PeakQuality::LowerBound
    } else if e.cgroup || (one_process && e.own_high_water_mark) {
        PeakQuality::Exact
    } else if e.samples.enough() {
        PeakQuality::Sampled
    } else {
        PeakQuality::LowerBound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(kept: u64, due: u64, processes: usize) -> Evidence {
        Evidence {
            samples: Samples {
                kept,
                due,
                covered: 0,
            },
            most_processes: processes,
            own_high_water_mark: true,
            ..Evidence::default()
        }
    }

    #[test]
    fn quality_follows_the_evidence() {
        use PeakQuality::*;
        // A cgroup is exact whatever the sampler did.
        let cgroup = Evidence {
            cgroup: true,
            ..tree(0, 100, 128)
        };
        assert_eq!(judge(cgroup), Exact);
        // One process, well sampled or not: its high-water mark is the peak.
        assert_eq!(judge(tree(95, 100, 1)), Exact);
        assert_eq!(judge(tree(0, 0, 0)), Exact);
        assert_eq!(judge(tree(1, 100, 1)), Exact);
        // A shell that waited for its own children: its mark is only the largest.
        let shell = Evidence {
            root_reaped_children: true,
            ..tree(0, 0, 0)
        };
        assert_eq!(judge(shell), Sampled);
        let starved_shell = Evidence {
            root_reaped_children: true,
            ..tree(1, 100, 1)
        };
        assert_eq!(judge(starved_shell), LowerBound);
        // A cgroup whose mark was reset under memgate's eyes.
        let reset = Evidence {
            cgroup: true,
            cgroup_reset: true,
            ..tree(100, 100, 2)
        };
        assert_eq!(judge(reset), LowerBound);
        // ... unless the launcher's fold hides its high-water mark.
        let folded = Evidence {
            own_high_water_mark: false,
            ..tree(95, 100, 1)
        };
        assert_eq!(judge(folded), Sampled);
        // An orphan makes it a tree.
        let orphan = Evidence {
            orphans: true,
            ..tree(95, 100, 1)
        };
        assert_eq!(judge(orphan), Sampled);
        // A tree: sampled at the floor, a lower bound below it.
        assert_eq!(judge(tree(50, 100, 128)), Sampled);
        assert_eq!(judge(tree(49, 100, 128)), LowerBound);
        assert_eq!(judge(tree(0, 3, 2)), LowerBound);

        // Looks missed, but shown to hold no higher peak, count.
        let covered = Evidence {
            samples: Samples {
                kept: 30,
                due: 100,
                covered: 20,
            },
            ..tree(0, 0, 128)
        };
        assert_eq!(judge(covered), Sampled);
    }
}
