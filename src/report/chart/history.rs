//! The history: one metric across stored revisions, oldest to newest along first
//! parents: each revision's runs as dots over the span they cover, the medians joined,
//! revisions measured on a dirty working tree hollow, and the base and head of a
//! comparison marked in their colours.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    ALERT_COLOUR, Chart, Drawn, GRID, INK, Scale, Side, bold, drawable, legend, range, text,
};

#[derive(Clone, Debug, PartialEq)]
pub struct HistoryChart {
    pub title: String,
    pub metric: String,
    pub unit: String,
    /// Oldest first.
    pub points: Vec<HistoryPoint>,
}

/// One revision's figures of the metric.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryPoint {
    /// The revision as people read it.
    pub rev: String,
    pub samples: Vec<f64>,
    pub median: f64,
    /// Measured on a working tree with uncommitted changes.
    pub dirty: bool,
    /// The base or head of the comparison this history is shown with.
    pub role: Option<Side>,
}

const SPREAD: RGBColor = RGBColor(0x99, 0x99, 0x99);

impl Chart for HistoryChart {
    fn size(&self) -> (u32, u32) {
        (960, 360)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let n = self.points.len().max(1);
        let values = self
            .points
            .iter()
            .flat_map(|p| p.samples.iter().copied().chain([p.median]));
        let (bottom, top) = range(values, true, 0.15);
        // Drawn in the axis' unit, so the ticks fall on round figures of it.
        let scale = Scale::of(&self.unit, bottom.abs().max(top.abs()) / 1.15);
        let (bottom, top) = (scale.to(bottom), scale.to(top));
        let y = |v: f64| scale.to(v);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, bold(18.0))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, bottom..top)?;
        let revs: Vec<&str> = self.points.iter().map(|p| p.rev.as_str()).collect();
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .disable_x_mesh()
            .x_labels(n.min(12))
            .y_labels(6)
            .x_desc("revision, oldest to newest (first parents)")
            .y_desc(scale.title(&self.metric))
            .x_label_formatter(&|v| {
                let i = v.round();
                match revs.get(i as usize) {
                    Some(rev) if (v - i).abs() < 0.01 && i >= 0.0 => rev.to_string(),
                    _ => String::new(),
                }
            })
            .y_label_formatter(&|v| scale.tick(*v, top - bottom))
            .label_style(text(12.0))
            .axis_desc_style(text(14.0))
            .draw()?;

        for (i, p) in self.points.iter().enumerate() {
            if !drawable(p.median) {
                continue;
            }
            let x = i as f64;
            let (lo, hi) = p
                .samples
                .iter()
                .filter(|v| drawable(**v))
                .fold((p.median, p.median), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let (lo, hi) = (y(lo), y(hi));
            chart.draw_series([PathElement::new(
                vec![(x, lo), (x, hi)],
                SPREAD.mix(0.5).stroke_width(6),
            )])?;
            chart.draw_series(
                p.samples
                    .iter()
                    .filter(|v| drawable(**v))
                    .map(|&v| Circle::new((x, y(v)), 2, SPREAD.filled())),
            )?;
        }
        chart
            .draw_series(LineSeries::new(
                self.points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (i as f64, y(p.median))),
                INK.stroke_width(2),
            ))?
            .label("median of each revision (grey: its runs)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], INK.stroke_width(2)));
        chart.draw_series(
            self.points
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.dirty)
                .map(|(i, p)| Circle::new((i as f64, y(p.median)), 4, INK.filled())),
        )?;
        if self.points.iter().any(|p| p.dirty) {
            chart
                .draw_series(self.points.iter().enumerate().filter(|(_, p)| p.dirty).map(
                    |(i, p)| Circle::new((i as f64, y(p.median)), 5, ALERT_COLOUR.stroke_width(2)),
                ))?
                .label("dirty: measured with uncommitted changes")
                .legend(|(x, y)| Circle::new((x + 11, y), 5, ALERT_COLOUR.stroke_width(2)));
        }
        for (i, p) in self.points.iter().enumerate() {
            let Some(side @ (Side::Base | Side::Head)) = p.role else {
                continue;
            };
            let at = (i as f64, y(p.median));
            let colour = side.colour();
            match side {
                Side::Base => chart.draw_series([Circle::new(at, 8, colour.filled())])?,
                _ => chart.draw_series([TriangleMarker::new(at, 10, colour.filled())])?,
            };
            let (x, y) = chart.backend_coord(&at);
            let name = if side == Side::Base { "base" } else { "head" };
            root.draw(&Text::new(
                name,
                (x, y - 14),
                bold(13.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}
