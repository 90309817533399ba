//! The distribution: each metric's samples, base against head, as strips of dots with
//! each side's median as a bar, and the change with its interval, in the spirit of
//! criterion's comparison page. One panel per metric.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Chart, Drawn, GRID, Scale, Side, bold, drawable, range, text};
use crate::report::units::figure;

#[derive(Clone, Debug, PartialEq)]
pub struct DistributionChart {
    pub title: String,
    pub panels: Vec<Panel>,
}

/// One metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub metric: String,
    /// `bytes`, `seconds`, or a custom metric's unit.
    pub unit: String,
    pub strips: Vec<Strip>,
    /// The change with its interval and verdict: `+12.3% [+10.1%, +14.0%]: regression`.
    pub change: Option<String>,
}

/// One side's samples of a metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Strip {
    pub side: Side,
    /// `base`, `head`, or a revision.
    pub name: String,
    pub samples: Vec<f64>,
    pub median: Option<f64>,
}

const PANEL_HEIGHT: u32 = 112;
const TITLE_HEIGHT: u32 = 36;

impl Chart for DistributionChart {
    fn size(&self) -> (u32, u32) {
        (
            960,
            TITLE_HEIGHT + PANEL_HEIGHT * self.panels.len().max(1) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let body = root.titled(&self.title, bold(18.0))?;
        if self.panels.is_empty() {
            return Ok(());
        }
        for (area, panel) in body
            .split_evenly((self.panels.len(), 1))
            .iter()
            .zip(&self.panels)
        {
            draw_panel(area, panel)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Drawn<DB> {
    let values = panel.strips.iter().flat_map(|s| s.samples.iter().copied());
    let (lo, hi) = range(values, false, 0.12);
    // Never narrower than 2% of the figures: runs a hair apart are drawn as the same,
    // not spread across the chart as if they differed.
    let (lo, hi) = {
        let least = 0.02 * lo.abs().max(hi.abs());
        let widen = ((least - (hi - lo)) / 2.0).max(0.0);
        (lo - widen, hi + widen)
    };
    // Drawn in the axis' unit, so the ticks fall on round figures of it.
    let scale = Scale::of(&panel.unit, lo.abs().max(hi.abs()));
    let (lo, hi) = (scale.to(lo), scale.to(hi));
    let rows = panel.strips.len().max(1) as f64;
    let caption = match &panel.change {
        Some(change) => format!("{}: {change}", panel.metric),
        None => panel.metric.clone(),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, bold(14.0))
        .margin_left(12)
        .margin_right(28)
        .margin_bottom(4)
        .x_label_area_size(24)
        .y_label_area_size(150)
        .build_cartesian_2d(lo..hi, -0.6f64..rows - 0.4)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_labels(8)
        .x_label_formatter(&|v| format!("{} {}", scale.tick(*v, hi - lo), scale.unit))
        .label_style(text(12.0))
        .draw()?;
    for (row, strip) in panel.strips.iter().enumerate() {
        // The first strip (the base) on top.
        let y = rows - 1.0 - row as f64;
        let colour = strip.side.colour();
        let samples = strip.samples.iter().copied().filter(|v| drawable(*v));
        chart.draw_series(samples.enumerate().map(|(i, v)| {
            // A little vertical spread so equal figures do not hide each other.
            let jitter = ((i % 5) as f64 - 2.0) * 0.07;
            Circle::new((scale.to(v), y + jitter), 4, colour.mix(0.55).filled())
        }))?;
        if let Some(m) = strip.median.filter(|m| drawable(*m)) {
            chart.draw_series([PathElement::new(
                vec![(scale.to(m), y - 0.32), (scale.to(m), y + 0.32)],
                colour.stroke_width(4),
            )])?;
        }
        // Backend pixels, made relative to this panel.
        let (x, py) = chart.backend_coord(&(lo, y));
        let (bx, by) = area.get_base_pixel();
        let label = match strip.median {
            Some(m) => format!("{}: {}", strip.name, figure(m, &panel.unit)),
            None => strip.name.clone(),
        };
        area.draw(&Text::new(
            label,
            (x - bx - 8, py - by),
            text(13.0).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    Ok(())
}
