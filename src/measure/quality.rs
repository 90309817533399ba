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
    /// high-water marks), with at least [`SAMPLING_FLOOR`] of its samples kept.
    Sampled,
    /// The sampler kept too few samples of a tree of several processes (a busy machine
    /// starved it): the true peak may be well above the figure.
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
    pub samples: Samples,
    /// The most processes any sample saw.
    pub most_processes: usize,
    /// The launcher reaped a process other than the first (an orphan).
    pub orphans: bool,
    /// The first process's high-water mark is its own, above what the launcher's fork
    /// folded into it.
    pub own_high_water_mark: bool,
}

/// The quality of a run's peak.
pub fn judge(e: Evidence) -> PeakQuality {
    let one_process = e.most_processes <= 1 && !e.orphans;
    if e.cgroup || (one_process && e.own_high_water_mark && e.samples.enough()) {
        PeakQuality::Exact
    } else if e.samples.enough() || one_process {
        // One process seen, but seen too rarely to be sure there was no other: its
        // high-water mark still stands for what was seen.
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
        // One process, well sampled: its high-water mark is the peak.
        assert_eq!(judge(tree(95, 100, 1)), Exact);
        // Too short to sample at all.
        assert_eq!(judge(tree(0, 0, 0)), Exact);
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
        // One process seen, rarely: not exact, but not a tree's lower bound either.
        assert_eq!(judge(tree(10, 100, 1)), Sampled);
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
