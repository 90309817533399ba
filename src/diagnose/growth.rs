//! Whether a run's memory was still growing when it ended: the least-squares slope of
//! the last half of its timeline. Main type: [`Growth`].

use serde::{Deserialize, Serialize};

use crate::measure::timeline::Timeline;
use crate::measure::units::Seconds;

/// The slope must add at least this share of the peak over the half it is fitted on...
const GROWING_SHARE: f64 = 0.05;
/// ...and at least this much, to count as still growing...
const GROWING_BYTES: f64 = 4.0 * 1024.0 * 1024.0;
/// ...along a line that explains at least this much of the variance (a climb that
/// levels off, or a spike, is not a trend).
const GROWING_R_SQUARED: f64 = 0.5;

/// The trend of the last half of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    /// Bytes per second over the last half.
    pub bytes_per_second: f64,
    /// The span fitted.
    pub over: Seconds,
    /// The fit's R² (how straight the climb is).
    pub r_squared: f64,
    /// The slope adds more than 5% of the peak (and 4 MiB) over that span, along a line
    /// (R² at least 0.5).
    pub still_growing: bool,
}

impl Growth {
    /// The trend of `timeline`'s last half; `None` with fewer than 4 points there.
    pub fn of(timeline: &Timeline) -> Option<Growth> {
        let points = &timeline.points;
        let end = points.last()?.0.0;
        let half: Vec<(f64, f64)> = points
            .iter()
            .filter(|(at, _)| at.0 >= end / 2.0)
            .map(|(at, b)| (at.0, b.as_f64()))
            .collect();
        if half.len() < 4 {
            return None;
        }
        let fit = crate::compare::fit::fit_line(&half)?;
        let over = half[half.len() - 1].0 - half[0].0;
        let peak = timeline.peak().as_f64();
        let added = fit.slope * over;
        Some(Growth {
            bytes_per_second: fit.slope,
            over: Seconds(over),
            r_squared: fit.r_squared,
            still_growing: added > GROWING_SHARE * peak
                && added > GROWING_BYTES
                && fit.r_squared >= GROWING_R_SQUARED,
        })
    }

    /// Whether the fitted span changed too little to call it a trend either way: under
    /// the bytes a growing run must add.
    pub fn flat(&self) -> bool {
        (self.bytes_per_second * self.over.0).abs() < GROWING_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::units::Bytes;

    fn timeline(f: impl Fn(f64) -> f64) -> Timeline {
        let mut t = Timeline::default();
        for i in 0..100 {
            let at = i as f64 * 0.1;
            t.push(Seconds(at), Bytes(f(at) as u64));
        }
        t
    }

    #[test]
    fn a_steady_climb_is_still_growing() {
        let g = Growth::of(&timeline(|t| 100e6 + 10e6 * t)).unwrap();
        assert!((g.bytes_per_second - 10e6).abs() < 1e3, "{g:?}");
        assert!(g.still_growing);
        assert!(g.r_squared > 0.999);
    }

    #[test]
    fn a_plateau_after_a_climb_is_not() {
        let g = Growth::of(&timeline(|t| if t < 4.0 { 50e6 * t } else { 200e6 })).unwrap();
        assert!(g.bytes_per_second.abs() < 1.0, "{g:?}");
        assert!(!g.still_growing);
    }

    #[test]
    fn too_short_a_timeline_says_nothing() {
        let mut t = Timeline::default();
        t.push(Seconds(0.0), Bytes(1));
        assert!(Growth::of(&t).is_none());
        assert!(Growth::of(&Timeline::default()).is_none());
    }
}
