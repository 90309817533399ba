//! The timeline: memory over time of one benchmark × dataset. Every run faint, the
//! median run bold, base and head in their colours, each side's peak marked with its
//! figure, the memory limit when one is set, and runs that were killed marked where
//! they ended.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ALERT_COLOUR, Chart, Drawn, GRID, Scale, Side, bold, drawable, legend, text};
use crate::report::units::bytes;

/// The chart's data: points are `(seconds, bytes)`, already thinned for drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineChart {
    pub title: String,
    pub sides: Vec<TimelineSide>,
    /// The benchmark's memory limit, in bytes.
    pub limit: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineSide {
    pub side: Side,
    /// For the legend: `base 1a2b3c4d5e6f`.
    pub name: String,
    /// The runs drawn faint (all but the median one).
    pub runs: Vec<Vec<(f64, f64)>>,
    /// The median run, drawn bold.
    pub median: Vec<(f64, f64)>,
    /// Where to mark the side's peak and the figure to label it with: `(seconds, bytes)`.
    pub peak: Option<(f64, f64)>,
    /// Runs that were killed, where they ended.
    pub killed: Vec<Killed>,
}

/// A run that ended by being killed: when, at what memory, and why (`memory limit`).
#[derive(Clone, Debug, PartialEq)]
pub struct Killed {
    pub at: f64,
    pub memory: f64,
    pub what: String,
}

/// A limit further above the highest figure than this is named, not drawn: drawing it
/// would flatten every line against the floor.
const LIMIT_DRAWN_BELOW: f64 = 1.6;

impl TimelineChart {
    /// Every point of every line that can be drawn (damaged figures are not).
    fn points(&self) -> impl Iterator<Item = &(f64, f64)> {
        self.sides
            .iter()
            .flat_map(|s| s.runs.iter().flatten().chain(&s.median))
            .filter(|p| finite(p))
    }

    /// The highest memory figure the chart shows, and the longest time.
    fn extent(&self) -> (f64, f64) {
        let mut time: f64 = 0.0;
        let mut memory: f64 = 0.0;
        for &(t, m) in self.points() {
            time = time.max(t);
            memory = memory.max(m);
        }
        for s in &self.sides {
            if let Some((t, m)) = s.peak.filter(finite) {
                time = time.max(t);
                memory = memory.max(m);
            }
            for k in s.killed.iter().filter(|k| finite(&(k.at, k.memory))) {
                time = time.max(k.at);
                memory = memory.max(k.memory);
            }
        }
        (time, memory)
    }

    fn drawn_limit(&self, highest: f64) -> Option<f64> {
        self.limit
            .filter(|&l| l > 0.0 && drawable(l) && l <= highest.max(1.0) * LIMIT_DRAWN_BELOW)
    }
}

/// Whether a point can be drawn: damaged figures (not finite, or absurd) cannot.
fn finite(&(t, m): &(f64, f64)) -> bool {
    drawable(t) && drawable(m)
}

