//! Memory over time as a Mermaid `xychart-beta`: a chart GitHub draws itself in a
//! comment or job summary, with no image to host. The base and head runs are two lines on
//! one time grid ([`crate::compare::display::SharedGrid`]). Main function: [`chart`].
//!
//! The block holds no text of a benchmark's, only memgate's own words and figures: a
//! name cannot end the fenced block, close a string of the chart's grammar, or start a
//! directive (`%%{`). Numbers are written with fixed decimals, never with an exponent,
//! which the grammar has no rule for.

use std::fmt::Write;

use crate::compare::display::{GridLine, SharedGrid};
use crate::report::units;

/// Instants on a chart's time axis: enough to show a run's shape, few enough that ten
/// charts stay a small part of a comment.
pub const INSTANTS: usize = 40;

/// Okabe-Ito blue and orange, told apart with any colour vision: base, then head.
const BASE_COLOUR: &str = "#0072B2";
const HEAD_COLOUR: &str = "#E69F00";

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// The largest number written: far beyond any memory or time, and small enough that
/// fixed decimals stay short.
const MAX_NUMBER: f64 = 1e15;

/// The fenced ```` ```mermaid ```` block of `grid`, ending with a newline; None when
/// neither side has a line to draw.
pub fn chart(grid: &SharedGrid) -> Option<String> {
    // xychart-beta has no legend: the lines' colours are set here, and the title says
    // which is which. A side without a timeline has no line, and no colour is given to
    // it, so the one line drawn keeps its side's colour.
    let sides: Vec<(&str, &GridLine)> = [
        (BASE_COLOUR, grid.base.as_ref()),
        (HEAD_COLOUR, grid.head.as_ref()),
    ]
    .into_iter()
    .filter_map(|(colour, line)| Some((colour, line?)))
    .collect();
    if sides.is_empty() {
        return None;
    }
    let palette: Vec<&str> = sides.iter().map(|s| s.0).collect();
    let title = title(grid);

    // The line can reach above its side's peak (the median of several runs' peaks).
    let highest = sides
        .iter()
        .flat_map(|s| s.1.memory.iter().chain([&s.1.peak]))
        .copied()
        .fold(0.0, f64::max);
    let (unit, per) = if highest >= GIB {
        ("GiB", GIB)
    } else {
        ("MiB", MIB)
    };
    let top = nice_ceiling(highest / per * 1.05);
    // Three significant digits at the top of the axis.
    let decimals = (2 - top.log10().floor() as i32).clamp(0, 6) as usize;

    let (time_unit, time_per) = if grid.span < 1.0 {
        ("ms", 1e-3)
    } else {
        ("s", 1.0)
    };

    let mut out = String::new();
    out.push_str("```mermaid\n");
    let _ = writeln!(
        out,
        "%%{{init: {{\"themeVariables\": {{\"xyChart\": {{\"plotColorPalette\": \"{}\"}}}}}}}}%%",
        palette.join(", ")
    );
    out.push_str("xychart-beta\n");
    let _ = writeln!(out, "    title \"{title}\"");
    let _ = writeln!(
        out,
        "    x-axis \"time ({time_unit})\" 0 --> {}",
        number(grid.span / time_per, 2)
    );
    let _ = writeln!(
        out,
        "    y-axis \"memory ({unit})\" 0 --> {}",
        number(top, decimals)
    );
    for (_, line) in &sides {
        let values: Vec<String> = line
            .memory
            .iter()
            .map(|v| number(v / per, decimals))
            .collect();
        let _ = writeln!(out, "    line [{}]", values.join(", "));
    }
    out.push_str("```\n");
    Some(out)
}

/// `peak memory: base 120 MiB (blue) → head 250 MiB (orange)`, saying which side has no
/// line where one has none. Only memgate's words and figures: nothing here may hold a
/// `"` (the end of the grammar's string) or a newline.
fn title(grid: &SharedGrid) -> String {
    let peak = |line: &GridLine| units::bytes(line.peak.min(MAX_NUMBER));
    match (&grid.base, &grid.head) {
        (Some(b), Some(h)) => format!(
            "peak memory: base {} (blue) → head {} (orange)",
            peak(b),
            peak(h)
        ),
        (Some(b), None) => format!("peak memory: base {} (blue), head has no timeline", peak(b)),
        (None, Some(h)) => format!(
            "peak memory: head {} (orange), base has no timeline",
            peak(h)
        ),
        (None, None) => "memory: no timeline".to_owned(),
    }
}

/// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is at
/// least `value`: an axis top people read at a glance. 1 for nothing to show.
fn nice_ceiling(value: f64) -> f64 {
    if !(value.is_finite() && value > 0.0) {
        return 1.0;
    }
    let value = value.min(MAX_NUMBER);
    let power = 10f64.powf(value.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|top| *top >= value)
        .unwrap_or(10.0 * power)
}

/// `value` as the grammar reads a number (`[+-]?(\d+(\.\d+)?|\.\d+)`): fixed decimals,
/// trailing zeros dropped, never an exponent, never `NaN` or `inf` (0 for those), never
/// `-0`, and at most [`MAX_NUMBER`].
pub fn number(value: f64, decimals: usize) -> String {
    let value = if value.is_finite() {
        value.clamp(-MAX_NUMBER, MAX_NUMBER)
    } else {
        0.0
    };
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    if text == "-0" {
        text = "0".to_owned();
    }
    text
}
