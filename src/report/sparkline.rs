//! A memory timeline as one line of block characters, for the terminal table: the main
//! function is [`sparkline`], a pure function from `(seconds, bytes)` points to text.

/// How many cells the table's sparkline has.
pub const WIDTH: usize = 24;

/// The eight heights, lowest first. Even a run's smallest figure gets a visible cell, so
/// the line never has gaps that read as "no data".
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `points` (time order, `(seconds, value)`) as `width` cells over the timeline's span of
/// time, each the largest value in its span, so a short spike shows however many points
/// surround it. The scale runs from 0 to the largest value. A cell no point falls in
/// holds the value of the last point before it: memory stays where it was last seen
/// until the next look. Points all at one instant fill every cell. Non-finite points are
/// dropped; `-` when none is left.
pub fn sparkline(points: &[(f64, f64)], width: usize) -> String {
    let finite = || {
        points
            .iter()
            .copied()
            .filter(|(t, v)| t.is_finite() && v.is_finite())
    };
    let Some((start, _)) = finite().next() else {
        return "-".into();
    };
    let end = finite().map(|(t, _)| t).fold(start, f64::max);
    let span = end - start;
    // Per cell: its largest value, and its last (what an empty cell after it carries on).
    let mut cells: Vec<Option<(f64, f64)>> = vec![None; width];
    for (t, v) in finite() {
        let cell = if span > 0.0 {
            // Multiplied before divided, so a point exactly on a cell's start lands in it.
            (((t - start) * width as f64 / span) as usize).min(width.saturating_sub(1))
        } else {
            0
        };
        if let Some(c) = cells.get_mut(cell) {
            *c = Some(c.map_or((v, v), |(max, _)| (max.max(v), v)));
        }
    }
    if span <= 0.0 {
        // One instant: nothing to spread over time, so it is the whole line.
        let all = cells.first().copied().flatten();
        cells.iter_mut().for_each(|c| *c = all);
    }
    let peak = cells.iter().flatten().map(|c| c.0).fold(0.0, f64::max);
    let mut carried = 0.0;
    cells
        .into_iter()
        .map(|c| {
            let value = match c {
                Some((max, last)) => {
                    carried = last;
                    max
                }
                None => carried,
            };
            block(value, peak)
        })
        .collect()
}

/// The block for `value` on a scale of 0 to `peak`: the eighth of the scale it reaches.
fn block(value: f64, peak: f64) -> char {
    if peak <= 0.0 {
        return BLOCKS[0];
    }
    let eighths = (value / peak * 8.0).ceil().clamp(1.0, 8.0) as usize;
    BLOCKS[eighths - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ramp_climbs_every_height() {
        let ramp: Vec<(f64, f64)> = (0..8).map(|i| (i as f64, (i + 1) as f64)).collect();
        assert_eq!(sparkline(&ramp, 8), "▁▂▃▄▅▆▇█");
        // At the table's width, three cells a height.
        let ramp: Vec<(f64, f64)> = (0..=2400).map(|i| (i as f64 / 100.0, i as f64)).collect();
        assert_eq!(sparkline(&ramp, WIDTH), "▁▁▁▂▂▂▃▃▃▄▄▄▅▅▅▆▆▆▇▇▇███");
    }

    #[test]
    fn a_flat_line_is_at_its_peak() {
        let flat: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 5e6)).collect();
        assert_eq!(sparkline(&flat, WIDTH), "█".repeat(24));
        let zero: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 0.0)).collect();
        assert_eq!(sparkline(&zero, WIDTH), "▁".repeat(24));
    }

    #[test]
    fn a_single_point_or_instant_fills_the_line() {
        assert_eq!(sparkline(&[(0.3, 1e6)], WIDTH), "█".repeat(24));
        assert_eq!(sparkline(&[(1.0, 2.0), (1.0, 8.0)], 4), "████");
    }

    #[test]
    fn nothing_to_draw_is_a_dash() {
        assert_eq!(sparkline(&[], WIDTH), "-");
        assert_eq!(
            sparkline(&[(f64::NAN, 1.0), (1.0, f64::INFINITY)], WIDTH),
            "-"
        );
        assert_eq!(sparkline(&[(0.0, 1.0)], 0), "");
    }

    #[test]
    fn a_spike_shows_in_its_own_cell() {
        // Ten points a cell; the spike at 12.5 s, in the 13th cell of 24.
        let mut points: Vec<(f64, f64)> = (0..=240).map(|i| (i as f64 / 10.0, 10.0)).collect();
        points.insert(126, (12.55, 100.0));
        assert_eq!(
            sparkline(&points, WIDTH),
            format!("{}█{}", "▁".repeat(12), "▁".repeat(11))
        );
    }

    #[test]
    fn gaps_carry_the_last_figure_on() {
        // Two looks, ten seconds apart: the memory stays up until it is seen to drop.
        assert_eq!(sparkline(&[(0.0, 8.0), (10.0, 1.0)], 10), "█████████▁");
        assert_eq!(
            sparkline(&[(0.0, 1.0), (4.0, 8.0), (8.0, 4.0)], 8),
            "▁▁▁▁███▄"
        );
        // A drop within a cell: its peak shows, then what it dropped to carries on.
        assert_eq!(
            sparkline(&[(0.0, 8.0), (0.5, 1.0), (10.0, 1.0)], 10),
            "█▁▁▁▁▁▁▁▁▁"
        );
    }

    #[test]
    fn a_hundred_thousand_points_keep_their_one_spike() {
        let mut points: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64 / 1000.0, 5e8 + (i % 7) as f64))
            .collect();
        points[50_000].1 = 8e9;
        let line = sparkline(&points, WIDTH);
        assert_eq!(line, format!("{}█{}", "▁".repeat(12), "▁".repeat(11)));
        // A ramp of as many points is still the three-cells-a-height staircase.
        let ramp: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(sparkline(&ramp, WIDTH), "▁▁▁▂▂▂▃▃▃▄▄▄▅▅▅▆▆▆▇▇▇███");
    }
}