impl Chart for TimelineChart {
    fn size(&self) -> (u32, u32) {
        (960, 420)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (longest, highest) = self.extent();
        let limit = self.drawn_limit(highest);
        // Drawn in the axes' units, so the ticks fall on round figures of them.
        let (xs, ys) = (
            Scale::seconds(longest),
            Scale::bytes(highest.max(limit.unwrap_or(0.0))),
        );
        let at = |&(t, m): &(f64, f64)| (xs.to(t), ys.to(m));
        let x_top = if longest > 0.0 {
            xs.to(longest) * 1.02
        } else {
            1.0
        };
        // Headroom above the highest figure for the peak labels.
        let y_top = ys.to(highest.max(limit.unwrap_or(0.0)).max(1.0)) * 1.15;

        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, bold(18.0))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..x_top, 0f64..y_top)?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(10)
            .y_labels(8)
            .x_desc(xs.title("time"))
            .y_desc(ys.title("memory"))
            .x_label_formatter(&|v| xs.tick(*v, x_top))
            .y_label_formatter(&|v| ys.tick(*v, y_top))
            .label_style(text(13.0))
            .axis_desc_style(text(14.0))
            .draw()?;

        // Boxes of the labels drawn so far, which a peak's label keeps clear of.
        let mut taken: Vec<(i32, i32, i32, i32)> = Vec::new();
        let limit_note = |text: String, (x, y): (i32, i32), v: VPos| {
            let style = super::text(13.0)
                .color(&ALERT_COLOUR)
                .pos(Pos::new(HPos::Right, v));
            let (w, h) = root.estimate_text_size(&text, &style).unwrap_or((0, 0));
            let (w, h) = (w as i32, h as i32);
            let top = if matches!(v, VPos::Bottom) { y - h } else { y };
            root.draw(&Text::new(text, (x, y), style))
                .map(|()| (x - w, top, x, top + h))
        };
        if let Some(limit) = limit {
            let limit_y = ys.to(limit);
            chart.draw_series(DashedLineSeries::new(
                [(0.0, limit_y), (x_top, limit_y)],
                8,
                5,
                ALERT_COLOUR.stroke_width(2),
            ))?;
            let (x, y) = chart.backend_coord(&(x_top, limit_y));
            let note = format!("memory limit {}", bytes(limit));
            taken.push(limit_note(note, (x - 4, y - 4), VPos::Bottom)?);
        } else if let Some(l) = self.limit.filter(|l| *l > 0.0 && drawable(*l)) {
            let (x, y) = chart.backend_coord(&(x_top, y_top));
            let note = format!("memory limit {} (above this chart)", bytes(l));
            taken.push(limit_note(note, (x - 4, y + 4), VPos::Top)?);
        }

        // Faint runs first, so the bold lines lie on top of them.
        for s in &self.sides {
            let faint = s.side.colour().mix(0.35).stroke_width(1);
            for run in &s.runs {
                chart.draw_series(LineSeries::new(
                    run.iter().filter(|p| finite(p)).map(at),
                    faint,
                ))?;
            }
        }
        for s in &self.sides {
            let colour = s.side.colour();
            chart
                .draw_series(LineSeries::new(
                    s.median.iter().filter(|p| finite(p)).map(at),
                    colour.stroke_width(3),
                ))?
                .label(&s.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], colour.stroke_width(3))
                });
        }

        // Killed runs: a cross where each ended.
        for s in &self.sides {
            for k in s.killed.iter().filter(|k| finite(&(k.at, k.memory))) {
                let point = at(&(k.at, k.memory));
                chart.draw_series([Cross::new(point, 7, ALERT_COLOUR.stroke_width(3))])?;
                let (x, y) = chart.backend_coord(&point);
                root.draw(&Text::new(
                    format!("killed: {}", k.what),
                    (x - 10, y),
                    text(13.0)
                        .color(&ALERT_COLOUR)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                ))?;
            }
        }

        // Peaks: a marker on the peak, its figure above it (below it when the labels
        // of the two sides would overlap).
        let (left, right) = (
            chart.backend_coord(&(0.0, 0.0)).0,
            chart.backend_coord(&(x_top, 0.0)).0,
        );
        let mut sides: Vec<&TimelineSide> = self
            .sides
            .iter()
            .filter(|s| s.peak.is_some_and(|p| finite(&p)))
            .collect();
        // The higher peak takes the place above first.
        sides.sort_by(|a, b| {
            let (pa, pb) = (a.peak.map_or(0.0, |p| p.1), b.peak.map_or(0.0, |p| p.1));
            pb.total_cmp(&pa)
        });
        for s in sides {
            let Some(peak) = s.peak.filter(finite) else {
                continue;
            };
            let (t, m) = at(&peak);
            let colour = s.side.colour();
            let (px, py) = chart.backend_coord(&(t, m));
            match s.side {
                Side::Base => root.draw(&Circle::new((px, py), 6, colour.filled()))?,
                Side::Head => root.draw(&TriangleMarker::new((px, py), 8, colour.filled()))?,
                Side::Other(_) => root.draw(&Rectangle::new(
                    [(px - 5, py - 5), (px + 5, py + 5)],
                    colour.filled(),
                ))?,
            }
            let label = format!("peak {}", bytes(peak.1));
            let style = bold(14.0);
            let (w, h) = root.estimate_text_size(&label, &style)?;
            let (w, h) = (w as i32, h as i32);
            let x0 = (px - w / 2).clamp(left + 2, (right - w - 2).max(left + 2));
            let above = (x0, py - 12 - h, x0 + w, py - 12);
            let below = (x0, py + 12, x0 + w, py + 12 + h);
            let overlaps = |b: &(i32, i32, i32, i32)| {
                taken
                    .iter()
                    .any(|t| b.0 < t.2 && t.0 < b.2 && b.1 < t.3 && t.1 < b.3)
            };
            let place = if overlaps(&above) { below } else { above };
            taken.push(place);
            // On a light box, so a line passing under it does not strike it through.
            root.draw(&Rectangle::new(
                [(place.0 - 3, place.1 - 2), (place.2 + 3, place.3 + 2)],
                WHITE.mix(0.85).filled(),
            ))?;
            root.draw(&Text::new(
                label,
                (place.0, place.1),
                style.pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
        }

        if self.sides.iter().any(|s| !s.median.is_empty()) {
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    }
}
