//! The memory timeline of one run: (time, tree memory) points, thinned as they come so a
//! long run keeps at most [`Timeline::MAX_POINTS`] and no peak is thinned away.

use serde::{Deserialize, Serialize};

use super::units::{Bytes, Seconds};

/// Points in time order. When full, neighbours are merged pairwise keeping the larger
/// memory figure, and later points are merged as they come at the new stride.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// `[seconds since start, bytes]` pairs.
    pub points: Vec<(Seconds, Bytes)>,
    /// How many raw samples each stored point stands for.
    #[serde(skip)]
    stride: usize,
    #[serde(skip)]
    pending: usize,
}

impl Timeline {
    pub const MAX_POINTS: usize = 2000;

    pub fn push(&mut self, at: Seconds, memory: Bytes) {
        if self.stride == 0 {
            self.stride = 1;
        }
        if self.pending > 0 {
            // Still filling the last point at this stride: keep its peak.
            if let Some(last) = self.points.last_mut() {
                last.1 = last.1.max(memory);
            }
            self.pending -= 1;
            return;
        }
        if self.points.len() == Self::MAX_POINTS {
            self.halve();
        }
        self.points.push((at, memory));
        self.pending = self.stride - 1;
    }

    fn halve(&mut self) {
        let merged: Vec<_> = self
            .points
            .chunks(2)
            .map(|pair| {
                (
                    pair[0].0,
                    pair.iter().map(|p| p.1).max().unwrap_or_default(),
                )
            })
            .collect();
        self.points = merged;
        self.stride *= 2;
    }

    /// A copy with at most `max` points, each the largest of the points it replaces.
    pub fn thinned(&self, max: usize) -> Timeline {
        let max = max.max(1);
        let chunk = self.points.len().div_ceil(max).max(1);
        Timeline {
            points: self
                .points
                .chunks(chunk)
                .map(|c| (c[0].0, c.iter().map(|p| p.1).max().unwrap_or_default()))
                .collect(),
            stride: self.stride.max(1) * chunk,
            pending: 0,
        }
    }

    /// The largest memory figure in the timeline.
    pub fn peak(&self) -> Bytes {
        self.points.iter().map(|p| p.1).max().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_small_and_keeps_the_peak() {
        let mut t = Timeline::default();
        for i in 0..100_000u64 {
            let memory = if i == 77_777 { 999 } else { i % 10 };
            t.push(Seconds(i as f64 / 100.0), Bytes(memory));
        }
        assert!(t.points.len() <= Timeline::MAX_POINTS, "{}", t.points.len());
        assert!(t.points.len() >= Timeline::MAX_POINTS / 2);
        assert_eq!(t.peak(), Bytes(999));
        assert!(t.points.windows(2).all(|w| w[0].0.0 < w[1].0.0));
    }

    #[test]
    fn thinning_for_storage_keeps_the_peak() {
        let mut t = Timeline::default();
        for i in 0..1999u64 {
            t.push(Seconds(i as f64), Bytes(if i == 1234 { 10_000 } else { i }));
        }
        let thin = t.thinned(200);
        assert!(thin.points.len() <= 200, "{}", thin.points.len());
        assert_eq!(thin.peak(), Bytes(10_000));
        assert_eq!(t.thinned(5000).points.len(), 1999);
    }

    #[test]
    fn short_runs_are_kept_whole() {
        let mut t = Timeline::default();
        for i in 0..10 {
            t.push(Seconds(i as f64), Bytes(i));
        }
        assert_eq!(t.points.len(), 10);
    }
}
